"""Settlements with counterparties: balances from the ledger, ageing, the overdue list and reconciliation statements.

Balance (positive: the counterparty owes us; negative: we owe it) = the counterparty's lines on receivables,
advances received, payables and advances paid (fabrika.ledger.selectors.counterparty_balance). It always equals, from
the documents, (client invoices − payments received − credit notes to clients) − (supplier invoices − payments
made − credit notes from suppliers) + the exchange differences of the active allocations (positive: a gain, which
raises what they owe us or lowers what we owe them), each document in the base currency; `documents_balance` computes
that side so the card can show both. Sums for decisions are made in Python Decimal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core.permissions import get_scoped, scoped
from fabrika.ledger.accounts import ADVANCES_PAID, ADVANCES_RECEIVED, PAYABLES, RECEIVABLES, SETTLEMENT_KEYS
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.ledger.selectors import counterparty_balance
from fabrika.parties.models import Counterparty

from .models import CreditNote, Direction, DocumentStatus, Invoice, Payment, PaymentAllocation

ZERO = Decimal(0)
CENT = Decimal("0.01")
MONEY_FIELD = DecimalField(max_digits=15, decimal_places=2)
BUCKETS = ("not_due", "1_30", "31_60", "61_90", "over_90")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def bucket_labels() -> dict[str, str]:
    return {
        "not_due": _("Not due"), "1_30": _("1–30 days"), "31_60": _("31–60 days"), "61_90": _("61–90 days"),
        "over_90": _("Over 90 days"),
    }


def bucket_for(days_past_due: int) -> str:
    if days_past_due <= 0:
        return "not_due"
    if days_past_due <= 30:
        return "1_30"
    if days_past_due <= 60:
        return "31_60"
    if days_past_due <= 90:
        return "61_90"
    return "over_90"


# ----------------------------------------------------------------------------------------------- balances


@dataclass(frozen=True)
class SettlementParts:
    receivable: Decimal = ZERO  # receivables (Dr − Cr): invoices to the client not yet paid
    advances_received: Decimal = ZERO  # Cr − Dr of advances received: the client's money not yet applied
    payable: Decimal = ZERO  # payables (Cr − Dr): supplier invoices we have not paid
    advances_paid: Decimal = ZERO  # Dr − Cr of advances paid: our money not yet applied

    @property
    def balance(self) -> Decimal:
        return self.receivable - self.advances_received - self.payable + self.advances_paid


def settlement_parts(*, counterparty_id: int, at: dt.date | None = None) -> SettlementParts:
    lines = JournalLine.objects.filter(counterparty_id=counterparty_id, account__key__in=SETTLEMENT_KEYS)
    if at is not None:
        lines = lines.filter(date__lte=at)
    net: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for key, debit, credit in lines.values_list("account__key", "debit", "credit"):
        net[key] += debit - credit
    return SettlementParts(
        receivable=net[RECEIVABLES], advances_received=-net[ADVANCES_RECEIVED], payable=-net[PAYABLES], advances_paid=net[ADVANCES_PAID]
    )


def _ledger_sum(key: str, *, credit_side: bool = False) -> Coalesce:
    expression = F("credit") - F("debit") if credit_side else F("debit") - F("credit")
    rows = (
        JournalLine.objects.filter(counterparty_id=OuterRef("pk"), account__key=key)
        .order_by().values("counterparty_id").annotate(total=Sum(expression, output_field=MONEY_FIELD)).values("total")
    )
    return Coalesce(Subquery(rows, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD)


def _overdue_sum(direction: str, at: dt.date) -> Coalesce:
    rows = (
        Invoice.objects.filter(counterparty_id=OuterRef("pk"), direction=direction, status=DocumentStatus.POSTED, due_date__lt=at)
        .order_by().values("counterparty_id")
        .annotate(total=Sum(F("total") - F("paid_amount") - F("credited_amount"), output_field=MONEY_FIELD)).values("total")
    )
    return Coalesce(Subquery(rows, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD)


def settlement_list_for_user(user, *, at: dt.date | None = None) -> QuerySet[Counterparty]:
    """Counterparties in the user's scope that have settlements, annotated with receivable, advances_received,
    payable, advances_paid, balance, overdue_receivable and overdue_payable (base currency)."""
    at = at or timezone.localdate()
    has_lines = JournalLine.objects.filter(counterparty_id=OuterRef("pk"), account__key__in=SETTLEMENT_KEYS)
    queryset = scoped(Counterparty.objects.select_related("responsible"), user, responsible_field="responsible")
    return (
        queryset.filter(Exists(has_lines))
        .annotate(
            receivable=_ledger_sum(RECEIVABLES), advances_received=_ledger_sum(ADVANCES_RECEIVED, credit_side=True),
            payable=_ledger_sum(PAYABLES, credit_side=True), advances_paid=_ledger_sum(ADVANCES_PAID),
            overdue_receivable=_overdue_sum(Direction.OUTGOING, at), overdue_payable=_overdue_sum(Direction.INCOMING, at),
        )
        .annotate(balance=F("receivable") - F("advances_received") - F("payable") + F("advances_paid"))
    )


ANNOTATIONS = ("receivable", "advances_received", "payable", "advances_paid", "balance", "overdue_receivable", "overdue_payable")


def quantize_annotations(counterparty: Counterparty) -> Counterparty:
    """The list's SQL sums as kopeck Decimals (SQLite hands back REAL-based values)."""
    for name in ANNOTATIONS:
        setattr(counterparty, name, money(getattr(counterparty, name) or ZERO))
    return counterparty


