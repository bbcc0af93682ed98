"""Shipment and return pages: the create-from-order form, the card with post and cancel, lists with filters and
export, the order card's section, scope and permissions, and the printed delivery note."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from fabrika.core import printing
from fabrika.sales.models import SalesReturn, Shipment, ShipmentStatus

from . import shipment_factories as f

D = Decimal


@pytest.fixture
def pump(storekeeper, main_location):
    item = f.product(storekeeper, "PUMP")
    f.receive(storekeeper, item, "10", "50.00", to=main_location)
    return item


@pytest.fixture
def pump_order(manager, client_party, warehouse, pump):
    return f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "10", "99.99", "7")])


def test_ship_from_the_order_form_then_post_from_the_card(web_client, manager, storekeeper, pump_order, pump):
    line = pump_order.lines.get()
    browser = web_client(manager)
    url = reverse("sales:shipment_create", args=[pump_order.pk])
    page = browser.get(url)
    assert page.status_code == 200
    assert 'name="row-0-quantity"' in page.content.decode() and 'value="10"' in page.content.decode()
    # too much: the error is shown beside the line and nothing is saved
    refused = browser.post(url, {"date": "2026-03-12", "row-0-quantity": "12"})
    assert refused.status_code == 200
    assert "Line 1 (PUMP): 12 is more than the 10 remaining to ship" in refused.content.decode()
    assert not Shipment.objects.exists()
    created = browser.post(url, {"date": "2026-03-12", "row-0-quantity": "3", "remind_after_months": "6"})
    shipment = Shipment.objects.get()
    assert created.status_code == 302 and created["Location"] == reverse("sales:shipment_detail", args=[shipment.pk])
    assert (shipment.lines.get().quantity, shipment.remind_after_months) == (D("3"), 6)
    # the manager sees the card but may not post; the storekeeper posts
    card = browser.get(created["Location"])
    assert card.status_code == 200 and "post-button" not in card.content.decode()
    assert browser.post(reverse("sales:shipment_post", args=[shipment.pk])).status_code == 403
    keeper = web_client(storekeeper)
    assert "post-button" in keeper.get(created["Location"]).content.decode()
    keeper.post(reverse("sales:shipment_post", args=[shipment.pk]))
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.POSTED and shipment.total == D("278.97")
    card = keeper.get(created["Location"]).content.decode()
    assert "Maintenance due" in card and reverse("core:print_document", args=["sales.delivery_note", shipment.pk]) in card
    line.refresh_from_db()
    assert line.shipped_quantity == D("3")
    # the order card's section: ordered / shipped / remaining and both buttons
    section = browser.get(reverse("sales:order_shipments", args=[pump_order.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "<td>10 pcs</td><td>3</td><td>7</td><td>0</td>" in section
    assert reverse("sales:shipment_create", args=[pump_order.pk]) in section and reverse("sales:return_create", args=[pump_order.pk]) in section


def test_a_shortage_is_shown_on_the_card_and_nothing_is_posted(web_client, storekeeper, manager, client_party, warehouse, pump):
    unreserved = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "12", "10.00", "0")], reserve=False)
    keeper = web_client(storekeeper)
    keeper.post(reverse("sales:shipment_create", args=[unreserved.pk]), {"date": "2026-03-12", "row-0-quantity": "12"})
    shipment = Shipment.objects.get()
    response = keeper.post(reverse("sales:shipment_post", args=[shipment.pk]), follow=True)
    assert "Not shipped: Not enough PUMP at MAIN: 10 available, 12 needed" in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DRAFT and shipment.stock_document_id is None


def test_list_filters_export_and_scope(web_client, manager, other_manager, storekeeper, pump_order):
    keeper = web_client(storekeeper)
    keeper.post(reverse("sales:shipment_create", args=[pump_order.pk]), {"date": "2026-03-12", "row-0-quantity": "2"})
    shipment = Shipment.objects.get()
    keeper.post(reverse("sales:shipment_post", args=[shipment.pk]))
    shipment.refresh_from_db()
    listing = web_client(manager).get(reverse("sales:shipment_list"), {"status": "posted", "period_from": "2026-03-01", "period_to": "2026-03-31"})
    assert listing.status_code == 200 and shipment.number in listing.content.decode()
    assert shipment.number not in web_client(manager).get(reverse("sales:shipment_list"), {"period_from": "2026-04-01"}).content.decode()
    exported = web_client(manager).get(reverse("sales:shipment_list"), {"export": "csv"})
    assert exported.status_code == 200 and shipment.number in exported.content.decode()
    other = web_client(other_manager)
    assert other.get(reverse("sales:shipment_detail", args=[shipment.pk])).status_code == 404
    assert shipment.number not in other.get(reverse("sales:shipment_list")).content.decode()
    assert other.get(reverse("sales:shipment_create", args=[pump_order.pk])).status_code == 404
    # cancel from the card (storekeeper)
    assert keeper.post(reverse("sales:shipment_cancel", args=[shipment.pk]), {"date": "2026-03-13"}).status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CANCELLED


def test_return_from_the_order(web_client, manager, storekeeper, pump_order):
    keeper = web_client(storekeeper)
    keeper.post(reverse("sales:shipment_create", args=[pump_order.pk]), {"date": "2026-03-12", "row-0-quantity": "4"})
    keeper.post(reverse("sales:shipment_post", args=[Shipment.objects.get().pk]))
    browser = web_client(manager)
    url = reverse("sales:return_create", args=[pump_order.pk])
    refused = browser.post(url, {"date": "2026-03-20", "row-0-quantity": "5", "reason": "Broken"})
    assert "Line 1 (PUMP): 5 is more than the 4 shipped and not yet returned" in refused.content.decode()
    assert not SalesReturn.objects.exists()
    created = browser.post(url, {"date": "2026-03-20", "row-0-quantity": "1", "reason": "Broken"})
    sales_return = SalesReturn.objects.get()
    assert created.status_code == 302
    keeper.post(reverse("sales:return_post", args=[sales_return.pk]))
    sales_return.refresh_from_db()
    assert sales_return.status == ShipmentStatus.POSTED and sales_return.total == D("92.99")
    assert sales_return.number in browser.get(reverse("sales:return_list")).content.decode()
    assert browser.get(reverse("sales:return_detail", args=[sales_return.pk])).status_code == 200


def test_delivery_note_prints_prices_taxes_and_the_amount_in_words(web_client, storekeeper, pump_order):
    keeper = web_client(storekeeper)
    keeper.post(reverse("sales:shipment_create", args=[pump_order.pk]), {"date": "2026-03-12", "row-0-quantity": "3"})
    shipment = Shipment.objects.get()
    draft_print = keeper.get(reverse("core:print_document", args=["sales.delivery_note", shipment.pk]))
    assert draft_print.status_code == 409
    keeper.post(reverse("sales:shipment_post", args=[shipment.pk]))
    shipment.refresh_from_db()
    html = printing.render_html("sales.delivery_note", shipment).html
    assert "278,97" in html or "278.97" in html
    assert "46,50" in html or "46.50" in html
    assert "two hundred and seventy-eight roubles, ninety-seven kopeks" in html.lower()
    pdf = keeper.get(reverse("core:print_document", args=["sales.delivery_note", shipment.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_the_order_card_loads_the_shipments_section(web_client, manager, pump_order):
    page = web_client(manager).get(reverse("sales:order_detail", args=[pump_order.pk]))
    assert page.status_code == 200
    assert f'hx-get="{reverse("sales:order_shipments", args=[pump_order.pk])}"' in page.content.decode()
    # without htmx the section's link opens a page of its own
    own_page = web_client(manager).get(reverse("sales:order_shipments", args=[pump_order.pk]))
    assert own_page.status_code == 200 and "Shipments and returns of SO-" in own_page.content.decode()
