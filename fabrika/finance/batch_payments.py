"""Many new payments posted at once — a bank statement: `payment_create` + `payment_post` for every row, in one
transaction, reading and writing each table once for the whole batch.

    payments_post_batch(*, actor, rows) -> list[Payment]      # all posted, or ValidationError and nothing written
    payments_check_batch(*, actor, rows) -> list[PlannedRow]  # the same checks and plan, nothing written (dry run)

A row is what `payment_create` takes (direction, method, date, counterparty, amount, currency, exchange_rate, order,
reference, purpose) plus `allocations` ([{invoice_id, amount}]) or `auto_allocate` (default true) — what
`payment_post` takes. The rules are services_payments' own functions (parsing, checks, the allocation plan, settled
amounts and exchange differences, the journal entries, the audit changes), applied row after row as if each row were
created and posted on its own in that order: a row sees what the earlier rows took of an invoice, and the numbers are
taken in row order.

Refusals are keyed `rows.N.<field>` (N from 0), every row checked; any refusal refuses the batch before the first write.

Reads: counterparties, orders, the company's base currency, the invoices (locked, in id order: the ones named and the
open ones of the rows' counterparties for the automatic allocation), and — only for foreign-currency invoices — their
credit notes and active allocations. Writes: the payments and their allocations (core.db.insert_many: bulk inserts), the invoices' paid
amounts (update_many), schedule items, journal entries (journal_post_many: one entry per payment, one more per
allocation with an exchange difference), two audit rows per payment (created, posted), numbers with one counter
update per type and date run.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, numbering
from fabrika.core.db import batch_gc, column_in, insert_many, update_many
from fabrika.core.errors import ValidationError
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings
from fabrika.ledger.services import Posting, journal_post_many
from fabrika.parties.models import Counterparty

from . import services_payments as single
from .models import (
    CreditNote,
    Direction,
    DocumentStatus,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentScheduleItem,
)

MAX_ROWS = 500
ZERO = Decimal(0)
OPEN_MARGIN = Decimal("0.005")  # an invoice is open when total − paid − credited > 0 (kopecks; the margin absorbs SQLite's REAL arithmetic)


@dataclass
class PlannedRow:
    """One row of a batch: its payment (not saved), what it allocates, or its errors keyed `rows.N.<field>`."""

    index: int
    payment: Payment | None = None
    plan: list[tuple[Invoice, Decimal]] = field(default_factory=list)
    allocations: list[PaymentAllocation] = field(default_factory=list)
    draft: dict = field(default_factory=dict)  # the audit snapshot of the draft payment_create would have written
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def allocated(self) -> Decimal:
        return sum((amount for _invoice, amount in self.plan), ZERO)

    @property
    def advance(self) -> Decimal:
        return self.payment.amount - self.allocated if self.payment is not None else ZERO


def payments_check_batch(*, actor, rows: list[dict]) -> list[PlannedRow]:
    """Check every row and plan its allocations as `payments_post_batch` would, writing nothing and locking nothing:
    the preview of a bank statement. A row that is refused has `errors`."""
    return _plan(actor=actor, rows=rows, lock=False)


@batch_gc()
@transaction.atomic
def payments_post_batch(*, actor, rows: list[dict]) -> list[Payment]:
    """Create and post a payment per row (see the module docstring); refuses the whole batch naming `rows.N.<field>`."""
    planned = _plan(actor=actor, rows=rows, lock=True)
    errors = {key: messages for row in planned for key, messages in row.errors.items()}
    if errors:
        raise ValidationError(errors)
    return _write(actor=actor, planned=planned)


# ----------------------------------------------------------------------------------------------- planning


def _loose_id(value) -> int | None:
    """An id to read, or None (the row's own parsing then names what is wrong)."""
    if isinstance(value, Counterparty | Invoice):
        return value.pk
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _prefixed(index: int, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {f"rows.{index}.{key}": list(messages) for key, messages in errors.items()}


def _wanted(data: dict) -> list[tuple[int, Decimal]] | None:
    """The row's explicit allocations parsed (None without any), as payment_post parses them."""
    allocations = data.get("allocations")
    if allocations is None:
        return None
    if not isinstance(allocations, list | tuple) or not all(isinstance(item, dict) for item in allocations):
        raise ValidationError({"allocations": [_("Give a list of {invoice_id, amount}")]})
    return single.parse_allocations(list(allocations)) if allocations else None


def _plan(*, actor, rows: list[dict], lock: bool) -> list[PlannedRow]:
    if not isinstance(rows, list | tuple) or not rows:
        raise ValidationError({"rows": [_("Give at least one payment")]})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"rows": [_("At most %(max)d payments at once: split the statement") % {"max": MAX_ROWS}]})
    planned = [PlannedRow(index=index) for index in range(len(rows))]
    for row, data in zip(planned, rows, strict=True):
        if not isinstance(data, dict):
            row.errors = {f"rows.{row.index}": [_("Give the payment's fields")]}
    datas = [data if isinstance(data, dict) else {} for data in rows]

    # one read per table: counterparties, orders, the base currency
    party_ids = {_loose_id(data.get(key)) for data in datas for key in ("counterparty", "counterparty_id")} - {None}
    parties = {party.pk: party for party in Counterparty.objects.filter(column_in(Counterparty, "id", sorted(party_ids)))} if party_ids else {}
    order_ids = {_loose_id(data.get(key)) for data in datas for key in ("order", "order_id")} - {None}
    orders: dict = {}
    if order_ids:
        from fabrika.sales.models import SalesOrder

        orders = {order.pk: order for order in SalesOrder.objects.filter(column_in(SalesOrder, "id", sorted(order_ids)))}
    base_currency = company_settings().base_currency

    wanted: dict[int, list[tuple[int, Decimal]] | None] = {}
    auto: dict[int, bool] = {}
    for row, data in zip(planned, datas, strict=True):
        if row.errors:
            continue
        try:
            cleaned = single.clean_payment(data, counterparty_of=parties.get, order_of=orders.get, base_currency=base_currency)
            wanted[row.index] = _wanted(data)
        except ValidationError as error:
            row.errors = _prefixed(row.index, error.errors)
            continue
        payment = Payment(author=actor, **cleaned)
        row.draft = audit.snapshot(payment)
        # as payment_post reads the draft back: money and rate as the database keeps them
        payment.amount = single.money(payment.amount)
        payment.exchange_rate = Decimal(payment.exchange_rate).quantize(Decimal("0.000001"))
        payment.allocated_amount = Decimal("0.00")
        row.payment = payment
        auto[row.index] = bool(data.get("auto_allocate", True)) and data.get("allocations") is None

    invoices = _invoices(planned, wanted, auto, lock=lock)
    candidates = _candidates(invoices)
    base_left = _BaseLeft(invoices)
    for row in planned:
        payment = row.payment
        if payment is None:
            continue
        try:
            if wanted[row.index]:
                row.plan = single.explicit_plan(payment, wanted[row.index], invoices)
            elif auto[row.index]:
                row.plan = single.auto_plan(payment, candidates.get((payment.counterparty_id, payment.direction, payment.currency), []))
        except ValidationError as error:
            row.errors = _prefixed(row.index, error.errors)
            continue
        row.allocations = single.posting_allocations(actor=actor, payment=payment, plan=row.plan, base_left=base_left)
        for allocation, (invoice, amount) in zip(row.allocations, row.plan, strict=True):  # the later rows see it
            invoice.paid_amount += amount
            base_left.settled[invoice.pk].append(allocation.settled_base)
    return planned


