from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field


class ActivityIn(Schema):
    kind: str = "task"
    subject: str
    body: str = ""
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    priority: str = "normal"
    assignee_id: int | None = None
    counterparty_id: int | None = None
    lead_id: int | None = None
    deal_id: int | None = None
    checklist: list[str] = Field(default_factory=list)


class ChecklistItemOut(Schema):
    id: int
    text: str
    done: bool


class ActivityOut(Schema):
    id: int
    kind: str
    subject: str
    body: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    due_at: dt.datetime | None
    priority: str
    status: str
    done_at: dt.datetime | None
    assignee_id: int = Field(alias="responsible_id")
    author_id: int
    counterparty_id: int | None
    contact_id: int | None
    lead_id: int | None
    deal_id: int | None
    checklist: list[ChecklistItemOut] = Field(default_factory=list)
    created_at: dt.datetime

    @staticmethod
    def resolve_checklist(obj):
        return list(obj.checklist.all())
