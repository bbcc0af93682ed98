from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class LeadIn(Schema):
    name: str
    company_name: str = ""
    tax_id: str = ""
    phone: str = ""
    email: str = ""
    message: str = ""
    responsible_id: int | None = None
    source_details: dict[str, Any] = Field(default_factory=dict)


class LeadPatch(Schema):
    name: str | None = None
    company_name: str | None = None
    tax_id: str | None = None
    phone: str | None = None
    email: str | None = None
    message: str | None = None
    responsible_id: int | None = None


class LeadStatusIn(Schema):
    status: str
    reason: str = ""


class LeadConvertIn(Schema):
    pipeline_id: int | None = None
    create_deal: bool = True
    counterparty_id: int | None = None
    deal_title: str = ""


class LeadOut(Schema):
    id: int
    number: str
    source: str
    status: str
    status_reason: str
    name: str
    company_name: str
    tax_id: str
    phone: str
    email: str
    message: str
    responsible_id: int
    source_details: dict[str, Any]
    converted_counterparty_id: int | None
    converted_contact_id: int | None
    converted_deal_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
