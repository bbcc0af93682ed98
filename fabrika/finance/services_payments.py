"""Payments received and made: create, post (with explicit or automatic allocation), allocate advances later,
unallocate, cancel; and the client credit limit.

    payment_create(*, actor, data) -> Payment                                   # a draft
    payment_post(*, actor, payment_id, allocations=None, auto_allocate=True) -> Payment
    payment_allocate(*, actor, payment_id, invoice_id, amount, date=None) -> PaymentAllocation
    invoice_apply_advances(*, actor, invoice_id, date=None) -> list[PaymentAllocation]
    allocation_cancel(*, actor, allocation_id, date=None) -> PaymentAllocation  # "unallocate"
    invoice_allocations_trim(*, actor, invoice_id, date=None) -> list[PaymentAllocation]  # after a credit note
    payment_cancel(*, actor, payment_id, date=None) -> Payment
    counterparty_credit_limit_set(*, actor, counterparty_id, credit_limit) -> Counterparty

Many new payments at once (a bank statement): fabrika/finance/batch_payments.py, by the same rules through the shared
steps below (clean_payment, parse_allocations, explicit_plan, auto_plan, posting_allocations, payment_posting,
difference_posting, post_changes, schedule_spread).

Postings (base currency = amount × exchange rate, rounded to kopecks), `cp` = the payment's counterparty:
    received (direction "out"):  Dr bank|cash total / Cr receivables(cp) allocated / Cr advances_received(cp) rest
    made (direction "in"):       Dr payables(cp) allocated / Dr advances_paid(cp) rest / Cr bank|cash total
    later allocation:            Dr advances_received(cp) / Cr receivables(cp)  (made: Dr payables / Cr advances_paid)
    exchange difference:         gain: Dr receivables|payables(cp) / Cr exchange_gains;
                                 loss: Dr exchange_losses / Cr receivables|payables(cp)
                                 (an entry of its own under the allocation's source, dated on the allocation)
    unallocation:                the mirror of the allocation's effect, dated on the unallocation
    cancellation:                mirror entries of the payment and of its allocations, dated on the cancellation

Exchange differences. Each allocation settles `settled_base` of the invoice: amount × the invoice's rate, except the
one that leaves the invoice nothing open, which settles what is left of the invoice's base total (less its credit
notes, valued at their own rate — the invoice's — and the active allocations), so a fully paid invoice is settled to
the kopeck. Its payment side is amount × the payment's rate, except the allocation that uses up the payment, which
takes what is left of the payment's base total, so a fully allocated payment leaves no kopeck on the advances
account; "allocated" above is the sum of these. `exchange_difference` = payment side − settled for a client, settled −
payment side for a supplier: positive is a gain for the company. Invoices and payments at rate 1 need no query.

Locks: payments first, then invoices, each set in id order (select_for_update; on SQLite the IMMEDIATE transaction
serialises writers). Amounts are decided in Python Decimal under those locks.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, numbering
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings
from fabrika.ledger.accounts import (
    ADVANCES_PAID,
    ADVANCES_RECEIVED,
    BANK,
    CASH,
    EXCHANGE_GAINS,
    EXCHANGE_LOSSES,
    PAYABLES,
    RECEIVABLES,
)
from fabrika.ledger.services import EntryLine, Posting, Source, journal_post, journal_reverse
from fabrika.parties.models import Counterparty

from .models import (
    CreditNote,
    Direction,
    DocumentStatus,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentScheduleItem,
)

ZERO = Decimal(0)
CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999999.99")
NUMBER_TYPES = {Direction.OUTGOING: "payment_received", Direction.INCOMING: "payment_made"}


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def base_amount(amount: Decimal, rate: Decimal) -> Decimal:
    """A document-currency amount in the base currency, rounded to kopecks (ROUND_HALF_UP)."""
    return money(amount * rate)


# ----------------------------------------------------------------------------------------------- parsing


def _decimal(value, field: str, *, positive: bool = False, allow_zero: bool = True, places: int = 2) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace(" ", "")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise ValidationError({field: [_("Enter a number")]})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: [_("At most %(places)d decimal places") % {"places": places}]})
    if positive and number <= 0:
        raise ValidationError({field: [_("Must be greater than zero")]})
    if not allow_zero and number == 0:
        raise ValidationError({field: [_("Must not be zero")]})
    if number < 0:
        raise ValidationError({field: [_("Must not be negative")]})
    if number > MAX_MONEY:
        raise ValidationError({field: [_("Too large: at most %(max)s") % {"max": MAX_MONEY}]})
    return number


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (ValueError, TypeError):
        raise ValidationError({field: [_("Enter a date as YYYY-MM-DD")]})


def _id(value, field: str) -> int:
    if isinstance(value, Counterparty | Invoice | Payment):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: [_("Enter a record id")]})


def _counterparty_by_id(pk: int) -> Counterparty | None:
    return Counterparty.objects.filter(pk=pk).first()


def _order_by_id(pk: int):
    from fabrika.sales.models import SalesOrder

    return SalesOrder.objects.filter(pk=pk).first()


def clean_payment(data: dict, *, counterparty_of=_counterparty_by_id, order_of=_order_by_id, base_currency: str | None = None) -> dict:
    """The payment's fields checked and parsed. `counterparty_of` / `order_of` (id -> record or None) and
    `base_currency` let a batch hand in what it read once for all its rows."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}

    def attempt(field: str, parse):
        try:
            cleaned[field] = parse()
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(key, []).extend(messages)

    direction = data.get("direction") or Direction.OUTGOING
    if direction not in Direction.values:
        errors["direction"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(Direction.values)}]
    cleaned["direction"] = direction
    method = data.get("method") or PaymentMethod.BANK
    if method not in PaymentMethod.values:
        errors["method"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(PaymentMethod.values)}]
    cleaned["method"] = method
    if data.get("date") in (None, ""):
        cleaned["date"] = timezone.localdate()
    else:
        attempt("date", lambda: _date(data.get("date"), "date"))
    if data.get("amount") in (None, ""):
        errors["amount"] = [_("Enter the amount")]
    else:
        attempt("amount", lambda: _decimal(data.get("amount"), "amount", positive=True))
    party_field = "counterparty_id" if "counterparty_id" in data and "counterparty" not in data else "counterparty"
    counterparty = data.get(party_field)
    if counterparty in (None, ""):
        errors[party_field] = [_("Choose the counterparty")]
    else:
        try:
            found = counterparty_of(_id(counterparty, party_field))
        except ValidationError as error:
            errors.update(error.errors)
            found = None
        if found is None and party_field not in errors:
            errors[party_field] = [_("Counterparty %(id)s does not exist") % {"id": counterparty}]
        cleaned["counterparty"] = found
    order_field = "order_id" if "order_id" in data and "order" not in data else "order"
    order = data.get(order_field)
    cleaned["order"] = None
    if order not in (None, ""):
        try:
            found_order = order_of(_id(order, order_field))
        except ValidationError as error:
            errors.update(error.errors)
            found_order = None
        if found_order is None and order_field not in errors:
            errors[order_field] = [_("Sales order %(id)s does not exist") % {"id": order}]
        elif found_order is not None and cleaned.get("counterparty") and found_order.counterparty_id != cleaned["counterparty"].pk:
            errors[order_field] = [_("The order belongs to another counterparty")]
        elif found_order is not None and direction != Direction.OUTGOING:
            errors[order_field] = [_("Only a payment received from a client may be a prepayment of a sales order")]
        cleaned["order"] = found_order
    base_currency = base_currency or company_settings().base_currency
    currency = str(data.get("currency") or "").strip().upper() or base_currency
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = [_("Enter a three-letter currency code, e.g. RUB")]
    cleaned["currency"] = currency
    rate = data.get("exchange_rate")
    if rate in (None, ""):
        cleaned["exchange_rate"] = Decimal(1)
    else:
        attempt("exchange_rate", lambda: _decimal(rate, "exchange_rate", positive=True, places=6))
    if currency == base_currency and cleaned.get("exchange_rate") not in (None, Decimal(1)):
        errors["exchange_rate"] = [_("A payment in the base currency has the exchange rate 1")]
    for field, limit in (("reference", 100), ("purpose", 300)):
        value = str(data.get(field) or "").strip()
        if len(value) > limit:
            errors[field] = [_("At most %(n)d characters") % {"n": limit}]
        cleaned[field] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


