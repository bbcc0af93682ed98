"""Credit notes: from an invoice (part or whole), from a return, journal entries, limits and cancellation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from fabrika.core.errors import Conflict, ValidationError
from fabrika.finance import services_invoices as services
from fabrika.finance.models import CreditNote, DocumentStatus
from fabrika.ledger.models import JournalEntry

from .conftest import INVOICE_DAY, journal_lines

D = Decimal
pytestmark = pytest.mark.django_db


def test_credit_note_for_one_chair_and_its_journal_entry(order, make_invoice, accountant, client_party):
    invoice = make_invoice(order)
    chair_line = invoice.lines.get(product__sku="CHAIR")
    note = services.credit_note_create_from_invoice(actor=accountant, invoice_id=invoice.pk, lines=[{"invoice_line_id": chair_line.pk, "quantity": "1"}],
                                                    date=INVOICE_DAY, reason="Scratched")
    # 1 of 3 chairs at 1000.00 with 20 % VAT included: 1000.00, tax round(1000 × 20 / 120) = 166.67
    assert (note.net_total, note.tax_total, note.total) == (D("833.33"), D("166.67"), D("1000.00"))
    note = services.credit_note_post(actor=accountant, credit_note_id=note.pk)
    assert note.number.startswith("CN")
    assert journal_lines(note) == sorted([
        ("revenue", D("833.33"), D("0"), client_party.pk),
        ("vat_output", D("166.67"), D("0"), None),
        ("receivables", D("0"), D("1000.00"), client_party.pk),
    ])
    invoice.refresh_from_db()
    assert (invoice.credited_amount, invoice.open_amount) == (D("1000.00"), D("7500.00"))
    # the rest of the invoice: exactly what is left of each line
    rest = services.credit_note_post(actor=accountant, credit_note_id=services.credit_note_create_from_invoice(
        actor=accountant, invoice_id=invoice.pk, full=True, date=INVOICE_DAY).pk)
    assert (rest.net_total, rest.tax_total, rest.total) == (D("6666.67"), D("833.33"), D("7500.00"))
    invoice.refresh_from_db()
    assert invoice.open_amount == 0


def test_credit_note_above_what_is_left_is_refused(order, make_invoice, accountant):
    invoice = make_invoice(order)
    chair_line = invoice.lines.get(product__sku="CHAIR")
    with pytest.raises(ValidationError) as refused:
        services.credit_note_create_from_invoice(actor=accountant, invoice_id=invoice.pk, lines=[{"invoice_line_id": chair_line.pk, "quantity": "4"}])
    assert refused.value.errors == {"lines.0.quantity": ["Line 1: at most 3 left to credit"]}
    assert CreditNote.objects.count() == 0
    # a draft for everything leaves nothing for a second one
    services.credit_note_create_from_invoice(actor=accountant, invoice_id=invoice.pk, full=True)
    with pytest.raises(ValidationError) as refused:
        services.credit_note_create_from_invoice(actor=accountant, invoice_id=invoice.pk, full=True)
    assert "lines" in refused.value.errors
    assert CreditNote.objects.count() == 1


def test_post_refuses_more_than_the_invoice_total_minus_credited(order, make_invoice, accountant):
    invoice = make_invoice(order)
    note = services.credit_note_create_from_invoice(actor=accountant, invoice_id=invoice.pk, full=True)
    invoice.credited_amount = D("100.00")  # e.g. credited meanwhile by another note
    invoice.save(update_fields=["credited_amount"])
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.credit_note_post(actor=accountant, credit_note_id=note.pk)
    assert list(refused.value.errors) == ["total"]
    note.refresh_from_db()
    assert (note.status, JournalEntry.objects.count()) == (DocumentStatus.DRAFT, entries)


def test_credit_note_from_a_return(shipped_order, make_invoice, make_return, accountant, client_party):
    invoice = make_invoice(shipped_order)
    chair_line = shipped_order.lines.get(product__sku="CHAIR")
    sales_return = make_return(shipped_order, [(chair_line, "1")])
    note = services.credit_note_create_from_return(actor=accountant, sales_return_id=sales_return.pk)
    assert (note.invoice_id, note.sales_return_id, note.total, note.tax_total) == (invoice.pk, sales_return.pk, D("1000.00"), D("166.67"))
    with pytest.raises(Conflict):
        services.credit_note_create_from_return(actor=accountant, sales_return_id=sales_return.pk)
    services.credit_note_post(actor=accountant, credit_note_id=note.pk)
    invoice.refresh_from_db()
    assert invoice.credited_amount == D("1000.00")


def test_return_without_an_invoice_is_refused(shipped_order, make_return, accountant):
    sales_return = make_return(shipped_order, [(shipped_order.lines.first(), "1")])
    with pytest.raises(Conflict) as refused:
        services.credit_note_create_from_return(actor=accountant, sales_return_id=sales_return.pk)
    assert "nothing to credit" in refused.value.message
    assert CreditNote.objects.count() == 0


def test_cancelling_a_credit_note_reverses_it_and_unblocks_the_invoice(order, make_invoice, accountant):
    invoice = make_invoice(order)
    note = services.credit_note_post(actor=accountant, credit_note_id=services.credit_note_create_from_invoice(
        actor=accountant, invoice_id=invoice.pk, full=True, date=INVOICE_DAY).pk)
    with pytest.raises(Conflict) as refused:
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    assert "cancel them first" in refused.value.message
    services.credit_note_cancel(actor=accountant, credit_note_id=note.pk, on="2026-03-25")
    invoice.refresh_from_db()
    assert invoice.credited_amount == 0
    reversal = JournalEntry.objects.get(source_type="finance.creditnote", reverses__isnull=False)
    assert (reversal.date.isoformat(), reversal.total) == ("2026-03-25", D("8500.00"))
    services.invoice_cancel(actor=accountant, invoice_id=invoice.pk, on="2026-03-25")


def test_incoming_credit_note_mirrors_on_payables(supplier, chair, accountant):
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create(actor=accountant, data={
        "direction": "in", "counterparty": supplier.pk, "date": INVOICE_DAY, "prices_include_tax": False,
        "lines": [{"product": chair.pk, "quantity": "10", "price": "600.00"}, {"description": "Delivery", "quantity": "1", "price": "500.00"}],
    }).pk)
    note = services.credit_note_post(actor=accountant, credit_note_id=services.credit_note_create_from_invoice(
        actor=accountant, invoice_id=invoice.pk, full=True, date=INVOICE_DAY).pk)
    assert journal_lines(note) == sorted([
        ("payables", D("7800.00"), D("0"), supplier.pk),
        ("grni", D("0"), D("6000.00"), None),
        ("other_expenses", D("0"), D("500.00"), None),
        ("vat_input", D("0"), D("1300.00"), None),
    ])


def test_a_credit_note_that_closes_a_foreign_currency_invoice_settles_it_to_the_kopeck(client_party, accountant, web_client):
    from fabrika.core.models import Currency, ExchangeRate
    from fabrika.finance import services_payments
    from fabrika.finance.selectors_settlements import documents_balance
    from fabrika.finance.views_invoices import money
    from fabrika.ledger.selectors import counterparty_balance

    # given an invoice of 3 × 33.03 EUR at 90.123456: 99.09 EUR, 8930.33 in the base currency (8930.3334… rounded)
    euro = Currency.objects.get_or_create(code="EUR", defaults={"name": "Euro"})[0]
    ExchangeRate.objects.create(currency=euro, date=INVOICE_DAY, rate=D("90.123456"))
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create(actor=accountant, data={
        "direction": "out", "counterparty": client_party.pk, "date": INVOICE_DAY, "currency": "EUR", "prices_include_tax": False,
        "lines": [{"description": "Service visit", "quantity": "3", "price": "33.03", "tax_rate": "0"}],
    }).pk)
    assert ("receivables", D("8930.33"), D("0"), client_party.pk) in journal_lines(invoice)
    # and one visit paid at the same rate: 33.03 EUR settles 2976.78 (2976.7777…)
    payment = services_payments.payment_create(actor=accountant, data={
        "direction": "out", "method": "bank", "date": INVOICE_DAY, "counterparty": client_party.pk, "amount": "33.03", "currency": "EUR",
        "exchange_rate": "90.123456",
    })
    services_payments.payment_post(actor=accountant, payment_id=payment.pk, allocations=[{"invoice_id": invoice.pk, "amount": "33.03"}])
    # when the other two visits are credited: 66.06 EUR is 5953.56 alone (5953.5555…), one kopeck more than is left
    visits = invoice.lines.get()
    note = services.credit_note_post(actor=accountant, credit_note_id=services.credit_note_create_from_invoice(
        actor=accountant, invoice_id=invoice.pk, lines=[{"invoice_line_id": visits.pk, "quantity": "2"}], date=INVOICE_DAY).pk)
    # then the note takes what is left of the invoice's base, 8930.33 − 2976.78 = 5953.55, and nothing stays owed
    assert (note.total, note.base_total) == (D("66.06"), D("5953.55"))
    assert ("receivables", D("0"), D("5953.55"), client_party.pk) in journal_lines(note)
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    assert counterparty_balance(counterparty_id=client_party.pk) == documents_balance(counterparty_id=client_party.pk).balance == 0
    card = web_client(accountant).get(reverse("finance:credit_note_detail", args=[note.pk])).content.decode()
    assert "<dt>Currency</dt><dd>EUR × 90.123456</dd>" in card and f"<dt>Total in the base currency</dt><dd>{money(D('5953.55'))}</dd>" in card
    # cancelling the note gives the kopeck back with the rest: the invoice owes 66.06 EUR = 5953.55 again
    services.credit_note_cancel(actor=accountant, credit_note_id=note.pk, on=INVOICE_DAY)
    assert counterparty_balance(counterparty_id=client_party.pk) == documents_balance(counterparty_id=client_party.pk).balance == D("5953.55")
