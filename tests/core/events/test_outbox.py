from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from fabrika.core import audit
from fabrika.core.events import record_event
from fabrika.core.models import AuditEntry, OutboxEvent, User
from fabrika.core.models.events import EventDelivery, EventDeliveryStatus
from fabrika.core.outbox import dispatch_outbox, register_event_consumer


class Recorder:
    """A consumer that remembers (event type, record id) of what it received; fails while `failures` is > 0."""

    def __init__(self, failures: int = 0):
        self.received: list[tuple[str, str]] = []
        self.failures = failures

    def __call__(self, event: OutboxEvent) -> None:
        self.received.append((event.event_type, event.aggregate_id))
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("consumer is down")


@pytest.fixture
def records(db) -> tuple[User, User]:
    return (
        User.objects.create_user(username="alpha", password="pass-Word-123"),
        User.objects.create_user(username="beta", password="pass-Word-123"),
    )


def emit(event_type: str, target, **payload) -> OutboxEvent:
    with transaction.atomic():
        return record_event(event_type, target=target, payload=payload)


def make_due(consumer: str) -> None:
    """Time passes: the consumer's scheduled retries are due now."""
    EventDelivery.objects.filter(consumer=consumer, status=EventDeliveryStatus.FAILED).update(next_attempt_at=timezone.now())


def test_events_reach_each_consumer_in_order_per_record(records):
    # given a consumer and events of two records, interleaved
    alpha, beta = records
    consumer = Recorder()
    register_event_consumer("test.recorder", consumer)
    emit("record.created", alpha)
    emit("record.created", beta)
    emit("record.changed", alpha)
    # when the outbox is dispatched
    ran = dispatch_outbox()
    # then the consumer received every event once, each record's in the order they happened
    assert ran == 3
    assert consumer.received == [("record.created", str(alpha.pk)), ("record.created", str(beta.pk)), ("record.changed", str(alpha.pk))]
    assert list(EventDelivery.objects.values_list("status", "attempts")) == [(EventDeliveryStatus.SUCCEEDED, 1)] * 3
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
    # and dispatching again delivers nothing twice
    assert dispatch_outbox() == 0
    assert len(consumer.received) == 3


def test_a_consumer_only_gets_the_event_types_it_asked_for(records):
    alpha, _beta = records
    created_only = Recorder()
    every_record_event = Recorder()
    register_event_consumer("test.created", created_only, event_types=("record.created",))
    register_event_consumer("test.records", every_record_event, event_types=("record.*",))
    emit("record.created", alpha)
    emit("record.changed", alpha)
    emit("stage.entered", alpha)
    dispatch_outbox()
    assert created_only.received == [("record.created", str(alpha.pk))]
    assert every_record_event.received == [("record.created", str(alpha.pk)), ("record.changed", str(alpha.pk))]


def test_a_failing_consumer_is_retried_alone_and_holds_back_only_its_later_events_of_that_record(records):
    # given a steady consumer and a flaky one that fails once, and two events of alpha and one of beta
    alpha, beta = records
    steady, flaky = Recorder(), Recorder(failures=1)
    register_event_consumer("test.steady", steady)
    register_event_consumer("test.flaky", flaky)
    first = emit("record.created", alpha)
    emit("record.changed", alpha)
    emit("record.created", beta)
    # when the outbox is dispatched
    before = timezone.now()
    dispatch_outbox()
    # then the steady consumer has everything (alpha's second event one pass after its first); the flaky one failed
    # on alpha's first event, waits with alpha's second one, and still got beta's
    assert steady.received == [("record.created", str(alpha.pk)), ("record.created", str(beta.pk)), ("record.changed", str(alpha.pk))]
    assert flaky.received == [("record.created", str(alpha.pk)), ("record.created", str(beta.pk))]
    failed = EventDelivery.objects.get(consumer="test.flaky", event=first)
    assert (failed.status, failed.attempts) == (EventDeliveryStatus.FAILED, 1)
    assert failed.last_error.startswith("RuntimeError: consumer is down")
    assert before + dt.timedelta(seconds=30) <= failed.next_attempt_at <= timezone.now() + dt.timedelta(seconds=30)
    assert list(EventDelivery.objects.filter(consumer="test.flaky").values_list("status", flat=True)) == [
        EventDeliveryStatus.FAILED, EventDeliveryStatus.PENDING, EventDeliveryStatus.SUCCEEDED
    ]
    # when dispatching again before the retry is due, then nothing changes
    assert dispatch_outbox() == 0
    # when the retry is due
    make_due("test.flaky")
    dispatch_outbox()
    # then the flaky consumer gets alpha's events in order, and the steady one is not run again
    assert flaky.received[2:] == [("record.created", str(alpha.pk)), ("record.changed", str(alpha.pk))]
    assert len(steady.received) == 3
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {EventDeliveryStatus.SUCCEEDED}
    assert EventDelivery.objects.get(consumer="test.flaky", event=first).attempts == 2


def test_a_failing_consumer_leaves_no_writes_behind(records):
    alpha, _beta = records

    def writes_then_fails(event: OutboxEvent) -> None:
        audit.record(actor=None, action="other", message="consumer wrote this", actor_name="consumer")
        raise RuntimeError("boom")

    register_event_consumer("test.writer", writes_then_fails)
    emit("record.created", alpha)
    dispatch_outbox()
    assert AuditEntry.objects.filter(actor_name="consumer").count() == 0
    assert EventDelivery.objects.get().status == EventDeliveryStatus.FAILED


def test_an_event_of_a_rolled_back_change_is_never_delivered(records):
    # given a consumer
    alpha, _beta = records
    consumer = Recorder()
    register_event_consumer("test.recorder", consumer)
    # when a change records an event and then fails
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event("record.changed", target=alpha, payload={"name": "never"})
        raise RuntimeError("validation failed after the event was recorded")
    dispatch_outbox()
    # then there is no event and nothing was delivered
    assert OutboxEvent.objects.count() == 0
    assert consumer.received == []
    assert EventDelivery.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_is_refused():
    alpha = User.objects.create_user(username="alpha", password="pass-Word-123")
    with pytest.raises(RuntimeError):
        record_event("record.changed", target=alpha)
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committing_a_change_delivers_its_events_through_the_task_and_a_rollback_sends_nothing():
    # given a consumer (tasks run at once in these tests, as soon as they are enqueued on commit)
    consumer = Recorder()
    register_event_consumer("test.recorder", consumer)
    alpha = User.objects.create_user(username="alpha", password="pass-Word-123")
    # when one change commits two events and another change rolls back
    with transaction.atomic():
        record_event("record.created", target=alpha, payload={"name": "alpha"})
        record_event("record.changed", target=alpha, payload={"name": "alpha 2"})
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event("record.deleted", target=alpha)
        raise RuntimeError("rolled back")
    # then the committed events were delivered without anyone calling dispatch, the rolled-back one never exists
    assert consumer.received == [("record.created", str(alpha.pk)), ("record.changed", str(alpha.pk))]
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["record.created", "record.changed"]
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 0
