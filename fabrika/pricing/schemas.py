"""Pricing API schemas. Prices and percents travel as strings (Decimal), never floats; inputs also accept numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema

Number = str | int | float | None


class PriceTypeIn(Schema):
    code: str
    name: str
    currency: str
    prices_include_tax: bool = True
    is_retail: bool = False
    is_active: bool = True


class PriceTypePatch(Schema):
    code: str | None = None
    name: str | None = None
    currency: str | None = None
    prices_include_tax: bool | None = None
    is_retail: bool | None = None
    is_active: bool | None = None


class PriceTypeOut(Schema):
    id: int
    code: str
    name: str
    currency: str
    prices_include_tax: bool
    is_retail: bool
    is_active: bool


class PriceListIn(Schema):
    price_type_id: int
    name: str
    currency: str = ""
    valid_from: dt.date
    valid_to: dt.date | None = None
    is_active: bool = True
    notes: str = ""


class PriceListPatch(Schema):
    price_type_id: int | None = None
    name: str | None = None
    currency: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    is_active: bool | None = None
    notes: str | None = None


class PriceListOut(Schema):
    id: int
    price_type_id: int
    price_type_code: str
    name: str
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    is_active: bool
    notes: str

    @staticmethod
    def resolve_price_type_code(obj) -> str:
        return obj.price_type.code


class PriceListCopyIn(Schema):
    valid_from: dt.date
    valid_to: dt.date | None = None
    percent_change: Number = "0"
    name: str = ""


class ItemIn(Schema):
    product_id: int
    price: Number = None


class ItemPatch(Schema):
    price: Number = None


class ItemOut(Schema):
    id: int
    price_list_id: int
    product_id: int
    sku: str
    product_name: str
    price: Decimal

    @staticmethod
    def resolve_sku(obj) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name


class TierIO(Schema):
    threshold: Number = None
    percent: Number = None


class TierOut(Schema):
    threshold: Decimal
    percent: Decimal


class DiscountRuleIn(Schema):
    kind: str
    name: str
    description: str = ""
    percent: Number = None
    counterparty_id: int | None = None
    product_ids: list[int] = []
    group_ids: list[int] = []
    segment_ids: list[int] = []
    period_days: int | None = None
    min_amount: Number = None
    tiers: list[TierIO] = []
    valid_from: dt.date
    valid_to: dt.date | None = None
    priority: int = 0
    is_active: bool = True


class DiscountRulePatch(Schema):
    name: str | None = None
    description: str | None = None
    percent: Number = None
    counterparty_id: int | None = None
    product_ids: list[int] | None = None
    group_ids: list[int] | None = None
    segment_ids: list[int] | None = None
    period_days: int | None = None
    min_amount: Number = None
    tiers: list[TierIO] | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    priority: int | None = None
    is_active: bool | None = None


class DiscountRuleOut(Schema):
    id: int
    kind: str
    name: str
    description: str
    percent: Decimal
    counterparty_id: int | None
    product_ids: list[int]
    group_ids: list[int]
    segment_ids: list[int]
    period_days: int | None
    min_amount: Decimal | None
    tiers: list[TierOut]
    valid_from: dt.date
    valid_to: dt.date | None
    priority: int
    is_active: bool

    @staticmethod
    def resolve_product_ids(obj) -> list[int]:
        return sorted(product.pk for product in obj.products.all())

    @staticmethod
    def resolve_group_ids(obj) -> list[int]:
        return sorted(group.pk for group in obj.groups.all())

    @staticmethod
    def resolve_segment_ids(obj) -> list[int]:
        return sorted(segment.pk for segment in obj.segments.all())

    @staticmethod
    def resolve_tiers(obj) -> list:
        return list(obj.tiers.all())


class DiscountLimitIn(Schema):
    user_id: int | None = None
    group_id: int | None = None
    max_percent: Number = None


class DiscountLimitPatch(Schema):
    max_percent: Number = None


class DiscountLimitOut(Schema):
    id: int
    user_id: int | None
    group_id: int | None
    max_percent: Decimal


class QuoteIn(Schema):
    product_id: int
    quantity: Number = "1"
    counterparty_id: int | None = None
    date: dt.date | None = None
    currency: str = ""
    price_type_code: str = ""


class CandidateOut(Schema):
    rule_id: int | None
    kind: str
    percent: Decimal
    description: str
    priority: int


class QuoteOut(Schema):
    retail_price: Decimal
    price: Decimal
    discount_percent: Decimal
    rule: str
    rule_key: str
    candidates: list[CandidateOut]
    price_type_code: str
    prices_include_tax: bool
    currency: str
    price_after_discount: Decimal
    difference_from_retail_percent: Decimal
