"""Catalog pages: product list (filters, barcode search, export), card (units, barcodes, attributes, stock), form
with inline validation, groups tree, units and conversions, and the permission checks."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from fabrika.catalog import services
from fabrika.catalog.models import Barcode, Product, ProductGroup, Unit, UnitConversion
from fabrika.inventory import services as stock_services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType


@pytest.fixture
def keeper(make_user):
    user = make_user("Storekeeper", username="keeper")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["inventory", "catalog"]))
    return user


@pytest.fixture
def client(keeper, web_client):
    return web_client(keeper)


@pytest.fixture
def pcs(keeper):
    return services.unit_create(actor=keeper, code="pcs", name="Pieces")


@pytest.fixture
def catalog(keeper, pcs):
    electronics = services.product_group_create(actor=keeper, data={"name": "Electronics"})
    motors = services.product_group_create(actor=keeper, data={"name": "Motors", "parent": electronics.pk})
    servo = services.product_create(actor=keeper, data={"sku": "SRV-1", "name": "Servo motor", "stock_unit": pcs.pk, "group": motors.pk,
                                                        "attributes": {"torque": "1.5 kg·cm"}})
    board = services.product_create(actor=keeper, data={"sku": "CTL-1", "name": "Controller board", "stock_unit": pcs.pk,
                                                        "group": electronics.pk, "tracking": "serial"})
    kit = services.product_create(actor=keeper, data={"sku": "KIT-S", "name": "Robokids Start", "stock_unit": pcs.pk, "kind": "finished_good"})
    services.barcode_add(actor=keeper, product_id=servo.pk, code="4601234567893")
    return {"servo": servo, "board": board, "kit": kit, "electronics": electronics, "motors": motors}


def _rows(response) -> list[str]:
    html = response.content.decode()
    return [sku for sku in ("SRV-1", "CTL-1", "KIT-S") if f">{sku}<" in html]


def test_product_list_filters_by_group_subtree_kind_tracking_and_finds_by_barcode(client, catalog):
    assert _rows(client.get("/catalog/products/")) == ["SRV-1", "CTL-1", "KIT-S"]
    # the group filter includes subgroups: Electronics holds the board and (through Motors) the servo
    assert _rows(client.get(f"/catalog/products/?group={catalog['electronics'].pk}")) == ["SRV-1", "CTL-1"]
    assert _rows(client.get(f"/catalog/products/?group={catalog['motors'].pk}")) == ["SRV-1"]
    assert _rows(client.get("/catalog/products/?kind=finished_good")) == ["KIT-S"]
    assert _rows(client.get("/catalog/products/?tracking=serial")) == ["CTL-1"]
    assert _rows(client.get("/catalog/products/?q=4601234567893")) == ["SRV-1"]
    assert _rows(client.get("/catalog/products/?q=board")) == ["CTL-1"]


def test_product_list_exports_the_filtered_rows(client, catalog):
    response = client.get("/catalog/products/?kind=material&export=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["SKU", "Name", "Kind", "Group", "Unit", "Tracking", "Barcodes"]
    assert rows[1:] == [
        ["CTL-1", "Controller board", "Material", "Electronics", "pcs", "By serial number", ""],
        ["SRV-1", "Servo motor", "Material", "Motors", "pcs", "No tracking", "4601234567893"],
    ]


def test_product_card_shows_units_barcodes_attributes_and_stock(client, keeper, catalog, pcs):
    servo = catalog["servo"]
    box = services.unit_create(actor=keeper, code="box", name="Box of 12")
    services.unit_conversion_create(actor=keeper, product=servo, from_unit=box, to_unit=pcs, factor="12")
    main = stock_services.warehouse_root(stock_services.warehouse_create(actor=keeper, code="MAIN", name="Main"))
    document = stock_services.stock_document_create(actor=keeper, document_type=DocumentType.RECEIPT, data={"to_location": main.pk})
    stock_services.stock_document_add_line(actor=keeper, document_id=document.pk, data={"product": servo.pk, "quantity": "2", "unit": box.pk, "unit_cost": "120"})
    stock_services.stock_document_post(actor=keeper, document_id=document.pk, policy=StockPolicy(False, "fifo"))
    html = client.get(f"/catalog/products/{servo.pk}/").content.decode()
    assert "1 box = 12 pcs" in html
    assert "4601234567893" in html
    assert "torque" in html and "1.5 kg·cm" in html
    assert "Stock on hand: 24 pcs, value 240.00" in html
    assert "<td>24 pcs</td>" in html


def test_product_form_creates_and_shows_service_errors_beside_fields(client, catalog, pcs):
    response = client.post("/catalog/products/new/", {
        "sku": "PLA-1", "name": "PLA plastic", "kind": "material", "stock_unit": pcs.pk, "tracking": "none",
        "attributes": "colour: white\ndiameter: 1.75 mm", "is_active": "on",
    })
    product = Product.objects.get(sku="PLA-1")
    assert response.status_code == 302 and response.url == f"/catalog/products/{product.pk}/"
    assert product.attributes == {"colour": "white", "diameter": "1.75 mm"}
    # a duplicate SKU and shelf life on an untracked product: errors beside the fields, nothing saved
    response = client.post("/catalog/products/new/", {
        "sku": "SRV-1", "name": "Copy", "kind": "material", "stock_unit": pcs.pk, "tracking": "none", "shelf_life_days": "30",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "The SKU SRV-1 is already used by another product" in html
    assert "Shelf life applies only to lot-tracked products" in html
    assert Product.objects.filter(name="Copy").count() == 0


def test_inline_validation_runs_the_service_rules_and_saves_nothing(client, catalog, pcs):
    response = client.post("/catalog/products/new/validate/", {
        "_field": "sku", "sku": "SRV-1", "name": "x", "kind": "material", "stock_unit": pcs.pk, "tracking": "none",
    })
    assert "The SKU SRV-1 is already used by another product" in response.content.decode()
    assert Product.objects.count() == 3


def test_product_edit_and_barcodes(client, catalog):
    servo = catalog["servo"]
    response = client.post(f"/catalog/products/{servo.pk}/edit/", {
        "sku": "SRV-1", "name": "Servo motor MG90", "kind": "material", "stock_unit": servo.stock_unit_id, "tracking": "none",
        "group": catalog["motors"].pk, "attributes": "", "is_active": "on",
    })
    assert response.status_code == 302
    servo.refresh_from_db()
    assert (servo.name, servo.attributes) == ("Servo motor MG90", {})
    client.post(f"/catalog/products/{servo.pk}/barcodes/", {"barcode-code": "2000000000015"})
    assert set(servo.barcodes.values_list("code", flat=True)) == {"4601234567893", "2000000000015"}
    # a barcode of another product is refused
    client.post(f"/catalog/products/{catalog['board'].pk}/barcodes/", {"barcode-code": "2000000000015"})
    assert Barcode.objects.filter(code="2000000000015").get().product_id == servo.pk
    barcode = servo.barcodes.get(code="2000000000015")
    client.post(f"/catalog/products/{servo.pk}/barcodes/{barcode.pk}/remove/")
    assert list(servo.barcodes.values_list("code", flat=True)) == ["4601234567893"]


def test_groups_tree_and_units_with_conversions(client, catalog, pcs):
    html = client.get("/catalog/groups/").content.decode()
    assert html.index("Electronics") < html.index("Motors")
    assert 'data-depth="1"' in html
    client.post("/catalog/groups/", {"name": "Sensors", "parent": catalog["electronics"].pk, "valuation_method": ""})
    assert ProductGroup.objects.get(name="Sensors").parent_id == catalog["electronics"].pk
    client.post("/catalog/units/", {"form": "unit", "unit-code": "kg", "unit-name": "Kilogram", "unit-decimal_places": "3"})
    kg = Unit.objects.get(code="kg")
    assert kg.decimal_places == 3
    client.post("/catalog/units/", {"form": "conversion", "conversion-from_unit": kg.pk, "conversion-factor": "1000", "conversion-to_unit": pcs.pk})
    assert UnitConversion.objects.filter(from_unit=kg, to_unit=pcs, product__isnull=True).get().factor == 1000
    response = client.post("/catalog/units/", {"form": "unit", "unit-code": "kg", "unit-name": "Again", "unit-decimal_places": "0"})
    assert "A unit with the code kg already exists" in response.content.decode()
    assert Unit.objects.filter(code="kg").count() == 1
    assert "1 kg = 1000 pcs" in client.get("/catalog/units/").content.decode()


def test_a_user_without_catalog_permissions_is_refused(make_user, web_client, catalog):
    client = web_client(make_user("", username="sam"))  # no role: no catalog permission
    for url in ("/catalog/products/", f"/catalog/products/{catalog['servo'].pk}/", "/catalog/products/new/", "/catalog/groups/", "/catalog/units/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/catalog/products/new/", {"sku": "X", "name": "X"}).status_code == 403
    assert not Product.objects.filter(sku="X").exists()
