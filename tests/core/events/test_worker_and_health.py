from __future__ import annotations

import datetime as dt
import os
import socket

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fabrika.core import audit, health
from fabrika.core.events import record_event
from fabrika.core.models import AuditEntry, OutboxEvent, User
from fabrika.core.models.events import EventDelivery
from fabrika.core.models.timers import Timer, TimerStatus, WorkerHeartbeat
from fabrika.core.outbox import register_event_consumer
from fabrika.core.tasks import dispatch_outbox_task
from fabrika.core.timers import register_timer_handler, schedule_timer

from .conftest import DATABASE_TASKS


def test_run_worker_once_fires_timers_dispatches_events_runs_queued_tasks_and_beats(db, settings):
    # given the database task backend, a due timer, an undelivered event with a consumer, and a queued task
    settings.TASKS = DATABASE_TASKS
    register_timer_handler("test.ping", lambda timer: audit.record(actor=None, action="other", message="ping", actor_name="timer"))
    timer = schedule_timer(kind="test.ping", due_at=timezone.now() - dt.timedelta(seconds=1))
    received: list[str] = []
    register_event_consumer("test.recorder", lambda event: received.append(event.event_type))
    with transaction.atomic():
        record_event("record.created", target=timer)
    queued = dispatch_outbox_task.enqueue()
    assert DBTaskResult.objects.get(pk=queued.id).status == "READY"
    # when the worker makes one pass
    call_command("run_worker", "--once", "--name", "test-worker", verbosity=0)
    # then the timer fired, the event was delivered, the queued task ran and the heartbeat was written
    timer.refresh_from_db()
    assert timer.status == TimerStatus.DONE
    assert AuditEntry.objects.filter(actor_name="timer", message="ping").count() == 1
    assert received == ["record.created"]
    assert OutboxEvent.objects.get().dispatched_at is not None
    assert EventDelivery.objects.get().status == "succeeded"
    assert DBTaskResult.objects.get(pk=queued.id).status == "SUCCESSFUL"
    beat = WorkerHeartbeat.objects.get()
    assert (beat.name, beat.host, beat.pid) == ("test-worker", socket.gethostname(), os.getpid())
    assert timezone.now() - beat.last_seen < dt.timedelta(minutes=1)


def test_run_worker_refuses_a_bad_interval(db):
    with pytest.raises(CommandError, match="--interval must be more than 0"):
        call_command("run_worker", "--once", "--interval", "0")
    assert WorkerHeartbeat.objects.count() == 0


def test_healthz_is_ok_with_a_fresh_worker_heartbeat(db, client):
    # given a worker that beat just now
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="w1", host="h", pid=1, started_at=now, last_seen=now)
    # when /healthz is asked, without logging in
    response = client.get("/healthz")
    # then all is ok
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "migrations": "applied",
        "worker": {"last_seen": now.isoformat(), "age_seconds": 0, "stale": False},
    }
    assert reverse("core:healthz") == "/healthz"


def test_healthz_is_degraded_but_200_when_the_worker_is_stale_or_missing(db, client):
    # given no worker at all
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["worker"] == {"last_seen": None, "age_seconds": None, "stale": True}
    # given a worker last seen 10 minutes ago
    seen = timezone.now() - dt.timedelta(minutes=10)
    WorkerHeartbeat.objects.create(name="w1", host="h", pid=1, started_at=seen, last_seen=seen)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"]["age_seconds"] in (600, 601)
    assert response.json()["worker"]["stale"] is True


def test_healthz_answers_503_when_migrations_are_missing(db, client, monkeypatch):
    monkeypatch.setattr(health, "unapplied_migrations", lambda alias="default": ["core.0099_future"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "migrations": ["core.0099_future"], "worker": None}


def test_healthz_answers_503_when_the_database_is_unreachable(db, client, monkeypatch, tmp_path):
    # given a default database that cannot be opened (a file in a folder that does not exist)
    broken = SQLiteWrapper({**connection.settings_dict, "NAME": str(tmp_path / "missing" / "db.sqlite3"), "OPTIONS": {}}, alias="default")
    monkeypatch.setattr(health, "connections", {"default": broken})
    # when /healthz is asked, then it answers 503 without details
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "migrations": "unknown", "worker": None}
    broken.close()


def test_unapplied_migrations_lists_a_migration_missing_from_the_database(db):
    # given the test database as created: nothing is missing
    assert health.unapplied_migrations() == []
    health._migrations_confirmed.clear()
    loader = MigrationLoader(connection)
    leaves = [node for node in loader.graph.leaf_nodes() if node[0] == "core"]
    if not leaves:
        # the suite runs with --nomigrations: there are no migration files to be missing
        assert loader.migrated_apps == set()
        return
    # when the record of core's latest migration is removed from the database
    app_label, name = leaves[0]
    MigrationRecorder(connection).migration_qs.filter(app=app_label, name=name).delete()
    # then it is reported as not applied
    assert health.unapplied_migrations() == [f"{app_label}.{name}"]


def test_a_timer_target_that_was_deleted_reads_as_none(db):
    user = User.objects.create_user(username="gone", password="pass-Word-123")
    timer = schedule_timer(kind="test.x", due_at=timezone.now(), target=user)
    user.delete()
    assert Timer.objects.get(pk=timer.pk).target is None
