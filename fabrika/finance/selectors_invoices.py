"""Reads of invoices, credit notes and payment schedules, always through the user's scope.

Invoices carry `responsible` (the order's responsible, or the author of a manual invoice): a role's scope
(own / department / all) limits them like crm deals; credit notes follow their invoice. Out of scope is 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core.errors import ValidationError
from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scope_filter, scoped
from fabrika.sales.models import SalesOrder

from .models import CreditNote, DocumentStatus, Invoice, PaymentScheduleItem

ZERO = Decimal(0)


def invoice_queryset_for_user(actor: User) -> QuerySet[Invoice]:
    return scoped(Invoice.objects.select_related("counterparty", "order", "responsible", "author"), actor)


def invoice_list_for_user(
    actor: User, *, direction: str = "", status: str = "", counterparty_id: int | None = None, order_id: int | None = None,
    date_from: dt.date | None = None, date_to: dt.date | None = None, overdue: bool = False, open_only: bool = False,
    search: str = "", today: dt.date | None = None,
) -> QuerySet[Invoice]:
    queryset = invoice_queryset_for_user(actor)
    errors: dict[str, list[str]] = {}
    if direction:
        if direction not in ("out", "in"):
            errors["direction"] = [_("Choose one of: %(choices)s") % {"choices": "out, in"}]
        queryset = queryset.filter(direction=direction)
    if status:
        if status not in DocumentStatus.values:
            errors["status"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(DocumentStatus.values)}]
        queryset = queryset.filter(status=status)
    if errors:
        raise ValidationError(errors)
    if counterparty_id:
        queryset = queryset.filter(counterparty_id=counterparty_id)
    if order_id:
        queryset = queryset.filter(order_id=order_id)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    if open_only or overdue:
        queryset = open_invoices(queryset)
    if overdue:
        queryset = queryset.filter(due_date__lt=today or timezone.localdate())
    if search:
        queryset = queryset.filter(
            Q(number__icontains=search) | Q(counterparty__name__icontains=search) | Q(supplier_reference__icontains=search) | Q(notes__icontains=search)
        )
    return queryset.order_by("-date", "-id")


def open_invoices(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Posted invoices not yet settled: total > paid + credited (compared in SQL on 2-place decimals, filter only)."""
    return queryset.filter(status=DocumentStatus.POSTED).filter(total__gt=F("paid_amount") + F("credited_amount"))


def overdue_filter(queryset: QuerySet[Invoice], value: str) -> QuerySet[Invoice]:
    if value == "yes":
        return open_invoices(queryset).filter(due_date__lt=timezone.localdate())
    return queryset.exclude(pk__in=open_invoices(Invoice.objects.all()).filter(due_date__lt=timezone.localdate()).values("pk"))


def open_filter(queryset: QuerySet[Invoice], value: str) -> QuerySet[Invoice]:
    if value == "yes":
        return open_invoices(queryset)
    return queryset.exclude(pk__in=open_invoices(Invoice.objects.all()).values("pk"))


def invoice_get_for_user(actor: User, invoice_id: Any) -> Invoice:
    return get_scoped(
        Invoice.objects.select_related("counterparty", "contact", "order", "responsible", "author"), actor, invoice_id
    )


def invoice_detail(invoice: Invoice) -> Invoice:
    """The invoice with its lines, schedule and credit notes loaded (for cards and API details)."""
    return (
        Invoice.objects.select_related("counterparty", "contact", "order", "responsible", "author")
        .prefetch_related("lines__product", "lines__unit", "lines__order_line", "lines__shipment_line__shipment", "schedule", "credit_notes")
        .get(pk=invoice.pk)
    )


def credit_note_queryset_for_user(actor: User) -> QuerySet[CreditNote]:
    return scoped(CreditNote.objects.select_related("invoice", "counterparty", "author", "sales_return"), actor,
                  responsible_field="invoice__responsible")


def credit_note_list_for_user(actor: User, *, status: str = "", invoice_id: int | None = None, counterparty_id: int | None = None,
                              direction: str = "", search: str = "") -> QuerySet[CreditNote]:
    queryset = credit_note_queryset_for_user(actor)
    if status:
        if status not in DocumentStatus.values:
            raise ValidationError({"status": [_("Choose one of: %(choices)s") % {"choices": ", ".join(DocumentStatus.values)}]})
        queryset = queryset.filter(status=status)
    if invoice_id:
        queryset = queryset.filter(invoice_id=invoice_id)
    if counterparty_id:
        queryset = queryset.filter(counterparty_id=counterparty_id)
    if direction:
        queryset = queryset.filter(invoice__direction=direction)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(counterparty__name__icontains=search) | Q(invoice__number__icontains=search))
    return queryset.order_by("-date", "-id")


def credit_note_get_for_user(actor: User, credit_note_id: Any) -> CreditNote:
    return get_scoped(CreditNote.objects.select_related("invoice", "counterparty", "author", "sales_return"), actor, credit_note_id,
                      responsible_field="invoice__responsible")


def order_get_for_user(actor: User, order_id: Any) -> SalesOrder:
    return get_scoped(SalesOrder.objects.select_related("counterparty", "responsible"), actor, order_id)


def order_in_scope(actor: User, order: SalesOrder) -> bool:
    condition = scope_filter(actor)
    return condition is None or SalesOrder.objects.filter(condition, pk=order.pk).exists()


@dataclass(frozen=True)
class ScheduleRow:
    item: PaymentScheduleItem
    state: str  # "paid", "overdue", "due", "planned"
    label: str
    open_amount: Decimal


def schedule_rows(items, *, today: dt.date | None = None) -> list[ScheduleRow]:
    """Each item with its state: paid (in full), overdue (due date passed, not paid in full), due (today) or planned."""
    today = today or timezone.localdate()
    labels = {"paid": _("Paid"), "overdue": _("Overdue"), "due": _("Due today"), "planned": _("Planned")}
    rows = []
    for item in items:
        open_amount = max(item.amount - item.paid_amount, ZERO)
        if open_amount == 0:
            state = "paid"
        elif item.due_date < today:
            state = "overdue"
        elif item.due_date == today:
            state = "due"
        else:
            state = "planned"
        rows.append(ScheduleRow(item=item, state=state, label=str(labels[state]), open_amount=open_amount))
    return rows


def schedule_for(*, order_id: int | None = None, invoice_id: int | None = None) -> list[PaymentScheduleItem]:
    owner = {"order_id": order_id} if order_id is not None else {"invoice_id": invoice_id}
    return list(PaymentScheduleItem.objects.filter(**owner).order_by("position", "due_date", "id"))


def is_overdue(invoice: Invoice, today: dt.date | None = None) -> bool:
    return (invoice.status == DocumentStatus.POSTED and invoice.open_amount > 0 and invoice.due_date is not None
            and invoice.due_date < (today or timezone.localdate()))
