"""Invoices for many posted shipments at once (ADR 0005): one posted invoice per shipment, in one transaction.

    invoices_post_for_shipments(actor=, shipment_ids=[...], date=None) -> [Invoice]              # all or nothing
    invoices_post_for_selected_shipments(actor=, shipment_ids=[...], date=None) -> InvoicedShipments  # the list's action
    shipments_invoice_bulk(actor=, ids=, value=) -> (int, note)                                   # BulkAction.run

Each shipment gets what `invoice_create_from_shipments(shipment_ids=[id], data={"date": date})` followed by
`invoice_post` would give it, shipment after shipment in id order: the same lines and money to the kopeck (a part of an
order line priced after what earlier invoices of the batch took), the same totals, due date (the invoice date: a new
invoice has no schedule), exchange rate, number (consecutive, in shipment order), journal entry, order-line and
shipment-line invoiced quantities, order status (done when shipped and invoiced in full), deal following, audit rows
(created, posted), outbox event and automatic application of the client's advances. Rules shared with the single path
live in services_invoices (`shipment_invoice_lines`, `_order_line_part`, `_invoice_entry_lines`, `_posting_rate`).

Every table is read once for the batch and written once (bulk inserts, `update_many`, `journal_post_many`,
`audit.record_many`, `events.record_events`); only what is rare runs per document: a deal that follows its order, the
application of advances, an exchange rate looked up per foreign currency. Locks: the shipments by id, then their
orders, the orders' lines and the shipment lines (by id). A refusal refuses the batch before anything is written and
names the shipment by its index, `shipment_ids.N`, and its number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, events, numbering
from fabrika.core.db import batch_gc, column_in, insert_many, update_many
from fabrika.core.errors import Conflict, PermissionDenied, ValidationError
from fabrika.core.models.audit import AuditAction
from fabrika.core.permissions import can
from fabrika.core.selectors import company_settings
from fabrika.ledger.services import Posting, Source, journal_post_many
from fabrika.sales.deals import order_follow_progress
from fabrika.sales.models import SalesOrder, SalesOrderLine, ShipmentLine
from fabrika.sales.models.shipments import Shipment, ShipmentStatus
from fabrika.sales.progress import order_progress_status

from .models import Direction, DocumentStatus, Invoice, InvoiceLine
from .services_invoices import (
    INVOICE_NUMBERING,
    ORDER_PARTIES,
    ZERO,
    _ensure_invoiceable,
    _header,
    _id,
    _invoice_entry_lines,
    _posting_rate,
    _raise,
    add_up,
    shipment_invoice_lines,
)
from .services_payments import invoice_apply_advances, unallocated_payments

MAX_SHIPMENTS = 500
# the columns the rules read (a line's price and tax, its progress for the order's status): a fifth of the read's cost
ORDER_LINE_FIELDS = ("order_id", "position", "product_id", "unit_id", "description", "quantity", "price", "discount_percent", "tax_rate",
                     "shipped_quantity", "invoiced_quantity", "returned_quantity")
SHIPMENT_LINE_FIELDS = ("shipment_id", "order_line_id", "quantity", "invoiced_quantity")
NOT_POSTED, NOTHING_LEFT = "not_posted", "nothing_left"  # what the list's action skips instead of refusing


@dataclass
class InvoicedShipments:
    """What the list's action did: the invoices posted, and the shipments skipped with the reason for each."""

    invoices: list[Invoice]
    skipped: list[tuple[Shipment, str]] = field(default_factory=list)


@dataclass
class _Planned:
    index: int
    shipment: Shipment
    order: SalesOrder
    invoice: Invoice
    lines: list[InvoiceLine]
    created: dict  # the audit snapshot of the invoice as `invoice_create_from_shipments` saves it (a draft)


def invoices_post_for_shipments(*, actor, shipment_ids: list[int], date: Any = None) -> list[Invoice]:
    """One posted invoice per posted shipment not yet invoiced, in one transaction; refused as a whole (nothing written)
    when a shipment is unknown, not posted, already invoiced or its order cannot be invoiced."""
    return _post(actor=actor, shipment_ids=shipment_ids, date=date, skip=False).invoices


