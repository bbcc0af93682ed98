"""Sales order API schemas. Quantities and money travel as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class OrderIn(Schema):
    counterparty_id: int | None = None
    deal_id: int | None = None
    contact_id: int | None = None
    responsible_id: int | None = None
    warehouse_id: int | None = None
    date: dt.date | None = None
    currency: str = ""
    exchange_rate: str | None = None
    price_type_code: str | None = None
    prices_include_tax: bool | None = None
    expected_ship_date: dt.date | None = None
    notes: str = ""


class OrderPatch(Schema):
    counterparty_id: int | None = None
    deal_id: int | None = None
    contact_id: int | None = None
    responsible_id: int | None = None
    warehouse_id: int | None = None
    date: dt.date | None = None
    currency: str | None = None
    exchange_rate: str | None = None
    price_type_code: str | None = None
    prices_include_tax: bool | None = None
    expected_ship_date: dt.date | None = None
    notes: str | None = None


class OrderLineIn(Schema):
    product_id: int | None = None
    barcode: str = ""
    quantity: str | None = None
    unit_id: int | None = None
    price: str | None = None
    manual_discount_percent: str | None = None
    description: str = ""


class OrderLinePatch(Schema):
    product_id: int | None = None
    quantity: str | None = None
    unit_id: int | None = None
    price: str | None = None
    manual_discount_percent: str | None = None
    description: str | None = None


class ConfirmIn(Schema):
    override_credit_limit: bool = False


class OrdersConfirmIn(Schema):
    """Confirm many drafts at once (at most 500): all or none."""

    order_ids: list[int]
    override_credit_limit: bool = False


class OrderCancelIn(Schema):
    reason: str = ""


class OrderLineOut(Schema):
    id: int
    position: int
    product_id: int
    sku: str
    product_name: str
    unit_id: int
    unit: str
    description: str
    quantity: Decimal
    stock_quantity: Decimal
    retail_price: Decimal
    price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    discount_rule: str
    manual_discount_percent: Decimal
    approval: str
    approved_by_id: int | None
    tax_rate: Decimal
    amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total: Decimal
    reserved_quantity: Decimal
    shipped_quantity: Decimal
    invoiced_quantity: Decimal
    returned_quantity: Decimal

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.unit.code


class OrderOut(Schema):
    id: int
    number: str
    status: str
    date: dt.date
    counterparty_id: int
    counterparty: str
    contact_id: int | None
    deal_id: int | None
    responsible_id: int
    author_id: int
    warehouse_id: int
    currency: str
    exchange_rate: Decimal
    price_type_code: str
    prices_include_tax: bool
    expected_ship_date: dt.date | None
    notes: str
    retail_total: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    credit_override_by_id: int | None
    confirmed_at: dt.datetime | None
    confirmed_by_id: int | None
    cancelled_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_counterparty(obj) -> str:
        return obj.counterparty.name


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class AvailabilityOut(Schema):
    line_id: int
    product_id: int
    needed: Decimal
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    reserved_for_order: Decimal
    backorder: Decimal
