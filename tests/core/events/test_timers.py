from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from fabrika.core import audit
from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, User
from fabrika.core.models.timers import Timer, TimerStatus
from fabrika.core.timers import (
    MAX_TIMER_ATTEMPTS,
    cancel_timers,
    fire_due_timers,
    register_timer_handler,
    schedule_timer,
)

T0 = dt.datetime(2030, 3, 1, 9, 0, tzinfo=dt.UTC)


def write_fired_row(timer: Timer) -> None:
    """The test handler: one audit row per run, so the test can count how often each timer fired."""
    audit.record(actor=None, action="other", message=f"fired:{timer.pk}", actor_name="timer")


def fired_rows(timer_id: int | None = None) -> int:
    rows = AuditEntry.objects.filter(actor_name="timer")
    return rows.filter(message=f"fired:{timer_id}").count() if timer_id else rows.count()


@pytest.fixture
def target(db) -> User:
    return User.objects.create_user(username="target", password="pass-Word-123")


def test_schedule_timer_stores_kind_due_time_target_and_payload(target):
    # when a timer is scheduled for a record
    timer = schedule_timer(kind="test.remind", due_at=T0, target=target, payload={"note": "call back"})
    # then it is a pending row pointing at the record
    timer.refresh_from_db()
    assert (timer.kind, timer.due_at, timer.status, timer.attempts) == ("test.remind", T0, TimerStatus.PENDING, 0)
    assert timer.object_id == str(target.pk)
    assert timer.target == target
    assert timer.payload == {"note": "call back"}


def test_scheduling_with_the_same_dedupe_key_moves_the_pending_timer(target):
    # given a pending timer with a dedupe key
    first = schedule_timer(kind="test.remind", due_at=T0, target=target, dedupe_key="remind:user:1")
    # when the same key is scheduled again for a later time with another payload
    second = schedule_timer(kind="test.remind", due_at=T0 + dt.timedelta(days=1), target=target, payload={"n": 2}, dedupe_key="remind:user:1")
    # then there is still one timer, moved
    assert second.pk == first.pk
    assert Timer.objects.count() == 1
    assert Timer.objects.get().due_at == T0 + dt.timedelta(days=1)
    assert Timer.objects.get().payload == {"n": 2}


def test_a_dedupe_key_is_free_again_once_its_timer_fired(target):
    # given a timer with a key that fired
    register_timer_handler("test.remind", write_fired_row)
    first = schedule_timer(kind="test.remind", due_at=T0, dedupe_key="k")
    assert fire_due_timers(now=T0) == 1
    # when the key is scheduled again
    second = schedule_timer(kind="test.remind", due_at=T0 + dt.timedelta(hours=1), dedupe_key="k")
    # then a new timer is created and the fired one is kept as done
    assert second.pk != first.pk
    assert list(Timer.objects.order_by("id").values_list("status", flat=True)) == [TimerStatus.DONE, TimerStatus.PENDING]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "", "due_at": T0}, "kind", "Kind is required"),
        ({"kind": "test.remind", "due_at": dt.datetime(2030, 3, 1, 9, 0)}, "due_at", "Must carry a time zone (use django.utils.timezone)"),
        ({"kind": "test.remind", "due_at": "2030-03-01"}, "due_at", "Must be a date and time"),
        ({"kind": "test.remind", "due_at": T0, "payload": ["x"]}, "payload", "Must be an object (dict)"),
        ({"kind": "test.remind", "due_at": T0, "dedupe_key": ""}, "dedupe_key", "A deduplication key is 1 to 200 characters"),
    ],
)
def test_bad_timer_arguments_are_refused_by_field(db, kwargs, field, message):
    # when a timer is scheduled with a bad argument
    with pytest.raises(ValidationError) as refused:
        schedule_timer(**kwargs)
    # then the error names the field and the rule, and nothing was stored
    assert refused.value.errors == {field: [message]}
    assert Timer.objects.count() == 0