def invoices_post_for_selected_shipments(*, actor, shipment_ids: list[int], date: Any = None) -> InvoicedShipments:
    """`invoices_post_for_shipments` for a selection in the shipment list: drafts, cancelled and already invoiced
    shipments are skipped (and returned with the reason) instead of refusing the batch; every other refusal stands."""
    return _post(actor=actor, shipment_ids=shipment_ids, date=date, skip=True)


def shipments_invoice_bulk(*, actor, ids: list[int], value: Any = "") -> tuple[int, str]:
    """The shipment list's bulk action "Invoice": (invoices made, a note naming the shipments skipped and why). The
    list shows it to those who may add invoices; the check here guards other callers."""
    if not can(actor, Invoice, "add"):
        raise PermissionDenied(_("Your role does not allow creating invoices"))
    result = invoices_post_for_selected_shipments(actor=actor, shipment_ids=sorted(ids))
    return len(result.invoices), skipped_note(result.skipped)


def skipped_note(skipped: list[tuple[Shipment, str]]) -> str:
    if not skipped:
        return ""
    return _("Skipped: %(shipments)s.") % {"shipments": "; ".join(f"{shipment} ({reason})" for shipment, reason in skipped)}


def _parse(shipment_ids: Any, date: Any) -> tuple[dict[int, int], dt.date]:
    """{shipment id: its index in the request} and the invoice date; refuses bad input naming the field."""
    errors: dict[str, list[str]] = {}
    wanted: dict[int, int] = {}
    raw_ids = list(shipment_ids or [])
    if not raw_ids:
        errors["shipment_ids"] = [_("Choose at least one shipment")]
    elif len(raw_ids) > MAX_SHIPMENTS:
        errors["shipment_ids"] = [_("At most %(limit)d shipments at once") % {"limit": MAX_SHIPMENTS}]
    else:
        for index, raw in enumerate(raw_ids):
            value = _id(raw)
            if not str(value).isdigit():
                errors[f"shipment_ids.{index}"] = [_("Unknown shipment %(ids)s") % {"ids": value}]
            elif int(value) in wanted:
                errors[f"shipment_ids.{index}"] = [_("Shipment %(id)s is given twice") % {"id": value}]
            else:
                wanted[int(value)] = index
    day = _header(errors, {"date": date}).get("date")
    _raise(errors)
    return wanted, day  # type: ignore[return-value]


