"""Robokids' CRM for the demo: the sales and procurement pipelines with deals, leads and activities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fabrika.core.demo import DemoContext

SALES_STAGES = (
    {"name": "New request", "probability": 10, "color": "#0d6efd"},
    {"name": "Needs identified", "probability": 25, "color": "#6610f2", "remind_after_days": 5},
    {"name": "Proposal sent", "probability": 50, "color": "#fd7e14", "required_fields": ["amount", "contact"]},
    {"name": "Negotiation", "probability": 75, "color": "#ffc107", "required_fields": ["amount", "expected_close"]},
    {"name": "Won", "kind": "won", "probability": 100, "color": "#198754", "order_event": "order_confirmed"},
    {"name": "Lost", "kind": "lost", "probability": 0, "color": "#dc3545"},
)

PROCUREMENT_FIELDS = (
    {"code": "invoice_number", "label": "Invoice number", "field_type": "text", "show_in_list": True, "filterable": True},
    {"code": "invoice_date", "label": "Invoice date", "field_type": "date", "filterable": True},
    {"code": "invoice_scan", "label": "Invoice scan", "field_type": "file"},
    {"code": "full_prepayment", "label": "100% prepayment", "field_type": "boolean", "default": True, "filterable": True},
    {"code": "remaining_payment_date", "label": "Planned date of the remaining payment", "field_type": "date"},
)

PROCUREMENT_STAGES = (
    {"name": "Request formed", "probability": 5},
    {"name": "Request sent to suppliers", "probability": 10, "remind_after_days": 3},
    {"name": "Offer received", "probability": 20, "required_fields": ["amount"]},
    {"name": "Selected for approval by the head of supply", "probability": 30, "required_fields": ["amount"]},
    {"name": "Sent for approval to the general director", "probability": 40, "required_fields": ["amount"],
     "task_on_enter": True, "task_title": "Approve the purchase", "task_user": "director", "task_due_hours": 24,
     "advance_on_task_close": True},
    {"name": "Invoice signed", "probability": 50, "required_fields": ["custom.invoice_number", "custom.invoice_date", "custom.invoice_scan"]},
    {"name": "Invoice scheduled in accounting", "probability": 60,
     "task_on_enter": True, "task_title": "Schedule the payment", "task_user": "accountant", "task_due_hours": 8},
    {"name": "Paid", "probability": 70, "remind_after_days": 2},
    {"name": "Order in production at the supplier", "probability": 80, "remind_after_days": 14},
    {"name": "Shipped by carrier", "probability": 85},
    {"name": "Delivered to our warehouse", "probability": 90},
    {"name": "Accompanying documents signed", "probability": 95},
    {"name": "Accompanying documents sent", "kind": "won", "probability": 100},
)

PROCUREMENT_COLOURS = ("#6c757d", "#0d6efd", "#0dcaf0", "#6610f2", "#6f42c1", "#d63384", "#fd7e14",
                       "#ffc107", "#20c997", "#198754", "#0f5132", "#495057", "#212529")


def _stage_data(context: DemoContext, raw: dict, colour: str | None = None) -> dict:
    data = {key: value for key, value in raw.items() if key != "task_user"}
    if "task_user" in raw:
        data["task_assignee"] = context.users[raw["task_user"]]
    if colour and "color" not in data:
        data["color"] = colour
    return data


def _pipeline(context: DemoContext, *, name: str, purpose: str, stages: list[dict]):
    from .models import Pipeline
    from .services_pipelines import pipeline_create

    existing = Pipeline.objects.filter(name=name).first()
    if existing is not None:
        return existing
    return pipeline_create(actor=context.admin, data={"name": name, "purpose": purpose}, stages=stages)


def load_pipelines(context: DemoContext) -> None:
    """The sales funnel and the 13-stage procurement funnel with its deal fields, and a few deals in each."""
    from fabrika.core.models import Currency
    from fabrika.core.models.custom_fields import CustomFieldDefinition
    from fabrika.core.services_custom_fields import custom_field_create

    from .models import Deal
    from .services_pipelines import deal_create, deal_move, stage_update

    sales = _pipeline(context, name="Sales", purpose="sales", stages=[_stage_data(context, s) for s in SALES_STAGES])
    procurement = _pipeline(context, name="Procurement", purpose="procurement", stages=[
        {"name": s["name"], "probability": s["probability"], "kind": s.get("kind", "open"), "color": colour}
        for s, colour in zip(PROCUREMENT_STAGES, PROCUREMENT_COLOURS, strict=True)
    ])
    for order, field in enumerate(PROCUREMENT_FIELDS, start=1):
        if not CustomFieldDefinition.objects.filter(entity="crm.deal", context=procurement.custom_context, code=field["code"]).exists():
            custom_field_create(actor=context.admin, data={"entity": "crm.deal", "context": procurement.custom_context, "order": order, **field})
    # Required fields and automation need the deal fields to exist first, so they are set after the stages.
    stages = {stage.name: stage for stage in procurement.stages.all()}
    for raw in PROCUREMENT_STAGES:
        wanted = _stage_data(context, raw)
        stage = stages[raw["name"]]
        changed = {key: value for key, value in wanted.items() if getattr(stage, key) != value}
        if changed:
            stage_update(actor=context.admin, stage=stage, data=changed)
    context.records["crm_pipelines"] = {"Sales": sales, "Procurement": procurement}

    parties = list((context.records.get("counterparties") or {}).values())
    clients = [party for party in parties if party.is_client]
    suppliers = [party for party in parties if party.is_supplier]
    rub = Currency.objects.filter(code="RUB").first()
    today = timezone.localdate()
    if clients and not Deal.objects.filter(pipeline=sales).exists():
        sales_stages = {stage.name: stage for stage in sales.stages.all()}
        plan = [
            ("Robotics class kits, 12 sets", "sales1", Decimal("480000.00"), "New request"),
            ("Competition robots for the city olympiad", "sales1", Decimal("950000.00"), "Needs identified"),
            ("Dealer starter pack", "sales2", Decimal("1200000.00"), "Negotiation"),
            ("Spare servos", "sales2", Decimal("36000.00"), "Won"),
        ]
        for index, (title, owner, amount, stage_name) in enumerate(plan):
            party = clients[index % len(clients)]
            contact = party.contacts.first() if hasattr(party, "contacts") else None
            deal = deal_create(
                actor=context.users[owner], pipeline=sales, title=title, counterparty=party, contact=contact,
                amount=amount, currency=rub, expected_close=today + dt.timedelta(days=30 + 10 * index),
            )
            if stage_name != "New request":
                deal_move(actor=context.users[owner], deal=deal, stage=sales_stages[stage_name], reason="Demo" if stage_name == "Won" else "")
    if suppliers and not Deal.objects.filter(pipeline=procurement).exists():
        plan = [
            ("Servo motors MG996R × 500", Decimal("210000.00"), "Offer received"),
            ("Aluminium profile 20×20, 300 m", Decimal("96000.00"), "Request sent to suppliers"),
            ("Controller boards, batch 200", Decimal("540000.00"), "Request formed"),
        ]
        for index, (title, amount, stage_name) in enumerate(plan):
            deal = deal_create(
                actor=context.users["buyer"], pipeline=procurement, title=title, counterparty=suppliers[index % len(suppliers)],
                amount=amount, currency=rub, expected_close=today + dt.timedelta(days=20 + 5 * index),
            )
            if stage_name != "Request formed":
                deal_move(actor=context.users["buyer"], deal=deal, stage=stages[stage_name])


def load_plans(context: DemoContext) -> None:
    """Monthly sales plans of this year for the two sales managers (set once; a second load changes nothing)."""
    from .models import SalesPlan
    from .services_plans import sales_plans_set

    year = timezone.localdate().year
    managers = {"sales1": Decimal("600000.00"), "sales2": Decimal("900000.00")}
    if SalesPlan.objects.filter(month__year=year, user__username__in=list(managers)).exists():
        return
    sales_plans_set(actor=context.users["headsales"], entries=[
        {"user": context.users[username].pk, "month": f"{year}-{month:02d}", "amount": str(amount)}
        for username, amount in managers.items() for month in range(1, 13)
    ])


def load_crm(context: DemoContext) -> None:
    """The CRM demo; loading twice changes nothing."""
    load_pipelines(context)
    load_plans(context)