def _invoices(planned: list[PlannedRow], wanted: dict, auto: dict, *, lock: bool) -> dict[int, Invoice]:
    """The invoices the rows name and the open ones their automatic allocation may pay, in id order, locked (with the
    has_schedule and order_deal_id of services_payments._lock_invoices)."""
    named = sorted({invoice_id for items in wanted.values() if items for invoice_id, _amount in items})
    automatic = [row.payment for row in planned if row.payment is not None and auto.get(row.index)]
    condition = column_in(Invoice, "id", named) if named else None
    if automatic:
        open_ones = Q(
            counterparty_id__in=sorted({payment.counterparty_id for payment in automatic}),
            direction__in=sorted({payment.direction for payment in automatic}), status=DocumentStatus.POSTED,
            total__gt=F("paid_amount") + F("credited_amount") + OPEN_MARGIN,
        )
        condition = open_ones if condition is None else (Q(condition) | open_ones)
    if condition is None:
        return {}
    queryset = Invoice.objects.filter(condition)
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    queryset = queryset.annotate(
        has_schedule=Exists(PaymentScheduleItem.objects.filter(invoice_id=OuterRef("pk"))), order_deal_id=F("order__deal_id"),
    ).order_by("pk")
    return {invoice.pk: invoice for invoice in queryset}


def _candidates(invoices: dict[int, Invoice]) -> dict[tuple[int, str, str], list[Invoice]]:
    """Posted invoices per (counterparty, direction, currency), oldest due date first (services_payments._open_invoices)."""
    found: dict[tuple[int, str, str], list[Invoice]] = defaultdict(list)
    for invoice in invoices.values():
        if invoice.status == DocumentStatus.POSTED:
            found[(invoice.counterparty_id, invoice.direction, invoice.currency)].append(invoice)
    for items in found.values():
        items.sort(key=lambda invoice: (invoice.due_date or invoice.date, invoice.date, invoice.pk))
    return found


class _BaseLeft:
    """services_payments.invoice_base_left_now from rows read once (only foreign-currency invoices need them) plus the
    allocations the batch has planned so far."""

    def __init__(self, invoices: dict[int, Invoice]):
        self.settled: dict[int, list[Decimal]] = defaultdict(list)
        self.notes: dict[int, list[Decimal]] = defaultdict(list)
        self.loaded = False
        self.foreign = sorted(pk for pk, invoice in invoices.items() if invoice.exchange_rate != 1)

    def _load(self) -> None:
        self.loaded = True
        notes = CreditNote.objects.filter(column_in(CreditNote, "invoice_id", self.foreign), status=DocumentStatus.POSTED)
        for invoice_id, base_total in notes.values_list("invoice_id", "base_total"):
            self.notes[invoice_id].append(base_total)
        active = PaymentAllocation.objects.filter(column_in(PaymentAllocation, "invoice_id", self.foreign), is_active=True)
        for invoice_id, settled in active.values_list("invoice_id", "settled_base"):
            self.settled[invoice_id].append(settled)

    def __call__(self, invoice: Invoice) -> Decimal:
        if not self.loaded:
            self._load()
        return single.invoice_base_left(invoice, notes=self.notes[invoice.pk], settled=self.settled[invoice.pk])