# ----------------------------------------------------------------------------------------------- locks


def _lock_payment(payment_id) -> Payment:
    try:
        return Payment.objects.select_for_update().get(pk=payment_id)
    except Payment.DoesNotExist:
        raise NotFound(_("Payment %(id)s not found") % {"id": payment_id})


def _lock_invoices(ids) -> dict[int, Invoice]:
    """The invoices locked, each with `has_schedule` and its order's `order_deal_id` (None without an order or a deal)."""
    invoices = (
        Invoice.objects.select_for_update(of=("self",)).filter(pk__in=sorted(set(ids)))
        .annotate(has_schedule=Exists(PaymentScheduleItem.objects.filter(invoice_id=OuterRef("pk"))), order_deal_id=F("order__deal_id"))
        .order_by("pk")
    )
    return {invoice.pk: invoice for invoice in invoices}


def _open_invoices(payment: Payment):
    """Open posted invoices the payment may pay: same counterparty, direction and currency; oldest due date first."""
    return (
        Invoice.objects.filter(
            counterparty_id=payment.counterparty_id, direction=payment.direction, status=DocumentStatus.POSTED,
            currency=payment.currency,
        )
        .annotate(due=Coalesce("due_date", "date"))
        .order_by("due", "date", "pk")
    )


# ----------------------------------------------------------------------------------------------- postings


