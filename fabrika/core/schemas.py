from __future__ import annotations

import datetime as dt

from ninja import Schema


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    department_id: int | None
    scope: str
    language: str


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class AuditEntryOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor_name: str
    ip_address: str | None
    action: str
    object_type: str | None
    object_id: str
    object_repr: str
    changes: dict
    message: str

    @staticmethod
    def resolve_object_type(obj) -> str | None:
        return f"{obj.content_type.app_label}.{obj.content_type.model}" if obj.content_type_id else None
