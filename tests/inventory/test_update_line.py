"""Changing a draft's line in place: the service (every add-line rule applies), the API's PATCH and the line form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.models import AuditEntry
from fabrika.inventory import services
from fabrika.inventory.enums import DocumentType
from fabrika.inventory.models import Lot

from .conftest import DAY, balance

D = Decimal
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "document-lines"}


def _receipt(ledger, main, *lines):
    document = services.stock_document_create(actor=ledger.actor, document_type=DocumentType.RECEIPT, data={"date": DAY, "to_location": main.pk})
    made = services.stock_document_add_lines(actor=ledger.actor, document_id=document.pk, lines=list(lines))
    return document, [group[0] for group in made]


def test_a_line_changes_in_place_and_posts_with_its_new_values(ledger, main, box, pcs):
    from fabrika.catalog import services as catalog_services

    motor, wheel = ledger.product("MOT"), ledger.product("WHL")
    catalog_services.unit_conversion_create(actor=ledger.actor, product=wheel, from_unit=box, to_unit=pcs, factor="4")
    document, (first, second) = _receipt(ledger, main, {"product": motor.pk, "quantity": "2", "unit_cost": "10"},
                                         {"product": wheel.pk, "quantity": "8", "unit_cost": "1.25"})
    changed = services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=second.pk,
                                                  data={"unit": box.pk, "quantity": "3", "unit_cost": "5.00"})
    assert (changed.pk, changed.position, changed.quantity, changed.stock_quantity, changed.unit_id) == (second.pk, 2, D("3"), D("12"), box.pk)
    entry = AuditEntry.objects.filter(object_id=str(document.pk), message="line changed").get()
    assert entry.changes["lines"] == ["WHL × 8 pcs @ 1.25", "WHL × 3 box @ 5"]
    services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
    assert balance(wheel, main) == (D("12"), D("15.00")) and balance(motor, main) == (D("2"), D("20.00"))


def test_bad_changes_name_the_field_and_leave_the_line_as_it_was(ledger, main):
    motor = ledger.product("MOT")
    other = ledger.product("OTH")
    document, (line,) = _receipt(ledger, main, {"product": motor.pk, "quantity": "2", "unit_cost": "10"})
    for data, field in (
        ({"quantity": "-1"}, "quantity"), ({"quantity": "1.5"}, "quantity"), ({"unit_cost": "abc"}, "unit_cost"),
        ({"product": other.pk}, "product"), ({"unit": 99999}, "unit"), ({"serial": "X-1"}, "serial"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=line.pk, data=data)
        assert field in refused.value.errors, data
    line.refresh_from_db()
    assert (line.product_id, line.quantity, line.unit_cost) == (motor.pk, D("2"), D("10"))
    with pytest.raises(NotFound):
        services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=999999, data={"quantity": "1"})
    services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
    with pytest.raises(Exception) as posted:
        services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=line.pk, data={"quantity": "1"})
    assert getattr(posted.value, "status", None) == 409


def test_an_outgoing_lot_line_keeps_or_changes_its_lot_but_is_not_split(ledger, main):
    cream = ledger.product("CRM", tracking="lot", shelf_life_days=30)
    ledger.receive(cream, 5, "2.00", to=main, lot_code="A", production_date="2026-02-01")
    ledger.receive(cream, 5, "3.00", to=main, lot_code="B", production_date="2026-02-20")
    document = services.stock_document_create(actor=ledger.actor, document_type=DocumentType.ISSUE, data={"date": DAY, "from_location": main.pk})
    (line,) = services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": cream.pk, "quantity": "4"})
    assert line.lot.code == "A"
    changed = services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=line.pk, data={"quantity": "5"})
    assert (changed.lot.code, changed.quantity) == ("A", D("5"))
    lot_b = Lot.objects.get(product=cream, code="B")
    changed = services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=line.pk, data={"lot": lot_b.pk, "quantity": "2"})
    assert (changed.lot.code, changed.quantity) == ("B", D("2"))
    with pytest.raises(ValidationError) as refused:
        services.stock_document_update_line(actor=ledger.actor, document_id=document.pk, line_id=line.pk, data={"lot": ""})
    assert "lot" in refused.value.errors


def test_api_patch_changes_the_line_and_refuses_bad_input_with_422(ledger, main, storekeeper, client):
    motor = ledger.product("MOT")
    document, (line,) = _receipt(ledger, main, {"product": motor.pk, "quantity": "2", "unit_cost": "10"})
    client.force_login(storekeeper)
    url = f"/api/v1/inventory/documents/{document.pk}/lines/{line.pk}"
    response = client.patch(url, {"quantity": "7"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert (response.json()["quantity"], response.json()["position"], response.json()["unit_cost"]) == ("7.0000", 1, "10.000000")
    response = client.patch(url, {"quantity": "0"}, content_type="application/json")
    assert response.status_code == 422 and "quantity" in str(response.json())
    assert client.patch(f"/api/v1/inventory/documents/{document.pk}/lines/999999", {"quantity": "1"}, content_type="application/json").status_code == 404
    line.refresh_from_db()
    assert line.quantity == D("7")


def test_the_line_form_opens_with_the_lines_values_and_saves_in_place(ledger, main, storekeeper, web_client):
    motor = ledger.product("MOT")
    document, (line,) = _receipt(ledger, main, {"product": motor.pk, "quantity": "2", "unit_cost": "10"})
    client = web_client(storekeeper)
    card = client.get(f"/inventory/documents/{document.pk}/").content.decode()
    assert f"/inventory/documents/{document.pk}/lines/{line.pk}/edit/" in card
    form = client.get(f"/inventory/documents/{document.pk}/lines/{line.pk}/edit/", **HTMX).content.decode()
    assert 'value="2"' in form and 'value="10"' in form and "Save line" in form and "changing line 1" in form
    response = client.post(f"/inventory/documents/{document.pk}/lines/{line.pk}/edit/", {
        "line-product": motor.pk, "line-quantity": "abc", "line-unit": motor.stock_unit_id, "line-unit_cost": "10",
    }, **HTMX)
    assert "Enter a number" in response.content.decode() and "The line was not changed" in response.content.decode()
    response = client.post(f"/inventory/documents/{document.pk}/lines/{line.pk}/edit/", {
        "line-product": motor.pk, "line-quantity": "6", "line-unit": motor.stock_unit_id, "line-unit_cost": "9.50",
    }, **HTMX)
    assert "Line 1 changed" in response.content.decode()
    line.refresh_from_db()
    assert (line.quantity, line.unit_cost, document.lines.count()) == (D("6"), D("9.5"), 1)


def test_rescanning_grows_the_line_without_moving_it(ledger, main, storekeeper, web_client):
    from fabrika.catalog import services as catalog_services

    motor, wheel = ledger.product("MOT"), ledger.product("WHL")
    catalog_services.barcode_add(actor=storekeeper, product_id=motor.pk, code="4601234567893")
    document, (first, second) = _receipt(ledger, main, {"product": motor.pk, "quantity": "1", "unit_cost": "10"},
                                         {"product": wheel.pk, "quantity": "1", "unit_cost": "1"})
    web_client(storekeeper).post(f"/inventory/documents/{document.pk}/scan/", {"code": "4601234567893"}, **HTMX)
    assert [(line.pk, line.position, line.quantity) for line in document.lines.order_by("position")] == [
        (first.pk, 1, D("2")), (second.pk, 2, D("1")),
    ]