def _settlement_accounts(direction: str) -> tuple[str, str]:
    """(settled account, advances account) for a payment's direction."""
    if direction == Direction.OUTGOING:
        return RECEIVABLES, ADVANCES_RECEIVED
    return PAYABLES, ADVANCES_PAID


def _payment_lines(payment: Payment, allocations: list[PaymentAllocation]) -> list[EntryLine]:
    settled, advances = _settlement_accounts(payment.direction)
    money_account = CASH if payment.method == PaymentMethod.CASH else BANK
    total = base_amount(payment.amount, payment.exchange_rate)
    allocated_base = sum((_paid_base(payment, allocation) for allocation in allocations), ZERO)
    rest = total - allocated_base
    party = payment.counterparty_id
    if payment.direction == Direction.OUTGOING:
        return [
            EntryLine(account=money_account, debit=total),
            EntryLine(account=settled, credit=allocated_base, counterparty_id=party),
            EntryLine(account=advances, credit=rest, counterparty_id=party),
        ]
    return [
        EntryLine(account=settled, debit=allocated_base, counterparty_id=party),
        EntryLine(account=advances, debit=rest, counterparty_id=party),
        EntryLine(account=money_account, credit=total),
    ]


def _difference_lines(payment: Payment, difference: Decimal, *, undo: bool = False) -> list[EntryLine]:
    """An allocation's exchange difference: a gain Dr settled(cp) / Cr exchange gains, a loss Dr exchange losses /
    Cr settled(cp); with undo, the mirror. Nothing for a zero difference."""
    if difference == 0:
        return []
    settled, _advances = _settlement_accounts(payment.direction)
    value, party = abs(difference), payment.counterparty_id
    debit, credit = (settled, EXCHANGE_GAINS) if difference > 0 else (EXCHANGE_LOSSES, settled)
    if undo:
        debit, credit = credit, debit
    return [EntryLine(account=debit, debit=value, counterparty_id=party), EntryLine(account=credit, credit=value, counterparty_id=party)]


def _post_difference(*, actor, payment: Payment, invoice: Invoice, allocation: PaymentAllocation) -> None:
    posting = difference_posting(payment, invoice, allocation)
    if posting is not None:
        journal_post(actor=actor, date=posting.date, source=posting.source, lines=posting.lines, memo=posting.memo)


def _allocation_lines(payment: Payment, value: Decimal, *, undo: bool = False) -> list[EntryLine]:
    """An advance applied to an invoice, `value` being the allocation's payment side (or, with undo, given back)."""
    settled, advances = _settlement_accounts(payment.direction)
    party = payment.counterparty_id
    if payment.direction == Direction.OUTGOING:
        debit, credit = (advances, settled) if not undo else (settled, advances)
    else:
        debit, credit = (settled, advances) if not undo else (advances, settled)
    return [EntryLine(account=debit, debit=value, counterparty_id=party), EntryLine(account=credit, credit=value, counterparty_id=party)]


def _paid_base(payment: Payment, allocation: PaymentAllocation) -> Decimal:
    """An allocation's payment side in the base currency, from what it settled and its difference."""
    if payment.direction == Direction.OUTGOING:
        return allocation.settled_base + allocation.exchange_difference
    return allocation.settled_base - allocation.exchange_difference


def invoice_base_left_now(invoice: Invoice) -> Decimal:
    """What is left of the invoice's base total: less its posted credit notes' base totals and its active
    allocations' settled amounts."""
    notes = CreditNote.objects.filter(invoice_id=invoice.pk, status=DocumentStatus.POSTED).values_list("base_total", flat=True)
    active = PaymentAllocation.objects.filter(invoice_id=invoice.pk, is_active=True).values_list("settled_base", flat=True)
    return invoice_base_left(invoice, notes=notes, settled=active)


def invoice_base_left(invoice: Invoice, *, notes, settled) -> Decimal:
    """`invoice_base_left_now` from given rows: the posted credit notes' base totals, the active allocations' settled
    amounts."""
    return base_amount(invoice.total, invoice.exchange_rate) - sum(notes, ZERO) - sum(settled, ZERO)


def _settled_base(invoice: Invoice, amount: Decimal, *, base_left=invoice_base_left_now) -> Decimal:
    """What allocating `amount` settles of the invoice's base amount; before the amount is applied, under the locks.
    `base_left(invoice)` gives what is left of its base total (a batch computes it from rows it read once)."""
    if invoice.exchange_rate == 1:
        return amount
    if amount < invoice.open_amount:
        return base_amount(amount, invoice.exchange_rate)
    return base_left(invoice)


def _payment_side(payment: Payment, amount: Decimal) -> Decimal:
    """The payment side of allocating `amount` of a posted payment; before the amount is applied, under the locks."""
    if payment.exchange_rate == 1:
        return amount
    if amount < payment.unallocated_amount:
        return base_amount(amount, payment.exchange_rate)
    active = PaymentAllocation.objects.filter(payment_id=payment.pk, is_active=True)
    return base_amount(payment.amount, payment.exchange_rate) - sum((_paid_base(payment, allocation) for allocation in active), ZERO)


