"""Two real database connections allocating at once (SQLite: IMMEDIATE transactions; PostgreSQL: row locks taken
payments first, then invoices, in id order): an invoice is never paid twice, an advance never spent twice."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from fabrika.core.errors import DomainError
from fabrika.finance import services_payments as services
from fabrika.finance.models import Invoice, Payment, PaymentAllocation

from .payment_factories import posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _in_parallel(*jobs) -> tuple[list, list[BaseException]]:
    start = threading.Barrier(len(jobs))
    results: list = []
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            start.wait(timeout=10)
            results.append(job())
        except BaseException as error:  # reported to the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def _advance(actor, party, amount) -> Payment:
    payment = services.payment_create(actor=actor, data={"counterparty": party.pk, "amount": amount, "date": MAR})
    return services.payment_post(actor=actor, payment_id=payment.pk, allocations=[])


def test_two_advances_racing_for_one_invoice_pay_it_once(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=MAR)
    payments = [_advance(accountant, client_party, "100.00") for _ in range(2)]
    results, errors = _in_parallel(*[
        (lambda payment=payment: services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk, amount="100.00"))
        for payment in payments
    ])
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], DomainError)
    invoice.refresh_from_db()
    assert invoice.paid_amount == D("100.00")
    assert sorted(Payment.objects.values_list("allocated_amount", flat=True)) == [D("0"), D("100.00")]


def test_one_advance_racing_for_two_invoices_is_spent_once(accountant, client_party):
    invoices = [posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=MAR) for _ in range(2)]
    payment = _advance(accountant, client_party, "100.00")
    results, errors = _in_parallel(*[
        (lambda invoice=invoice: services.payment_allocate(actor=accountant, payment_id=payment.pk, invoice_id=invoice.pk, amount="100.00"))
        for invoice in invoices
    ])
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], DomainError)
    payment.refresh_from_db()
    assert payment.allocated_amount == D("100.00")
    assert sorted(Invoice.objects.values_list("paid_amount", flat=True)) == [D("0"), D("100.00")]
    assert PaymentAllocation.objects.filter(is_active=True).count() == 1