# ----------------------------------------------------------------------------------------------- writing


def _write(*, actor, planned: list[PlannedRow]) -> list[Payment]:
    now = timezone.now()
    payments = [row.payment for row in planned]
    for row in planned:
        row.payment.status = DocumentStatus.POSTED
        row.payment.posted_at = now
        row.payment.allocated_amount += row.allocated
    _number(payments)
    insert_many(payments)
    allocations = []
    for row in planned:
        for allocation in row.allocations:
            allocation.payment = row.payment  # its id, now that it has one
            allocations.append(allocation)
    insert_many(allocations)

    touched: dict[int, Invoice] = {}
    for row in planned:
        for invoice, _amount in row.plan:
            touched[invoice.pk] = invoice
    for invoice in touched.values():
        invoice.updated_at = now
    update_many(sorted(touched.values(), key=lambda invoice: invoice.pk), ["paid_amount", "updated_at"])
    _schedules_refresh([invoice for invoice in touched.values() if invoice.has_schedule])
    followed: set[int] = set()  # an order's deal follows once, when all its invoices are paid at the end of the batch
    for invoice in touched.values():
        if invoice.order_deal_id is not None and invoice.direction == Direction.OUTGOING and invoice.open_amount <= 0 and invoice.order_id not in followed:
            followed.add(invoice.order_id)
            single.order_paid_follow(actor=actor, invoice=invoice)

    postings: list[Posting] = []
    for row in planned:
        postings.append(single.payment_posting(row.payment, row.allocations))
        for allocation in row.allocations:
            posting = single.difference_posting(row.payment, allocation.invoice, allocation)
            if posting is not None:
                postings.append(posting)
    journal_post_many(actor=actor, postings=postings)
    _order_schedules_refresh(sorted({payment.order_id for payment in payments if payment.order_id}))
    audit.record_many(actor=actor, action=AuditAction.CREATE, entries=[(_as_draft(row.payment), row.draft) for row in planned])
    audit.record_many(actor=actor, action=AuditAction.POST,
                      entries=[(row.payment, single.post_changes(row.payment, row.plan, row.allocated)) for row in planned])
    return payments


def _as_draft(payment: Payment) -> Payment:
    """The payment as payment_create's audit row names it (a draft has no number yet)."""
    draft = copy.copy(payment)
    draft.number = ""
    return draft


def _number(payments: list[Payment]) -> None:
    """Numbers in row order, as one payment_post after another would take them: one counter update per run of rows
    of one type and date."""
    by_type: dict[str, list[Payment]] = defaultdict(list)
    for payment in payments:
        by_type[single.NUMBER_TYPES[payment.direction]].append(payment)
    for number_type, members in by_type.items():
        for date, grouped in groupby(members, key=lambda payment: payment.date):
            run = list(grouped)
            for payment, number in zip(run, numbering.next_numbers(number_type, len(run), on=date), strict=True):
                payment.number = number


def _schedules_refresh(invoices: list[Invoice]) -> None:
    """services_payments.schedule_refresh for many invoices: one read, one write."""
    if not invoices:
        return
    items = PaymentScheduleItem.objects.select_for_update().filter(column_in(PaymentScheduleItem, "invoice_id", sorted(i.pk for i in invoices)))
    by_invoice: dict[int, list[PaymentScheduleItem]] = defaultdict(list)
    for item in items.order_by("invoice_id", "due_date", "position", "pk"):
        by_invoice[item.invoice_id].append(item)
    changed = [item for invoice in invoices for item in single.schedule_spread(by_invoice[invoice.pk], invoice.paid_amount)]
    update_many(changed, ["paid_amount"])


def _order_schedules_refresh(order_ids: list[int]) -> None:
    """services_payments.order_schedule_refresh for many orders (prepayments): one read of the payments, one of the
    schedule items, one write."""
    if not order_ids:
        return
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for order_id, amount in Payment.objects.filter(order_id__in=order_ids, status=DocumentStatus.POSTED).values_list("order_id", "amount"):
        paid[order_id] += amount
    items = PaymentScheduleItem.objects.select_for_update().filter(order_id__in=order_ids, invoice__isnull=True)
    by_order: dict[int, list[PaymentScheduleItem]] = defaultdict(list)
    for item in items.order_by("order_id", "due_date", "position", "pk"):
        by_order[item.order_id].append(item)
    changed = [item for order_id in order_ids for item in single.schedule_spread(by_order[order_id], paid[order_id])]
    update_many(changed, ["paid_amount"])


__all__ = ["MAX_ROWS", "PlannedRow", "payments_check_batch", "payments_post_batch"]