def _difference(payment: Payment, paid: Decimal, settled: Decimal) -> Decimal:
    return paid - settled if payment.direction == Direction.OUTGOING else settled - paid


def _allocation_source(allocation: PaymentAllocation, payment: Payment, invoice: Invoice) -> Source:
    return Source(allocation._meta.label_lower, allocation.pk, f"{payment.number} → {invoice.number}"[:60])


# ----------------------------------------------------------------------------------------------- cached amounts


def schedule_refresh(invoice: Invoice) -> None:
    """Spread the invoice's paid amount over its schedule items in due-date order."""
    items = list(PaymentScheduleItem.objects.select_for_update().filter(invoice=invoice).order_by("due_date", "position", "pk"))
    changed = schedule_spread(items, invoice.paid_amount)
    if changed:
        PaymentScheduleItem.objects.bulk_update(changed, ["paid_amount"])


def schedule_spread(items: list[PaymentScheduleItem], paid: Decimal) -> list[PaymentScheduleItem]:
    """Spread `paid` over schedule items (given in due-date order); returns the items whose paid amount changed."""
    changed = []
    for item in items:
        share = min(item.amount, max(paid, ZERO))
        paid -= share
        if item.paid_amount != share:
            item.paid_amount = share
            changed.append(item)
    return changed


def order_schedule_refresh(order_id: int | None) -> None:
    """Spread the posted prepayments of an order (payments linked to it) over the order's schedule in due-date order."""
    if not order_id:
        return
    paid = sum(
        (amount for amount in Payment.objects.filter(order_id=order_id, status=DocumentStatus.POSTED).values_list("amount", flat=True)),
        ZERO,
    )
    items = list(PaymentScheduleItem.objects.select_for_update().filter(order_id=order_id, invoice__isnull=True).order_by("due_date", "position", "pk"))
    changed = schedule_spread(items, paid)
    if changed:
        PaymentScheduleItem.objects.bulk_update(changed, ["paid_amount"])


def _apply_to_invoice(invoice: Invoice, amount: Decimal, *, sign: int) -> None:
    """`invoice` comes from _lock_invoices."""
    invoice.paid_amount += sign * amount
    invoice.save(update_fields=["paid_amount", "updated_at"])
    if invoice.has_schedule:
        schedule_refresh(invoice)


def _apply(payment: Payment, invoice: Invoice, amount: Decimal, *, sign: int) -> None:
    payment.allocated_amount += sign * amount
    payment.save(update_fields=["allocated_amount", "updated_at"])
    _apply_to_invoice(invoice, amount, sign=sign)


def order_paid_follow(*, actor, invoice: Invoice) -> None:
    """When an allocation settles the last open invoice of a fully invoiced order, the order's deal follows
    ("order_paid", see fabrika/sales/deals.py). `invoice` comes from _lock_invoices."""
    if invoice.order_deal_id is None or invoice.direction != Direction.OUTGOING or invoice.open_amount > 0:
        return
    from fabrika.sales.deals import order_deal_follow
    from fabrika.sales.models import SalesOrder

    order = SalesOrder.objects.select_related("deal").get(pk=invoice.order_id)
    if order.deal_id is None or any(line.invoiced_quantity < line.quantity for line in order.lines.all()):
        return
    invoices = Invoice.objects.filter(order_id=order.pk, direction=Direction.OUTGOING, status=DocumentStatus.POSTED)
    if all(other.open_amount <= 0 for other in invoices):
        order_deal_follow(actor=actor, order=order, event="order_paid")


def _check_allocation(payment: Payment, invoice: Invoice, amount: Decimal, *, available: Decimal, field: str) -> None:
    if invoice.status != DocumentStatus.POSTED:
        raise ValidationError({"invoice_id": [_("Invoice %(number)s is not posted") % {"number": invoice}]})
    if invoice.counterparty_id != payment.counterparty_id:
        raise ValidationError({"invoice_id": [_("Invoice %(number)s belongs to another counterparty") % {"number": invoice}]})
    if invoice.direction != payment.direction:
        raise ValidationError({"invoice_id": [_("Invoice %(number)s is on the other side (client/supplier) than the payment") % {"number": invoice}]})
    if invoice.currency != payment.currency:
        raise ValidationError({"invoice_id": [_("Invoice %(number)s is in %(invoice)s, the payment in %(payment)s") % {
            "number": invoice, "invoice": invoice.currency, "payment": payment.currency}]})
    if amount > invoice.open_amount:
        raise ValidationError(
            {field: [_("%(amount)s is more than the open amount %(open)s of invoice %(number)s") % {
                "amount": amount, "open": invoice.open_amount, "number": invoice}]},
            open_amount=str(invoice.open_amount),
        )
    if amount > available:
        raise ValidationError(
            {field: [_("%(amount)s is more than the payment's unallocated %(available)s") % {"amount": amount, "available": available}]},
            unallocated=str(available),
        )


