"""The worker's housekeeping: expired idempotency keys, delivered events, old webhook logs and task results go;
anything still needed (a live key, an undelivered event, a retrying delivery, a queued task) stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fabrika.core.models import IdempotencyRecord, OutboxEvent
from fabrika.core.models.events import EventDelivery, EventDeliveryStatus
from fabrika.core.models.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from fabrika.core.tasks import dispatch_outbox_task, housekeeping, worker_pass

from .conftest import DATABASE_TASKS

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAYS = dt.timedelta(days=1)


def _key(user, key: str, *, expires_in: dt.timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        user=user, key=key, method="POST", path="/api/v1/x", fingerprint="0" * 64, expires_at=NOW + expires_in
    )


def _event(name: str, *, dispatched_days_ago: float | None) -> OutboxEvent:
    dispatched = None if dispatched_days_ago is None else NOW - dispatched_days_ago * DAYS
    return OutboxEvent.objects.create(event_type=name, aggregate="test", aggregate_id=name, dispatched_at=dispatched)


def _consumer_delivery(event: OutboxEvent, status: str) -> EventDelivery:
    return EventDelivery.objects.create(consumer="test.consumer", event=event, status=status, next_attempt_at=NOW)


@pytest.fixture
def endpoint(db) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hooks", event_types=["*"], secret="whsec_dGVzdA==")


def _webhook_delivery(endpoint, event, status: str, *, updated_days_ago: float, attempts: int = 1) -> WebhookDelivery:
    updated = NOW - updated_days_ago * DAYS
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, status=status, attempts=attempts, updated_at=updated)
    for number in range(1, attempts + 1):
        WebhookAttempt.objects.create(
            delivery=delivery, number=number, at=updated, succeeded=status == WebhookDeliveryStatus.SUCCEEDED, duration_ms=5
        )
    return delivery


def test_expired_idempotency_keys_are_purged_and_live_ones_kept(make_user):
    # given one key whose time is over and one still valid
    user = make_user()
    _key(user, "old", expires_in=-dt.timedelta(minutes=1))
    _key(user, "live", expires_in=dt.timedelta(hours=3))
    # when housekeeping runs
    result = housekeeping(now=NOW)
    # then only the expired one is gone
    assert result.idempotency_keys == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["live"]


def test_only_old_events_delivered_to_every_subscriber_are_purged(endpoint):
    # given events of every kind, all but one dispatched 40 days ago (retention 30)
    done = _event("done", dispatched_days_ago=40)
    _consumer_delivery(done, EventDeliveryStatus.SUCCEEDED)
    _webhook_delivery(endpoint, done, WebhookDeliveryStatus.SUCCEEDED, updated_days_ago=1)
    given_up = _event("given-up", dispatched_days_ago=40)
    _webhook_delivery(endpoint, given_up, WebhookDeliveryStatus.DEAD, updated_days_ago=1)
    no_subscriber = _event("no-subscriber", dispatched_days_ago=40)
    consumer_failing = _event("consumer-failing", dispatched_days_ago=40)
    _consumer_delivery(consumer_failing, EventDeliveryStatus.FAILED)
    webhook_retrying = _event("webhook-retrying", dispatched_days_ago=40)
    _webhook_delivery(endpoint, webhook_retrying, WebhookDeliveryStatus.FAILED, updated_days_ago=35)
    recent = _event("recent", dispatched_days_ago=5)
    _consumer_delivery(recent, EventDeliveryStatus.SUCCEEDED)
    _event("undispatched", dispatched_days_ago=None)
    assert no_subscriber.pk
    # when housekeeping runs
    result = housekeeping(now=NOW)
    # then the three finished old events are gone with their deliveries and attempt logs
    assert result.outbox_events == 3
    assert sorted(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "consumer-failing", "recent", "undispatched", "webhook-retrying"
    ]
    assert sorted(EventDelivery.objects.values_list("event__event_type", "status")) == [
        ("consumer-failing", "failed"), ("recent", "succeeded")
    ]
    assert list(WebhookDelivery.objects.values_list("event__event_type", "status")) == [("webhook-retrying", "failed")]
    assert WebhookAttempt.objects.filter(delivery__event__event_type__in=["done", "given-up"]).count() == 0


def test_finished_webhook_deliveries_older_than_the_retention_are_purged_with_their_attempts(endpoint, settings):
    # given a retention of 10 days and deliveries of every status, of an event that is recent
    settings.FABRIKA_WEBHOOK_LOG_RETENTION_DAYS = 10
    old_ok = _webhook_delivery(endpoint, _event("a", dispatched_days_ago=1), WebhookDeliveryStatus.SUCCEEDED, updated_days_ago=11, attempts=2)
    old_dead = _webhook_delivery(endpoint, _event("b", dispatched_days_ago=1), WebhookDeliveryStatus.DEAD, updated_days_ago=12, attempts=6)
    old_retrying = _webhook_delivery(endpoint, _event("c", dispatched_days_ago=1), WebhookDeliveryStatus.FAILED, updated_days_ago=12)
    old_pending = _webhook_delivery(endpoint, _event("d", dispatched_days_ago=1), WebhookDeliveryStatus.PENDING, updated_days_ago=12, attempts=0)
    fresh_ok = _webhook_delivery(endpoint, _event("e", dispatched_days_ago=1), WebhookDeliveryStatus.SUCCEEDED, updated_days_ago=9)
    # when housekeeping runs
    result = housekeeping(now=NOW)
    # then the two finished old ones and their 8 attempts are gone; the events themselves stay (they are recent)
    assert result.webhook_deliveries == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_retrying.pk, old_pending.pk, fresh_ok.pk}
    assert WebhookAttempt.objects.filter(delivery_id__in=[old_ok.pk, old_dead.pk]).count() == 0
    assert WebhookAttempt.objects.count() == 2
    assert OutboxEvent.objects.count() == 5


def test_the_outbox_retention_is_a_setting(settings):
    # given a retention of 2 days
    settings.FABRIKA_OUTBOX_RETENTION_DAYS = 2
    _event("three-days", dispatched_days_ago=3)
    _event("one-day", dispatched_days_ago=1)
    # when housekeeping runs, then the event dispatched three days ago is gone
    assert housekeeping(now=NOW).outbox_events == 1
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["one-day"]


def test_finished_task_results_older_than_the_retention_are_purged(settings):
    # given the database task backend, a task that finished 8 days ago, one 2 days ago and one still queued
    settings.TASKS = DATABASE_TASKS
    old, recent, queued = (dispatch_outbox_task.enqueue() for _ in range(3))
    DBTaskResult.objects.filter(pk=old.id).update(status="SUCCESSFUL", finished_at=NOW - 8 * DAYS)
    DBTaskResult.objects.filter(pk=recent.id).update(status="FAILED", finished_at=NOW - 2 * DAYS)
    # when housekeeping runs (retention 7 days)
    result = housekeeping(now=NOW)
    # then only the old finished one is gone
    assert result.task_results == 1
    assert {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)} == {str(recent.id), str(queued.id)}


def test_the_worker_pass_purges_only_when_asked_and_run_worker_purges_on_its_first_pass(make_user):
    # given an expired key and an old delivered event
    user = make_user()
    _key(user, "old", expires_in=-dt.timedelta(minutes=1))
    _event("done", dispatched_days_ago=40)
    # when a pass runs without housekeeping, nothing is purged
    plain = worker_pass(name="test-worker", started_at=NOW)
    assert plain.housekeeping is None
    assert (IdempotencyRecord.objects.count(), OutboxEvent.objects.count()) == (1, 1)
    # when the worker command makes one pass, it purges both
    call_command("run_worker", "--once", "--name", "test-worker", verbosity=0)
    assert (IdempotencyRecord.objects.count(), OutboxEvent.objects.count()) == (0, 0)
