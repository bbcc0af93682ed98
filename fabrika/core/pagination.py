"""Cursor pagination with a stable, total ordering.

The list's ordering (the queryset's, else the model's Meta.ordering) always ends with the primary key, so rows that
share every sort value still come in one fixed order. When every sort key is a plain non-null column of the model,
the cursor is a keyset (the sort values of the last row sent: the next page starts strictly after them), so a row
inserted or deleted while a client pages does not shift later pages: every row that exists throughout is returned
exactly once. Other orderings (related fields, expressions, nullable columns) fall back to an offset cursor.
A cursor is opaque to clients: pass `next_cursor` back unchanged; it is bound to the list's ordering.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import uuid
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.query import ModelIterable
from ninja import Schema

from .errors import ValidationError

T = TypeVar("T")
MAX_LIMIT = 500
_INVALID_CURSOR = "Invalid cursor: pass the next_cursor of the previous page unchanged"


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    count: int | None = None


def stable_ordering(queryset: QuerySet) -> list[Any]:
    """The queryset's ordering with the primary key appended when it is not already there."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering or [])
    pk_names = {"pk", queryset.model._meta.pk.name, queryset.model._meta.pk.attname}
    if not any(isinstance(item, str) and item.lstrip("-") in pk_names for item in ordering):
        ordering.append("pk")
    return ordering


def _keyset_fields(queryset: QuerySet, ordering: list[Any]) -> list[tuple[models.Field, bool]] | None:
    """[(field, descending)] when a keyset cursor can express this ordering, else None."""
    if queryset._iterable_class is not ModelIterable:
        return None
    meta = queryset.model._meta
    result = []
    for item in ordering:
        if not isinstance(item, str) or item == "?" or "__" in item:
            return None
        name = item.lstrip("-")
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except Exception:  # noqa: BLE001 — an annotation or unknown name: no keyset
            return None
        if not getattr(field, "concrete", False) or field.null or field.is_relation and not field.many_to_one:
            return None
        result.append((field, item.startswith("-")))
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _signature(ordering: list[Any]) -> str:
    return hashlib.sha256(repr(ordering).encode()).hexdigest()[:12]


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, *, signature: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise ValidationError({"cursor": [_INVALID_CURSOR]})
    if not isinstance(data, dict) or data.get("s") != signature:
        raise ValidationError({"cursor": [_INVALID_CURSOR]})
    return data


def _after(keyset: list[tuple[models.Field, bool]], values: list[Any]) -> Q:
    """Rows strictly after `values` in the keyset order: (a > x) or (a = x and b > y) or ..."""
    condition = Q()
    for index, (field, descending) in enumerate(keyset):
        lookup = "lt" if descending else "gt"
        term = Q(**{f"{keyset[j][0].attname}": values[j] for j in range(index)}) & Q(**{f"{field.attname}__{lookup}": values[index]})
        condition |= term
    return condition


def paginate(queryset: QuerySet, *, cursor: str | None, limit: int, with_count: bool = True) -> dict:
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}"]})
    ordering = stable_ordering(queryset)
    queryset = queryset.order_by(*ordering)
    keyset = _keyset_fields(queryset, ordering)
    signature = _signature(ordering)
    total = queryset.count() if with_count else None
    if keyset is None:
        offset = 0
        if cursor:
            data = _decode(cursor, signature=signature)
            offset = data.get("o")
            if not isinstance(offset, int) or offset < 0:
                raise ValidationError({"cursor": [_INVALID_CURSOR]})
        rows = list(queryset[offset : offset + limit + 1])
        next_cursor = _encode({"s": signature, "o": offset + limit}) if len(rows) > limit else None
        return {"items": rows[:limit], "next_cursor": next_cursor, "count": total}
    if cursor:
        data = _decode(cursor, signature=signature)
        raw_values = data.get("k")
        if not isinstance(raw_values, list) or len(raw_values) != len(keyset):
            raise ValidationError({"cursor": [_INVALID_CURSOR]})
        try:
            values = [field.to_python(raw) for (field, _descending), raw in zip(keyset, raw_values, strict=True)]
        except Exception:  # noqa: BLE001 — django.core.exceptions.ValidationError and friends: a forged cursor
            raise ValidationError({"cursor": [_INVALID_CURSOR]})
        queryset = queryset.filter(_after(keyset, values))
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode({"s": signature, "k": [_plain(getattr(last, field.attname)) for field, _descending in keyset]})
    return {"items": rows[:limit], "next_cursor": next_cursor, "count": total}