# ----------------------------------------------------------------------------------------------- services


@transaction.atomic
def payment_create(*, actor, data: dict) -> Payment:
    """A draft payment. data: direction (out = received from a client, in = paid to a supplier), method (bank, cash),
    date, counterparty, amount > 0, optional order (prepayment), currency, exchange_rate, reference, purpose."""
    cleaned = clean_payment(data)
    payment = Payment.objects.create(author=actor, **cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=payment, changes=audit.snapshot(payment))
    return payment


@transaction.atomic
def payment_update(*, actor, payment_id: int, data: dict) -> Payment:
    """Change a draft payment (fields not given keep their values)."""
    payment = _lock_payment(payment_id)
    if payment.status != DocumentStatus.DRAFT:
        raise InvalidTransition(_("Only a draft payment can be edited"))
    current = {
        "direction": payment.direction, "method": payment.method, "date": payment.date, "counterparty": payment.counterparty_id,
        "order": payment.order_id, "currency": payment.currency, "exchange_rate": payment.exchange_rate, "amount": payment.amount,
        "reference": payment.reference, "purpose": payment.purpose,
    }
    given = {key[:-3] if key in ("counterparty_id", "order_id") else key: value for key, value in data.items()}
    cleaned = clean_payment({**current, **{key: value for key, value in given.items() if key in current}})
    before = audit.snapshot(payment)
    for name, value in cleaned.items():
        setattr(payment, name, value)
    payment.save()
    changes = audit.diff(before, audit.snapshot(payment))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=payment, changes=changes)
    return payment


def parse_allocations(allocations: list[dict]) -> list[tuple[int, Decimal]]:
    parsed: list[tuple[int, Decimal]] = []
    seen: set[int] = set()
    for index, item in enumerate(allocations):
        invoice_id = _id(item.get("invoice_id", item.get("invoice")), f"allocations.{index}.invoice_id")
        amount = _decimal(item.get("amount"), f"allocations.{index}.amount", positive=True)
        if invoice_id in seen:
            raise ValidationError({f"allocations.{index}.invoice_id": [_("Invoice %(id)s is listed twice") % {"id": invoice_id}]})
        seen.add(invoice_id)
        parsed.append((invoice_id, amount))
    return parsed


def explicit_plan(payment: Payment, wanted: list[tuple[int, Decimal]], invoices: dict[int, Invoice]) -> list[tuple[Invoice, Decimal]]:
    """The given allocations (parsed) checked against the locked invoices, keyed `allocations.N.<field>` when refused."""
    plan: list[tuple[Invoice, Decimal]] = []
    available = payment.amount
    for index, (invoice_id, amount) in enumerate(wanted):
        invoice = invoices.get(invoice_id)
        if invoice is None:
            raise ValidationError({f"allocations.{index}.invoice_id": [_("Invoice %(id)s does not exist") % {"id": invoice_id}]})
        try:
            _check_allocation(payment, invoice, amount, available=available, field=f"allocations.{index}.amount")
        except ValidationError as error:
            raise ValidationError({
                (f"allocations.{index}.invoice_id" if key == "invoice_id" else key): messages for key, messages in error.errors.items()
            })
        available -= amount
        plan.append((invoice, amount))
    return plan


def auto_plan(payment: Payment, candidates: list[Invoice]) -> list[tuple[Invoice, Decimal]]:
    """The payment spread over `candidates` (in the order of _open_invoices: oldest due date first)."""
    plan: list[tuple[Invoice, Decimal]] = []
    available = payment.amount
    for invoice in candidates:
        if available <= 0:
            break
        amount = min(invoice.open_amount, available)
        if amount > 0:
            plan.append((invoice, amount))
            available -= amount
    return plan


def posting_allocations(*, actor, payment: Payment, plan: list[tuple[Invoice, Decimal]], base_left=invoice_base_left_now) -> list[PaymentAllocation]:
    """The allocations of a draft being posted (not saved): each settles its part of the invoice's base amount, the
    last one that uses up the payment takes what is left of the payment's base total. Before any amount is applied."""
    rows = []
    paid_left, unallocated = base_amount(payment.amount, payment.exchange_rate), payment.amount  # a draft has no allocations
    for invoice, amount in plan:  # each invoice once, so every settlement is decided before any allocation exists
        settled = _settled_base(invoice, amount, base_left=base_left)
        paid = paid_left if amount == unallocated else base_amount(amount, payment.exchange_rate)
        paid_left, unallocated = paid_left - paid, unallocated - amount
        rows.append(PaymentAllocation(payment=payment, invoice=invoice, date=payment.date, amount=amount, settled_base=settled,
                                      exchange_difference=_difference(payment, paid, settled), author=actor))
    return rows


def payment_posting(payment: Payment, allocations: list[PaymentAllocation]) -> Posting:
    """The posted payment's own journal entry."""
    return Posting(date=payment.date, source=Source.of(payment), lines=_payment_lines(payment, allocations),
                   memo=payment.purpose or str(payment.get_direction_display()))


