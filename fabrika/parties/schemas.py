from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class CounterpartyIn(Schema):
    name: str
    kind: str = "organisation"
    full_name: str = ""
    roles: list[str] | None = Field(default=None, description="Role codes; when given, replaces the is_* flags")
    is_client: bool = False
    is_supplier: bool = False
    is_dealer: bool = False
    is_distributor: bool = False
    is_point_of_sale: bool = False
    is_carrier: bool = False
    is_service_provider: bool = False
    parent_id: int | None = None
    country: str = ""
    tax_id: str = ""
    kpp: str = ""
    registration_number: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    city: str = ""
    notes: str = ""
    is_own_company: bool = False
    segment_ids: list[int] = Field(default_factory=list)
    tag_ids: list[int] = Field(default_factory=list)
    price_type_code: str = ""
    discount_group: str = ""
    responsible_id: int | None = None
    custom: dict[str, Any] = Field(default_factory=dict)
    force: bool = Field(default=False, description="Create even if possible duplicates exist (otherwise 409)")


class CounterpartyPatch(Schema):
    name: str | None = None
    kind: str | None = None
    full_name: str | None = None
    roles: list[str] | None = None
    is_client: bool | None = None
    is_supplier: bool | None = None
    is_dealer: bool | None = None
    is_distributor: bool | None = None
    is_point_of_sale: bool | None = None
    is_carrier: bool | None = None
    is_service_provider: bool | None = None
    parent_id: int | None = None
    country: str | None = None
    tax_id: str | None = None
    kpp: str | None = None
    registration_number: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    city: str | None = None
    notes: str | None = None
    is_own_company: bool | None = None
    segment_ids: list[int] | None = None
    tag_ids: list[int] | None = None
    price_type_code: str | None = None
    discount_group: str | None = None
    responsible_id: int | None = None
    is_active: bool | None = None
    custom: dict[str, Any] | None = None


class CounterpartyOut(Schema):
    id: int
    name: str
    kind: str
    full_name: str
    roles: list[str]
    is_client: bool
    is_supplier: bool
    is_dealer: bool
    is_distributor: bool
    is_point_of_sale: bool
    is_carrier: bool
    is_service_provider: bool
    parent_id: int | None
    country: str
    tax_id: str
    kpp: str
    registration_number: str
    email: str
    phone: str
    website: str
    city: str
    notes: str
    is_own_company: bool
    segment_ids: list[int]
    tag_ids: list[int]
    price_type_code: str
    discount_group: str
    responsible_id: int
    is_active: bool
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_segment_ids(obj) -> list[int]:
        return [item.pk for item in obj.segments.all()]

    @staticmethod
    def resolve_tag_ids(obj) -> list[int]:
        return [item.pk for item in obj.tags.all()]


class DuplicateOut(Schema):
    id: int
    name: str
    tax_id: str
    reasons: list[str]
    similarity: float


class MergeIn(Schema):
    duplicate_id: int


class ContactIn(Schema):
    name: str
    position_id: int | None = None
    phone: str = ""
    email: str = ""
    note: str = ""
    is_primary: bool | None = None


class ContactPatch(Schema):
    name: str | None = None
    position_id: int | None = None
    phone: str | None = None
    email: str | None = None
    note: str | None = None
    is_primary: bool | None = None


class ContactOut(Schema):
    id: int
    counterparty_id: int
    name: str
    position_id: int | None
    phone: str
    email: str
    note: str
    is_primary: bool


class AddressIn(Schema):
    kind: str = "legal"
    country: str = ""
    region: str = ""
    city: str = ""
    street: str = ""
    building: str = ""
    postcode: str = ""
    raw: str = ""


class AddressOut(AddressIn):
    id: int
    counterparty_id: int


class BankAccountIn(Schema):
    bank_name: str
    bic: str = ""
    account: str
    correspondent_account: str = ""
    currency: str = ""
    is_default: bool = False


class BankAccountOut(BankAccountIn):
    id: int
    counterparty_id: int


class DirectoryIn(Schema):
    name: str
    is_active: bool = True


class DirectoryOut(DirectoryIn):
    id: int
