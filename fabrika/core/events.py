"""Domain events: services call `record_event` inside their transaction; a task delivers them after commit."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from .models import OutboxEvent


def aggregate_name(target: models.Model) -> str:
    return f"{target._meta.app_label}.{target._meta.model_name}"


def record_event(event_type: str, *, target: models.Model | None = None, payload: dict[str, Any] | None = None) -> OutboxEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it describes")
    return OutboxEvent.objects.create(
        event_type=event_type,
        aggregate=aggregate_name(target) if target is not None else "",
        aggregate_id=str(target.pk) if target is not None else "",
        payload=payload or {},
    )
