from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class CounterpartyIn(Schema):
    name: str
    kind: str = "organisation"
    is_client: bool = False
    is_supplier: bool = False
    is_dealer: bool = False
    tax_id: str = ""
    email: str = ""
    phone: str = ""
    city: str = ""
    notes: str = ""
    responsible_id: int | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class CounterpartyPatch(Schema):
    name: str | None = None
    kind: str | None = None
    is_client: bool | None = None
    is_supplier: bool | None = None
    is_dealer: bool | None = None
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None
    city: str | None = None
    notes: str | None = None
    responsible_id: int | None = None
    is_active: bool | None = None
    custom: dict[str, Any] | None = None


class CounterpartyOut(Schema):
    id: int
    name: str
    kind: str
    is_client: bool
    is_supplier: bool
    is_dealer: bool
    tax_id: str
    email: str
    phone: str
    city: str
    notes: str
    responsible_id: int
    is_active: bool
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
