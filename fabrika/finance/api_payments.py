"""Payments and settlements API, mounted at /api/v1/finance/. Parse → authorise → service/selector → schema.

Permissions: payments need finance.<action>_payment (view, add, change — posting, allocating and cancelling are
changes; a batch, POST /payments/batch, creates and posts, so it needs add and change); settlements, ageing and reconciliation statements need finance.view_payment; the overdue list
finance.view_invoice; setting a credit limit finance.change_invoice. Scope: payments and settlements by the
counterparty's responsible, the overdue list by the invoice's responsible (404 outside the scope).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Status

from fabrika.core.errors import ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import get_scoped, require, scoped
from fabrika.parties.models import Counterparty

from . import batch_payments as batch
from . import selectors_payments as selectors
from . import selectors_settlements as settlements
from . import services_payments as services
from .models import Invoice, Payment, PaymentAllocation
from .printing_payments import StatementPeriod, statement_pdf
from .schemas_payments import (
    AgeingOut,
    AllocateIn,
    AllocationOut,
    CreditLimitIn,
    CreditLimitOut,
    OverdueOut,
    PaymentBatchIn,
    PaymentBatchItemOut,
    PaymentCancelIn,
    PaymentDetailOut,
    PaymentIn,
    PaymentOut,
    PaymentPatch,
    PaymentPostIn,
    ReconciliationOut,
    SettlementDetailOut,
    SettlementOut,
)

router = Router(tags=["finance"])


# ----------------------------------------------------------------------------------------------- payments


@router.get("/payments", response=Page[PaymentOut])
def payment_list(
    request, direction: str = "", status: str = "", method: str = "", counterparty_id: int | None = None, order_id: int | None = None,
    date_from: dt.date | None = None, date_to: dt.date | None = None, search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, Payment, "view")
    queryset = selectors.payment_list_for_user(
        request.user, direction=direction, status=status, method=method, counterparty_id=counterparty_id, order_id=order_id,
        date_from=date_from, date_to=date_to, search=search,
    )
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/payments", response={201: PaymentDetailOut})
@idempotent
def payment_create(request, payload: PaymentIn):
    require(request.user, Payment, "add")
    _counterparty_in_scope(request.user, payload.counterparty_id)
    payment = services.payment_create(actor=request.user, data=payload.dict())
    return Status(201, selectors.payment_get_for_user(request.user, payment.pk))


@router.post("/payments/batch", response=list[PaymentBatchItemOut])
@idempotent
def payments_post_batch(request, payload: PaymentBatchIn):
    """A bank statement: create and post up to 500 payments at once; any refused row (`rows.N.<field>`) refuses all."""
    require(request.user, Payment, "add")
    require(request.user, Payment, "change")
    rows = [row.dict() for row in payload.rows]
    _counterparties_in_scope(request.user, rows)
    payments = batch.payments_post_batch(actor=request.user, rows=rows)
    allocations = Prefetch("allocations", queryset=PaymentAllocation.objects.select_related("payment", "invoice").order_by("date", "id"),
                           to_attr="batch_allocations")
    found = selectors.payment_list_for_user(request.user).filter(pk__in=[payment.pk for payment in payments]).prefetch_related(allocations)
    by_id = {payment.pk: payment for payment in found}
    return [by_id[payment.pk] for payment in payments]


def _counterparties_in_scope(user, rows: list[dict]) -> None:
    wanted = {row["counterparty_id"] for row in rows}
    known = set(scoped(Counterparty.objects.filter(pk__in=wanted), user, responsible_field="responsible").values_list("pk", flat=True))
    errors = {f"rows.{index}.counterparty_id": [f"Counterparty {row['counterparty_id']} does not exist"]
              for index, row in enumerate(rows) if row["counterparty_id"] not in known}
    if errors:
        raise ValidationError(errors)


def _counterparty_in_scope(user, counterparty_id: int) -> None:
    if not scoped(Counterparty.objects.filter(pk=counterparty_id), user, responsible_field="responsible").exists():
        raise ValidationError({"counterparty_id": [f"Counterparty {counterparty_id} does not exist"]})


@router.get("/payments/{payment_id}", response=PaymentDetailOut)
def payment_detail(request, payment_id: int):
    require(request.user, Payment, "view")
    return selectors.payment_get_for_user(request.user, payment_id)


@router.patch("/payments/{payment_id}", response=PaymentDetailOut)
def payment_update(request, payment_id: int, payload: PaymentPatch):
    require(request.user, Payment, "change")
    payment = selectors.payment_get_for_user(request.user, payment_id)
    data = payload.dict(exclude_unset=True)
    if data.get("counterparty_id") is not None:
        _counterparty_in_scope(request.user, data["counterparty_id"])
    services.payment_update(actor=request.user, payment_id=payment.pk, data=data)
    return selectors.payment_get_for_user(request.user, payment.pk)


@router.post("/payments/{payment_id}/post", response=PaymentDetailOut)
def payment_post(request, payment_id: int, payload: PaymentPostIn | None = None):
    require(request.user, Payment, "change")
    payment = selectors.payment_get_for_user(request.user, payment_id)
    allocations = None if payload is None or payload.allocations is None else [item.dict() for item in payload.allocations]
    services.payment_post(
        actor=request.user, payment_id=payment.pk, allocations=allocations, auto_allocate=payload.auto_allocate if payload else True
    )
    return selectors.payment_get_for_user(request.user, payment.pk)


@router.post("/payments/{payment_id}/allocate", response={201: AllocationOut})
def payment_allocate(request, payment_id: int, payload: AllocateIn):
    require(request.user, Payment, "change")
    payment = selectors.payment_get_for_user(request.user, payment_id)
    allocation = services.payment_allocate(
        actor=request.user, payment_id=payment.pk, invoice_id=payload.invoice_id, amount=payload.amount, date=payload.date
    )
    return Status(201, PaymentAllocation.objects.select_related("payment", "invoice").get(pk=allocation.pk))


@router.post("/payments/{payment_id}/allocations/{allocation_id}/unallocate", response=AllocationOut)
def payment_unallocate(request, payment_id: int, allocation_id: int, payload: PaymentCancelIn | None = None):
    require(request.user, Payment, "change")
    payment = selectors.payment_get_for_user(request.user, payment_id)
    allocation = get_scoped(PaymentAllocation.objects.filter(payment=payment), request.user, allocation_id,
                            responsible_field="payment__counterparty__responsible")
    services.allocation_cancel(actor=request.user, allocation_id=allocation.pk, date=payload.date if payload else None)
    return PaymentAllocation.objects.select_related("payment", "invoice").get(pk=allocation.pk)


@router.post("/payments/{payment_id}/cancel", response=PaymentDetailOut)
def payment_cancel(request, payment_id: int, payload: PaymentCancelIn | None = None):
    require(request.user, Payment, "change")
    payment = selectors.payment_get_for_user(request.user, payment_id)
    services.payment_cancel(actor=request.user, payment_id=payment.pk, date=payload.date if payload else None)
    return selectors.payment_get_for_user(request.user, payment.pk)


@router.post("/invoices/{invoice_id}/apply-advances", response=list[AllocationOut])
def invoice_apply_advances(request, invoice_id: int, payload: PaymentCancelIn | None = None):
    require(request.user, Payment, "change")
    invoice = get_scoped(Invoice.objects.all(), request.user, invoice_id, responsible_field="counterparty__responsible")
    created = services.invoice_apply_advances(actor=request.user, invoice_id=invoice.pk, date=payload.date if payload else None)
    return list(PaymentAllocation.objects.filter(pk__in=[a.pk for a in created]).select_related("payment", "invoice").order_by("pk"))


# ----------------------------------------------------------------------------------------------- settlements


def _settlement_row(counterparty) -> dict:
    settlements.quantize_annotations(counterparty)
    return {
        "counterparty_id": counterparty.pk, "name": counterparty.name, "receivable": counterparty.receivable,
        "advances_received": counterparty.advances_received, "payable": counterparty.payable, "advances_paid": counterparty.advances_paid,
        "balance": counterparty.balance, "overdue_receivable": counterparty.overdue_receivable,
        "overdue_payable": counterparty.overdue_payable, "credit_limit": counterparty.credit_limit,
        "credit_headroom": settlements.credit_headroom(counterparty, counterparty.balance),
    }


@router.get("/settlements", response=Page[SettlementOut])
def settlement_list(request, search: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Payment, "view")
    queryset = settlements.settlement_list_for_user(request.user).order_by("name", "pk")
    if search:
        queryset = queryset.filter(name__icontains=search)
    page = paginate(queryset, cursor=cursor, limit=limit)
    page["items"] = [_settlement_row(counterparty) for counterparty in page["items"]]
    return page


@router.get("/settlements/{counterparty_id}", response=SettlementDetailOut)
def settlement_detail(request, counterparty_id: int, at: dt.date | None = None):
    require(request.user, Payment, "view")
    counterparty = settlements.settlement_counterparty_for_user(request.user, counterparty_id)
    at = at or timezone.localdate()
    parts = settlements.settlement_parts(counterparty_id=counterparty.pk)
    documents = settlements.documents_balance(counterparty_id=counterparty.pk)
    ageing = settlements.ageing(counterparty_id=counterparty.pk, at=at)
    overdue = {direction: item.overdue for direction, item in ageing.items()}
    return {
        "counterparty_id": counterparty.pk, "name": counterparty.name, "receivable": parts.receivable,
        "advances_received": parts.advances_received, "payable": parts.payable, "advances_paid": parts.advances_paid,
        "balance": parts.balance, "overdue_receivable": overdue["out"], "overdue_payable": overdue["in"],
        "credit_limit": counterparty.credit_limit, "credit_headroom": settlements.credit_headroom(counterparty, parts.balance), "at": at,
        "documents": {
            "invoices_out": documents.invoices_out, "payments_received": documents.payments_received,
            "credit_notes_out": documents.credit_notes_out, "invoices_in": documents.invoices_in,
            "payments_made": documents.payments_made, "credit_notes_in": documents.credit_notes_in,
            "exchange_differences": documents.exchange_differences, "balance": documents.balance,
        },
        "ageing": [_ageing_out(item) for item in ageing.values()],
    }


def _ageing_out(item) -> dict:
    return AgeingOut(
        direction=item.direction, not_due=item.buckets["not_due"], days_1_30=item.buckets["1_30"], days_31_60=item.buckets["31_60"],
        days_61_90=item.buckets["61_90"], over_90=item.buckets["over_90"], total=item.total, overdue=item.overdue,
        invoices=[
            {"invoice_id": row["invoice"].pk, "number": row["invoice"].number, "date": row["invoice"].date, "due_date": row["due"],
             "days_overdue": row["days_overdue"], "bucket": row["bucket"], "open_amount": row["open"], "currency": row["invoice"].currency}
            for row in item.invoices
        ],
    ).dict()


@router.get("/overdue", response=Page[OverdueOut])
def overdue_list(
    request, direction: str = "out", responsible_id: int | None = None, counterparty_id: int | None = None, min_days: int = 1,
    at: dt.date | None = None, cursor: str | None = None, limit: int = 50,
):
    require(request.user, Invoice, "view")
    if direction not in ("out", "in"):
        raise ValidationError({"direction": ["Choose one of: out, in"]})
    at = at or timezone.localdate()
    queryset = settlements.overdue_invoices_for_user(
        request.user, at=at, responsible_id=responsible_id, counterparty_id=counterparty_id, min_days=min_days, direction=direction
    )
    page = paginate(queryset, cursor=cursor, limit=limit)
    page["items"] = [
        {"invoice_id": invoice.pk, "number": invoice.number, "direction": invoice.direction, "counterparty_id": invoice.counterparty_id,
         "counterparty_name": invoice.counterparty.name, "responsible_id": invoice.responsible_id, "date": invoice.date,
         "due_date": invoice.due_date, "days_overdue": (at - invoice.due_date).days, "total": invoice.total,
         "open_amount": invoice.open_amount, "currency": invoice.currency}
        for invoice in page["items"]
    ]
    return page


def _period(request, counterparty_id: int, date_from: dt.date | None, date_to: dt.date | None) -> StatementPeriod:
    counterparty = settlements.settlement_counterparty_for_user(request.user, counterparty_id)
    today = timezone.localdate()
    date_to = date_to or today
    date_from = date_from or date_to.replace(month=1, day=1)
    if date_from > date_to:
        raise ValidationError({"date_from": ["The period's start is after its end"]})
    return StatementPeriod(counterparty, date_from, date_to)


@router.get("/reconciliation", response=ReconciliationOut)
def reconciliation(request, counterparty: int, date_from: dt.date | None = None, date_to: dt.date | None = None):
    require(request.user, Payment, "view")
    period = _period(request, counterparty, date_from, date_to)
    statement = settlements.reconciliation(counterparty=period.counterparty, date_from=period.date_from, date_to=period.date_to)
    pdf_url = reverse("api:finance_reconciliation_pdf") + f"?counterparty={period.counterparty.pk}&date_from={period.date_from}&date_to={period.date_to}"
    return {
        "counterparty_id": period.counterparty.pk, "counterparty_name": period.counterparty.name, "date_from": period.date_from,
        "date_to": period.date_to, "opening_balance": statement.opening, "debit_total": statement.debit_total,
        "credit_total": statement.credit_total, "closing_balance": statement.closing,
        "rows": [{**row, "kind": str(row["kind"])} for row in statement.rows], "pdf_url": pdf_url,
    }


@router.get("/reconciliation.pdf", url_name="finance_reconciliation_pdf", response={200: None})
def reconciliation_pdf(request, counterparty: int, date_from: dt.date | None = None, date_to: dt.date | None = None):
    require(request.user, Payment, "view")
    period = _period(request, counterparty, date_from, date_to)
    pdf = statement_pdf(period, actor=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="reconciliation-{period.counterparty.pk}-{period.date_to}.pdf"'
    return response


@router.put("/counterparties/{counterparty_id}/credit-limit", response=CreditLimitOut)
def credit_limit_set(request, counterparty_id: int, payload: CreditLimitIn):
    require(request.user, Invoice, "change")
    counterparty = settlements.settlement_counterparty_for_user(request.user, counterparty_id)
    updated = services.counterparty_credit_limit_set(actor=request.user, counterparty_id=counterparty.pk, credit_limit=payload.credit_limit)
    return {"counterparty_id": updated.pk, "credit_limit": updated.credit_limit}