def difference_posting(payment: Payment, invoice: Invoice, allocation: PaymentAllocation) -> Posting | None:
    """An allocation's exchange-difference entry (saved allocation), None without a difference."""
    if not allocation.exchange_difference:
        return None
    return Posting(
        date=allocation.date, source=_allocation_source(allocation, payment, invoice), lines=_difference_lines(payment, allocation.exchange_difference),
        memo=_("Exchange difference: %(payment)s → %(invoice)s") % {"payment": payment.number, "invoice": invoice.number},
    )


def post_changes(payment: Payment, plan: list[tuple[Invoice, Decimal]], allocated: Decimal) -> dict:
    """The audit changes of posting a payment."""
    return {"number": payment.number, "allocated": allocated, "advance": payment.amount - allocated,
            "allocations": [f"{invoice.number}: {amount}" for invoice, amount in plan]}


@transaction.atomic
def payment_post(*, actor, payment_id: int, allocations: list[dict] | None = None, auto_allocate: bool = True) -> Payment:
    """Post a draft: take its number, allocate it (the given [{invoice_id, amount}], else, with auto_allocate, to the
    counterparty's open invoices oldest due date first), keep the rest as an advance, and write the journal entry.
    fabrika/finance/batch_payments.py posts many new payments at once by the same rules."""
    payment = _lock_payment(payment_id)
    if payment.status != DocumentStatus.DRAFT:
        raise InvalidTransition(_("Payment %(number)s is already %(status)s") % {"number": payment, "status": payment.get_status_display()})
    if allocations:
        wanted = parse_allocations(allocations)
        plan = explicit_plan(payment, wanted, _lock_invoices(invoice_id for invoice_id, _amount in wanted))
    elif auto_allocate and allocations is None:
        candidate_ids = list(_open_invoices(payment).values_list("pk", flat=True))
        invoices = _lock_invoices(candidate_ids)
        plan = auto_plan(payment, [invoices[invoice_id] for invoice_id in candidate_ids])
    else:
        plan = []
    allocated = sum((amount for _invoice, amount in plan), ZERO)
    payment.number = numbering.next_number(NUMBER_TYPES[payment.direction], on=payment.date)
    payment.status = DocumentStatus.POSTED
    payment.posted_at = timezone.now()
    payment.allocated_amount += allocated
    payment.save(update_fields=["number", "status", "posted_at", "allocated_amount", "updated_at"])
    rows = posting_allocations(actor=actor, payment=payment, plan=plan)
    PaymentAllocation.objects.bulk_create(rows)
    for invoice, amount in plan:
        _apply_to_invoice(invoice, amount, sign=1)
        order_paid_follow(actor=actor, invoice=invoice)
    entry = payment_posting(payment, rows)
    journal_post(actor=actor, date=entry.date, source=entry.source, lines=entry.lines, memo=entry.memo)
    for row in rows:
        _post_difference(actor=actor, payment=payment, invoice=row.invoice, allocation=row)
    order_schedule_refresh(payment.order_id)
    audit.record(actor=actor, action=AuditAction.POST, target=payment, changes=post_changes(payment, plan, allocated))
    return payment


def _allocate_locked(*, actor, payment: Payment, invoice: Invoice, amount: Decimal, date: dt.date) -> PaymentAllocation:
    settled, paid = _settled_base(invoice, amount), _payment_side(payment, amount)
    allocation = PaymentAllocation.objects.create(payment=payment, invoice=invoice, date=date, amount=amount, settled_base=settled,
                                                  exchange_difference=_difference(payment, paid, settled), author=actor)
    _apply(payment, invoice, amount, sign=1)
    order_paid_follow(actor=actor, invoice=invoice)
    journal_post(
        actor=actor, date=date, source=_allocation_source(allocation, payment, invoice), lines=_allocation_lines(payment, paid),
        memo=_("Advance %(payment)s applied to %(invoice)s") % {"payment": payment.number, "invoice": invoice.number},
    )
    _post_difference(actor=actor, payment=payment, invoice=invoice, allocation=allocation)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=payment,
                 changes={"allocated_amount": [str(payment.allocated_amount - amount), str(payment.allocated_amount)]},
                 message=_("Allocated %(amount)s to %(invoice)s") % {"amount": amount, "invoice": invoice.number})
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice,
                 changes={"paid_amount": [str(invoice.paid_amount - amount), str(invoice.paid_amount)]},
                 message=_("Paid %(amount)s from %(payment)s") % {"amount": amount, "payment": payment.number})
    return allocation


def _allocation_date(date, payment: Payment, invoice: Invoice) -> dt.date:
    if date in (None, ""):
        return max(timezone.localdate(), payment.date, invoice.date)
    on = _date(date, "date")
    if on < payment.date or on < invoice.date:
        raise ValidationError({"date": [_("An allocation cannot be dated before the payment or the invoice")]})
    return on