@batch_gc()
@transaction.atomic
def _post(*, actor, shipment_ids: Any, date: Any, skip: bool) -> InvoicedShipments:
    wanted, day = _parse(shipment_ids, date)
    errors: dict[str, list[str]] = {}
    skipped: list[tuple[Shipment, str]] = []

    def refuse(index: int, shipment: Shipment | None, message: str, *, kind: str = "") -> None:
        if skip and kind and shipment is not None:
            skipped.append((shipment, message))
        else:
            errors.setdefault(f"shipment_ids.{index}", []).append(message)

    # locks: the shipments by id, then their orders, the orders' lines, the shipment lines
    shipments = list(Shipment.objects.select_for_update().filter(column_in(Shipment, "id", sorted(wanted))).order_by("pk"))
    found = {shipment.pk for shipment in shipments}
    for pk, index in wanted.items():
        if pk not in found:
            refuse(index, None, _("Unknown shipment %(ids)s") % {"ids": pk})
    posted = []
    for shipment in shipments:
        if shipment.status != ShipmentStatus.POSTED:
            refuse(wanted[shipment.pk], shipment, _("Shipment %(number)s is not posted") % {"number": shipment}, kind=NOT_POSTED)
        else:
            posted.append(shipment)
    advances = unallocated_payments(counterparty_id=OuterRef("counterparty_id"), direction=Direction.OUTGOING, currency=OuterRef("currency"))
    orders = {order.pk: order for order in (
        SalesOrder.objects.select_for_update(of=("self",)).select_related(*ORDER_PARTIES).annotate(has_advances=Exists(advances))
        .filter(column_in(SalesOrder, "id", sorted({shipment.order_id for shipment in posted}))).order_by("pk")
    )}
    invoiceable = []
    for shipment in posted:
        try:
            _ensure_invoiceable(orders[shipment.order_id])
        except Conflict:
            order = orders[shipment.order_id]
            refuse(wanted[shipment.pk], shipment, _("Shipment %(shipment)s: %(reason)s") % {"shipment": shipment, "reason": _(
                "Order %(number)s is %(status)s; it cannot be invoiced") % {"number": order, "status": order.get_status_display().lower()}})
        else:
            invoiceable.append(shipment)
    order_lines = {line.pk: line for line in (
        SalesOrderLine.objects.select_for_update(of=("self",)).select_related("product").only(*ORDER_LINE_FIELDS, "product__name")
        .filter(column_in(SalesOrderLine, "order_id", sorted({shipment.order_id for shipment in invoiceable}))).order_by("pk")
    )}
    shipment_lines: dict[int, list[ShipmentLine]] = defaultdict(list)
    for line in ShipmentLine.objects.select_for_update().only(*SHIPMENT_LINE_FIELDS).filter(
        column_in(ShipmentLine, "shipment_id", [shipment.pk for shipment in invoiceable])
    ).order_by("pk"):
        shipment_lines[line.shipment_id].append(line)
    # what other draft invoices hold of these order and shipment lines (one read)
    order_line_ids = sorted({line.order_line_id for lines in shipment_lines.values() for line in lines})
    shipment_line_ids = [line.pk for lines in shipment_lines.values() for line in lines]
    order_drafts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    shipment_drafts: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if shipment_line_ids:
        rows = InvoiceLine.objects.filter(
            Q(column_in(InvoiceLine, "order_line_id", order_line_ids)) | Q(column_in(InvoiceLine, "shipment_line_id", shipment_line_ids)),
            invoice__status=DocumentStatus.DRAFT,
        ).values_list("order_line_id", "shipment_line_id", "quantity")
        order_line_set, shipment_line_set = set(order_line_ids), set(shipment_line_ids)
        for order_line_id, shipment_line_id, quantity in rows:
            if order_line_id in order_line_set:
                order_drafts[order_line_id] += quantity
            if shipment_line_id in shipment_line_set:
                shipment_drafts[shipment_line_id] += quantity
    order_left = {pk: line.quantity - line.invoiced_quantity - order_drafts[pk] for pk, line in order_lines.items()}
    done = {pk: line.invoiced_quantity for pk, line in order_lines.items()}

    # the invoices, as the single path would create them one shipment after another
    base_currency = company_settings().base_currency
    rates: dict[tuple[str, Decimal], Decimal] = {}
    planned: list[_Planned] = []
    for shipment in invoiceable:
        index, order = wanted[shipment.pk], orders[shipment.order_id]
        lines = shipment_invoice_lines(shipment_lines[shipment.pk], order_lines, shipment_drafts=shipment_drafts, order_left=order_left,
                                       done=done, prices_include_tax=order.prices_include_tax)
        if not lines:
            refuse(index, shipment, _("Everything shipped by shipment %(number)s is already invoiced") % {"number": shipment}, kind=NOTHING_LEFT)
            continue
        invoice = Invoice(
            direction=Direction.OUTGOING, counterparty=order.counterparty, contact=order.contact, order=order, currency=order.currency,
            exchange_rate=order.exchange_rate, prices_include_tax=order.prices_include_tax, responsible=order.responsible, author=actor, date=day,
        )
        add_up(invoice, lines)
        if invoice.total <= 0:
            refuse(index, shipment, _("Shipment %(shipment)s: %(reason)s") % {
                "shipment": shipment, "reason": _("The invoice total must be greater than zero")})
            continue
        created = audit.snapshot(invoice)
        if not invoice.currency or invoice.currency == base_currency:
            rate = Decimal(1)
        else:
            key = (invoice.currency, invoice.exchange_rate)
            if key not in rates:
                try:
                    rates[key] = _posting_rate(invoice)
                except ValidationError as error:
                    refuse(index, shipment, _("Shipment %(shipment)s: %(reason)s") % {"shipment": shipment, "reason": "; ".join(
                        message for messages in error.errors.values() for message in messages)})
                    continue
            rate = rates[key]
        invoice.exchange_rate = rate
        invoice.due_date = invoice.date  # no due date given and a new invoice has no schedule
        planned.append(_Planned(index, shipment, order, invoice, lines, created))
    _raise(errors)
    if not planned:
        raise ValidationError({"shipment_ids": [_("Nothing to invoice: %(reasons)s") % {
            "reasons": "; ".join(f"{shipment} ({reason})" for shipment, reason in skipped)}]})

    # writes: invoices and lines, quantities, journal, order status, deals, audit, events, advances
    now = timezone.now()
    numbers = numbering.next_numbers(INVOICE_NUMBERING[Direction.OUTGOING], len(planned), on=day)
    for item, number in zip(planned, numbers, strict=True):
        item.invoice.number, item.invoice.status, item.invoice.posted_at = number, DocumentStatus.POSTED, now
    invoices = insert_many([item.invoice for item in planned])
    touched_order_lines: dict[int, SalesOrderLine] = {}
    touched_shipment_lines: list[ShipmentLine] = []
    new_lines: list[InvoiceLine] = []
    for item in planned:
        for position, line in enumerate(item.lines, start=1):
            line.invoice, line.position = item.invoice, position
            order_line = order_lines[line.order_line_id]
            order_line.invoiced_quantity += line.quantity
            touched_order_lines[order_line.pk] = order_line
            line.shipment_line.invoiced_quantity += line.quantity
            touched_shipment_lines.append(line.shipment_line)
            new_lines.append(line)
    insert_many(new_lines)
    update_many([touched_order_lines[pk] for pk in sorted(touched_order_lines)], ["invoiced_quantity"])
    update_many(sorted(touched_shipment_lines, key=lambda line: line.pk), ["invoiced_quantity"])
    journal_post_many(actor=actor, postings=[
        Posting(date=item.invoice.date, source=Source.of(item.invoice), lines=_invoice_entry_lines(item.invoice, item.lines),
                memo=_("Invoice %(number)s") % {"number": item.invoice.number})
        for item in planned
    ])
    lines_of_order: dict[int, list[SalesOrderLine]] = defaultdict(list)
    for line in order_lines.values():
        lines_of_order[line.order_id].append(line)
    invoiced_orders = sorted({item.order.pk for item in planned})
    changed_orders = []
    for order_id in invoiced_orders:
        order = orders[order_id]
        status = order_progress_status(order, lines_of_order[order_id])
        if status != order.status:
            order.status, order.updated_at = status, now
            changed_orders.append(order)
    update_many(changed_orders, ["status", "updated_at"])
    for order_id in invoiced_orders:
        if orders[order_id].deal_id is not None:
            order_follow_progress(actor=actor, order_id=order_id, event="order_invoiced", order=orders[order_id], lines=lines_of_order[order_id])
    # the audit rows of both steps of the single path: created (the draft's snapshot, under its draft name), posted
    for item in planned:
        item.invoice.number = ""
    audit.record_many(actor=actor, action=AuditAction.CREATE, entries=[
        (item.invoice, item.created, _("From shipments %(numbers)s") % {"numbers": str(item.shipment)}) for item in planned
    ])
    for item, number in zip(planned, numbers, strict=True):
        item.invoice.number = number
    audit.record_many(actor=actor, action=AuditAction.POST, entries=[
        (item.invoice, {}, _("Posted as %(number)s, total %(total)s") % {"number": item.invoice.number, "total": item.invoice.total})
        for item in planned
    ])
    events.record_events([
        ("finance.invoice.posted", item.invoice, {"number": item.invoice.number, "total": str(item.invoice.total)}) for item in planned
    ])
    _apply_advances(actor, [item for item in planned if item.order.has_advances])
    return InvoicedShipments(invoices=invoices, skipped=skipped)


def _apply_advances(actor, planned: list[_Planned]) -> None:
    """Prepayments received before the invoices pay them, invoice after invoice as the single path does (rare: only
    clients with unallocated payments); an invoice after the first of its client and currency is paid only from what
    the earlier ones left."""
    seen: set[tuple[int, str]] = set()
    for item in planned:
        invoice = item.invoice
        key = (invoice.counterparty_id, invoice.currency)
        if key in seen and not unallocated_payments(counterparty_id=invoice.counterparty_id, direction=invoice.direction,
                                                    currency=invoice.currency).exists():
            continue
        seen.add(key)
        invoice_apply_advances(actor=actor, invoice_id=invoice.pk)
        invoice.refresh_from_db()
