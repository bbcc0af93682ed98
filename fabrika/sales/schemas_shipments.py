"""API schemas of shipments and returns. Quantities and money travel as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class SalesDocumentLineIn(Schema):
    order_line_id: int
    quantity: str
    lot_id: int | None = None
    serial: str = ""


class ShipmentIn(Schema):
    order_id: int
    date: dt.date | None = None
    remind_after_months: int | None = None
    notes: str = ""
    lines: list[SalesDocumentLineIn] | None = None  # empty: every order line at what remains to ship


class ShipmentWaveIn(Schema):
    order_ids: list[int]  # confirmed orders; each ships everything it has left
    date: dt.date | None = None
    remind_after_months: int | None = None  # absent: each order's own default (its latest shipment's period)
    notes: str = ""


class ShipmentPatch(Schema):
    date: dt.date | None = None
    remind_after_months: int | None = None
    notes: str | None = None
    lines: list[SalesDocumentLineIn] | None = None  # given: replaces the lines


class SalesReturnIn(Schema):
    order_id: int
    date: dt.date | None = None
    reason: str = ""
    lines: list[SalesDocumentLineIn]


class SalesReturnPatch(Schema):
    date: dt.date | None = None
    reason: str | None = None
    lines: list[SalesDocumentLineIn] | None = None


class ShipmentCancelIn(Schema):
    date: dt.date | None = None


class SalesDocumentLineOut(Schema):
    id: int
    order_line_id: int
    product_id: int
    sku: str
    product_name: str
    unit: str
    quantity: Decimal
    lot_id: int | None
    lot_code: str
    serial: str
    net_amount: Decimal
    tax_amount: Decimal
    total: Decimal

    @staticmethod
    def resolve_product_id(obj) -> int:
        return obj.order_line.product_id

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.order_line.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.order_line.product.name

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.order_line.unit.code

    @staticmethod
    def resolve_lot_code(obj) -> str:
        return obj.lot.code if obj.lot_id else ""


class ShipmentLineOut(SalesDocumentLineOut):
    cost: Decimal | None
    invoiced_quantity: Decimal


class _SalesDocumentHeaderOut(Schema):
    id: int
    number: str
    status: str
    order_id: int
    order_number: str
    counterparty_id: int
    counterparty_name: str
    date: dt.date
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    currency: str
    stock_document_id: int | None
    stock_document_number: str
    author_id: int
    posted_at: dt.datetime | None

    @staticmethod
    def resolve_order_number(obj) -> str:
        return obj.order.number

    @staticmethod
    def resolve_counterparty_id(obj) -> int:
        return obj.order.counterparty_id

    @staticmethod
    def resolve_counterparty_name(obj) -> str:
        return obj.order.counterparty.name

    @staticmethod
    def resolve_currency(obj) -> str:
        return obj.order.currency

    @staticmethod
    def resolve_stock_document_number(obj) -> str:
        return obj.stock_document.number if obj.stock_document_id else ""


class ShipmentOut(_SalesDocumentHeaderOut):
    remind_after_months: int | None
    notes: str
    cost: Decimal
    cancelled_at: dt.datetime | None


class ShipmentDetailOut(ShipmentOut):
    lines: list[ShipmentLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class SalesReturnOut(_SalesDocumentHeaderOut):
    reason: str


class SalesReturnDetailOut(SalesReturnOut):
    lines: list[SalesDocumentLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())
