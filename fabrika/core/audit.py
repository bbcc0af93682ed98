"""The one way to write the audit log. Every service that changes data calls `record` in its transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .db import insert_many
from .models import AuditEntry
from .models.audit import AuditAction
from .request_context import current_ip

_SCALARS = frozenset({str, int, bool, float, type(None)})


def _plain(value: Any) -> Any:
    if type(value) in _SCALARS:  # the common case first: most values of a snapshot are already plain
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Plain values of an instance's concrete fields (foreign keys by their display text)."""
    result: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"id", "created_at", "updated_at"}:
            continue
        if isinstance(field, models.ForeignKey):
            value = getattr(instance, field.name) if getattr(instance, field.attname) is not None else None
        else:
            value = getattr(instance, field.attname)
        result[field.name] = _plain(value)
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field whose value changed."""
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key == "custom":
            old_custom, new_custom = before.get(key) or {}, after.get(key) or {}
            for name in sorted(set(old_custom) | set(new_custom)):
                if old_custom.get(name) != new_custom.get(name):
                    changes[f"custom.{name}"] = [old_custom.get(name), new_custom.get(name)]
            continue
        if before.get(key) != after.get(key):
            changes[key] = [before.get(key), after.get(key)]
    return changes


def _entry(*, actor, action: str, target: models.Model | None, changes: dict[str, Any] | None, message: str,
           actor_name: str | None, at: dt.datetime) -> AuditEntry:
    user = actor if getattr(actor, "pk", None) else None
    entry = AuditEntry(
        at=at,
        actor=user,
        actor_name=(actor_name or (user.get_username() if user else ""))[:150],
        ip_address=current_ip.get(),
        action=action,
        changes=_plain(changes or {}),
        message=message[:500],
    )
    if target is not None:
        entry.content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        entry.object_id = str(target.pk)
        entry.object_repr = str(target)[:300]
    return entry


def record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    actor_name: str | None = None,
) -> AuditEntry:
    entry = _entry(actor=actor, action=action, target=target, changes=changes, message=message, actor_name=actor_name, at=timezone.now())
    entry.save(force_insert=True)
    return entry


def record_many(
    *, actor, action: str, entries: Iterable[tuple[models.Model, dict[str, Any]] | tuple[models.Model, dict[str, Any], str]], message: str = ""
) -> list[AuditEntry]:
    """One audit row per (target, changes[, message]), written in one statement: for services that create or post many
    records at once. An entry's own message wins over `message`. The actor, the address and each model's content type
    are looked up once for all rows."""
    at = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    actor_id, actor_name, ip_address = (user.pk if user else None), (user.get_username() if user else "")[:150], current_ip.get()
    content_types: dict[type, int] = {}
    rows = []
    for target, changes, *own in entries:
        entry = AuditEntry(
            at=at, actor_id=actor_id, actor_name=actor_name, ip_address=ip_address, action=action, changes=_plain(changes or {}),
            message=(own[0] if own else message)[:500],
        )
        if target is not None:
            content_type_id = content_types.get(type(target))
            if content_type_id is None:
                content_type_id = content_types[type(target)] = ContentType.objects.get_for_model(target, for_concrete_model=False).pk
            entry.content_type_id, entry.object_id, entry.object_repr = content_type_id, str(target.pk), str(target)[:300]
        rows.append(entry)
    return insert_many(rows)


__all__ = ["AuditAction", "diff", "record", "record_many", "snapshot"]
