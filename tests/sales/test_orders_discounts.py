"""Prices from the engine, the discount shown against retail, special discounts over the manager's cap and their
approval."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from fabrika.core.errors import InvalidTransition, PermissionDenied, ValidationError
from fabrika.core.models import AuditEntry
from fabrika.sales import services_orders as services
from fabrika.sales.models import DiscountApproval, OrderStatus, SalesOrder, SalesOrderLine
from fabrika.sales.services_orders import ApprovalPending

from .conftest import ORDER_DAY


@pytest.fixture
def wholesale_client(client_party):
    client_party.price_type_code = "WHOLESALE"
    client_party.save(update_fields=["price_type_code"])
    return client_party


def _draft(manager, client, warehouse):
    return services.sales_order_create(actor=manager, data={"counterparty": client.pk, "warehouse": warehouse.pk, "date": ORDER_DAY})


def test_price_and_discount_from_the_engine_shown_against_retail(prices, wholesale_client, warehouse, manager, chair, table):
    # given a wholesale client: chair 1200 (retail 1500) with a 5 % promotion; table only on the retail list
    order = _draft(manager, wholesale_client, warehouse)
    assert (order.price_type_code, order.prices_include_tax) == ("WHOLESALE", True)
    chair_line = services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, "quantity": "2"})
    table_line = services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": table.pk, "quantity": "1"})
    # then the chair line: 2 × 1200 − 5 % = 2280.00, against retail 3000.00
    assert (chair_line.price, chair_line.retail_price, chair_line.discount_percent) == (D("1200.00"), D("1500.00"), D("5"))
    assert chair_line.discount_rule == "Spring chairs"
    assert (chair_line.discount_amount, chair_line.amount, chair_line.tax_amount) == (D("120.00"), D("2280.00"), D("380.00"))
    assert table_line.price == table_line.retail_price == D("9000.00")
    order.refresh_from_db()
    # retail 3000 + 9000; the difference from retail is 720.00 (300 by the price type, 120 by the promotion)
    assert (order.retail_total, order.discount_total, order.total) == (D("12000.00"), D("720.00"), D("11280.00"))


def test_special_discount_within_the_cap_needs_no_approval_and_the_larger_wins(prices, client_party, warehouse, manager, chair):
    order = _draft(manager, client_party, warehouse)
    # 3 % special vs 5 % promotion: the promotion wins
    line = services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, "quantity": "1", "manual_discount_percent": "3"})
    assert (line.discount_percent, line.approval) == (D("5"), DiscountApproval.NOT_NEEDED)
    # 8 %: within the manager's 10 %, the special discount wins
    line = services.sales_order_update_line(actor=manager, order_id=order.pk, line_id=line.pk, data={"manual_discount_percent": "8"})
    assert (line.discount_percent, line.approval, line.amount) == (D("8"), DiscountApproval.NOT_NEEDED, D("1380.00"))
    # back to 0: the promotion again (the engine is asked for it)
    line = services.sales_order_update_line(actor=manager, order_id=order.pk, line_id=line.pk, data={"manual_discount_percent": "0"})
    assert (line.discount_percent, line.amount) == (D("5"), D("1425.00"))


def test_special_discount_over_the_cap_waits_for_approval_and_blocks_confirmation(prices, make_order, manager, head, chair):
    order = make_order(lines=[(chair, "2", "1500.00")], confirm=False, discount="15")
    line = order.lines.get()
    assert (line.approval, line.discount_percent, line.amount) == (DiscountApproval.PENDING, D("15"), D("2550.00"))
    with pytest.raises(ApprovalPending) as refused:
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    assert "CHAIR" in refused.value.message and refused.value.values["line_ids"] == [line.pk]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and order.confirmed_at is None
    # the manager cannot approve; the head (limit 25 %) can
    with pytest.raises(PermissionDenied):
        services.sales_order_line_approve(actor=manager, order_id=order.pk, line_id=line.pk)
    assert SalesOrderLine.objects.get(pk=line.pk).approval == DiscountApproval.PENDING
    line = services.sales_order_line_approve(actor=head, order_id=order.pk, line_id=line.pk)
    assert (line.approval, line.approved_by, line.discount_percent) == (DiscountApproval.APPROVED, head, D("15"))
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_approver_needs_a_limit_at_least_the_discount(prices, make_order, head, chair):
    order = make_order(lines=[(chair, "1", "1500.00")], confirm=False, discount="30")
    line = order.lines.get()
    audit_before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        services.sales_order_line_approve(actor=head, order_id=order.pk, line_id=line.pk)
    assert refused.value.code == "discount_above_limit"
    assert SalesOrderLine.objects.get(pk=line.pk).approval == DiscountApproval.PENDING
    assert AuditEntry.objects.count() == audit_before


def test_rejected_special_discount_leaves_the_automatic_one(prices, client_party, warehouse, manager, head, chair):
    order = _draft(manager, client_party, warehouse)
    line = services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, "quantity": "1", "manual_discount_percent": "20"})
    assert line.approval == DiscountApproval.PENDING and line.discount_percent == D("20")
    line = services.sales_order_line_reject(actor=head, order_id=order.pk, line_id=line.pk)
    assert (line.approval, line.discount_percent, line.amount) == (DiscountApproval.REJECTED, D("5"), D("1425.00"))
    order.refresh_from_db()
    assert order.total == D("1425.00")
    with pytest.raises(InvalidTransition):
        services.sales_order_line_approve(actor=head, order_id=order.pk, line_id=line.pk)
    # a new special discount asks again
    line = services.sales_order_update_line(actor=manager, order_id=order.pk, line_id=line.pk, data={"manual_discount_percent": "12"})
    assert line.approval == DiscountApproval.PENDING


def test_product_without_a_price_is_refused_naming_the_field(prices, client_party, warehouse, manager, storekeeper, pcs):
    from fabrika.catalog import services as catalog_services

    lamp = catalog_services.product_create(actor=storekeeper, data={"sku": "LAMP", "name": "Lamp", "stock_unit": pcs.pk, "kind": "goods_for_resale"})
    order = _draft(manager, client_party, warehouse)
    with pytest.raises(ValidationError) as refused:
        services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": lamp.pk, "quantity": "1"})
    assert "product" in refused.value.errors
    assert not order.lines.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1.5"}, "quantity"),  # pieces are whole
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "1", "price": "-5"}, "price"),
        ({"quantity": "1", "price": "1.234"}, "price"),
        ({"quantity": "1", "manual_discount_percent": "101"}, "manual_discount_percent"),
        ({"quantity": "1", "unit": "999999"}, "unit"),
        ({"quantity": "1", "colour": "red"}, "colour"),
    ],
)
def test_bad_line_input_names_the_field_and_changes_nothing(prices, client_party, warehouse, manager, chair, data, field):
    order = _draft(manager, client_party, warehouse)
    with pytest.raises(ValidationError) as refused:
        services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, **data})
    assert field in refused.value.errors
    assert not order.lines.exists()
    order.refresh_from_db()
    assert order.total == 0


def test_lines_of_a_confirmed_order_cannot_change(make_order, manager, chair):
    order = make_order(lines=[(chair, "1", "100")])
    line = order.lines.get()
    with pytest.raises(InvalidTransition):
        services.sales_order_update_line(actor=manager, order_id=order.pk, line_id=line.pk, data={"quantity": "2"})
    with pytest.raises(InvalidTransition):
        services.sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, "quantity": "1", "price": "1"})
    assert SalesOrderLine.objects.get(pk=line.pk).quantity == D("1")
