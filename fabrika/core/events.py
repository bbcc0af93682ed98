"""Domain events: services call `record_event` inside their transaction; a task delivers them after commit.

The event row commits or rolls back with the change it describes (transactional outbox), so a rolled-back change
never sends anything. When the transaction commits, one `dispatch_outbox_task` is enqueued (one per transaction,
however many events it recorded); the worker loop (`run_worker`) also dispatches on every pass, so an event whose
task was lost is still delivered. Delivery itself: fabrika/core/outbox.py.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import models, transaction
from django_tasks import TaskResultStatus

from .db import insert_many
from .models import OutboxEvent

logger = logging.getLogger(__name__)


def aggregate_name(target: models.Model) -> str:
    return f"{target._meta.app_label}.{target._meta.model_name}"


def _enqueue_dispatch() -> None:
    from .tasks import dispatch_outbox_task

    if _dispatch_waiting(dispatch_outbox_task):
        return
    dispatch_outbox_task.enqueue()


def _dispatch_waiting(task) -> bool:
    """On the database queue: is a dispatch queued that no worker has started? It reads the outbox when it starts,
    which is after this commit, so it delivers this transaction's events too — a read here saves a write (and,
    on SQLite, a commit) per document."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY).exists()


def dispatch_after_commit() -> None:
    """Enqueue one outbox dispatch when the current transaction commits (nothing if it rolls back)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _enqueue_dispatch()
        return
    if any(callback is _enqueue_dispatch for _savepoints, callback, _robust in connection.run_on_commit):
        return
    # robust: a queue that cannot take the task must not fail the committed change; the worker loop catches up.
    transaction.on_commit(_enqueue_dispatch, robust=True)


def record_event(event_type: str, *, target: models.Model | None = None, payload: dict[str, Any] | None = None) -> OutboxEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it describes")
    event = OutboxEvent.objects.create(
        event_type=event_type,
        aggregate=aggregate_name(target) if target is not None else "",
        aggregate_id=str(target.pk) if target is not None else "",
        payload=payload or {},
    )
    dispatch_after_commit()
    return event


def record_events(items: list[tuple[str, models.Model, dict[str, Any]]]) -> list[OutboxEvent]:
    """`record_event` for many changes of one transaction (batch services): (event type, target, payload) each, one
    insert, one dispatch after commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_events must run inside the transaction of the changes they describe")
    if not items:
        return []
    rows = insert_many([
        OutboxEvent(event_type=event_type, aggregate=aggregate_name(target), aggregate_id=str(target.pk), payload=payload or {})
        for event_type, target, payload in items
    ])
    dispatch_after_commit()
    return rows
