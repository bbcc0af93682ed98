"""Invoicing many posted shipments at once (fabrika/finance/batch_invoices.py): the same invoices, money, journal
entries and side effects as invoicing them one by one, a worked example, refusals that change nothing, the API, the
shipment list's bulk action and a query count that does not grow with the batch."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.crm.models import Deal
from fabrika.crm.services_pipelines import deal_create, pipeline_create
from fabrika.finance import services_invoices as services
from fabrika.finance import services_payments
from fabrika.finance.batch_invoices import (
    MAX_SHIPMENTS,
    invoices_post_for_selected_shipments,
    invoices_post_for_shipments,
)
from fabrika.finance.models import DocumentStatus, Invoice, InvoiceLine, PaymentAllocation
from fabrika.ledger.models import JournalEntry
from fabrika.sales.models import OrderStatus, SalesOrderLine, ShipmentLine
from fabrika.sales.models.shipments import ShipmentStatus

from .conftest import INVOICE_DAY, journal_lines

D = Decimal
pytestmark = pytest.mark.django_db
BATCH_URL = "/api/v1/finance/invoices/batch/from-shipments"


def _single(actor, shipment_ids):
    """The single path, shipment after shipment in id order."""
    invoices = []
    for shipment_id in sorted(shipment_ids):
        draft = services.invoice_create_from_shipments(actor=actor, shipment_ids=[shipment_id], data={"date": INVOICE_DAY})
        invoices.append(services.invoice_post(actor=actor, invoice_id=draft.pk))
    return invoices


@pytest.fixture
def scenario(make_order, make_shipment, make_invoice, chair, table):
    """Shipments that exercise the rules: two shipments of one order (the second invoice prices the next part of the
    line), prices without tax and a discount, a line shipped in part, a line already invoiced in part from the order."""

    def make():
        first = make_order([(chair, "3", "333.33"), (table, "1", "5500.00")])
        chair_line, table_line = first.lines.all()
        shipments = [make_shipment(first, [(chair_line, "1")]), make_shipment(first, [(chair_line, "2"), (table_line, "1")])]
        second = make_order([(chair, "3", "333.33", "7"), (table, "2", "1234.57")], prices_include_tax=False)
        chair_line, table_line = second.lines.all()
        shipments.append(make_shipment(second, [(chair_line, "3"), (table_line, "1")]))
        third = make_order([(chair, "2", "999.99")])
        make_invoice(third, lines=[{"order_line_id": third.lines.get().pk, "quantity": "1"}])
        shipments.append(make_shipment(third, [(third.lines.get(), "2")]))
        return shipments

    return make


def _outcome(invoices, shipments):
    """Everything the invoices did, without their numbers and ids (which differ between two runs)."""

    def plain(text, invoice):
        text = text.replace(invoice.number, "<number>") if invoice.number else text
        for shipment in shipments:
            text = text.replace(str(shipment), "<shipment>")
        return re.sub(r"#\d+", "#<id>", text)

    found = []
    for invoice in invoices:
        invoice.refresh_from_db()
        audit_rows = AuditEntry.objects.filter(content_type__model="invoice", object_id=str(invoice.pk)).order_by("id")
        found.append({
            "header": (invoice.status, invoice.date, invoice.due_date, invoice.currency, invoice.exchange_rate, invoice.counterparty_id,
                       invoice.contact_id, invoice.responsible_id, invoice.author_id, invoice.prices_include_tax, invoice.net_total,
                       invoice.tax_total, invoice.total, invoice.paid_amount, bool(invoice.posted_at)),
            "lines": [(line.position, line.product_id, line.unit_id, line.description, line.quantity, line.price, line.discount_percent,
                       line.tax_rate, line.amount, line.net_amount, line.tax_amount, line.total)
                      for line in invoice.lines.order_by("position")],
            "journal": journal_lines(invoice),
            "audit": [(row.action, plain(row.message, invoice), plain(row.object_repr, invoice),
                       {key: value for key, value in row.changes.items() if key not in ("order", "number")}) for row in audit_rows],
            "events": [(event.event_type, event.payload == {"number": invoice.number, "total": str(invoice.total)})
                       for event in OutboxEvent.objects.filter(aggregate_id=str(invoice.pk), event_type__startswith="finance.invoice")],
        })
    orders = sorted({shipment.order_id for shipment in shipments})
    found.append({
        "orders": [status for status in (OrderStatus(order.status) for order in _orders(orders))],
        "order_lines": list(SalesOrderLine.objects.filter(order_id__in=orders).order_by("pk").values_list("invoiced_quantity", flat=True)),
        "shipment_lines": list(ShipmentLine.objects.filter(shipment__in=shipments).order_by("pk").values_list("invoiced_quantity", flat=True)),
    })
    return found


def _orders(ids):
    from fabrika.sales.models import SalesOrder

    return SalesOrder.objects.filter(pk__in=ids).order_by("pk")


def test_the_batch_gives_what_the_single_path_gives(scenario, accountant):
    # given the same shipments twice
    one_by_one, batch = scenario(), scenario()
    # when one set is invoiced shipment by shipment and the other in one batch
    singles = _single(accountant, [shipment.pk for shipment in one_by_one])
    batched = invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk for shipment in reversed(batch)], date=INVOICE_DAY)
    # then the invoices, their lines, money, journal entries, audit rows, events and the orders' progress are the same
    assert _outcome(batched, batch) == _outcome(singles, one_by_one)
    # and the batch's numbers follow the single path's, consecutive in shipment order
    numbers = [invoice.number for invoice in singles + batched]
    assert numbers == sorted(numbers) and len(set(numbers)) == 8
    assert [invoice.order_id for invoice in batched] == [shipment.order_id for shipment in batch]


def test_worked_example_two_shipments_of_one_order(order, make_shipment, accountant, client_party):
    # given the order (chair 3 × 1000.00 at 20 %, table 1 × 5500.00 at 10 %, tax included) shipped in two shipments
    chair_line, table_line = order.lines.all()
    first = make_shipment(order, [(chair_line, "2")])
    second = make_shipment(order, [(chair_line, "1"), (table_line, "1")])
    # when both are invoiced in one batch
    invoices = invoices_post_for_shipments(actor=accountant, shipment_ids=[second.pk, first.pk], date=INVOICE_DAY)
    # then 2000.00 (tax 333.33) and 1000.00 (tax 166.67) + 5500.00 (tax 500.00) = 6500.00 (tax 666.67): the order's 8500.00
    assert [(invoice.net_total, invoice.tax_total, invoice.total) for invoice in invoices] == [
        (D("1666.67"), D("333.33"), D("2000.00")), (D("5833.33"), D("666.67"), D("6500.00")),
    ]
    assert [(line.shipment_line.shipment_id, line.quantity, line.total, line.tax_amount)
            for line in InvoiceLine.objects.filter(invoice__in=invoices).order_by("invoice_id", "position").select_related("shipment_line")] == [
        (first.pk, D("2"), D("2000.00"), D("333.33")), (second.pk, D("1"), D("1000.00"), D("166.67")), (second.pk, D("1"), D("5500.00"), D("500.00")),
    ]
    assert journal_lines(invoices[1]) == [
        ("receivables", D("6500.00"), D("0"), client_party.pk), ("revenue", D("0"), D("5833.33"), client_party.pk),
        ("vat_output", D("0"), D("666.67"), None),
    ]
    assert all((invoice.status, invoice.due_date, invoice.exchange_rate) == (DocumentStatus.POSTED, INVOICE_DAY, D(1)) for invoice in invoices)
    assert int(invoices[1].number[-5:]) == int(invoices[0].number[-5:]) + 1
    order.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert list(order.lines.values_list("invoiced_quantity", flat=True)) == [D("3"), D("1")]


def _state():
    return (Invoice.objects.count(), InvoiceLine.objects.count(), JournalEntry.objects.count(), AuditEntry.objects.count(),
            OutboxEvent.objects.count(), list(SalesOrderLine.objects.order_by("pk").values_list("invoiced_quantity", flat=True)),
            list(ShipmentLine.objects.order_by("pk").values_list("invoiced_quantity", flat=True)))


def test_refusals_name_the_shipment_and_change_nothing(order, make_order, make_shipment, accountant, chair):
    chair_line, table_line = order.lines.all()
    good = make_shipment(order, [(chair_line, "1")])
    draft = make_shipment(order, [(table_line, "1")], status=ShipmentStatus.DRAFT)
    invoiced = make_shipment(order, [(chair_line, "1")])
    services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_shipments(actor=accountant, shipment_ids=[invoiced.pk]).pk)
    cancelled_order = make_order([(chair, "1", "100.00")])
    orphan = make_shipment(cancelled_order, [(cancelled_order.lines.get(), "1")])
    cancelled_order.status = OrderStatus.CANCELLED
    cancelled_order.save(update_fields=["status"])
    before = _state()
    # when a batch holds a draft, an invoiced shipment, one of a cancelled order and an unknown id
    with pytest.raises(ValidationError) as refused:
        invoices_post_for_shipments(actor=accountant, shipment_ids=[good.pk, draft.pk, invoiced.pk, orphan.pk, 999999], date=INVOICE_DAY)
    # then each is named by its index and number, and nothing changed (the good one neither)
    assert refused.value.errors == {
        "shipment_ids.1": [f"Shipment {draft} is not posted"],
        "shipment_ids.2": [f"Everything shipped by shipment {invoiced} is already invoiced"],
        "shipment_ids.3": [f"Shipment {orphan}: Order {cancelled_order.number} is cancelled; it cannot be invoiced"],
        "shipment_ids.4": ["Unknown shipment 999999"],
    }
    assert _state() == before
    # and bad input is refused before anything is read
    with pytest.raises(ValidationError) as refused:
        invoices_post_for_shipments(actor=accountant, shipment_ids=[good.pk, good.pk, "x"], date="15.03.2026")
    assert set(refused.value.errors) == {"shipment_ids.1", "shipment_ids.2", "date"}
    with pytest.raises(ValidationError) as refused:
        invoices_post_for_shipments(actor=accountant, shipment_ids=list(range(1, MAX_SHIPMENTS + 2)))
    assert list(refused.value.errors) == ["shipment_ids"]
    assert _state() == before
    # and the list's variant skips the draft and the invoiced shipment, naming them, but not the cancelled order's
    with pytest.raises(ValidationError) as refused:
        invoices_post_for_selected_shipments(actor=accountant, shipment_ids=[good.pk, draft.pk, invoiced.pk, orphan.pk])
    assert list(refused.value.errors) == ["shipment_ids.3"]
    result = invoices_post_for_selected_shipments(actor=accountant, shipment_ids=[good.pk, draft.pk, invoiced.pk], date=INVOICE_DAY)
    assert [invoice.total for invoice in result.invoices] == [D("1000.00")]
    assert [(shipment.pk, reason) for shipment, reason in result.skipped] == [
        (draft.pk, f"Shipment {draft} is not posted"), (invoiced.pk, f"Everything shipped by shipment {invoiced} is already invoiced"),
    ]


def test_a_draft_invoice_holds_its_quantities_and_advances_pay_the_new_invoices(order, make_shipment, accountant, client_party):
    # given a shipment of 3 chairs, 1 of them on a draft invoice of the order, and an advance of 1500.00 from the client
    chair_line, _table_line = order.lines.all()
    shipment = make_shipment(order, [(chair_line, "3")])
    services.invoice_create_from_order(actor=accountant, order_id=order.pk, data={"lines": [{"order_line_id": chair_line.pk, "quantity": "1"}]})
    payment = services_payments.payment_create(actor=accountant, data={"direction": "out", "counterparty": client_party.pk, "amount": "1500.00",
                                                                       "date": INVOICE_DAY})
    services_payments.payment_post(actor=accountant, payment_id=payment.pk)
    # when the shipment is invoiced in a batch
    [invoice] = invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk], date=INVOICE_DAY)
    # then 2 chairs are invoiced (2000.00) and the advance pays 1500.00 of it, as invoice_post would
    assert (invoice.lines.get().quantity, invoice.total, invoice.paid_amount) == (D("2"), D("2000.00"), D("1500.00"))
    assert PaymentAllocation.objects.get(invoice=invoice).amount == D("1500.00")


def test_the_deal_follows_a_fully_invoiced_order(order, make_shipment, accountant, admin_user, manager, client_party):
    pipeline = pipeline_create(actor=admin_user, data={"name": "Sales", "purpose": "sales"},
                               stages=[{"name": "New"}, {"name": "Invoiced", "order_event": "order_invoiced"}])
    deal = deal_create(actor=manager, pipeline=pipeline, title="Classroom set", counterparty=client_party)
    order.deal = deal
    order.save(update_fields=["deal"])
    chair_line, table_line = order.lines.all()
    shipment = make_shipment(order, [(chair_line, "3"), (table_line, "1")])
    invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk], date=INVOICE_DAY)
    assert Deal.objects.get(pk=deal.pk).stage.name == "Invoiced"


def _orders_shipped(make_order, make_shipment, chair, table, count):
    shipments = []
    for _ in range(count):
        order = make_order([(chair, "1", "100.00"), (table, "1", "200.00"), (chair, "2", "33.33"), (table, "1", "10.00"), (chair, "1", "1.00")])
        shipments.append(make_shipment(order, [(line, line.quantity) for line in order.lines.all()]))
    return shipments


def test_queries_do_not_grow_with_the_batch(make_order, make_shipment, chair, table, accountant):
    # given a first batch done (the number counter and the cached content types exist), then 5 and 20 orders of 5 lines
    first = _orders_shipped(make_order, make_shipment, chair, table, 1)
    invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk for shipment in first], date=INVOICE_DAY)
    small = _orders_shipped(make_order, make_shipment, chair, table, 5)
    large = _orders_shipped(make_order, make_shipment, chair, table, 20)
    # when each is invoiced in one batch
    with CaptureQueriesContext(connection) as five:
        invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk for shipment in small], date=INVOICE_DAY)
    with CaptureQueriesContext(connection) as twenty:
        invoices = invoices_post_for_shipments(actor=accountant, shipment_ids=[shipment.pk for shipment in large], date=INVOICE_DAY)
    # then every table is read and written once (100 invoice lines take a second insert on SQLite: its parameter limit)
    assert len(five) <= 21 and len(twenty) - len(five) <= 1
    assert len(invoices) == 20 and all(invoice.status == DocumentStatus.POSTED for invoice in invoices)


def _post(client, data, **headers):
    return client.post(BATCH_URL, data=json.dumps(data), content_type="application/json", **headers)


def test_api(order, make_order, make_shipment, accountant, manager, other_manager, api_client, chair, client):
    chair_line, table_line = order.lines.all()
    first = make_shipment(order, [(chair_line, "3")])
    draft = make_shipment(order, [(table_line, "1")], status=ShipmentStatus.DRAFT)
    foreign = make_order([(chair, "1", "100.00")], responsible=other_manager)
    theirs = make_shipment(foreign, [(foreign.lines.get(), "1")])
    # without a token 401, without the right to add invoices 403
    assert client.post(BATCH_URL, data=json.dumps({"shipment_ids": [first.pk]}), content_type="application/json").status_code == 401
    assert _post(api_client(manager), {"shipment_ids": [first.pk]}).status_code == 403
    accountant_api = api_client(accountant)
    # bad input: 422 naming the field
    assert _post(accountant_api, {"shipment_ids": ["x"]}).status_code == 422
    refused = _post(accountant_api, {"shipment_ids": [first.pk, draft.pk]})
    assert refused.status_code == 422 and "shipment_ids.1" in json.dumps(refused.json())
    too_many = _post(accountant_api, {"shipment_ids": list(range(1, MAX_SHIPMENTS + 2))})
    assert too_many.status_code == 422 and "shipment_ids" in json.dumps(too_many.json())
    # a manager allowed to invoice sees only their own orders' shipments
    from django.contrib.auth.models import Permission

    manager.user_permissions.add(Permission.objects.get(codename="add_invoice"))
    hidden = _post(api_client(manager), {"shipment_ids": [theirs.pk]})
    assert hidden.status_code == 422 and "shipment_ids.0" in json.dumps(hidden.json())
    assert Invoice.objects.count() == 0
    # success: 201 with the posted invoices; a repeat with the same key replays
    created = _post(accountant_api, {"shipment_ids": [first.pk, theirs.pk], "date": "2026-03-15"}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert created.status_code == 201, created.content
    body = created.json()
    assert [(row["status"], row["total"], row["date"], row["order_id"]) for row in body] == [
        ("posted", "3000.00", "2026-03-15", order.pk), ("posted", "100.00", "2026-03-15", foreign.pk),
    ]
    replay = _post(accountant_api, {"shipment_ids": [first.pk, theirs.pk], "date": "2026-03-15"}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert replay.status_code == 201 and replay.json() == body
    assert Invoice.objects.count() == 2


def test_shipment_list_bulk_action(order, make_shipment, accountant, storekeeper, web_client):
    chair_line, table_line = order.lines.all()
    first = make_shipment(order, [(chair_line, "3")])
    draft = make_shipment(order, [(table_line, "1")], status=ShipmentStatus.DRAFT)
    url = reverse("sales:shipment_list")
    # the storekeeper sees the list but may not add invoices: no such action for them, and a forged post is refused
    keeper = web_client(storekeeper)
    assert 'value="invoice"' not in keeper.get(url).content.decode()
    refused = keeper.post(url, {"action": "invoice", "ids": [first.pk, draft.pk]})
    assert refused.status_code == 302
    assert [str(message) for message in get_messages(refused.wsgi_request)] == ["Choose an action you are allowed to run."]
    assert Invoice.objects.count() == 0
    # the accountant invoices the posted shipment; the draft is skipped
    browser = web_client(accountant)
    page = browser.get(url)
    assert 'value="invoice"' in page.content.decode()
    done = browser.post(url, {"action": "invoice", "ids": [first.pk, draft.pk]})
    assert done.status_code == 302
    shown = [str(message) for message in get_messages(done.wsgi_request)]
    assert shown[0] == "Invoice: 1 record(s) changed." and shown[1].startswith("Skipped: ") and str(draft) in shown[1]
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.total) == (DocumentStatus.POSTED, D("3000.00"))
    # nothing left to invoice: the error names the skipped shipments
    again = browser.post(url, {"action": "invoice", "ids": [first.pk, draft.pk]})
    message = [str(message) for message in get_messages(again.wsgi_request)][-1]
    assert message.startswith("Nothing to invoice:") and str(first) in message and str(draft) in message
    assert Invoice.objects.count() == 1
