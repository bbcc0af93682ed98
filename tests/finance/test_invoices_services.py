"""Invoices: partial invoicing with exact money, invoicing shipments, over-invoicing, journal entries, cancellation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fabrika.core.errors import Conflict, InvalidTransition, ValidationError
from fabrika.finance import services_invoices as services
from fabrika.finance.models import Direction, DocumentStatus, Invoice, InvoiceLine, Payment, PaymentAllocation
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.sales.models import OrderStatus, ShipmentLine

from .conftest import INVOICE_DAY, journal_lines, statements

D = Decimal
pytestmark = pytest.mark.django_db


def _amounts(invoice):
    return invoice.net_total, invoice.tax_total, invoice.total


def test_two_invoices_add_up_to_the_order_with_tax_included(make_order, chair, accountant):
    # given chair 3 × 333.33 with 20 % VAT included: 999.99, tax round(999.99 × 20 / 120) = 166.67
    order = make_order([(chair, "3", "333.33")])
    line = order.lines.get()
    # when one chair is invoiced, then the rest
    first = services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY, "lines": [{"order_line_id": line.pk, "quantity": "1"}]})
    first = services.invoice_post(actor=accountant, invoice_id=first.pk)
    second = services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY}).pk)
    # then 333.33 (tax 55.56) + 666.66 (tax 111.11) = 999.99 (tax 166.67), as on the order line
    assert _amounts(first) == (D("277.77"), D("55.56"), D("333.33"))
    assert _amounts(second) == (D("555.55"), D("111.11"), D("666.66"))
    assert first.total + second.total == order.total == D("999.99")
    assert first.tax_total + second.tax_total == order.tax_total
    line.refresh_from_db()
    assert line.invoiced_quantity == D("3")


def test_two_invoices_add_up_to_the_order_with_tax_excluded(make_order, chair, table, accountant):
    # given prices without tax: chair 3 × 333.33 (20 %) = 999.99 + 200.00; table 1 × 5500.00 (10 %) = 5500.00 + 550.00
    order = make_order([(chair, "3", "333.33"), (table, "1", "5500.00")], prices_include_tax=False)
    chair_line = order.lines.get(product=chair)
    assert order.total == D("7249.99")
    first = services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY, "lines": [{"order_line_id": chair_line.pk, "quantity": "1"}]})
    first = services.invoice_post(actor=accountant, invoice_id=first.pk)
    second = services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY})
    # the default of the second invoice: what is left, 2 chairs and the table
    assert sorted((row.order_line_id, row.quantity) for row in second.lines.all()) == sorted([(chair_line.pk, D("2")), (order.lines.get(product=table).pk, D("1"))])
    second = services.invoice_post(actor=accountant, invoice_id=second.pk)
    # then 333.33 + 66.67 = 400.00 and 666.66 + 133.33 + 5500.00 + 550.00 = 6849.99
    assert _amounts(first) == (D("333.33"), D("66.67"), D("400.00"))
    assert _amounts(second) == (D("6166.66"), D("683.33"), D("6849.99"))
    assert first.total + second.total == order.total
    assert first.net_total + second.net_total == order.net_total


def test_invoice_from_two_shipments(order, make_shipment, accountant):
    # given the chairs shipped 2 then 1 with the table
    chair_line, table_line = order.lines.all()
    first = make_shipment(order, [(chair_line, "2")])
    second = make_shipment(order, [(chair_line, "1"), (table_line, "1")])
    # when both are invoiced at once
    invoice = services.invoice_create_from_shipments(actor=accountant, shipment_ids=[second.pk, first.pk], data={"date": INVOICE_DAY})
    # then one line per shipment line, priced as consecutive parts of the order line
    rows = [(row.shipment_line.shipment_id, row.quantity, row.total, row.tax_amount) for row in invoice.lines.select_related("shipment_line")]
    assert rows == [
        (first.pk, D("2"), D("2000.00"), D("333.33")),
        (second.pk, D("1"), D("1000.00"), D("166.67")),
        (second.pk, D("1"), D("5500.00"), D("500.00")),
    ]
    invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    assert invoice.total == order.total == D("8500.00")
    assert list(ShipmentLine.objects.order_by("id").values_list("invoiced_quantity", flat=True)) == [D("2"), D("1"), D("1")]
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE  # shipped in full and invoiced
    # and nothing is left to invoice from them
    with pytest.raises(ValidationError) as refused:
        services.invoice_create_from_shipments(actor=accountant, shipment_ids=[first.pk, second.pk])
    assert "shipment_ids" in refused.value.errors


def test_invoicing_a_shipment_reads_and_writes_each_table_once(shipped_order, accountant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given an order shipped in full by one shipment of two lines
    shipment = shipped_order.shipments.get()
    # when it is invoiced and the invoice posted
    with CaptureQueriesContext(connection) as created:
        invoice = services.invoice_create_from_shipments(actor=accountant, shipment_ids=[shipment.pk], data={"date": INVOICE_DAY})
    with CaptureQueriesContext(connection) as posted:
        services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    # then the shipment is read with its locked order, its lines with their order lines and drafts, and both rows written once
    assert statements(created) == [
        ("SELECT", "sales_shipment"), ("SELECT", "sales_shipmentline"), ("INSERT", "finance_invoice"), ("INSERT", "finance_invoiceline"),
    ]
    # and posting locks invoice, order lines, shipment lines and order in that order, then writes each table once
    assert statements(posted) == [
        ("SELECT", "finance_invoice"), ("SELECT", "finance_invoiceline"), ("SELECT", "sales_salesorderline"),
        ("SELECT", "sales_shipmentline"), ("SELECT", "sales_salesorder"), ("UPDATE", "sales_salesorderline"),
        ("UPDATE", "sales_shipmentline"), ("UPDATE", "finance_invoice"), ("SELECT", "ledger_account"),
        ("INSERT", "ledger_journalentry"), ("INSERT", "ledger_journalline"), ("UPDATE", "sales_salesorder"),
    ]
    shipped_order.refresh_from_db()
    assert shipped_order.status == OrderStatus.DONE


def test_over_invoicing_is_refused_and_nothing_changes(order, accountant):
    chair_line = order.lines.get(product__sku="CHAIR")
    with pytest.raises(ValidationError) as refused:
        services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"lines": [{"order_line_id": chair_line.pk, "quantity": "4"}]})
    assert refused.value.errors == {"lines.0.quantity": ["Line 1. CHAIR: at most 3 left to invoice"]}
    assert Invoice.objects.count() == 0
    # a draft for 2 leaves 1 for the next one
    services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"lines": [{"order_line_id": chair_line.pk, "quantity": "2"}]})
    with pytest.raises(ValidationError) as refused:
        services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"lines": [{"order_line_id": chair_line.pk, "quantity": "2"}]})
    assert refused.value.errors == {"lines.0.quantity": ["Line 1. CHAIR: at most 1 left to invoice"]}
    assert Invoice.objects.count() == 1


def test_posting_rechecks_what_is_left(order, accountant):
    # two drafts of the whole order: the first posts, the second is refused and stays a draft
    chair_line = order.lines.get(product__sku="CHAIR")
    first = services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"lines": [{"order_line_id": chair_line.pk, "quantity": "3"}]})
    second = services.invoice_create(actor=accountant, data={"counterparty": order.counterparty_id, "lines": [{"description": "x", "quantity": "1", "price": "1"}]})
    InvoiceLine.objects.filter(invoice=first).update(quantity=D("3"))
    services.invoice_post(actor=accountant, invoice_id=first.pk)
    InvoiceLine.objects.create(invoice=second, order_line=chair_line, quantity=D("1"), price=D("1000"), tax_rate=D("20"), description="Chair")
    second.order = order
    second.save()
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.invoice_post(actor=accountant, invoice_id=second.pk)
    assert refused.value.errors == {"lines.0.quantity": ["Line 1. CHAIR: at most 0 left to invoice"]}
    second.refresh_from_db()
    chair_line.refresh_from_db()
    assert (second.status, second.number, chair_line.invoiced_quantity, JournalEntry.objects.count()) == (DocumentStatus.DRAFT, "", D("3"), entries)


def test_outgoing_invoice_journal_entry(order, accountant, client_party):
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY}).pk)
    # Dr receivables 8500.00 / Cr revenue 7500.00 / Cr VAT 1000.00
    assert journal_lines(invoice) == sorted([
        ("receivables", D("8500.00"), D("0"), client_party.pk),
        ("revenue", D("0"), D("7500.00"), client_party.pk),
        ("vat_output", D("0"), D("1000.00"), None),
    ])
    assert invoice.number.startswith("I") and invoice.due_date == INVOICE_DAY
    assert invoice.responsible == order.responsible


def test_incoming_supplier_invoice_journal_entry(supplier, chair, accountant):
    # given a supplier's invoice without tax in prices: 10 chairs at 600.00 and a delivery service 500.00, 20 % VAT
    invoice = services.invoice_create(actor=accountant, data={
        "direction": "in", "counterparty": supplier.pk, "date": INVOICE_DAY, "supplier_reference": "WS-77", "prices_include_tax": False,
        "lines": [{"product": chair.pk, "quantity": "10", "price": "600.00"}, {"description": "Delivery", "quantity": "1", "price": "500.00", "tax_rate": "20"}],
    })
    invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    assert _amounts(invoice) == (D("6500.00"), D("1300.00"), D("7800.00"))
    # Dr GRNI 6000.00 (stock product) / Dr other expenses 500.00 / Dr VAT input 1300.00 / Cr payables 7800.00
    assert journal_lines(invoice) == sorted([
        ("grni", D("6000.00"), D("0"), None),
        ("other_expenses", D("500.00"), D("0"), None),
        ("vat_input", D("1300.00"), D("0"), None),
        ("payables", D("0"), D("7800.00"), supplier.pk),
    ])
    assert invoice.number.startswith("SI")
    assert invoice.direction == Direction.INCOMING


def test_manual_invoice_refuses_bad_lines_and_changes_nothing(client_party, accountant):
    with pytest.raises(ValidationError) as refused:
        services.invoice_create(actor=accountant, data={"counterparty": client_party.pk, "lines": [
            {"description": "Consulting", "quantity": "-1", "price": "10"}, {"quantity": "1", "price": "abc", "tax_rate": "120"}]})
    assert refused.value.errors == {
        "lines.0.quantity": ["Must be greater than zero"],
        "lines.1.description": ["Give a product or a description"],
        "lines.1.price": ["Enter a number"],
        "lines.1.tax_rate": ["Too large: at most 100"],
    }
    assert Invoice.objects.count() == 0


def test_cancel_gives_quantities_back_and_reverses_the_entry(order, accountant, client_party):
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY}).pk)
    services.invoice_cancel(actor=accountant, invoice_id=invoice.pk, on="2026-03-20")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.cancellation_date.isoformat()) == (DocumentStatus.CANCELLED, "2026-03-20")
    assert list(order.lines.values_list("invoiced_quantity", flat=True)) == [D("0"), D("0")]
    reversal = JournalEntry.objects.get(source_id=invoice.pk, reverses__isnull=False)
    assert reversal.date.isoformat() == "2026-03-20"
    receivables = sum(JournalLine.objects.filter(account__key="receivables", counterparty=client_party).values_list("debit", flat=True), D(0))
    receivables -= sum(JournalLine.objects.filter(account__key="receivables", counterparty=client_party).values_list("credit", flat=True), D(0))
    assert receivables == 0
    with pytest.raises(InvalidTransition):
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)


def test_cancel_is_refused_while_a_payment_is_allocated(order, accountant, client_party):
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY}).pk)
    payment = Payment.objects.create(number="PAY-1", status=DocumentStatus.POSTED, date=INVOICE_DAY, counterparty=client_party, currency="RUB",
                                     amount=D("100.00"), allocated_amount=D("100.00"), author=accountant)
    PaymentAllocation.objects.create(payment=payment, invoice=invoice, date=INVOICE_DAY, amount=D("100.00"), author=accountant)
    entries = JournalEntry.objects.count()
    with pytest.raises(Conflict) as refused:
        services.invoice_cancel(actor=accountant, invoice_id=invoice.pk)
    assert "PAY-1" in refused.value.message and "remove those allocations first" in refused.value.message
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.POSTED and JournalEntry.objects.count() == entries
    assert order.lines.get(product__sku="CHAIR").invoiced_quantity == D("3")


def test_draft_editing(client_party, accountant, chair):
    invoice = services.invoice_create(actor=accountant, data={"counterparty": client_party.pk, "date": INVOICE_DAY, "lines": [{"product": chair.pk, "quantity": "2", "price": "120.00"}]})
    assert invoice.total == D("240.00") and invoice.tax_total == D("40.00")
    line = services.invoice_line_add(actor=accountant, invoice_id=invoice.pk, data={"description": "Packing", "quantity": "1", "price": "60", "tax_rate": "0"})
    services.invoice_line_update(actor=accountant, invoice_id=invoice.pk, line_id=line.pk, data={"quantity": "2"})
    invoice = services.invoice_update(actor=accountant, invoice_id=invoice.pk, data={"prices_include_tax": False, "notes": "Rush"})
    invoice.refresh_from_db()
    # without tax in prices: 240.00 + 48.00 tax, packing 120.00 at 0 %
    assert _amounts(invoice) == (D("360.00"), D("48.00"), D("408.00"))
    services.invoice_line_remove(actor=accountant, invoice_id=invoice.pk, line_id=line.pk)
    invoice.refresh_from_db()
    assert invoice.total == D("288.00")
    posted = services.invoice_post(actor=accountant, invoice_id=invoice.pk, due_date="2026-04-30")
    with pytest.raises(Conflict):
        services.invoice_update(actor=accountant, invoice_id=posted.pk, data={"notes": "late"})


def test_foreign_currency_invoice_posts_in_the_base_currency(supplier, accountant):
    from fabrika.core.models import Currency, ExchangeRate

    invoice = services.invoice_create(actor=accountant, data={
        "direction": "in", "counterparty": supplier.pk, "date": INVOICE_DAY, "currency": "EUR", "prices_include_tax": False,
        "lines": [{"description": "Design work", "quantity": "1", "price": "100.00", "tax_rate": "20"}],
    })
    # without a rate on record the posting is refused and nothing changes
    with pytest.raises(ValidationError) as refused:
        services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    assert list(refused.value.errors) == ["currency"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (DocumentStatus.DRAFT, "")
    euro = Currency.objects.get_or_create(code="EUR", defaults={"name": "Euro"})[0]
    ExchangeRate.objects.create(currency=euro, date=INVOICE_DAY.replace(day=1), rate=D("100.500000"))
    invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    # 120.00 EUR × 100.5 = 12060.00; tax 20.00 × 100.5 = 2010.00; net 10050.00
    assert invoice.exchange_rate == D("100.5")
    assert journal_lines(invoice) == sorted([
        ("other_expenses", D("10050.00"), D("0"), None),
        ("vat_input", D("2010.00"), D("0"), None),
        ("payables", D("0"), D("12060.00"), supplier.pk),
    ])
