"""Catalog API schemas. Quantities and costs travel as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field


class UnitIn(Schema):
    code: str
    name: str
    decimal_places: int = 0


class UnitOut(Schema):
    id: int
    code: str
    name: str
    decimal_places: int


class UnitConversionIn(Schema):
    from_unit_id: int
    to_unit_id: int
    factor: str
    product_id: int | None = None


class UnitConversionOut(Schema):
    id: int
    product_id: int | None
    from_unit_id: int
    to_unit_id: int
    factor: Decimal


class ProductGroupIn(Schema):
    name: str
    parent_id: int | None = None
    valuation_method: str = ""


class ProductGroupPatch(Schema):
    name: str | None = None
    parent_id: int | None = None
    valuation_method: str | None = None


class ProductGroupOut(Schema):
    id: int
    name: str
    parent_id: int | None
    valuation_method: str


class ProductIn(Schema):
    sku: str
    name: str
    kind: str = "material"
    group_id: int | None = None
    stock_unit_id: int
    purchase_unit_id: int | None = None
    tracking: str = "none"
    shelf_life_days: int | None = None
    description: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    custom: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class ProductPatch(Schema):
    sku: str | None = None
    name: str | None = None
    kind: str | None = None
    group_id: int | None = None
    stock_unit_id: int | None = None
    purchase_unit_id: int | None = None
    tracking: str | None = None
    shelf_life_days: int | None = None
    description: str | None = None
    attributes: dict[str, Any] | None = None
    custom: dict[str, Any] | None = None
    is_active: bool | None = None


class BarcodeIn(Schema):
    code: str
    unit_id: int | None = None


class BarcodeOut(Schema):
    id: int
    code: str
    unit_id: int | None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    kind: str
    group_id: int | None
    stock_unit_id: int
    stock_unit: str
    purchase_unit_id: int | None
    tracking: str
    shelf_life_days: int | None
    description: str
    attributes: dict[str, Any]
    custom: dict[str, Any]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_stock_unit(obj) -> str:
        return obj.stock_unit.code


class BarcodeLookupOut(Schema):
    product: ProductOut
    unit_id: int
    unit: str
