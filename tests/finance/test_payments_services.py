"""Payments: posting with allocations, advances applied later, unallocation, cancellation (exact worked numbers)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import Conflict, InvalidTransition, ValidationError
from fabrika.core.models import AuditEntry
from fabrika.finance import services_payments as services
from fabrika.finance.models import (
    Direction,
    DocumentStatus,
    Invoice,
    Payment,
    PaymentAllocation,
    PaymentScheduleItem,
)
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.ledger.selectors import account_balance, counterparty_balance

from .conftest import statements
from .payment_factories import posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)


def pay(actor, party, amount, *, date=MAR, direction=Direction.OUTGOING, post=True, **post_options):
    payment = services.payment_create(actor=actor, data={"direction": direction, "counterparty": party.pk, "amount": amount, "date": date})
    if post:
        payment = services.payment_post(actor=actor, payment_id=payment.pk, **post_options)
    return payment


def lines_of(source_type, source_id):
    rows = JournalLine.objects.filter(entry__source_type=source_type, entry__source_id=source_id).select_related("account")
    return sorted((row.account.key, row.debit, row.credit) for row in rows)


def state():
    """Everything a refused operation must leave as it was."""
    return (
        list(Invoice.objects.order_by("pk").values_list("pk", "paid_amount")),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "allocated_amount", "number")),
        PaymentAllocation.objects.filter(is_active=True).count(), JournalEntry.objects.count(), JournalLine.objects.count(),
    )


def test_partial_payment_leaves_the_exact_remainder(accountant, client_party):
    # given an invoice of 8500.00
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="8500.00", date=MAR, due_date=dt.date(2026, 3, 31))
    # when the client pays 3000.00
    payment = pay(accountant, client_party, "3000.00")
    # then the payment is numbered, fully allocated, and 5500.00 stay open
    invoice.refresh_from_db()
    assert payment.number.startswith("PR")
    assert payment.allocated_amount == D("3000.00")
    assert invoice.paid_amount == D("3000.00")
    assert invoice.open_amount == D("5500.00")
    assert lines_of("finance.payment", payment.pk) == [("bank", D("3000.00"), D("0")), ("receivables", D("0"), D("3000.00"))]
    assert counterparty_balance(counterparty_id=client_party.pk) == D("5500.00")
    assert AuditEntry.objects.filter(object_id=str(payment.pk), action="post").exists()


def test_overpayment_becomes_an_advance_applied_later_to_a_new_invoice(accountant, client_party):
    # given an invoice of 1000.00 and a payment of 1500.00
    first = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR, due_date=MAR)
    payment = pay(accountant, client_party, "1500.00", date=dt.date(2026, 3, 5))
    # then 1000.00 settle the invoice and 500.00 are an advance
    assert lines_of("finance.payment", payment.pk) == [
        ("advances_received", D("0"), D("500.00")), ("bank", D("1500.00"), D("0")), ("receivables", D("0"), D("1000.00")),
    ]
    first.refresh_from_db()
    assert first.open_amount == D("0.00")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("-500.00")
    # when a new invoice of 800.00 gets the advance
    second = posted_invoice(counterparty=client_party, actor=accountant, total="800.00", date=dt.date(2026, 3, 10))
    [allocation] = services.invoice_apply_advances(actor=accountant, invoice_id=second.pk, date=dt.date(2026, 3, 10))
    # then 500.00 of it are paid, 300.00 remain; the advance moved to receivables
    second.refresh_from_db()
    payment.refresh_from_db()
    assert allocation.amount == D("500.00")
    assert second.paid_amount == D("500.00") and second.open_amount == D("300.00")
    assert payment.unallocated_amount == D("0.00")
    assert lines_of("finance.paymentallocation", allocation.pk) == [("advances_received", D("500.00"), D("0")), ("receivables", D("0"), D("500.00"))]
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("0")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("300.00")
    # and applying again is refused, nothing changes
    before = state()
    with pytest.raises(Conflict):
        services.invoice_apply_advances(actor=accountant, invoice_id=second.pk)
    assert state() == before


def test_auto_allocation_pays_the_oldest_due_date_first(accountant, client_party):
    late = posted_invoice(counterparty=client_party, actor=accountant, total="400.00", date=MAR, due_date=dt.date(2026, 4, 30))
    early = posted_invoice(counterparty=client_party, actor=accountant, total="300.00", date=dt.date(2026, 3, 2), due_date=dt.date(2026, 3, 20))
    middle = posted_invoice(counterparty=client_party, actor=accountant, total="200.00", date=dt.date(2026, 3, 3), due_date=dt.date(2026, 4, 1))
    payment = pay(accountant, client_party, "600.00", date=dt.date(2026, 3, 25))
    paid = {invoice.pk: invoice.paid_amount for invoice in Invoice.objects.all()}
    assert paid == {early.pk: D("300.00"), middle.pk: D("200.00"), late.pk: D("100.00")}
    assert [a.invoice_id for a in payment.allocations.order_by("pk")] == [early.pk, middle.pk, late.pk]


def test_schedule_items_are_paid_in_due_date_order(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR,
                             schedule=[(dt.date(2026, 4, 1), "600.00"), (dt.date(2026, 3, 15), "400.00")])
    pay(accountant, client_party, "700.00")
    items = {item.due_date: item.paid_amount for item in PaymentScheduleItem.objects.filter(invoice=invoice)}
    assert items == {dt.date(2026, 3, 15): D("400.00"), dt.date(2026, 4, 1): D("300.00")}


def test_explicit_allocation_above_the_open_amount_is_refused(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    payment = pay(accountant, client_party, "800.00", post=False)
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.payment_post(actor=accountant, payment_id=payment.pk, allocations=[{"invoice_id": invoice.pk, "amount": "500.01"}])
    assert "allocations.0.amount" in refused.value.errors
    assert state() == before
    # more than the payment is refused too
    other = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.payment_post(actor=accountant, payment_id=payment.pk, allocations=[
            {"invoice_id": invoice.pk, "amount": "500.00"}, {"invoice_id": other.pk, "amount": "300.01"}])
    assert "allocations.1.amount" in refused.value.errors
    assert state() == before


def test_explicit_allocation_with_rest_as_advance(accountant, client_party):
    first = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    second = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    payment = pay(accountant, client_party, "800.00", allocations=[{"invoice_id": second.pk, "amount": "250.00"}])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_amount, second.paid_amount, payment.unallocated_amount) == (D("0"), D("250.00"), D("550.00"))
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-550.00")


def test_later_allocation_refusals_leave_the_database_unchanged(accountant, client_party, supplier):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=MAR)
    supplier_invoice = posted_invoice(counterparty=supplier, actor=accountant, total="100.00", date=MAR, direction=Direction.INCOMING)
    payment = pay(accountant, client_party, "300.00", allocations=[])
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk, amount="100.01")
    assert list(refused.value.errors) == ["amount"]
    with pytest.raises(ValidationError) as refused:
        services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=supplier_invoice.pk, amount="10")
    assert list(refused.value.errors) == ["invoice_id"]
    with pytest.raises(ValidationError) as refused:
        services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk, amount="-5")
    assert list(refused.value.errors) == ["amount"]
    assert state() == before


def test_unallocation_reopens_the_invoice_and_restores_the_advance(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    payment = pay(accountant, client_party, "1000.00")
    [allocation] = payment.allocations.all()
    services.allocation_cancel(actor=accountant, allocation_id=allocation.pk, date=dt.date(2026, 3, 3))
    invoice.refresh_from_db()
    payment.refresh_from_db()
    allocation.refresh_from_db()
    assert (invoice.paid_amount, payment.allocated_amount, allocation.is_active) == (D("0"), D("0"), False)
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("1000.00")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-1000.00")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("0")
    with pytest.raises(InvalidTransition):
        services.allocation_cancel(actor=accountant, allocation_id=allocation.pk)
    # a later allocation undone is reversed by a mirror entry
    later = services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk, amount="400.00", date=dt.date(2026, 3, 4))
    services.allocation_cancel(actor=accountant, allocation_id=later.pk, date=dt.date(2026, 3, 5))
    assert JournalEntry.objects.filter(source_type="finance.paymentallocation", source_id=later.pk, reverses__isnull=False).count() == 1
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("1000.00")


def test_cancellation_restores_balances(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    payment = pay(accountant, client_party, "1200.00")
    second = posted_invoice(counterparty=client_party, actor=accountant, total="150.00", date=dt.date(2026, 3, 2))
    services.invoice_apply_advances(actor=accountant, invoice_id=second.pk, date=dt.date(2026, 3, 2))
    assert counterparty_balance(counterparty_id=client_party.pk) == D("-50.00")
    cancelled = services.payment_cancel(actor=accountant, payment_id=payment.pk, date=dt.date(2026, 3, 9))
    invoice.refresh_from_db()
    second.refresh_from_db()
    assert cancelled.status == DocumentStatus.CANCELLED and cancelled.cancellation_date == dt.date(2026, 3, 9)
    assert (invoice.paid_amount, second.paid_amount, cancelled.allocated_amount) == (D("0"), D("0"), D("0"))
    assert not PaymentAllocation.objects.filter(is_active=True).exists()
    assert counterparty_balance(counterparty_id=client_party.pk) == D("1150.00")
    assert account_balance(key="bank") == D("0")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("0")
    # the history stays: at the day before the cancellation the payment still counted
    assert counterparty_balance(counterparty_id=client_party.pk, at=dt.date(2026, 3, 8)) == D("-50.00")
    before = state()
    with pytest.raises(InvalidTransition):
        services.payment_cancel(actor=accountant, payment_id=payment.pk)
    assert state() == before


def test_supplier_payment_postings(accountant, supplier):
    invoice = posted_invoice(counterparty=supplier, actor=accountant, total="600.00", date=MAR, direction=Direction.INCOMING)
    payment = services.payment_create(actor=accountant, data={
        "direction": "in", "method": "cash", "counterparty": supplier.pk, "amount": "1000.00", "date": MAR})
    services.payment_post(actor=accountant, payment_id=payment.pk)
    payment.refresh_from_db()
    assert payment.number.startswith("PM")
    assert lines_of("finance.payment", payment.pk) == [
        ("advances_paid", D("400.00"), D("0")), ("cash", D("0"), D("1000.00")), ("payables", D("600.00"), D("0")),
    ]
    invoice.refresh_from_db()
    assert invoice.open_amount == D("0")
    assert counterparty_balance(counterparty_id=supplier.pk) == D("400.00")
    new = posted_invoice(counterparty=supplier, actor=accountant, total="100.00", date=MAR, direction=Direction.INCOMING)
    [allocation] = services.invoice_apply_advances(actor=accountant, invoice_id=new.pk, date=MAR)
    assert lines_of("finance.paymentallocation", allocation.pk) == [("advances_paid", D("0"), D("100.00")), ("payables", D("100.00"), D("0"))]
    assert counterparty_balance(counterparty_id=supplier.pk) == D("300.00")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"direction": "sideways"}, "direction"),
        ({"method": "cheque"}, "method"),
        ({"date": "2026-13-01"}, "date"),
        ({"counterparty": 999999}, "counterparty"),
        ({"currency": "RUBL"}, "currency"),
        ({"exchange_rate": "0"}, "exchange_rate"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(accountant, client_party, data, field):
    payload = {"counterparty": client_party.pk, "amount": "10", "date": "2026-03-01", **data}
    with pytest.raises(ValidationError) as refused:
        services.payment_create(actor=accountant, data=payload)
    assert field in refused.value.errors
    assert Payment.objects.count() == 0


def test_credit_limit_is_set_with_an_audit_row_and_validated(accountant, client_party):
    services.counterparty_credit_limit_set(actor=accountant, counterparty_id=client_party.pk, credit_limit="150000.00")
    client_party.refresh_from_db()
    assert client_party.credit_limit == D("150000.00")
    entry = AuditEntry.objects.filter(object_id=str(client_party.pk), action="update").latest("at")
    assert entry.changes == {"credit_limit": [None, "150000.00"]}
    with pytest.raises(ValidationError) as refused:
        services.counterparty_credit_limit_set(actor=accountant, counterparty_id=client_party.pk, credit_limit="-1")
    assert "credit_limit" in refused.value.errors
    client_party.refresh_from_db()
    assert client_party.credit_limit == D("150000.00")
    services.counterparty_credit_limit_set(actor=accountant, counterparty_id=client_party.pk, credit_limit="")
    client_party.refresh_from_db()
    assert client_party.credit_limit is None


def test_a_credit_note_on_a_paid_invoice_gives_the_excess_back_as_an_advance(accountant, client_party):
    from .payment_factories import posted_credit_note

    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    first = pay(accountant, client_party, "600.00", date=dt.date(2026, 3, 2))
    second = pay(accountant, client_party, "400.00", date=dt.date(2026, 3, 3))
    posted_credit_note(invoice=invoice, actor=accountant, total="500.00", date=dt.date(2026, 3, 10))
    undone = services.invoice_allocations_trim(actor=accountant, invoice_id=invoice.pk, date=dt.date(2026, 3, 10))
    invoice.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    # the newest payment (400) is given back whole, the older one keeps 500 of its 600
    assert [allocation.payment_id for allocation in undone] == [second.pk, first.pk]
    assert (invoice.paid_amount, invoice.open_amount) == (D("500.00"), D("0.00"))
    assert (first.allocated_amount, second.allocated_amount) == (D("500.00"), D("0.00"))
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-500.00")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("0.00")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("-500.00")
    assert services.invoice_allocations_trim(actor=accountant, invoice_id=invoice.pk) == []


def test_posting_a_payment_of_one_invoice_writes_each_table_once(accountant, client_party):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given an open invoice of 1200.00
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1200.00", date=MAR)
    payment = pay(accountant, client_party, "1200.00", post=False)
    # when a payment of it is posted
    with CaptureQueriesContext(connection) as captured:
        services.payment_post(actor=accountant, payment_id=payment.pk, allocations=[{"invoice_id": invoice.pk, "amount": "1200.00"}])
    # then the payment and the invoice are locked, each row written once, and the journal entry written
    assert statements(captured) == [
        ("SELECT", "finance_payment"), ("SELECT", "finance_invoice"), ("UPDATE", "finance_payment"), ("INSERT", "finance_paymentallocation"),
        ("UPDATE", "finance_invoice"), ("SELECT", "ledger_account"), ("INSERT", "ledger_journalentry"), ("INSERT", "ledger_journalline"),
    ]
    invoice.refresh_from_db()
    assert invoice.paid_amount == D("1200.00") and invoice.open_amount == 0