@transaction.atomic
def payment_allocate(*, actor, payment_id: int, invoice_id: int, amount, date=None) -> PaymentAllocation:
    """Apply (part of) a posted payment's unallocated amount to an open invoice of the same counterparty and side."""
    amount = _decimal(amount, "amount", positive=True)
    payment = _lock_payment(payment_id)
    invoices = _lock_invoices([_id(invoice_id, "invoice_id")])
    invoice = invoices.get(_id(invoice_id, "invoice_id"))
    if invoice is None:
        raise ValidationError({"invoice_id": [_("Invoice %(id)s does not exist") % {"id": invoice_id}]})
    if payment.status != DocumentStatus.POSTED:
        raise InvalidTransition(_("Only a posted payment can be allocated"))
    _check_allocation(payment, invoice, amount, available=payment.unallocated_amount, field="amount")
    return _allocate_locked(actor=actor, payment=payment, invoice=invoice, amount=amount, date=_allocation_date(date, payment, invoice))


def unallocated_payments(*, counterparty_id, direction, currency):
    """Posted payments of a counterparty, side and currency not yet fully allocated (the arguments may be OuterRefs)."""
    return Payment.objects.filter(
        counterparty_id=counterparty_id, direction=direction, currency=currency, status=DocumentStatus.POSTED, allocated_amount__lt=F("amount"),
    )


@transaction.atomic
def invoice_apply_advances(*, actor, invoice_id: int, date=None) -> list[PaymentAllocation]:
    """Pay an open invoice from the counterparty's unallocated posted payments of the same side, oldest first."""
    invoice = Invoice.objects.filter(pk=_id(invoice_id, "invoice_id")).first()
    if invoice is None:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    candidate_ids = list(
        unallocated_payments(counterparty_id=invoice.counterparty_id, direction=invoice.direction, currency=invoice.currency)
        .order_by("date", "pk").values_list("pk", flat=True)
    )
    payments = {payment.pk: payment for payment in Payment.objects.select_for_update().filter(pk__in=sorted(candidate_ids)).order_by("pk")}
    invoice = _lock_invoices([invoice.pk])[invoice.pk]
    if invoice.status != DocumentStatus.POSTED:
        raise InvalidTransition(_("Invoice %(number)s is not posted") % {"number": invoice})
    if invoice.open_amount <= 0:
        raise Conflict(_("Invoice %(number)s has nothing left to pay") % {"number": invoice}, field="invoice_id")
    created = []
    for payment_id in candidate_ids:
        payment = payments[payment_id]
        amount = min(payment.unallocated_amount, invoice.open_amount)
        if amount <= 0:
            continue
        created.append(_allocate_locked(actor=actor, payment=payment, invoice=invoice, amount=amount, date=_allocation_date(date, payment, invoice)))
        if invoice.open_amount <= 0:
            break
    if not created:
        raise Conflict(_("%(counterparty)s has no unallocated payments to apply") % {"counterparty": invoice.counterparty}, field="invoice_id")
    return created


def _unallocate_locked(*, actor, payment: Payment, invoice: Invoice, allocation: PaymentAllocation, on: dt.date, memo: str) -> None:
    source = _allocation_source(allocation, payment, invoice)
    reversed_entries = journal_reverse(actor=actor, source=source, date=on, memo=memo)
    # A later allocation has its own entry (and one more for a non-zero exchange difference); one made when the
    # payment was posted has only the difference's, the payment's entry holding the rest, which gets a mirror entry.
    if len(reversed_entries) == (1 if allocation.exchange_difference else 0):
        journal_post(actor=actor, date=on, source=source, lines=_allocation_lines(payment, _paid_base(payment, allocation), undo=True), memo=memo)
    allocation.is_active = False
    allocation.save(update_fields=["is_active"])
    _apply(payment, invoice, allocation.amount, sign=-1)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=payment,
                 changes={"allocated_amount": [str(payment.allocated_amount + allocation.amount), str(payment.allocated_amount)]},
                 message=_("Allocation to %(invoice)s undone") % {"invoice": invoice.number})
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice,
                 changes={"paid_amount": [str(invoice.paid_amount + allocation.amount), str(invoice.paid_amount)]},
                 message=_("Allocation of %(payment)s undone") % {"payment": payment.number})


@transaction.atomic
def allocation_cancel(*, actor, allocation_id: int, date=None) -> PaymentAllocation:
    """Unallocate: the amount goes back to the payment's advance and the invoice is open again by it."""
    found = PaymentAllocation.objects.filter(pk=allocation_id).first()
    if found is None:
        raise NotFound(_("Allocation %(id)s not found") % {"id": allocation_id})
    payment = _lock_payment(found.payment_id)
    invoice = _lock_invoices([found.invoice_id])[found.invoice_id]
    allocation = PaymentAllocation.objects.select_for_update().get(pk=found.pk)
    if not allocation.is_active:
        raise InvalidTransition(_("This allocation is already undone"))
    if payment.status != DocumentStatus.POSTED:
        raise InvalidTransition(_("Only an allocation of a posted payment can be undone"))
    on = timezone.localdate() if date in (None, "") else _date(date, "date")
    if on < allocation.date:
        raise ValidationError({"date": [_("Cannot undo an allocation before its own date")]})
    _unallocate_locked(actor=actor, payment=payment, invoice=invoice, allocation=allocation, on=on, memo=_("Allocation undone"))
    return allocation


