"""Timers: rows with `due_at`, fired by the worker's scheduler loop exactly once.

    schedule_timer(kind="status.remind", due_at=..., target=record, payload={...}, dedupe_key="...") -> Timer
    cancel_timers(kind=..., target=record) -> int  # cancels the open timers of that kind for the record
    register_timer_handler("status.remind", handler)  # in AppConfig.ready(); handler(timer) runs in the firing transaction
    fire_due_timers(now=None, limit=100) -> int  # fires what is due; safe with several workers

A timer is fired by claiming it with a conditional UPDATE (open → done) in the same transaction that runs its
handler: two workers cannot both claim it, and a crash (process killed mid-handler) rolls the claim back so the
timer fires on the next loop. A handler that raises leaves no trace of its writes (a savepoint around it), marks
the timer failed with the error and schedules a retry after `RETRY_DELAYS`; after the last retry it stays failed.
See docs/adr/0002-timers-and-event-consumers.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from .errors import ValidationError
from .models.timers import OPEN_TIMER_STATUSES, Timer, TimerStatus

logger = logging.getLogger(__name__)

# Waits before the 1st, 2nd, ... retry of something that failed (timers, event consumers, webhooks).
RETRY_DELAYS: tuple[dt.timedelta, ...] = (
    dt.timedelta(seconds=30),
    dt.timedelta(minutes=2),
    dt.timedelta(minutes=10),
    dt.timedelta(hours=1),
    dt.timedelta(hours=6),
)
# A timer runs at most this many times (the first try and one per retry delay).
MAX_TIMER_ATTEMPTS = len(RETRY_DELAYS) + 1

TimerHandler = Callable[[Timer], Any]
_handlers: dict[str, TimerHandler] = {}


def retry_delay(failures: int) -> dt.timedelta | None:
    """The wait after the `failures`-th failure in a row, or None when no retry is left."""
    if failures < 1 or failures > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[failures - 1]


def error_text(error: BaseException, *, limit: int = 4000) -> str:
    """`Type: message` and the traceback, cut to `limit` characters, for `last_error` columns."""
    text = f"{type(error).__name__}: {error}\n" + "".join(traceback.format_exception(error)[-6:])
    return text[:limit]


def register_timer_handler(kind: str, handler: TimerHandler) -> None:
    """Call `handler(timer)` when a timer of `kind` fires. Register in your AppConfig.ready(); one handler per kind
    (registering again replaces it). The handler runs inside the firing transaction: its writes commit together
    with the timer's `done` mark, and an exception undoes them and schedules a retry."""
    if not kind or len(kind) > 100:
        raise ValueError("A timer kind is 1 to 100 characters")
    _handlers[kind] = handler


def unregister_timer_handler(kind: str) -> None:
    _handlers.pop(kind, None)


def _target_key(target: models.Model | None) -> tuple[ContentType | None, str]:
    if target is None:
        return None, ""
    if target.pk is None:
        raise ValidationError({"target": ["Save the record before scheduling a timer for it"]})
    return ContentType.objects.get_for_model(target), str(target.pk)


