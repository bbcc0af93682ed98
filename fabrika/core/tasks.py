"""Background tasks of the platform and the worker loop's single pass (used by `fabrika run_worker`).

One worker process does everything that runs in the background: fires due timers, dispatches the outbox (new
events, consumer retries, webhook retries), runs the django-tasks queued in the database backend and, about once
an hour, purges expired rows (idempotency keys, delivered events, old webhook logs, finished task results). Several
workers can run at once: every step claims its rows, so nothing runs twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field

from django.conf import settings
from django.db import OperationalError
from django.utils import timezone
from django_tasks import task, task_backends

from .idempotency import idempotency_purge_expired
from .models.timers import WorkerHeartbeat
from .outbox import dispatch_outbox, outbox_purge_delivered
from .timers import fire_due_timers
from .webhooks import webhook_deliveries_purge

logger = logging.getLogger(__name__)


@task()
def dispatch_outbox_task() -> int:
    """Enqueued when a transaction that recorded domain events commits."""
    return dispatch_outbox()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat(*, name: str, started_at: dt.datetime) -> WorkerHeartbeat:
    beat, _created = WorkerHeartbeat.objects.update_or_create(
        name=name[:200],
        defaults={"host": socket.gethostname()[:200], "pid": os.getpid(), "started_at": started_at, "last_seen": timezone.now()},
    )
    return beat


def database_task_backends() -> list[str]:
    from django_tasks_db.backend import DatabaseBackend

    return [alias for alias in task_backends.settings if isinstance(task_backends[alias], DatabaseBackend)]


def run_queued_tasks(*, worker_id: str, limit: int = 50) -> int:
    """Run up to `limit` ready tasks of every database task backend, the way `db_worker` does; returns how many."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

    ran = 0
    for alias in database_task_backends():
        runner = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name=alias,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id[:64],
            excluded_queue_names=[],
        )
        while ran < limit:
            ready = DBTaskResult.objects.ready().filter(backend_name=alias)
            try:
                with exclusive_transaction(ready.db):
                    task_result = ready.get_locked()
                    if task_result is not None:
                        task_result.claim(runner.worker_id)
            except OperationalError as error:
                if not is_locked_database_exception(error):
                    raise
                break
            if task_result is None:
                break
            runner.run_task(task_result)
            ran += 1
    return ran


def task_results_purge(*, before: dt.datetime) -> int:
    """Delete the results of background tasks that finished (succeeded or failed) before `before`; returns how many."""
    from django_tasks_db.models import DBTaskResult

    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=before).delete()
    return deleted


@dataclass(frozen=True)
class HousekeepingResult:
    idempotency_keys: int
    outbox_events: int
    webhook_deliveries: int
    task_results: int


def _days(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(days=max(int(getattr(settings, name, default)), 1))


def housekeeping(*, now: dt.datetime | None = None) -> HousekeepingResult:
    """Delete what has outlived its use: expired Idempotency-Key records, domain events delivered to every
    subscriber longer than FABRIKA_OUTBOX_RETENTION_DAYS ago, finished webhook deliveries older than
    FABRIKA_WEBHOOK_LOG_RETENTION_DAYS and finished task results older than FABRIKA_TASK_RESULT_RETENTION_DAYS.
    Safe to run in several workers at once (each part deletes by condition). The audit log is never touched."""
    now = now or timezone.now()
    return HousekeepingResult(
        idempotency_keys=idempotency_purge_expired(now=now),
        webhook_deliveries=webhook_deliveries_purge(before=now - _days("FABRIKA_WEBHOOK_LOG_RETENTION_DAYS", 30)),
        outbox_events=outbox_purge_delivered(before=now - _days("FABRIKA_OUTBOX_RETENTION_DAYS", 30)),
        task_results=task_results_purge(before=now - _days("FABRIKA_TASK_RESULT_RETENTION_DAYS", 7)),
    )


def housekeeping_interval() -> float:
    """Seconds between two housekeeping runs of one worker: FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS (default 3600)."""
    return float(max(int(getattr(settings, "FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS", 3600)), 1))


@dataclass
class PassResult:
    timers_fired: int = 0
    deliveries: int = 0
    tasks_run: int = 0
    housekeeping: HousekeepingResult | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.timers_fired or self.deliveries or self.tasks_run)


def worker_pass(
    *,
    name: str,
    started_at: dt.datetime,
    timer_limit: int = 100,
    dispatch_limit: int = 500,
    with_housekeeping: bool = False,
) -> PassResult:
    """One loop of the worker: heartbeat, due timers, outbox and webhooks, queued tasks, and with
    `with_housekeeping` the purge of expired rows (`housekeeping`). A step that fails is logged and the others
    still run; the failed step runs again on the next pass."""
    result = PassResult()
    steps = [
        ("heartbeat", lambda: heartbeat(name=name, started_at=started_at)),
        ("timers", lambda: setattr(result, "timers_fired", fire_due_timers(limit=timer_limit))),
        ("outbox", lambda: setattr(result, "deliveries", dispatch_outbox(limit=dispatch_limit))),
        ("tasks", lambda: setattr(result, "tasks_run", run_queued_tasks(worker_id=name))),
    ]
    if with_housekeeping:
        steps.append(("housekeeping", lambda: setattr(result, "housekeeping", housekeeping())))
    for label, step in steps:
        try:
            step()
        except Exception as error:  # one broken step must not stop the others or the loop
            logger.exception("Worker step %s failed", label)
            result.errors.append(f"{label}: {type(error).__name__}: {error}")
    return result