def settlement_counterparty_for_user(user, counterparty_id) -> Counterparty:
    return get_scoped(Counterparty.objects.select_related("responsible"), user, counterparty_id, responsible_field="responsible")


def credit_headroom(counterparty: Counterparty, balance: Decimal) -> Decimal | None:
    """How much more the client may owe before the credit limit; None without a limit."""
    if counterparty.credit_limit is None:
        return None
    return counterparty.credit_limit - balance


@dataclass(frozen=True)
class DocumentsBalance:
    invoices_out: Decimal
    payments_received: Decimal
    credit_notes_out: Decimal
    invoices_in: Decimal
    payments_made: Decimal
    credit_notes_in: Decimal
    exchange_differences: Decimal = ZERO

    @property
    def clients_part(self) -> Decimal:
        return self.invoices_out - self.payments_received - self.credit_notes_out

    @property
    def suppliers_part(self) -> Decimal:
        return self.invoices_in - self.payments_made - self.credit_notes_in

    @property
    def balance(self) -> Decimal:
        return self.clients_part - self.suppliers_part + self.exchange_differences


def _base_total(rows) -> Decimal:
    return sum((money(amount * rate) for amount, rate in rows), ZERO)


def _notes_base_total(notes) -> Decimal:
    """Posted credit notes in the base currency: each as it was posted (the note that closed its invoice took what was
    left of the invoice's base total)."""
    return sum(notes.values_list("base_total", flat=True), ZERO)


def documents_balance(*, counterparty_id: int) -> DocumentsBalance:
    """The balance computed from the posted documents (cancelled ones excluded), per side."""
    invoices = Invoice.objects.filter(counterparty_id=counterparty_id, status=DocumentStatus.POSTED)
    payments = Payment.objects.filter(counterparty_id=counterparty_id, status=DocumentStatus.POSTED)
    credit_notes = CreditNote.objects.filter(counterparty_id=counterparty_id, status=DocumentStatus.POSTED)
    out, incoming = Direction.OUTGOING, Direction.INCOMING
    return DocumentsBalance(
        invoices_out=_base_total(invoices.filter(direction=out).values_list("total", "exchange_rate")),
        payments_received=_base_total(payments.filter(direction=out).values_list("amount", "exchange_rate")),
        credit_notes_out=_notes_base_total(credit_notes.filter(invoice__direction=out)),
        invoices_in=_base_total(invoices.filter(direction=incoming).values_list("total", "exchange_rate")),
        payments_made=_base_total(payments.filter(direction=incoming).values_list("amount", "exchange_rate")),
        credit_notes_in=_notes_base_total(credit_notes.filter(invoice__direction=incoming)),
        exchange_differences=sum(PaymentAllocation.objects.filter(payment__counterparty_id=counterparty_id, is_active=True)
                                 .exclude(exchange_difference=0).values_list("exchange_difference", flat=True), ZERO),
    )


# ----------------------------------------------------------------------------------------------- ageing


@dataclass
class Ageing:
    direction: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    invoices: list[dict] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def overdue(self) -> Decimal:
        return self.total - self.buckets["not_due"]


def open_invoices(*, counterparty_id: int, direction: str | None = None) -> list[Invoice]:
    queryset = Invoice.objects.filter(counterparty_id=counterparty_id, status=DocumentStatus.POSTED)
    if direction:
        queryset = queryset.filter(direction=direction)
    queryset = queryset.annotate(due=Coalesce("due_date", "date")).order_by("due", "date", "pk")
    return [invoice for invoice in queryset if invoice.open_amount > 0]