def test_cancel_timers_cancels_only_open_timers_of_that_kind_and_record(target):
    # given two pending reminders, one of another kind, one for another record and one already done
    other = User.objects.create_user(username="other", password="pass-Word-123")
    register_timer_handler("test.remind", write_fired_row)
    done = schedule_timer(kind="test.remind", due_at=T0 - dt.timedelta(days=1), target=target)
    fire_due_timers(now=T0 - dt.timedelta(days=1))
    a = schedule_timer(kind="test.remind", due_at=T0, target=target)
    b = schedule_timer(kind="test.remind", due_at=T0 + dt.timedelta(hours=1), target=target)
    other_kind = schedule_timer(kind="test.sla", due_at=T0, target=target)
    other_record = schedule_timer(kind="test.remind", due_at=T0, target=other)
    # when the record's reminders are cancelled
    cancelled = cancel_timers(kind="test.remind", target=target)
    # then exactly the two open ones are
    assert cancelled == 2
    statuses = dict(Timer.objects.values_list("id", "status"))
    assert statuses == {
        done.pk: TimerStatus.DONE,
        a.pk: TimerStatus.CANCELLED,
        b.pk: TimerStatus.CANCELLED,
        other_kind.pk: TimerStatus.PENDING,
        other_record.pk: TimerStatus.PENDING,
    }


def test_a_due_timer_fires_once_and_a_timer_not_yet_due_does_not(target):
    # given one timer due at 9:00 and one at 9:01
    register_timer_handler("test.remind", write_fired_row)
    due = schedule_timer(kind="test.remind", due_at=T0, target=target)
    later = schedule_timer(kind="test.remind", due_at=T0 + dt.timedelta(minutes=1), target=target)
    # when the scheduler runs at 9:00, and again
    assert fire_due_timers(now=T0) == 1
    assert fire_due_timers(now=T0 + dt.timedelta(seconds=30)) == 0
    # then the due one fired exactly once, the other not yet
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.attempts, due.fired_at) == (TimerStatus.DONE, 1, T0)
    assert (later.status, later.attempts, later.fired_at) == (TimerStatus.PENDING, 0, None)
    assert fired_rows(due.pk) == 1
    assert fired_rows(later.pk) == 0


def test_the_handler_receives_the_timer_with_its_target_and_payload(target):
    seen: list[tuple] = []
    register_timer_handler("test.remind", lambda timer: seen.append((timer.kind, timer.target, timer.payload, timer.status)))
    schedule_timer(kind="test.remind", due_at=T0, target=target, payload={"status_id": 7})
    fire_due_timers(now=T0)
    assert seen == [("test.remind", target, {"status_id": 7}, TimerStatus.DONE)]


def test_a_failing_handler_marks_the_timer_failed_undoes_its_writes_and_retries_with_backoff(target):
    # given a handler that writes a row and then fails, the first time only
    calls = {"n": 0}

    def flaky(timer: Timer) -> None:
        calls["n"] += 1
        write_fired_row(timer)
        if calls["n"] == 1:
            raise RuntimeError("mail server down")

    register_timer_handler("test.remind", flaky)
    timer = schedule_timer(kind="test.remind", due_at=T0, target=target)
    healthy = schedule_timer(kind="test.remind", due_at=T0, target=target)
    # when it fires and fails
    assert fire_due_timers(now=T0) == 1  # the other due timer still fired
    # then it is failed, with the error, its write undone, and a retry 30 seconds later
    timer.refresh_from_db()
    assert (timer.status, timer.attempts, timer.fired_at) == (TimerStatus.FAILED, 1, None)
    assert timer.last_error.startswith("RuntimeError: mail server down")
    assert timer.due_at == T0 + dt.timedelta(seconds=30)
    assert fired_rows(timer.pk) == 0
    assert fired_rows(healthy.pk) == 1
    # when the scheduler runs before the retry time, then nothing happens
    assert fire_due_timers(now=T0 + dt.timedelta(seconds=29)) == 0
    # when it runs at the retry time, then the timer fires once
    assert fire_due_timers(now=T0 + dt.timedelta(seconds=30)) == 1
    timer.refresh_from_db()
    assert (timer.status, timer.attempts, timer.last_error) == (TimerStatus.DONE, 2, "")
    assert fired_rows(timer.pk) == 1


