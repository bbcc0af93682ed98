"""Keyset (cursor) pagination with stable ordering: the queryset's ordering plus the primary key."""

from __future__ import annotations

import base64
import json
from typing import Generic, TypeVar

from django.db.models import QuerySet
from ninja import Schema

from .errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 500


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    count: int | None = None


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = int(json.loads(base64.urlsafe_b64decode(padded.encode()))["o"])
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor: use the next_cursor of the previous page"]})
    if offset < 0:
        raise ValidationError({"cursor": ["Invalid cursor: use the next_cursor of the previous page"]})
    return offset


def paginate(queryset: QuerySet, *, cursor: str | None, limit: int, with_count: bool = True) -> dict:
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}"]})
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    if "pk" not in ordering and "id" not in ordering and "-id" not in ordering and "-pk" not in ordering:
        ordering.append("pk")
    queryset = queryset.order_by(*ordering)
    offset = _decode(cursor) if cursor else 0
    rows = list(queryset[offset : offset + limit + 1])
    next_cursor = _encode(offset + limit) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor, "count": queryset.count() if with_count else None}
