"""Property test of settlements: random sequences of invoices, payments with and without allocation, later
allocations of advances, unallocations, credit notes (also on paid invoices, whose excess payment becomes an advance
again) and payment cancellations keep the ledger and the documents in agreement — in the base currency, or in EUR
with invoices and payments each at one of a few exchange rates (the second counterparty a client or a supplier).

Invariants after every sequence:
- every journal entry balances (Σ debit = Σ credit);
- per counterparty: ledger counterparty_balance = the documents' balance (documents_balance: invoices − payments −
  credit notes in the base currency, sign by side, + the active allocations' exchange differences); in the base
  currency that is Σ posted invoice totals − Σ posted payment amounts − Σ posted credit notes for a client;
- exchange gains − losses = Σ exchange differences of the active allocations;
- per invoice: Σ active allocations = paid_amount ≤ total − credited, and an invoice with nothing open is settled
  to the kopeck (Σ settled_base + its credit notes' base totals = its base total), whether an allocation or a credit
  note closed it; a credit note's base total differs from amount × rate by rounding only; per payment: Σ active
  allocations = allocated_amount ≤ amount.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabrika.core.errors import DomainError
from fabrika.finance import services_payments as services
from fabrika.finance.models import CreditNote, Direction, DocumentStatus, Invoice, Payment, PaymentAllocation
from fabrika.finance.selectors_settlements import documents_balance
from fabrika.ledger.models import JournalEntry
from fabrika.ledger.selectors import account_balance, counterparty_balance
from fabrika.parties.models import Counterparty

from .payment_factories import posted_credit_note, posted_invoice

D = Decimal
START = dt.date(2026, 1, 1)
cents = st.integers(min_value=1, max_value=500_000).map(lambda n: D(n) / 100)

RATES = (D("97.123457"), D("100"), D("101.5"), D("1.000001"))
invoice_op = st.tuples(st.just("invoice"), st.integers(0, 1), cents, st.integers(0, 60), st.integers(0, len(RATES) - 1))
pay_op = st.tuples(st.just("pay"), st.integers(0, 1), cents, st.sampled_from(["auto", "none", "explicit"]), st.integers(0, len(RATES) - 1))
operation = st.one_of(  # invoices and payments twice as often as the rest
    invoice_op, invoice_op, pay_op, pay_op,
    st.tuples(st.just("apply"), st.integers(0, 20)),
    st.tuples(st.just("allocate"), st.integers(0, 20), st.integers(0, 20), cents),
    st.tuples(st.just("unallocate"), st.integers(0, 30)),
    st.tuples(st.just("credit"), st.integers(0, 20), st.just(0) | st.integers(1, 100)),  # a percentage of what is not credited; 0: what is open
    st.tuples(st.just("cancel"), st.integers(0, 20)),
)


def _pick(items: list, index: int):
    return items[index % len(items)] if items else None


def run(actor, parties: list[Counterparty], operations, *, foreign: bool = False, sides: tuple[str, str] = ("out", "out")) -> None:
    invoices: list[Invoice] = []
    currency = {"currency": "EUR"} if foreign else {}
    payments: list[Payment] = []
    for step, op in enumerate(operations):
        day = START + dt.timedelta(days=step)
        kind = op[0]
        try:
            if kind == "invoice":
                _, party, total, due_in, rate = op
                invoices.append(posted_invoice(counterparty=parties[party], actor=actor, total=total, date=day,
                                               due_date=day + dt.timedelta(days=due_in), direction=sides[party],
                                               exchange_rate=RATES[rate] if foreign else 1, **currency))
            elif kind == "pay":
                _, party, amount, mode, rate = op
                data = {"counterparty": parties[party].pk, "amount": amount, "date": day, "direction": sides[party], **currency}
                payment = services.payment_create(actor=actor, data={**data, "exchange_rate": RATES[rate]} if foreign else data)
                if mode == "explicit":
                    target = next((i for i in invoices if i.counterparty_id == parties[party].pk), None)
                    allocations = []
                    if target is not None:
                        target.refresh_from_db()
                        share = min(target.open_amount, amount)
                        allocations = [{"invoice_id": target.pk, "amount": share}] if share > 0 else []
                    services.payment_post(actor=actor, payment_id=payment.pk, allocations=allocations)
                else:
                    services.payment_post(actor=actor, payment_id=payment.pk, auto_allocate=mode == "auto")
                payments.append(payment)
            elif kind == "apply":
                invoice = _pick(invoices, op[1])
                if invoice is not None:
                    services.invoice_apply_advances(actor=actor, invoice_id=invoice.pk, date=day)
            elif kind == "allocate":
                payment, invoice = _pick(payments, op[1]), _pick(invoices, op[2])
                if payment is not None and invoice is not None:
                    services.payment_allocate(actor=actor, payment_id=payment.pk, invoice_id=invoice.pk, amount=op[3], date=day)
            elif kind == "unallocate":
                allocation = _pick(list(PaymentAllocation.objects.filter(is_active=True).order_by("pk")), op[1])
                if allocation is not None:
                    services.allocation_cancel(actor=actor, allocation_id=allocation.pk, date=day)
            elif kind == "credit":  # up to what is not yet credited, paid or not (as the invoices service allows)
                invoice = _pick(invoices, op[1])
                if invoice is not None:
                    invoice.refresh_from_db()
                    amount = ((invoice.total - invoice.credited_amount) * op[2] / 100).quantize(D("0.01")) if op[2] else invoice.open_amount
                    if amount > 0:
                        with transaction.atomic():
                            posted_credit_note(invoice=invoice, actor=actor, total=amount, date=day, trim=True)
            elif kind == "cancel":
                payment = _pick(payments, op[1])
                if payment is not None:
                    services.payment_cancel(actor=actor, payment_id=payment.pk, date=day)
        except DomainError:
            pass  # a refused operation (over-allocation, nothing to apply, already cancelled) changes nothing


def _base(amount: Decimal, rate: Decimal) -> Decimal:
    return services.base_amount(amount, rate)


def check_invariants(parties: list[Counterparty], *, foreign: bool = False) -> None:
    for entry in JournalEntry.objects.prefetch_related("lines"):
        lines = list(entry.lines.all())
        assert sum((line.debit for line in lines), D(0)) == sum((line.credit for line in lines), D(0)) == entry.total
    for party in parties:
        balance = counterparty_balance(counterparty_id=party.pk)
        assert balance == documents_balance(counterparty_id=party.pk).balance
        if not foreign and party.is_client:
            invoiced = sum(Invoice.objects.filter(counterparty=party, status=DocumentStatus.POSTED).values_list("total", flat=True), D(0))
            paid = sum(Payment.objects.filter(counterparty=party, status=DocumentStatus.POSTED).values_list("amount", flat=True), D(0))
            credited = sum(CreditNote.objects.filter(counterparty=party, status=DocumentStatus.POSTED).values_list("total", flat=True), D(0))
            assert balance == invoiced - paid - credited
    active = PaymentAllocation.objects.filter(is_active=True)
    differences = sum(active.values_list("exchange_difference", flat=True), D(0))
    assert -account_balance(key="exchange_gains") - account_balance(key="exchange_losses") == differences
    if not foreign:
        assert differences == 0 and all(allocation.settled_base == allocation.amount for allocation in active)
    for invoice in Invoice.objects.all():
        allocated = sum(PaymentAllocation.objects.filter(invoice=invoice, is_active=True).values_list("amount", flat=True), D(0))
        assert allocated == invoice.paid_amount <= invoice.total - invoice.credited_amount
        allocations = list(PaymentAllocation.objects.filter(invoice=invoice, is_active=True))
        notes = list(CreditNote.objects.filter(invoice=invoice, status=DocumentStatus.POSTED))
        if invoice.open_amount == 0:  # closed by an allocation or by a credit note: the last one took what was left
            settled = sum((allocation.settled_base for allocation in allocations), D(0))
            noted = sum((note.base_total for note in notes), D(0))
            assert settled + noted == _base(invoice.total, invoice.exchange_rate)
        assert all(abs(note.base_total - _base(note.total, note.exchange_rate)) <= D("0.05") for note in notes)  # rounding only
    for payment in Payment.objects.all():
        allocated = sum(PaymentAllocation.objects.filter(payment=payment, is_active=True).values_list("amount", flat=True), D(0))
        assert allocated == payment.allocated_amount <= payment.amount
        if payment.status == DocumentStatus.CANCELLED:
            assert allocated == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=4, max_size=14))
def test_settlements_stay_consistent(accountant, client_party, operations):
    second = Counterparty.objects.get_or_create(name="Second client", defaults={"is_client": True, "responsible": client_party.responsible})[0]
    parties = [client_party, second]
    with transaction.atomic():
        run(accountant, parties, operations)
        check_invariants(parties)
        transaction.set_rollback(True)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=4, max_size=14), second_side=st.sampled_from([Direction.OUTGOING, Direction.INCOMING]))
def test_settlements_in_a_foreign_currency_stay_consistent(accountant, client_party, supplier, operations, second_side):
    second = supplier if second_side == Direction.INCOMING else Counterparty.objects.get_or_create(
        name="Second client", defaults={"is_client": True, "responsible": client_party.responsible})[0]
    parties = [client_party, second]
    with transaction.atomic():
        run(accountant, parties, operations, foreign=True, sides=(Direction.OUTGOING, second_side))
        check_invariants(parties, foreign=True)
        transaction.set_rollback(True)
