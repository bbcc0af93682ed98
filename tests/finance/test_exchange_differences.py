"""Exchange differences: a foreign-currency invoice is settled at its own rate, the payment is valued at its rate, and
the difference goes to exchange gains or losses, so a fully paid invoice leaves the counterparty at 0.00.

Worked example (client, EUR): invoice 1,000.00 at 100.000000 → receivable 100,000.00; payment 600.00 at 102 →
61,200.00 received, 60,000.00 settled, gain 1,200.00; payment 400.00 at 98 → 39,200.00 received, 40,000.00 settled
(what is left of the invoice), loss 800.00; the client's balance 0.00, gains 1,200.00, losses 800.00.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fabrika.core.errors import ValidationError
from fabrika.finance import services_payments as services
from fabrika.finance.models import Direction, Invoice, Payment, PaymentAllocation
from fabrika.finance.selectors_settlements import documents_balance, reconciliation
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.ledger.selectors import account_balance, counterparty_balance, trial_balance

from .payment_factories import posted_credit_note, posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)
APR = dt.date(2026, 4, 1)
BASE = "/api/v1/finance"


def pay(actor, party, amount, rate, *, currency="EUR", date=MAR, direction=Direction.OUTGOING, **post_options) -> Payment:
    payment = services.payment_create(actor=actor, data={
        "direction": direction, "counterparty": party.pk, "amount": amount, "date": date, "currency": currency, "exchange_rate": rate})
    return services.payment_post(actor=actor, payment_id=payment.pk, **post_options)


def eur_invoice(actor, party, total="1000.00", rate="100.000000", **options) -> Invoice:
    return posted_invoice(counterparty=party, actor=actor, total=total, date=MAR, currency="EUR", exchange_rate=rate, **options)


def gains() -> Decimal:
    return -account_balance(key="exchange_gains")


def losses() -> Decimal:
    return account_balance(key="exchange_losses")


def assert_trial_balance_balances() -> None:
    totals = trial_balance(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 12, 31))["totals"]
    assert totals["debit"] == totals["credit"]
    assert totals["closing_debit"] == totals["closing_credit"]


def state():
    return (
        list(Invoice.objects.order_by("pk").values_list("pk", "paid_amount")),
        list(Payment.objects.order_by("pk").values_list("pk", "status", "allocated_amount")),
        list(PaymentAllocation.objects.order_by("pk").values_list("pk", "is_active", "settled_base", "exchange_difference")),
        JournalEntry.objects.count(), JournalLine.objects.count(),
    )


def test_worked_example_client_pays_at_two_rates(accountant, client_party):
    # given a EUR invoice of 1,000.00 at 100 (receivable 100,000.00)
    invoice = eur_invoice(accountant, client_party)
    assert counterparty_balance(counterparty_id=client_party.pk) == D("100000.00")
    # when the client pays 600.00 at 102
    first = pay(accountant, client_party, "600.00", "102")
    # then 61,200.00 is received, 60,000.00 settled and 1,200.00 gained
    allocation = first.allocations.get()
    assert (allocation.amount, allocation.settled_base, allocation.exchange_difference) == (D("600.00"), D("60000.00"), D("1200.00"))
    assert account_balance(key="bank") == D("61200.00")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("40000.00")
    assert gains() == D("1200.00")
    # when the client pays the last 400.00 at 98
    second = pay(accountant, client_party, "400.00", "98")
    # then 39,200.00 is received, what is left (40,000.00) settled and 800.00 lost
    allocation = second.allocations.get()
    assert (allocation.settled_base, allocation.exchange_difference) == (D("40000.00"), D("-800.00"))
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    assert counterparty_balance(counterparty_id=client_party.pk) == D("0.00")
    assert account_balance(key="bank") == D("100400.00")
    assert (gains(), losses()) == (D("1200.00"), D("800.00"))
    assert documents_balance(counterparty_id=client_party.pk).balance == D("0.00")
    assert documents_balance(counterparty_id=client_party.pk).exchange_differences == D("400.00")
    assert_trial_balance_balances()
    # and each difference is an entry of its own under the allocation: gain Dr receivables / Cr gains, loss the other way
    gain_entry = JournalEntry.objects.get(source_type="finance.paymentallocation", source_id=first.allocations.get().pk)
    assert sorted((line.account.key, line.debit, line.credit) for line in gain_entry.lines.select_related("account")) == [
        ("exchange_gains", D("0"), D("1200.00")), ("receivables", D("1200.00"), D("0"))]
    loss_entry = JournalEntry.objects.get(source_type="finance.paymentallocation", source_id=second.allocations.get().pk)
    assert sorted((line.account.key, line.debit, line.credit) for line in loss_entry.lines.select_related("account")) == [
        ("exchange_losses", D("800.00"), D("0")), ("receivables", D("0"), D("800.00"))]


def test_the_reconciliation_statement_shows_the_payment_and_its_difference(accountant, client_party):
    eur_invoice(accountant, client_party)
    pay(accountant, client_party, "600.00", "102")
    statement = reconciliation(counterparty=client_party, date_from=MAR, date_to=MAR)
    assert [(row["kind"], row["debit"], row["credit"]) for row in statement.rows] == [
        ("Invoice", D("100000.00"), D("0")), ("Payment", D("0"), D("61200.00")), ("Exchange difference", D("1200.00"), D("0"))]
    assert statement.balanced and statement.closing == D("40000.00")


def test_supplier_invoice_in_cny_mirrors_the_rule(accountant, supplier):
    # given a supplier invoice of 10,000.00 CNY at 12.5 (payable 125,000.00)
    invoice = posted_invoice(counterparty=supplier, actor=accountant, total="10000.00", date=MAR, direction=Direction.INCOMING,
                             currency="CNY", exchange_rate="12.5")
    assert counterparty_balance(counterparty_id=supplier.pk) == D("-125000.00")
    # when we pay 4,000.00 at 12.0 (48,000.00 for 50,000.00 settled: a gain) and 6,000.00 at 13.1 (78,600.00 for 75,000.00)
    cheap = pay(accountant, supplier, "4000.00", "12.0", currency="CNY", direction=Direction.INCOMING)
    dear = pay(accountant, supplier, "6000.00", "13.1", currency="CNY", direction=Direction.INCOMING)
    # then the gain is Dr payables / Cr gains, the loss Dr losses / Cr payables, and the supplier is settled
    assert (cheap.allocations.get().settled_base, cheap.allocations.get().exchange_difference) == (D("50000.00"), D("2000.00"))
    assert (dear.allocations.get().settled_base, dear.allocations.get().exchange_difference) == (D("75000.00"), D("-3600.00"))
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    assert counterparty_balance(counterparty_id=supplier.pk) == D("0.00")
    assert account_balance(key="payables", counterparty_id=supplier.pk) == D("0.00")
    assert account_balance(key="bank") == D("-126600.00")
    assert (gains(), losses()) == (D("2000.00"), D("3600.00"))
    assert documents_balance(counterparty_id=supplier.pk).balance == D("0.00")
    assert_trial_balance_balances()


def test_cancelling_an_allocation_reverses_its_difference_and_an_advance_applied_later_posts_it_again(accountant, client_party):
    # given the client's 600.00 at 102, allocated when posted (gain 1,200.00)
    invoice = eur_invoice(accountant, client_party)
    payment = pay(accountant, client_party, "600.00", "102")
    allocation = payment.allocations.get()
    # when the allocation is undone
    services.allocation_cancel(actor=accountant, allocation_id=allocation.pk, date=APR)
    # then the gain is reversed on the unallocation's date and the money is an advance again (at the payment's rate)
    assert gains() == D("0.00")
    assert account_balance(key="exchange_gains", at=MAR) == D("-1200.00")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("100000.00")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-61200.00")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("38800.00")
    # when the advance is applied later
    (applied,) = services.invoice_apply_advances(actor=accountant, invoice_id=invoice.pk, date=APR)
    # then the allocation settles 60,000.00 and the gain is posted again, dated on the allocation
    assert (applied.settled_base, applied.exchange_difference, applied.date) == (D("60000.00"), D("1200.00"), APR)
    assert gains() == D("1200.00")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("0.00")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("40000.00")
    # when that later allocation is undone too, both its entries are reversed
    services.allocation_cancel(actor=accountant, allocation_id=applied.pk, date=APR)
    assert gains() == D("0.00")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-61200.00")
    assert documents_balance(counterparty_id=client_party.pk).balance == counterparty_balance(counterparty_id=client_party.pk)
    assert_trial_balance_balances()


def test_an_advance_allocated_by_hand_closes_the_invoice_to_the_kopeck(accountant, client_party):
    # given an invoice at a rate that rounds and an advance received at another rate
    invoice = eur_invoice(accountant, client_party, total="1000.00", rate="97.123457")  # 97,123.46
    advance = pay(accountant, client_party, "1000.00", "99.5", allocations=[])
    assert advance.allocated_amount == 0 and gains() == 0
    # when it pays the invoice in three parts (each 333.33 × 99.5 = 33,166.34 on the payment side but the last)
    parts = [services.payment_allocate(actor=accountant, payment_id=advance.pk, invoice_id=invoice.pk, amount=amount, date=MAR)
             for amount in ("333.33", "333.33", "333.34")]
    # then the first two settle amount × 97.123457 and the last what is left, so the receivable is exactly 0.00
    assert [part.settled_base for part in parts] == [D("32374.16"), D("32374.16"), D("32375.14")]
    assert sum(part.settled_base for part in parts) == D("97123.46")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("0.00")
    # and the payment side of the last is what is left of the payment (99,500.00 − 2 × 33,166.34), so no kopeck stays
    # on the advances account: the gain is exactly 99,500.00 − 97,123.46
    assert [part.exchange_difference for part in parts] == [D("792.18"), D("792.18"), D("792.18")]
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("0.00")
    assert gains() == D("2376.54")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("0.00")
    assert_trial_balance_balances()


def test_a_credit_note_is_valued_at_the_invoice_rate_and_the_last_allocation_settles_the_rest(accountant, client_party):
    # given a EUR invoice at 97.123457, a credit note of 333.33 (at the invoice's rate) and the rest paid at 99.5
    invoice = eur_invoice(accountant, client_party, rate="97.123457")
    posted_credit_note(invoice=invoice, actor=accountant, total="333.33", date=MAR)
    payment = pay(accountant, client_party, "666.67", "99.5")
    # then the payment settles the invoice's base total less the credit note's base, and the client is settled
    note_base = (D("333.33") * D("97.123457")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    allocation = payment.allocations.get()
    assert allocation.settled_base == D("97123.46") - note_base
    assert allocation.exchange_difference == D("66333.67") - allocation.settled_base
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("0.00")
    assert counterparty_balance(counterparty_id=client_party.pk) == D("0.00")


def test_a_credit_note_on_a_paid_invoice_gives_back_the_excess_with_its_difference(accountant, client_party):
    # given the worked example's invoice paid in full at 102 (gain 2,000.00)
    invoice = eur_invoice(accountant, client_party)
    payment = pay(accountant, client_party, "1000.00", "102")
    assert gains() == D("2000.00")
    # when a credit note of 250.00 is posted and the excess payment becomes an advance again
    posted_credit_note(invoice=invoice, actor=accountant, total="250.00", date=APR)
    services.invoice_allocations_trim(actor=accountant, invoice_id=invoice.pk, date=APR)
    # then the kept 750.00 settle what is left (75,000.00) with a gain of 1,500.00 and 250.00 × 102 is an advance
    kept = PaymentAllocation.objects.get(payment=payment, is_active=True)
    assert (kept.amount, kept.settled_base, kept.exchange_difference) == (D("750.00"), D("75000.00"), D("1500.00"))
    assert gains() == D("1500.00")
    assert account_balance(key="receivables", counterparty_id=client_party.pk) == D("0.00")
    assert account_balance(key="advances_received", counterparty_id=client_party.pk) == D("-25500.00")
    assert documents_balance(counterparty_id=client_party.pk).balance == counterparty_balance(counterparty_id=client_party.pk)


def test_cancelling_the_payment_reverses_the_differences(accountant, client_party):
    eur_invoice(accountant, client_party)
    later = pay(accountant, client_party, "300.00", "98", allocations=[])
    payment = pay(accountant, client_party, "600.00", "102")
    services.payment_allocate(actor=accountant, payment_id=later.pk, invoice_id=payment.allocations.get().invoice_id, amount="300.00",
                              date=MAR)
    assert (gains(), losses()) == (D("1200.00"), D("600.00"))
    # when both payments are cancelled
    services.payment_cancel(actor=accountant, payment_id=payment.pk, date=APR)
    services.payment_cancel(actor=accountant, payment_id=later.pk, date=APR)
    # then the differences are reversed on the cancellation date and only the invoice remains
    assert (gains(), losses()) == (D("0.00"), D("0.00"))
    assert (account_balance(key="exchange_gains", at=MAR), account_balance(key="exchange_losses", at=MAR)) == (D("-1200.00"), D("600.00"))
    assert counterparty_balance(counterparty_id=client_party.pk) == D("100000.00")
    assert documents_balance(counterparty_id=client_party.pk).balance == D("100000.00")
    assert_trial_balance_balances()


def test_base_currency_allocations_settle_their_amount_with_no_difference_and_no_extra_query(accountant, client_party):
    posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    advance = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "400.00", "date": MAR})
    services.payment_post(actor=accountant, payment_id=advance.pk, allocations=[])
    invoice = Invoice.objects.get()
    with CaptureQueriesContext(connection) as captured:
        allocation = services.payment_allocate(actor=accountant, payment_id=advance.pk, invoice_id=invoice.pk, amount="400.00", date=MAR)
    assert (allocation.settled_base, allocation.exchange_difference) == (D("400.00"), D("0"))
    assert not any("finance_creditnote" in query["sql"] for query in captured.captured_queries)
    assert not JournalLine.objects.filter(account__key__in=("exchange_gains", "exchange_losses")).exists()


def test_bad_input_is_refused_and_changes_nothing(accountant, client_party):
    invoice = eur_invoice(accountant, client_party)
    rub_invoice = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    advance = pay(accountant, client_party, "600.00", "102", allocations=[])
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.payment_allocate(actor=accountant, payment_id=advance.pk, invoice_id=rub_invoice.pk, amount="100.00")
    assert list(refused.value.errors) == ["invoice_id"]
    with pytest.raises(ValidationError) as refused:
        services.payment_allocate(actor=accountant, payment_id=advance.pk, invoice_id=invoice.pk, amount="600.01")
    assert list(refused.value.errors) == ["amount"]
    assert state() == before


def test_api_allocation_output_has_the_settled_base_and_the_difference(api_client, accountant, client_party):
    client = api_client(accountant)
    invoice = eur_invoice(accountant, client_party)
    created = client.post(f"{BASE}/payments", data=json.dumps({
        "counterparty_id": client_party.pk, "amount": "600.00", "date": "2026-03-01", "currency": "EUR", "exchange_rate": "102"}),
        content_type="application/json")
    assert created.status_code == 201, created.content
    payment_id = created.json()["id"]
    posted = client.post(f"{BASE}/payments/{payment_id}/post", data=json.dumps({"allocations": []}), content_type="application/json")
    assert posted.status_code == 200, posted.content
    before = state()
    bad = client.post(f"{BASE}/payments/{payment_id}/allocate", data=json.dumps({"invoice_id": invoice.pk, "amount": "700.00"}),
                      content_type="application/json")
    assert bad.status_code == 422 and "amount" in bad.json()["errors"]
    assert state() == before
    made = client.post(f"{BASE}/payments/{payment_id}/allocate", data=json.dumps({"invoice_id": invoice.pk, "amount": "600.00",
                                                                                     "date": "2026-03-01"}),
                       content_type="application/json")
    assert made.status_code == 201, made.content
    assert (made.json()["settled_base"], made.json()["exchange_difference"]) == ("60000.00", "1200.00")
    detail = client.get(f"{BASE}/payments/{payment_id}").json()
    assert [(a["settled_base"], a["exchange_difference"]) for a in detail["allocations"]] == [("60000.00", "1200.00")]
    settlement = client.get(f"{BASE}/settlements/{client_party.pk}").json()
    assert settlement["documents"]["exchange_differences"] == "1200.00"
    assert settlement["documents"]["balance"] == settlement["balance"] == "40000.00"


def test_the_payment_card_shows_the_difference(client, accountant, client_party):
    eur_invoice(accountant, client_party)
    payment = pay(accountant, client_party, "600.00", "102")
    client.force_login(accountant)
    page = client.get(payment.get_absolute_url())
    assert page.status_code == 200
    assert "Exchange difference" in page.content.decode() and "gain 1" in page.content.decode()