@transaction.atomic
def invoice_allocations_trim(*, actor, invoice_id: int, date=None) -> list[PaymentAllocation]:
    """After a credit note: when an invoice's payments exceed what is left of it (paid > total − credited), give the
    excess back to the payments as advances, newest allocation first (a partly kept allocation is undone and made
    again for the rest). Returns the allocations undone. Call it in the credit note's transaction."""
    allocations = list(PaymentAllocation.objects.filter(invoice_id=invoice_id, is_active=True).order_by("-date", "-pk"))
    payments = {payment.pk: payment for payment in
                Payment.objects.select_for_update().filter(pk__in=sorted({a.payment_id for a in allocations})).order_by("pk")}
    invoice = _lock_invoices([invoice_id]).get(invoice_id)
    if invoice is None:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    excess = invoice.paid_amount - (invoice.total - invoice.credited_amount)
    undone: list[PaymentAllocation] = []
    wanted = timezone.localdate() if date in (None, "") else _date(date, "date")
    for allocation in allocations:
        if excess <= 0:
            break
        payment = payments[allocation.payment_id]
        on = max(wanted, allocation.date)
        keep = allocation.amount - min(allocation.amount, excess)
        excess -= allocation.amount - keep
        _unallocate_locked(actor=actor, payment=payment, invoice=invoice, allocation=allocation, on=on,
                           memo=_("Credited: the payment is an advance again"))
        undone.append(allocation)
        if keep > 0:
            _allocate_locked(actor=actor, payment=payment, invoice=invoice, amount=keep, date=on)
    return undone


@transaction.atomic
def payment_cancel(*, actor, payment_id: int, date=None) -> Payment:
    """Cancel: a draft simply; a posted payment with mirror entries dated on the cancellation, its allocations undone
    and the invoices' paid amounts reduced."""
    payment = _lock_payment(payment_id)
    if payment.status == DocumentStatus.CANCELLED:
        raise InvalidTransition(_("Payment %(number)s is already cancelled") % {"number": payment})
    on = timezone.localdate() if date in (None, "") else _date(date, "date")
    was_posted = payment.status == DocumentStatus.POSTED
    if was_posted and on < payment.date:
        raise ValidationError({"date": [_("The cancellation cannot be dated before the payment (%(date)s)") % {"date": payment.date}]})
    if was_posted:
        allocations = list(PaymentAllocation.objects.filter(payment=payment).order_by("pk"))
        invoices = _lock_invoices(allocation.invoice_id for allocation in allocations)
        for allocation in allocations:
            journal_reverse(actor=actor, source=_allocation_source(allocation, payment, invoices[allocation.invoice_id]), date=on,
                            memo=_("Cancellation of %(number)s") % {"number": payment.number})
        journal_reverse(actor=actor, source=Source.of(payment), date=on, memo=_("Cancellation of %(number)s") % {"number": payment.number})
        for allocation in allocations:
            if allocation.is_active:
                invoice = invoices[allocation.invoice_id]
                allocation.is_active = False
                allocation.save(update_fields=["is_active"])
                _apply(payment, invoice, allocation.amount, sign=-1)
                audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice,
                             changes={"paid_amount": [str(invoice.paid_amount + allocation.amount), str(invoice.paid_amount)]},
                             message=_("Payment %(payment)s cancelled") % {"payment": payment.number})
    payment.status = DocumentStatus.CANCELLED
    payment.cancelled_at = timezone.now()
    payment.cancellation_date = on if was_posted else None
    payment.save(update_fields=["status", "cancelled_at", "cancellation_date", "updated_at"])
    order_schedule_refresh(payment.order_id)
    audit.record(actor=actor, action=AuditAction.CANCEL, target=payment, changes={"cancellation_date": payment.cancellation_date})
    return payment


@transaction.atomic
def counterparty_credit_limit_set(*, actor, counterparty_id: int, credit_limit) -> Counterparty:
    """Set (or, with an empty value, remove) a client's credit limit in the base currency."""
    value = None if credit_limit in (None, "") else _decimal(credit_limit, "credit_limit")
    counterparty = Counterparty.objects.select_for_update().filter(pk=counterparty_id).first()
    if counterparty is None:
        raise NotFound(_("Counterparty %(id)s not found") % {"id": counterparty_id})
    old = counterparty.credit_limit
    if old == value:
        return counterparty
    counterparty.credit_limit = value
    counterparty.save(update_fields=["credit_limit", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=counterparty, changes={"credit_limit": [old, value]})
    return counterparty
