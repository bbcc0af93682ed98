"""Reads of payments and allocations, limited to the user's scope.

Scope: a payment has no responsible user of its own; it belongs to its counterparty, so a user sees the payments of
the counterparties whose responsible their scope includes (a sales manager: own clients; a head of sales: the
department's; an accountant or a director: all). Records outside the scope answer 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce

from fabrika.core.permissions import get_scoped, scoped

from .models import DocumentStatus, Invoice, Payment, PaymentAllocation

SCOPE_FIELD = "counterparty__responsible"


def payment_list_for_user(
    user, *, direction: str = "", status: str = "", counterparty_id: int | None = None, order_id: int | None = None,
    method: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None, search: str = "",
) -> QuerySet[Payment]:
    queryset = scoped(Payment.objects.select_related("counterparty", "order", "author"), user, responsible_field=SCOPE_FIELD)
    if direction:
        queryset = queryset.filter(direction=direction)
    if status:
        queryset = queryset.filter(status=status)
    if method:
        queryset = queryset.filter(method=method)
    if counterparty_id:
        queryset = queryset.filter(counterparty_id=counterparty_id)
    if order_id:
        queryset = queryset.filter(order_id=order_id)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(reference__icontains=search) | Q(purpose__icontains=search)
                                   | Q(counterparty__name__icontains=search))
    return queryset.order_by("-date", "-id")


def payment_get_for_user(user, payment_id) -> Payment:
    queryset = Payment.objects.select_related("counterparty", "order", "author")
    return get_scoped(queryset, user, payment_id, responsible_field=SCOPE_FIELD)


def payment_allocations(payment: Payment) -> list[PaymentAllocation]:
    return list(PaymentAllocation.objects.filter(payment=payment).select_related("invoice", "author").order_by("date", "id"))


def invoice_allocations(invoice: Invoice) -> list[PaymentAllocation]:
    return list(PaymentAllocation.objects.filter(invoice=invoice).select_related("payment", "author").order_by("date", "id"))


def open_invoices_for_payment(payment: Payment) -> list[Invoice]:
    """Invoices this payment may still pay: posted, same counterparty, side and currency, open; oldest due first."""
    return [
        invoice for invoice in Invoice.objects.filter(
            counterparty_id=payment.counterparty_id, direction=payment.direction, status=DocumentStatus.POSTED, currency=payment.currency,
        ).annotate(due=Coalesce("due_date", "date")).order_by("due", "date", "pk")
        if invoice.open_amount > 0
    ]


def unallocated_payments_for_invoice(invoice: Invoice) -> list[Payment]:
    """Posted payments of the invoice's counterparty and side with money not yet allocated, oldest first."""
    return list(
        Payment.objects.filter(
            counterparty_id=invoice.counterparty_id, direction=invoice.direction, currency=invoice.currency,
            status=DocumentStatus.POSTED, allocated_amount__lt=F("amount"),
        ).order_by("date", "pk")
    )
