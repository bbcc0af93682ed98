"""Finance part of the Robokids demo: the shipped part of order DEMO-SO-1 is invoiced (net 10 days) and half of it is
paid by bank, so the client's balance, ageing and reconciliation statement show the rest; the confirmed dealer order
DEMO-SO-2 has a 30 % prepayment schedule. Loading twice changes nothing (each step checks what exists)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from fabrika.core.demo import DemoContext


def load_finance(context: DemoContext) -> None:
    from fabrika.sales.models import Shipment, ShipmentStatus

    from .models import Invoice, Payment
    from .services_invoices import invoice_create_from_shipments, invoice_post, schedule_generate
    from .services_payments import payment_create, payment_post

    orders = context.records.get("sales_orders") or {}
    accountant = context.users["accountant"]
    first = orders.get("DEMO-SO-1")
    if first is not None and not Invoice.objects.filter(order=first).exists():
        shipments = list(Shipment.objects.filter(order=first, status=ShipmentStatus.POSTED).values_list("pk", flat=True))
        if shipments:
            today = timezone.localdate()
            invoice = invoice_create_from_shipments(actor=accountant, shipment_ids=shipments, data={"date": today - dt.timedelta(days=1)})
            invoice = invoice_post(actor=accountant, invoice_id=invoice.pk, due_date=today + dt.timedelta(days=9))
            half = (invoice.total / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            payment = payment_create(actor=accountant, data={
                "direction": "out", "method": "bank", "date": today, "counterparty": invoice.counterparty_id,
                "amount": str(half), "currency": invoice.currency, "purpose": f"Part payment of invoice {invoice.number}",
            })
            payment_post(actor=accountant, payment_id=payment.pk, allocations=[{"invoice_id": invoice.pk, "amount": str(half)}])
    second = orders.get("DEMO-SO-2")
    if second is not None and second.status == "confirmed" and not second.schedule.exists() and not Payment.objects.filter(order=second).exists():
        schedule_generate(actor=accountant, order_id=second.pk, prepayment_percent="30", instalments=2)
