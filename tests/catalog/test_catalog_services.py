from __future__ import annotations

from decimal import Decimal

import pytest

from fabrika.catalog import selectors, services
from fabrika.catalog.models import Barcode, Product, ProductGroup, Unit
from fabrika.core.errors import ValidationError


@pytest.fixture
def actor(make_user):
    return make_user("Storekeeper")


@pytest.fixture
def pcs(actor):
    return services.unit_create(actor=actor, code="pcs", name="Pieces")


def test_box_of_twelve_converts_to_stock_units(actor, pcs):
    # given a product kept in pieces and bought in boxes of 12
    box = services.unit_create(actor=actor, code="box", name="Box")
    product = services.product_create(actor=actor, data={"sku": "SCREW", "name": "Screw", "stock_unit": pcs.pk, "purchase_unit": box.pk})
    services.unit_conversion_create(actor=actor, product=product, from_unit=box, to_unit=pcs, factor="12")
    # then 3 boxes are 36 pieces, and 6 pieces are half a box backwards
    assert selectors.to_stock_quantity(product=product, unit=box, quantity=Decimal("3")) == Decimal("36.0000")
    assert selectors.conversion_factor(product=product, unit=box) == Decimal("12")
    dozen = services.unit_create(actor=actor, code="dozen", name="Dozen")
    with pytest.raises(ValidationError) as refused:
        selectors.conversion_factor(product=product, unit=dozen)
    assert "unit" in refused.value.errors


def test_valuation_method_follows_the_group_chain_then_the_company_default(actor, pcs):
    # given a parent group on moving average, a child inheriting it, and a product without group
    parent = services.product_group_create(actor=actor, data={"name": "Components", "valuation_method": "average"})
    child = services.product_group_create(actor=actor, data={"name": "Motors", "parent": parent.pk})
    fifo_group = services.product_group_create(actor=actor, data={"name": "Robots", "parent": parent.pk, "valuation_method": "fifo"})
    in_child = services.product_create(actor=actor, data={"sku": "M1", "name": "Motor", "stock_unit": pcs.pk, "group": child.pk})
    in_fifo = services.product_create(actor=actor, data={"sku": "R1", "name": "Robot", "stock_unit": pcs.pk, "group": fifo_group.pk})
    loose = services.product_create(actor=actor, data={"sku": "X1", "name": "Loose", "stock_unit": pcs.pk})
    # then
    methods = selectors.valuation_methods([in_child.pk, in_fifo.pk, loose.pk], default="fifo")
    assert methods == {in_child.pk: "average", in_fifo.pk: "fifo", loose.pk: "fifo"}
    assert selectors.valuation_methods([loose.pk], default="average") == {loose.pk: "average"}


def test_group_cannot_be_moved_inside_itself(actor):
    parent = services.product_group_create(actor=actor, data={"name": "A"})
    child = services.product_group_create(actor=actor, data={"name": "B", "parent": parent.pk})
    with pytest.raises(ValidationError) as refused:
        services.product_group_update(actor=actor, group_id=parent.pk, data={"parent": child.pk})
    assert list(refused.value.errors) == ["parent"]
    parent.refresh_from_db()
    assert parent.parent_id is None


def test_bad_product_input_names_each_field_and_saves_nothing(actor, pcs):
    services.product_create(actor=actor, data={"sku": "DUP", "name": "First", "stock_unit": pcs.pk})
    with pytest.raises(ValidationError) as refused:
        services.product_create(actor=actor, data={
            "sku": "DUP", "name": "", "kind": "spaceship", "stock_unit": 999, "tracking": "none", "shelf_life_days": 10,
            "attributes": ["not", "an", "object"],
        })
    assert set(refused.value.errors) == {"sku", "name", "kind", "stock_unit", "shelf_life_days", "attributes"}
    assert refused.value.errors["sku"] == ["The SKU DUP is already used by another product"]
    assert Product.objects.count() == 1


def test_barcodes_are_unique_and_find_their_product_and_unit(actor, pcs):
    box = Unit.objects.create(code="box", name="Box")
    product = services.product_create(actor=actor, data={"sku": "GLUE", "name": "Glue", "stock_unit": pcs.pk})
    services.unit_conversion_create(actor=actor, product=product, from_unit=box, to_unit=pcs, factor="6")
    services.barcode_add(actor=actor, product_id=product.pk, code="4600000000017")
    services.barcode_add(actor=actor, product_id=product.pk, code="4600000000024", unit=box)
    assert selectors.product_by_barcode("4600000000024") == (product, box)
    assert selectors.product_by_barcode("4600000000017") == (product, pcs)
    other = services.product_create(actor=actor, data={"sku": "TAPE", "name": "Tape", "stock_unit": pcs.pk})
    with pytest.raises(ValidationError) as refused:
        services.barcode_add(actor=actor, product_id=other.pk, code="4600000000017")
    assert refused.value.errors == {"code": ["The barcode 4600000000017 already belongs to GLUE"]}
    assert Barcode.objects.filter(product=other).count() == 0


def test_shelf_life_only_for_lot_tracked_products(actor, pcs):
    product = services.product_create(
        actor=actor, data={"sku": "MILK", "name": "Milk", "stock_unit": pcs.pk, "tracking": "lot", "shelf_life_days": 10}
    )
    assert product.shelf_life_days == 10
    with pytest.raises(ValidationError) as refused:
        services.product_update(actor=actor, product_id=product.pk, data={"tracking": "none"})
    assert list(refused.value.errors) == ["shelf_life_days"]
    assert ProductGroup.objects.count() == 0
