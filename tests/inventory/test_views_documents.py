"""Stock document pages: header forms per type, lines through the product search and the barcode field (htmx, as a
keyboard-wedge scanner sends it), lots and serials on lines, post and cancel, the card, the list filters, and the
permission checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from fabrika.catalog import services as catalog_services
from fabrika.inventory import services
from fabrika.inventory.enums import DocumentStatus, DocumentType
from fabrika.inventory.models import Lot, SerialNumber, StockDocument, StockMove
from fabrika.parties.services import counterparty_create

from .conftest import DAY, balance

D = Decimal
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "document-lines"}


@pytest.fixture
def client(storekeeper, web_client):
    return web_client(storekeeper)


@pytest.fixture
def servo(ledger, storekeeper):
    product = ledger.product(sku="SRV-1", name="Servo motor")
    catalog_services.barcode_add(actor=storekeeper, product_id=product.pk, code="4601234567893")
    return product


@pytest.fixture
def supplier(storekeeper):
    return counterparty_create(actor=storekeeper, data={"name": "Servo Motors Ltd", "is_supplier": True, "responsible": storekeeper})


def _receipt(client, main, supplier, date=DAY) -> StockDocument:
    response = client.post(f"/inventory/documents/new/{DocumentType.RECEIPT}/", {
        "date": date.isoformat(), "counterparty": supplier.pk, "to_location": main.pk, "reference": "PO-7",
    })
    document = StockDocument.objects.get(reference="PO-7")
    assert response.status_code == 302 and response.url == f"/inventory/documents/{document.pk}/"
    return document


def test_receipt_through_the_form_product_search_scanner_and_post(client, main, servo, supplier, company):
    # given a draft receipt made through the header form
    document = _receipt(client, main, supplier)
    assert (document.document_type, document.status, document.counterparty_id, document.to_location_id) == ("receipt", "draft", supplier.pk, main.pk)
    # the product search finds the servo by SKU, name and barcode
    for query in ("SRV", "servo", "4601234567893"):
        hits = client.get(f"/inventory/documents/{document.pk}/products/?q={query}").content.decode()
        assert f"line-form/?product={servo.pk}" in hits, query
    # picking it opens the line form with a unit cost (a receipt)
    form = client.get(f"/inventory/documents/{document.pk}/line-form/?product={servo.pk}").content.decode()
    assert 'name="line-unit_cost"' in form and 'name="line-serial"' not in form
    response = client.post(f"/inventory/documents/{document.pk}/lines/", {
        "line-product": servo.pk, "line-quantity": "10", "line-unit": servo.stock_unit_id, "line-unit_cost": "100.50",
    }, **HTMX)
    assert "Added: SRV-1 × 10" in response.content.decode()
    line = document.lines.get()
    assert (line.quantity, line.unit_cost) == (D("10.0000"), D("100.500000"))
    # a scan of the same product adds one to that line (the code arrives with Enter, through htmx)
    response = client.post(f"/inventory/documents/{document.pk}/scan/", {"code": "4601234567893"}, **HTMX)
    html = response.content.decode()
    assert "SRV-1: 11 pcs" in html and 'id="scan-status"' in html and 'hx-swap-oob="true"' in html
    line = document.lines.get()
    assert (line.quantity, line.unit_cost) == (D("11.0000"), D("100.500000"))
    # when it is posted
    response = client.post(f"/inventory/documents/{document.pk}/post/")
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == DocumentStatus.POSTED and document.number
    assert document.total_value == D("1105.50")
    assert balance(servo, main) == (D("11.0000"), D("1105.50"))
    # then the card shows the move with its cost and no more edit controls
    card = client.get(f"/inventory/documents/{document.pk}/").content.decode()
    assert "Stock moves" in card and "<td>1105.50</td>" in card and "<td>100.50</td>" in card
    assert "data-barcode-input" not in card and "Post</button>" not in card


def test_unknown_barcode_and_bad_quantity_are_errors_and_change_nothing(client, main, servo, supplier, ledger):
    document = _receipt(client, main, supplier)
    response = client.post(f"/inventory/documents/{document.pk}/scan/", {"code": "999"}, **HTMX)
    assert "Unknown barcode 999" in response.content.decode()
    response = client.post(f"/inventory/documents/{document.pk}/lines/", {
        "line-product": servo.pk, "line-quantity": "1.5", "line-unit": servo.stock_unit_id, "line-unit_cost": "-1",
    }, **HTMX)
    html = response.content.decode()
    assert "pcs must be a whole number" in html and "Must be zero or more" in html
    assert document.lines.count() == 0
    # posting an empty document is refused with the reason
    response = client.post(f"/inventory/documents/{document.pk}/post/", follow=True)
    assert "Add at least one line before posting" in response.content.decode()
    assert StockMove.objects.count() == 0


def test_scanning_into_an_issue_adds_a_line_and_tracked_products_open_the_line_form(client, ledger, main, servo, storekeeper):
    ledger.receive(servo, 5, "10.00", to=main)
    board = ledger.product(sku="CTL-1", tracking="serial")
    catalog_services.barcode_add(actor=storekeeper, product_id=board.pk, code="2000000000015")
    ledger.receive(board, 1, "900.00", to=main, serial="SN-001")
    document = services.stock_document_create(actor=storekeeper, document_type=DocumentType.ISSUE, data={"date": DAY, "from_location": main.pk})
    client.post(f"/inventory/documents/{document.pk}/scan/", {"code": "4601234567893"}, **HTMX)
    client.post(f"/inventory/documents/{document.pk}/scan/", {"code": "4601234567893"}, **HTMX)
    assert [(line.product_id, line.quantity) for line in document.lines.all()] == [(servo.pk, D("2.0000"))]
    # the serial-tracked board needs its serial number: the form opens with the product chosen
    html = client.post(f"/inventory/documents/{document.pk}/scan/", {"code": "2000000000015"}, **HTMX).content.decode()
    assert 'name="line-serial"' in html and "CTL-1" in html and 'id="line-form" hx-swap-oob="true"' in html
    assert document.lines.count() == 1
    client.post(f"/inventory/documents/{document.pk}/lines/", {"line-product": board.pk, "line-quantity": "1", "line-unit": board.stock_unit_id, "line-serial": "SN-001"}, **HTMX)
    client.post(f"/inventory/documents/{document.pk}/post/")
    assert balance(servo, main) == (D("3.0000"), D("30.00"))
    assert SerialNumber.objects.get(serial="SN-001").location.kind == "customer"


def test_lot_tracked_receipt_then_issue_by_first_expiry(client, ledger, main, storekeeper, company):
    battery = ledger.product(sku="BAT-1", tracking="lot", shelf_life_days=365)
    receipt = services.stock_document_create(actor=storekeeper, document_type=DocumentType.RECEIPT, data={"date": DAY, "to_location": main.pk})
    form = client.get(f"/inventory/documents/{receipt.pk}/line-form/?product={battery.pk}").content.decode()
    assert 'name="line-lot_code"' in form and 'name="line-production_date"' in form
    client.post(f"/inventory/documents/{receipt.pk}/lines/", {
        "line-product": battery.pk, "line-quantity": "4", "line-unit": battery.stock_unit_id, "line-unit_cost": "250",
        "line-lot_code": "L-2026-01", "line-production_date": "2026-01-10",
    }, **HTMX)
    client.post(f"/inventory/documents/{receipt.pk}/post/")
    lot = Lot.objects.get(code="L-2026-01")
    assert lot.expiry_date == dt.date(2027, 1, 10)
    issue = services.stock_document_create(actor=storekeeper, document_type=DocumentType.ISSUE, data={"date": DAY, "from_location": main.pk})
    form = client.get(f"/inventory/documents/{issue.pk}/line-form/?product={battery.pk}").content.decode()
    assert 'name="line-lot"' in form and "First expiry first" in form
    client.post(f"/inventory/documents/{issue.pk}/lines/", {"line-product": battery.pk, "line-quantity": "3", "line-unit": battery.stock_unit_id}, **HTMX)
    assert issue.lines.get().lot_id == lot.pk
    client.post(f"/inventory/documents/{issue.pk}/post/")
    assert balance(battery, main, lot) == (D("1.0000"), D("250.00"))
    # the lot's page shows where it is
    html = client.get(f"/inventory/lots/{lot.pk}/").content.decode()
    assert "L-2026-01" in html and "<td>1</td><td>250.00</td>" in html


def test_cancel_asks_for_confirmation_then_reverses(client, ledger, main, servo):
    document = ledger.receive(servo, 4, "25.00", to=main)
    page = client.get(f"/inventory/documents/{document.pk}/cancel/").content.decode()
    assert "reversed by new moves" in page and 'id="confirm-cancel"' in page
    assert StockDocument.objects.get(pk=document.pk).status == DocumentStatus.POSTED  # the GET changed nothing
    response = client.post(f"/inventory/documents/{document.pk}/cancel/", {"date": DAY.isoformat()})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == DocumentStatus.CANCELLED
    assert balance(servo, main) == (D("0.0000"), D("0.00"))
    assert StockMove.objects.filter(document=document, reverses__isnull=False).count() == 1


def test_transfer_and_count_sheet(client, ledger, main, second, servo, storekeeper):
    ledger.receive(servo, 10, "10.00", to=main)
    response = client.post(f"/inventory/documents/new/{DocumentType.TRANSFER}/", {"date": DAY.isoformat(), "from_location": main.pk, "to_location": second.pk})
    transfer = StockDocument.objects.get(document_type=DocumentType.TRANSFER)
    assert response.url == f"/inventory/documents/{transfer.pk}/"
    client.post(f"/inventory/documents/{transfer.pk}/scan/", {"code": "4601234567893"}, **HTMX)
    client.post(f"/inventory/documents/{transfer.pk}/post/")
    assert balance(servo, second) == (D("1.0000"), D("10.00"))
    # a count of the main warehouse: the sheet is filled with what is on record, one line corrected
    client.post(f"/inventory/documents/new/{DocumentType.COUNT}/", {"date": DAY.isoformat(), "from_location": main.pk})
    count = StockDocument.objects.get(document_type=DocumentType.COUNT)
    client.post(f"/inventory/documents/{count.pk}/count-sheet/")
    line = count.lines.get()
    assert line.counted_quantity == D("9.0000")
    client.post(f"/inventory/documents/{count.pk}/lines/{line.pk}/remove/", **HTMX)
    client.post(f"/inventory/documents/{count.pk}/lines/", {"line-product": servo.pk, "line-quantity": "7", "line-unit": servo.stock_unit_id}, **HTMX)
    client.post(f"/inventory/documents/{count.pk}/post/")
    assert balance(servo, main) == (D("7.0000"), D("70.00"))
    card = client.get(f"/inventory/documents/{count.pk}/").content.decode()
    assert "Count sheet" in card and "<td>9</td><td>-2</td>" in card


def test_header_form_errors_name_the_field(client, main, storekeeper):
    response = client.post(f"/inventory/documents/new/{DocumentType.RECEIPT}/", {"date": "2026-13-01", "to_location": main.pk, "currency": "EURO"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-date"' in html and 'id="error-currency"' in html
    assert StockDocument.objects.count() == 0
    assert client.get("/inventory/documents/new/nonsense/").status_code == 404
    # inline validation (htmx, one field): the service's rule beside the field, nothing saved
    response = client.post(f"/inventory/documents/new/{DocumentType.RECEIPT}/validate/", {
        "_field": "currency", "date": DAY.isoformat(), "to_location": main.pk, "currency": "E1R",
    })
    assert "Use a three-letter ISO 4217 code, e.g. EUR" in response.content.decode()
    assert StockDocument.objects.count() == 0


def test_document_list_filters(client, ledger, main, second, servo, supplier):
    ledger.receive(servo, 5, "10.00", to=main, date=dt.date(2026, 3, 2))
    services.stock_document_update(actor=ledger.actor, document_id=ledger.receive(servo, 5, "10.00", to=second, date=dt.date(2026, 4, 1)).pk, data={}) if False else None
    later = ledger.document(DocumentType.RECEIPT, date=dt.date(2026, 4, 1), to_location=second.pk, counterparty=supplier.pk,
                            lines=[{"product": servo.pk, "quantity": "1", "unit_cost": "1"}])
    draft = ledger.document(DocumentType.ISSUE, from_location=main.pk, lines=[], post=False)

    def numbers(query: str) -> set[str]:
        html = client.get(f"/inventory/documents/?{query}").content.decode()
        return {d.number or "draft" for d in StockDocument.objects.all() if f'href="/inventory/documents/{d.pk}/"' in html}

    assert numbers("view=0") == {StockDocument.objects.earliest("id").number, later.number, "draft"}
    assert numbers("type=issue") == {"draft"}
    assert numbers("status=posted&date_from=2026-03-15") == {later.number}
    assert numbers("date_to=2026-03-31&status=posted") == {StockDocument.objects.earliest("id").number}
    assert numbers(f"warehouse={second.warehouse_id}") == {later.number}
    assert numbers(f"counterparty={supplier.pk}") == {later.number}
    assert draft.status == "draft"


def test_warehouse_pages_locations_lots_serials_and_periods(client, ledger, main, warehouse, servo, storekeeper):
    response = client.post("/inventory/warehouses/", {"code": "FG", "name": "Finished goods"})
    assert response.status_code == 302
    assert "Finished goods" in client.get("/inventory/warehouses/").content.decode()
    client.post(f"/inventory/warehouses/{warehouse.pk}/", {"parent": main.pk, "name": "Zone A", "code": "A"})
    zone = main.children.get(name="Zone A")
    client.post(f"/inventory/warehouses/{warehouse.pk}/", {"parent": zone.pk, "name": "Bin A-01", "code": "A-01"})
    ledger.receive(servo, 3, "12.00", to=zone.children.get())
    html = client.get(f"/inventory/warehouses/{warehouse.pk}/").content.decode()
    assert html.index("Zone A") < html.index("Bin A-01") and 'id="warehouse-total">36.00<' in html
    # a duplicate code is shown beside the field and nothing is added
    html = client.post(f"/inventory/warehouses/{warehouse.pk}/", {"parent": main.pk, "name": "Zone B", "code": "A"}).content.decode()
    assert "The code A is already used in this warehouse" in html and not main.children.filter(name="Zone B").exists()
    # periods: close February 2026, then a posting in it is refused
    client.post("/inventory/periods/", {"month": "2026-02"})
    assert "2026-02" in client.get("/inventory/periods/").content.decode()
    html = client.post("/inventory/periods/", {"month": "2026-01"}).content.decode()
    assert "is already closed" in html
    # lots and serials lists answer
    assert client.get("/inventory/lots/").status_code == 200
    assert client.get("/inventory/serials/").status_code == 200


def test_reservations_page_reserves_and_releases(client, ledger, main, servo, storekeeper):
    ledger.receive(servo, 10, "10.00", to=main)
    document = services.stock_document_create(actor=storekeeper, document_type=DocumentType.ISSUE, data={"date": DAY, "from_location": main.pk, "reference": "SO-1"})
    services.stock_document_add_line(actor=storekeeper, document_id=document.pk, data={"product": servo.pk, "quantity": "4"})
    client.post(f"/inventory/documents/{document.pk}/reservations/", {"product": servo.pk, "location": main.pk, "quantity": "4"})
    html = client.get(f"/inventory/documents/{document.pk}/reservations/").content.decode()
    assert "<td>4</td><td>6</td><td>Active</td>" in html
    html = client.post(f"/inventory/documents/{document.pk}/reservations/", {"product": servo.pk, "location": main.pk, "quantity": "7"}).content.decode()
    assert "6 available, 7 asked" in html
    reservation = document and __import__("fabrika.inventory.models", fromlist=["Reservation"]).Reservation.objects.get()
    client.post(f"/inventory/documents/{document.pk}/reservations/", {"release": reservation.pk})
    reservation.refresh_from_db()
    assert reservation.status == "released"


def test_permissions(make_user, web_client, ledger, main, servo, storekeeper):
    document = ledger.receive(servo, 1, "1.00", to=main)
    nobody = web_client(make_user("", username="nobody"))
    for url in ("/inventory/documents/", f"/inventory/documents/{document.pk}/", "/inventory/warehouses/", "/inventory/lots/",
                "/inventory/serials/", "/inventory/periods/", f"/inventory/documents/new/{DocumentType.RECEIPT}/"):
        assert nobody.get(url).status_code == 403, url
    assert nobody.post(f"/inventory/documents/{document.pk}/cancel/").status_code == 403
    # a user who may see only their own documents gets 404 for someone else's
    own = make_user("Sales manager", username="own")
    own.user_permissions.add(*Permission.objects.filter(content_type__app_label="inventory", codename__in=["view_stockdocument", "change_stockdocument", "cancel_stockdocument"]))
    client = web_client(own)
    assert client.get(f"/inventory/documents/{document.pk}/").status_code == 404
    assert client.post(f"/inventory/documents/{document.pk}/cancel/").status_code == 404
    assert f"/inventory/documents/{document.pk}/" not in client.get("/inventory/documents/").content.decode()
    assert StockDocument.objects.get(pk=document.pk).status == DocumentStatus.POSTED
