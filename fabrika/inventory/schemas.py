"""Inventory API schemas. Quantities, costs and values travel as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class WarehouseIn(Schema):
    code: str
    name: str
    address: str = ""


class WarehouseOut(Schema):
    id: int
    code: str
    name: str
    address: str
    is_active: bool
    root_location_id: int | None = None

    @staticmethod
    def resolve_root_location_id(obj) -> int | None:
        return next((location.pk for location in obj.locations.all() if location.parent_id is None), None)


class LocationIn(Schema):
    parent_id: int
    name: str
    code: str = ""


class LocationOut(Schema):
    id: int
    name: str
    code: str
    kind: str
    warehouse_id: int | None
    parent_id: int | None
    path: str
    is_active: bool


class DocumentIn(Schema):
    document_type: str
    date: dt.date | None = None
    counterparty_id: int | None = None
    currency: str = ""
    exchange_rate: str | None = None
    from_location_id: int | None = None
    to_location_id: int | None = None
    reference: str = ""
    notes: str = ""


class DocumentPatch(Schema):
    date: dt.date | None = None
    counterparty_id: int | None = None
    currency: str | None = None
    exchange_rate: str | None = None
    from_location_id: int | None = None
    to_location_id: int | None = None
    reference: str | None = None
    notes: str | None = None


class LineIn(Schema):
    product_id: int | None = None
    barcode: str = ""
    quantity: str | None = None
    unit_id: int | None = None
    unit_cost: str | None = None
    lot_id: int | None = None
    lot_code: str = ""
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    serial: str = ""
    from_location_id: int | None = None
    to_location_id: int | None = None


class LinePatch(Schema):
    """Only the fields sent change; the product stays (remove the line and add another)."""

    quantity: str | None = None
    unit_id: int | None = None
    unit_cost: str | None = None
    lot_id: int | None = None
    lot_code: str | None = None
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    serial: str | None = None
    from_location_id: int | None = None
    to_location_id: int | None = None


class LineOut(Schema):
    id: int
    position: int
    product_id: int
    sku: str
    unit_id: int
    quantity: Decimal
    stock_quantity: Decimal
    counted_quantity: Decimal | None
    expected_quantity: Decimal | None
    unit_cost: Decimal | None
    lot_id: int | None
    lot: str | None
    serial: str
    from_location_id: int | None
    to_location_id: int | None
    cost: Decimal | None

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_lot(obj) -> str | None:
        return obj.lot.code if obj.lot_id else None


class DocumentOut(Schema):
    id: int
    document_type: str
    number: str
    status: str
    date: dt.date
    counterparty_id: int | None
    currency: str
    exchange_rate: Decimal
    from_location_id: int | None
    to_location_id: int | None
    reference: str
    notes: str
    total_value: Decimal
    author_id: int
    posted_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancellation_date: dt.date | None
    created_at: dt.datetime


class DocumentDetailOut(DocumentOut):
    lines: list[LineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class CancelIn(Schema):
    date: dt.date | None = None


class ReservationIn(Schema):
    product_id: int
    location_id: int
    reference: str
    quantity: str | None = None
    lot_id: int | None = None
    serial: str = ""


class ReservationOut(Schema):
    id: int
    product_id: int
    location_id: int
    lot_id: int | None
    serial_id: int | None
    quantity: Decimal
    reference: str
    status: str
    created_at: dt.datetime


class PeriodIn(Schema):
    month: dt.date


class PeriodOut(Schema):
    month: dt.date
    closed_at: dt.datetime
    closed_by_id: int


class OnHandRow(Schema):
    product_id: int
    warehouse_id: int | None
    location_id: int | None
    lot_id: int | None
    quantity: Decimal
    value: Decimal


class TurnoverRow(Schema):
    product_id: int
    opening_quantity: Decimal
    opening_value: Decimal
    in_quantity: Decimal
    in_value: Decimal
    out_quantity: Decimal
    out_value: Decimal
    closing_quantity: Decimal
    closing_value: Decimal


class ValuationRow(OnHandRow):
    method: str
    unit_cost: Decimal


class ValuationOut(Schema):
    items: list[ValuationRow]
    total_value: Decimal


class ExpiringLotRow(Schema):
    product_id: int
    sku: str
    lot_id: int
    lot: str
    expiry_date: dt.date
    days_left: int
    location_id: int
    location: str
    quantity: Decimal
    reserved_quantity: Decimal
    value: Decimal


class SerialStep(Schema):
    date: dt.date
    from_location: str
    to_location: str
    document_id: int | None
    document_number: str
    document_type: str
    is_reversal: bool


class SerialOut(Schema):
    serial: str
    product_id: int
    sku: str
    location_id: int
    location: str
    in_stock: bool
    reserved_for: str
    history: list[SerialStep]


class OriginRow(Schema):
    quantity: Decimal
    value: Decimal
    unit_cost: Decimal
    receipt_move_id: int
    receipt_date: dt.date
    receipt_document_id: int | None
    receipt_number: str