def test_a_timer_that_keeps_failing_backs_off_and_stops_after_the_last_retry(target):
    # given a handler that always fails
    def broken(timer: Timer) -> None:
        raise ValueError("bad payload")

    register_timer_handler("test.remind", broken)
    timer = schedule_timer(kind="test.remind", due_at=T0, target=target)
    # when the scheduler keeps running whenever the timer is due
    waits = []
    now = T0
    for _ in range(MAX_TIMER_ATTEMPTS):
        fire_due_timers(now=now)
        timer.refresh_from_db()
        waits.append(timer.due_at - now)
        now = timer.due_at
    # then the waits grow 30 s, 2 min, 10 min, 1 h, 6 h, and after the sixth attempt it is left failed
    assert waits[:5] == [dt.timedelta(seconds=30), dt.timedelta(minutes=2), dt.timedelta(minutes=10), dt.timedelta(hours=1), dt.timedelta(hours=6)]
    assert (timer.status, timer.attempts) == (TimerStatus.FAILED, 6)
    assert fire_due_timers(now=now + dt.timedelta(days=30)) == 0
    timer.refresh_from_db()
    assert timer.attempts == 6


def test_a_timer_without_a_handler_fails_and_is_retried(target):
    timer = schedule_timer(kind="test.unknown", due_at=T0, target=target)
    assert fire_due_timers(now=T0) == 0
    timer.refresh_from_db()
    assert (timer.status, timer.attempts) == (TimerStatus.FAILED, 1)
    assert timer.last_error.startswith("LookupError: No handler is registered for timer kind 'test.unknown'")


def test_timers_that_became_due_while_no_worker_ran_fire_on_the_next_loop(target):
    # given three timers due a minute ago, and a worker that last ran before they were due
    register_timer_handler("test.remind", write_fired_row)
    due_at = timezone.now() - dt.timedelta(minutes=1)
    created = [schedule_timer(kind="test.remind", due_at=due_at + dt.timedelta(seconds=i), target=target) for i in range(3)]
    assert fire_due_timers(now=due_at - dt.timedelta(minutes=10)) == 0
    # when a worker starts again (one pass of run_worker)
    call_command("run_worker", "--once", verbosity=0)
    # then each fired exactly once
    assert [fired_rows(timer.pk) for timer in created] == [1, 1, 1]
    assert set(Timer.objects.values_list("status", flat=True)) == {TimerStatus.DONE}


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_fire_each_of_thirty_due_timers_exactly_once():
    # given 30 due timers whose handler takes a moment (so the two workers overlap)
    def slow_handler(timer: Timer) -> None:
        time.sleep(0.005)
        write_fired_row(timer)

    register_timer_handler("test.remind", slow_handler)
    timers = [schedule_timer(kind="test.remind", due_at=T0 + dt.timedelta(seconds=i)) for i in range(30)]
    start = threading.Barrier(2)
    fired: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            total = 0
            while True:  # a worker loop: until nothing is due any more
                count = fire_due_timers(now=T0 + dt.timedelta(minutes=1), limit=7)
                total += count
                if count == 0:
                    break
            fired.append(total)
        except BaseException as error:  # reported to the main thread
            errors.append(error)
        finally:
            connection.close()

    # when two workers with their own database connections fire them at the same time
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then every handler ran exactly once, and between them the workers fired 30
    assert errors == []
    assert sum(fired) == 30
    assert [fired_rows(timer.pk) for timer in timers] == [1] * 30
    assert fired_rows() == 30
    assert set(Timer.objects.values_list("status", flat=True)) == {TimerStatus.DONE}
    assert set(Timer.objects.values_list("attempts", flat=True)) == {1}
