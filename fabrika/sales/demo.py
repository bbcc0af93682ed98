"""Sales part of the Robokids demo: four orders at the main warehouse, priced by the demo price lists (load_pricing
runs before this). Two are confirmed (one reserved in full, one with a backorder of servos), two are drafts (one has
a special discount above the manager's 5 % that awaits the head of sales). Each order is recognised by the demo
key at the start of its notes, so loading twice changes nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fabrika.core.demo import DemoContext
from fabrika.core.errors import DomainError
from fabrika.crm.models import Deal

from . import services_orders as services
from .models import SalesOrder

# key, client, days before today, confirm, lines (SKU, quantity, special discount %), notes
DEMO_ORDERS = (
    ("DEMO-SO-1", "School No. 57, Moscow", 4, True,
     (("SNS-US", "10", ""), ("WHL-65", "40", ""), ("BAT-18650", "10", "")), "spare parts for the robotics class"),
    ("DEMO-SO-2", "EduTech Distribution LLC", 3, True,
     (("SRV-MG90", "10", ""), ("SNS-US", "5", "")), "dealer restock: servos partly on backorder"),
    ("DEMO-SO-3", "Toy Planet retail chain", 2, False,
     (("KIT-START", "12", ""), ("KIT-PRO", "3", "")), "New Year season, wholesale prices"),
    ("DEMO-SO-4", "RoboSchool club, Samara", 2, False,
     (("KIT-PRO", "2", "12"),), "club asks for 12 %: awaits the head of sales"),
)


def load_sales(context: DemoContext) -> None:
    parties = context.records.get("counterparties") or {}
    products = context.records.get("catalog") or {}
    locations = context.records.get("locations") or {}
    main = locations.get("MAIN")
    if main is None or not products:
        return
    done = {notes.split(":", 1)[0] for notes in SalesOrder.objects.filter(notes__startswith="DEMO-SO-").values_list("notes", flat=True)}
    today = timezone.localdate()
    for key, client_name, days_before, confirm, lines, notes in DEMO_ORDERS:
        date = today - dt.timedelta(days=days_before)
        party = parties.get(client_name)
        if key in done or party is None:
            continue
        actor = party.responsible or context.admin
        data = {"counterparty": party.pk, "warehouse": main.warehouse_id, "date": date, "notes": f"{key}: {notes}"}
        deal = Deal.objects.filter(counterparty=party, responsible=actor, closed_at__isnull=True, pipeline__purpose="sales").order_by("id").first()
        if deal is not None:
            data["deal"] = deal.pk
        order = services.sales_order_create(actor=actor, data=data)
        for sku, quantity, discount in lines:
            if sku not in products:
                continue
            line = {"product": products[sku].pk, "quantity": quantity}
            if discount:
                line["manual_discount_percent"] = discount
            services.sales_order_add_line(actor=actor, order_id=order.pk, data=line)
        if confirm:
            try:
                services.sales_order_confirm(actor=actor, order_id=order.pk)
            except DomainError:  # e.g. a credit limit set on the demo client: the order stays a draft to look at
                pass
    context.records["sales_orders"] = {order.notes.split(":", 1)[0]: order for order in SalesOrder.objects.filter(notes__startswith="DEMO-SO-")}
    _ship_first_order(context)


def _ship_first_order(context: DemoContext) -> None:
    """DEMO-SO-1 is partly shipped: the sensors and the wheels went yesterday, the batteries wait (a backorder)."""
    from .models import Shipment
    from .services_shipments import shipment_create, shipment_post

    order = context.records["sales_orders"].get("DEMO-SO-1")
    if order is None or order.status != "confirmed" or Shipment.objects.filter(order=order).exists():
        return
    lines = [
        {"order_line": line.pk, "quantity": str(line.quantity)}
        for line in order.lines.select_related("product").order_by("position") if line.product.sku != "BAT-18650"
    ]
    store = context.users["store"]
    shipment = shipment_create(actor=store, order_id=order.pk, data={
        "date": timezone.localdate() - dt.timedelta(days=1), "lines": lines, "remind_after_months": 6,
    })
    shipment_post(actor=store, shipment_id=shipment.pk)
