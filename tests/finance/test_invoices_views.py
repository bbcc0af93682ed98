"""Invoice pages: list, card, forms (manual, from order, from shipments), htmx lines, post/cancel, schedules, credit
notes, the order card include, print forms; scope 404 and permission 403."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from fabrika.finance import services_invoices as services
from fabrika.finance.models import CreditNote, DocumentStatus, Invoice, PaymentScheduleItem

from .conftest import INVOICE_DAY

D = Decimal
pytestmark = pytest.mark.django_db


def test_list_tabs_filters_and_export(order, make_invoice, supplier, accountant, web_client):
    invoice = make_invoice(order)
    services.invoice_create(actor=accountant, data={"direction": "in", "counterparty": supplier.pk, "lines": [{"description": "Rent", "quantity": "1", "price": "100"}]})
    client = web_client(accountant)
    page = client.get(reverse("finance:invoice_list"), {"direction": "out"})
    assert page.status_code == 200
    content = page.content.decode()
    assert invoice.number in content and "(draft)" not in content  # the supplier's draft is on the other tab
    overdue = client.get(reverse("finance:invoice_list"), {"overdue": "yes"})
    assert invoice.number in overdue.content.decode()  # due on 2026-03-15, long past
    export = client.get(reverse("finance:invoice_list"), {"direction": "out", "export": "csv"})
    assert export.status_code == 200 and "8500" in export.content.decode()


def test_manual_invoice_form_lines_and_post(client_party, accountant, web_client, chair):
    client = web_client(accountant)
    bad = client.post(reverse("finance:invoice_create") + "?direction=out", {"date": "2026-03-15", "due_date": "2026-03-01", "prices_include_tax": "on"})
    assert bad.status_code == 200 and Invoice.objects.count() == 0
    inline = client.post(reverse("finance:invoice_validate_new") + "?direction=out",
                         {"counterparty": client_party.pk, "date": "2026-03-15", "due_date": "2026-03-01", "_field": "due_date"}, HTTP_HX_REQUEST="true")
    assert "The due date cannot be before the invoice date" in inline.content.decode() and Invoice.objects.count() == 0
    created = client.post(reverse("finance:invoice_create") + "?direction=out",
                          {"counterparty": client_party.pk, "date": "2026-03-15", "prices_include_tax": "on"})
    invoice = Invoice.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("finance:invoice_detail", args=[invoice.pk])
    # htmx line editor: a refused line names the field and adds nothing; a good one updates the totals
    refused = client.post(reverse("finance:invoice_line_add", args=[invoice.pk]), {"line-description": "Setup", "line-quantity": "0", "line-price": "10"},
                          HTTP_HX_REQUEST="true")
    assert "Must be greater than zero" in refused.content.decode() and invoice.lines.count() == 0
    hits = client.get(reverse("finance:invoice_product_search", args=[invoice.pk]), {"q": "chai"}, HTTP_HX_REQUEST="true")
    assert "CHAIR" in hits.content.decode()
    prefilled = client.get(reverse("finance:invoice_line_form", args=[invoice.pk]), {"product": chair.pk}, HTTP_HX_REQUEST="true")
    assert f'value="{chair.pk}"' in prefilled.content.decode() and 'value="Chair"' in prefilled.content.decode()
    added = client.post(reverse("finance:invoice_line_add", args=[invoice.pk]), {"line-product": chair.pk, "line-quantity": "2", "line-price": "600"},
                        HTTP_HX_REQUEST="true")
    assert added.status_code == 200 and "1,200.00" in added.content.decode()
    line = invoice.lines.get()
    client.post(reverse("finance:invoice_line_quantity", args=[invoice.pk, line.pk]), {"quantity": "3"}, HTTP_HX_REQUEST="true")
    invoice.refresh_from_db()
    assert invoice.total == D("1800.00")
    card = client.get(reverse("finance:invoice_detail", args=[invoice.pk]))
    assert card.status_code == 200 and "post-button" in card.content.decode()
    client.post(reverse("finance:invoice_post", args=[invoice.pk]), {"post-due_date": "2026-04-01"})
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.POSTED and invoice.due_date.isoformat() == "2026-04-01"
    card = client.get(reverse("finance:invoice_detail", args=[invoice.pk])).content.decode()
    assert "Print invoice" in card and "Print act" not in card  # a chair is not a service


def test_invoice_from_order_form(order, accountant, web_client):
    client = web_client(accountant)
    chair_line, table_line = order.lines.all()
    page = client.get(reverse("finance:invoice_from_order", args=[order.pk]))
    assert page.status_code == 200 and f'name="quantity_{chair_line.pk}" value="3"' in page.content.decode()
    over = client.post(reverse("finance:invoice_from_order", args=[order.pk]), {"date": "2026-03-15", f"quantity_{chair_line.pk}": "5"})
    assert "at most 3 left to invoice" in over.content.decode() and Invoice.objects.count() == 0
    empty = client.post(reverse("finance:invoice_from_order", args=[order.pk]), {"date": "2026-03-15", f"quantity_{chair_line.pk}": ""})
    assert "Enter a quantity on at least one line" in empty.content.decode() and Invoice.objects.count() == 0
    bad_date = client.post(reverse("finance:invoice_from_order", args=[order.pk]), {"date": "15.03", f"quantity_{chair_line.pk}": "1"})
    assert "date: Enter a date as YYYY-MM-DD" in bad_date.content.decode() and Invoice.objects.count() == 0
    done = client.post(reverse("finance:invoice_from_order", args=[order.pk]), {"date": "2026-03-15", f"quantity_{chair_line.pk}": "1",
                                                                             f"quantity_{table_line.pk}": ""})
    invoice = Invoice.objects.get()
    assert done.status_code == 302 and invoice.total == D("1000.00")


def test_invoice_from_shipments_form(order, make_shipment, accountant, web_client):
    chair_line = order.lines.get(product__sku="CHAIR")
    shipment = make_shipment(order, [(chair_line, "2")])
    client = web_client(accountant)
    assert str(shipment) in client.get(reverse("finance:invoice_from_shipments", args=[order.pk])).content.decode()
    nothing = client.post(reverse("finance:invoice_from_shipments", args=[order.pk]), {"date": "2026-03-15"})
    assert "Choose at least one shipment" in nothing.content.decode() and Invoice.objects.count() == 0
    client.post(reverse("finance:invoice_from_shipments", args=[order.pk]), {"date": "2026-03-15", "shipment": [shipment.pk]})
    assert Invoice.objects.get().total == D("2000.00")


def test_cancel_page_refuses_with_a_reason(order, make_invoice, accountant, web_client):
    invoice = make_invoice(order)
    services.credit_note_post(actor=accountant, credit_note_id=services.credit_note_create_from_invoice(
        actor=accountant, invoice_id=invoice.pk, full=True, date=INVOICE_DAY).pk)
    client = web_client(accountant)
    refused = client.post(reverse("finance:invoice_cancel", args=[invoice.pk]), {"date": "2026-03-20"})
    assert "cancel them first" in refused.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.POSTED


def test_schedule_pages(order, accountant, web_client):
    client = web_client(accountant)
    url = reverse("finance:order_schedule", args=[order.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"action": "set", "rows": "2", "kind_0": "prepayment", "due_date_0": "2026-03-10", "amount_0": "100.00",
                            "kind_1": "instalment", "due_date_1": "2026-04-10", "amount_1": "100.00"})
    assert "The items add up to 200.00; the document total is 8500.00" in bad.content.decode()
    assert PaymentScheduleItem.objects.count() == 0
    assert client.post(url, {"action": "set", "rows": "many"}).status_code == 302  # no rows: nothing to save, no schedule
    assert PaymentScheduleItem.objects.count() == 0
    client.post(url, {"action": "generate", "prepayment_percent": "30", "instalments": "2", "first_due_date": ""})
    assert [item.amount for item in PaymentScheduleItem.objects.order_by("position")] == [D("2550.00"), D("2975.00"), D("2975.00")]
    # the order card include shows the schedule and the Invoice button
    request = RequestFactory().get("/")
    request.user = accountant
    html = render_to_string("finance/_order_invoices.html", {"order": order, "perms": _Perms(accountant)}, request=request)
    assert "order-invoice-button" in html and "2,975.00" in html


class _Perms:
    """What the auth context processor gives templates, for render_to_string without a full request cycle."""

    def __init__(self, user):
        from django.contrib.auth.context_processors import PermWrapper

        self._wrapper = PermWrapper(user)

    def __getitem__(self, key):
        return self._wrapper[key]

    def __contains__(self, key):
        return key in self._wrapper


def test_credit_note_pages(order, make_invoice, accountant, web_client):
    invoice = make_invoice(order)
    client = web_client(accountant)
    chair_line = invoice.lines.get(product__sku="CHAIR")
    page = client.get(reverse("finance:credit_note_create", args=[invoice.pk]))
    assert page.status_code == 200
    over = client.post(reverse("finance:credit_note_create", args=[invoice.pk]), {"date": "2026-03-16", f"quantity_{chair_line.pk}": "9"})
    assert "at most 3 left to credit" in over.content.decode() and CreditNote.objects.count() == 0
    client.post(reverse("finance:credit_note_create", args=[invoice.pk]), {"date": "2026-03-16", f"quantity_{chair_line.pk}": "1", "reason": "Scratch"})
    note = CreditNote.objects.get()
    assert client.get(reverse("finance:credit_note_detail", args=[note.pk])).status_code == 200
    client.post(reverse("finance:credit_note_post", args=[note.pk]))
    note.refresh_from_db()
    assert note.status == DocumentStatus.POSTED and note.total == D("1000.00")
    assert note.number in client.get(reverse("finance:credit_note_list")).content.decode()


def test_scope_404_and_permission_403(order, make_invoice, manager, other_manager, storekeeper, web_client):
    invoice = make_invoice(order)
    assert web_client(manager).get(reverse("finance:invoice_detail", args=[invoice.pk])).status_code == 200
    assert web_client(other_manager).get(reverse("finance:invoice_detail", args=[invoice.pk])).status_code == 404
    assert invoice.number not in web_client(other_manager).get(reverse("finance:invoice_list")).content.decode()
    assert web_client(manager).post(reverse("finance:invoice_cancel", args=[invoice.pk])).status_code == 403
    assert web_client(manager).get(reverse("finance:invoice_from_order", args=[order.pk])).status_code == 403
    assert web_client(storekeeper).get(reverse("finance:invoice_list")).status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.POSTED


def test_printed_invoice_and_act(make_order, chair, assembly, accountant, web_client):
    order = make_order([(chair, "1", "1000.00"), (assembly, "2", "1500.00")])
    invoice = services.invoice_post(actor=accountant, invoice_id=services.invoice_create_from_order(
        actor=accountant, order_id=order.pk, data={"date": INVOICE_DAY}).pk)
    from fabrika.core import printing

    html = printing.render_html("finance.invoice", invoice).html
    assert "Invoice for payment" in html and "40702810900000000001" in html and "4,000.00" in html
    act = printing.render_html("finance.act_of_services", invoice).html
    assert "Assembly" in act and "Chair" not in act
    client = web_client(accountant)
    assert "Print act" in client.get(reverse("finance:invoice_detail", args=[invoice.pk])).content.decode()
    pdf = client.get(reverse("core:print_document", args=["finance.invoice", invoice.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_credit_note_for_a_return_from_the_order_card(shipped_order, make_invoice, make_return, accountant, web_client):
    invoice = make_invoice(shipped_order)
    sales_return = make_return(shipped_order, [(shipped_order.lines.get(product__sku="CHAIR"), "1")])
    request = RequestFactory().get("/")
    request.user = accountant
    html = render_to_string("finance/_order_invoices.html", {"order": shipped_order, "perms": _Perms(accountant)}, request=request)
    assert reverse("finance:credit_note_from_return", args=[sales_return.pk]) in html and invoice.number in html
    client = web_client(accountant)
    client.post(reverse("finance:credit_note_from_return", args=[sales_return.pk]))
    note = CreditNote.objects.get()
    assert (note.invoice_id, note.total) == (invoice.pk, D("1000.00"))
    again = client.post(reverse("finance:credit_note_from_return", args=[sales_return.pk]), follow=True)
    assert "already has a credit note" in again.content.decode() and CreditNote.objects.count() == 1


def test_list_and_card_queries_do_not_grow_with_rows(make_order, chair, table, make_invoice, accountant, web_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web_client(accountant)
    make_invoice(make_order([(chair, "1", "100.00")]))

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("finance:invoice_list")).status_code == 200
        return len(captured)

    one = list_queries()
    for _ in range(3):
        make_invoice(make_order([(chair, "1", "100.00"), (table, "1", "200.00")]))
    assert list_queries() == one
    big = make_invoice(make_order([(chair, "2", "100.00"), (table, "1", "200.00")]))
    client.get(reverse("finance:invoice_detail", args=[big.pk]))  # warm the per-process caches (content types, forms)
    small_url = reverse("finance:invoice_detail", args=[Invoice.objects.order_by("id").first().pk])
    with CaptureQueriesContext(connection) as small_card:
        client.get(small_url)
    with CaptureQueriesContext(connection) as big_card:
        client.get(reverse("finance:invoice_detail", args=[big.pk]))
    assert len(big_card) == len(small_card)