def ageing(*, counterparty_id: int, at: dt.date | None = None) -> dict[str, Ageing]:
    """Open posted invoices by days past due at `at` (an invoice without a due date is due on its date), per side, in
    the invoices' currency amounts."""
    at = at or timezone.localdate()
    result = {Direction.OUTGOING: Ageing(Direction.OUTGOING), Direction.INCOMING: Ageing(Direction.INCOMING)}
    for invoice in open_invoices(counterparty_id=counterparty_id):
        due = invoice.due_date or invoice.date
        days = (at - due).days
        bucket = bucket_for(days)
        target = result[invoice.direction]
        target.buckets[bucket] += invoice.open_amount
        target.invoices.append({"invoice": invoice, "due": due, "days_overdue": max(days, 0), "bucket": bucket, "open": invoice.open_amount})
    return result


# ----------------------------------------------------------------------------------------------- overdue


def overdue_invoices_for_user(
    user, *, at: dt.date | None = None, responsible_id: int | None = None, counterparty_id: int | None = None,
    min_days: int = 1, direction: str = Direction.OUTGOING,
) -> QuerySet[Invoice]:
    """Open posted invoices at least `min_days` past due at `at`, in the user's scope (by the invoice's responsible)."""
    at = at or timezone.localdate()
    queryset = scoped(Invoice.objects.select_related("counterparty", "responsible", "order"), user, responsible_field="responsible")
    queryset = queryset.filter(
        status=DocumentStatus.POSTED, due_date__isnull=False, due_date__lte=at - dt.timedelta(days=max(min_days, 1)),
    ).annotate(open=F("total") - F("paid_amount") - F("credited_amount")).filter(open__gt=0)
    if direction:
        queryset = queryset.filter(direction=direction)
    if responsible_id:
        queryset = queryset.filter(responsible_id=responsible_id)
    if counterparty_id:
        queryset = queryset.filter(counterparty_id=counterparty_id)
    return queryset.order_by("due_date", "pk")


# ----------------------------------------------------------------------------------------------- reconciliation


def _source_label(entry: JournalEntry) -> str:
    labels = {
        "finance.invoice": _("Invoice"), "finance.payment": _("Payment"), "finance.creditnote": _("Credit note"),
        # an allocation's own entries change the balance only by its exchange difference; the rest nets to nothing
        "finance.paymentallocation": _("Exchange difference"), "sales.shipment": _("Shipment"),
    }
    label = labels.get(entry.source_type, entry.source_type)
    if entry.reverses_id:
        return _("Cancellation: %(document)s") % {"document": label}
    return label


@dataclass
class Reconciliation:
    counterparty: Counterparty
    date_from: dt.date
    date_to: dt.date
    opening: Decimal
    rows: list[dict]
    debit_total: Decimal
    credit_total: Decimal
    closing: Decimal
    ledger_closing: Decimal

    @property
    def balanced(self) -> bool:
        return self.closing == self.ledger_closing


def reconciliation(*, counterparty: Counterparty, date_from: dt.date, date_to: dt.date) -> Reconciliation:
    """Opening balance, every posted document (and cancellation) touching the counterparty's settlements in the period
    with its debit (they owe us more) or credit (they owe us less), and the closing balance. Entries that only move
    money between the counterparty's own settlement accounts (an advance applied to an invoice) change nothing and
    are left out."""
    opening = counterparty_balance(counterparty_id=counterparty.pk, at=date_from - dt.timedelta(days=1))
    lines = (
        JournalLine.objects.filter(counterparty_id=counterparty.pk, account__key__in=SETTLEMENT_KEYS, date__gte=date_from, date__lte=date_to)
        .select_related("entry").order_by("date", "entry_id", "id")
    )
    entries: dict[int, dict] = {}
    for line in lines:
        row = entries.setdefault(line.entry_id, {"entry": line.entry, "net": ZERO})
        row["net"] += line.debit - line.credit
    rows = []
    debit_total = credit_total = ZERO
    for item in entries.values():
        net, entry = item["net"], item["entry"]
        if net == 0:
            continue
        debit, credit = (net, ZERO) if net > 0 else (ZERO, -net)
        debit_total += debit
        credit_total += credit
        rows.append({
            "date": entry.date, "document": entry.source_number, "kind": _source_label(entry), "source_type": entry.source_type,
            "source_id": entry.source_id, "memo": entry.memo, "debit": debit, "credit": credit,
            "is_cancellation": entry.reverses_id is not None,
        })
    closing = opening + debit_total - credit_total
    return Reconciliation(
        counterparty=counterparty, date_from=date_from, date_to=date_to, opening=opening, rows=rows, debit_total=debit_total,
        credit_total=credit_total, closing=closing, ledger_closing=counterparty_balance(counterparty_id=counterparty.pk, at=date_to),
    )