def _clean(*, kind: str, due_at: dt.datetime, payload: dict | None, dedupe_key: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(kind, str) or not kind.strip():
        errors["kind"] = ["Kind is required"]
    elif len(kind) > 100:
        errors["kind"] = ["At most 100 characters"]
    if not isinstance(due_at, dt.datetime):
        errors["due_at"] = ["Must be a date and time"]
    elif timezone.is_naive(due_at):
        errors["due_at"] = ["Must carry a time zone (use django.utils.timezone)"]
    if payload is not None:
        if not isinstance(payload, dict):
            errors["payload"] = ["Must be an object (dict)"]
        else:
            try:
                DjangoJSONEncoder().encode(payload)
            except TypeError as error:
                errors["payload"] = [f"Must be JSON-serialisable: {error}"]
    if dedupe_key is not None and (not dedupe_key.strip() or len(dedupe_key) > 200):
        errors["dedupe_key"] = ["A deduplication key is 1 to 200 characters"]
    return errors


def _reschedule(timer: Timer, values: dict[str, Any]) -> Timer:
    for name, value in values.items():
        setattr(timer, name, value)
    timer.status = TimerStatus.PENDING
    timer.attempts = 0
    timer.last_error = ""
    timer.fired_at = None
    timer.save(update_fields=[*values.keys(), "status", "attempts", "last_error", "fired_at"])
    return timer


@transaction.atomic
def schedule_timer(
    *,
    kind: str,
    due_at: dt.datetime,
    target: models.Model | None = None,
    payload: dict | None = None,
    dedupe_key: str | None = None,
) -> Timer:
    """Schedule `kind` at `due_at`. With a `dedupe_key`, at most one open timer has that key: scheduling again
    moves the existing one (new due time, target and payload) instead of adding a second."""
    errors = _clean(kind=kind, due_at=due_at, payload=payload, dedupe_key=dedupe_key)
    if errors:
        raise ValidationError(errors)
    content_type, object_id = _target_key(target)
    values: dict[str, Any] = {
        "kind": kind,
        "due_at": due_at,
        "content_type": content_type,
        "object_id": object_id,
        "payload": payload or {},
    }
    if dedupe_key is None:
        return Timer.objects.create(**values)
    open_timers = Timer.objects.select_for_update().filter(dedupe_key=dedupe_key, status__in=OPEN_TIMER_STATUSES)
    existing = open_timers.first()
    if existing is not None:
        return _reschedule(existing, values)
    try:
        with transaction.atomic():
            return Timer.objects.create(dedupe_key=dedupe_key, **values)
    except IntegrityError:
        # Another transaction created the same key between our read and our insert: move that one.
        return _reschedule(open_timers.get(), values)


@transaction.atomic
def cancel_timers(*, kind: str, target: models.Model) -> int:
    """Cancel the open (pending or awaiting retry) timers of `kind` for `target`; returns how many."""
    content_type, object_id = _target_key(target)
    return Timer.objects.filter(
        kind=kind, content_type=content_type, object_id=object_id, status__in=OPEN_TIMER_STATUSES
    ).update(status=TimerStatus.CANCELLED)


def due_timer_ids(*, now: dt.datetime, limit: int) -> list[int]:
    return list(
        Timer.objects.filter(status__in=OPEN_TIMER_STATUSES, due_at__lte=now, attempts__lt=MAX_TIMER_ATTEMPTS)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def _fire_one(timer_id: int, *, now: dt.datetime) -> bool | None:
    """True when the timer fired, False when its handler failed, None when another worker has it."""
    with transaction.atomic():
        # On PostgreSQL a row another worker is firing is skipped instead of waited for; SQLite ignores the lock
        # (its IMMEDIATE transactions serialise writers) and the conditional UPDATE below decides.
        timer = (
            Timer.objects.select_for_update(skip_locked=True)
            .filter(pk=timer_id, status__in=OPEN_TIMER_STATUSES, due_at__lte=now, attempts__lt=MAX_TIMER_ATTEMPTS)
            .first()
        )
        if timer is None:
            return None
        claimed = Timer.objects.filter(pk=timer.pk, status=timer.status, attempts=timer.attempts, due_at=timer.due_at).update(
            status=TimerStatus.DONE, attempts=F("attempts") + 1, fired_at=now, last_error=""
        )
        if claimed != 1:
            return None
        timer.status, timer.attempts, timer.fired_at, timer.last_error = TimerStatus.DONE, timer.attempts + 1, now, ""
        handler = _handlers.get(timer.kind)
        try:
            if handler is None:
                raise LookupError(f"No handler is registered for timer kind '{timer.kind}'")
            with transaction.atomic():
                handler(timer)
        except Exception as error:
            delay = retry_delay(timer.attempts)
            Timer.objects.filter(pk=timer.pk).update(
                status=TimerStatus.FAILED,
                fired_at=None,
                last_error=error_text(error),
                due_at=now + delay if delay is not None else timer.due_at,
            )
            logger.warning("Timer %s (%s) failed on attempt %s: %s", timer.pk, timer.kind, timer.attempts, error)
            return False
    return True


def fire_due_timers(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Fire up to `limit` timers due at `now` (default: the current time), oldest first. Returns how many fired
    successfully; failed ones are scheduled for a retry. Safe to run in several workers at once."""
    now = now or timezone.now()
    fired = 0
    for timer_id in due_timer_ids(now=now, limit=limit):
        if _fire_one(timer_id, now=now):
            fired += 1
    return fired
