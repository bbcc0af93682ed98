from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from fabrika.core.events import record_event
from fabrika.core.models import AuditEntry, OutboxEvent, User
from fabrika.core.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus
from fabrika.core.outbox import dispatch_outbox
from fabrika.core.webhooks import deliver_due_webhooks, webhook_endpoint_create, webhook_endpoint_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin(db) -> User:
    return User.objects.create_superuser(username="root", password="pass-Word-123")


@pytest.fixture
def record(db) -> User:
    return User.objects.create_user(username="robot", password="pass-Word-123")


def endpoint_for(receiver, admin, event_types=("*",), **extra):
    return webhook_endpoint_create(actor=admin, data={"url": receiver.url, "event_types": list(event_types), **extra})


def commit_event(event_type: str, target, **payload) -> OutboxEvent:
    with transaction.atomic():
        return record_event(event_type, target=target, payload=payload)


def test_a_committed_event_is_posted_signed_as_standard_webhooks(receiver, admin, record):
    # given an endpoint for every event
    endpoint = endpoint_for(receiver, admin)
    # when a change commits an event
    event = commit_event("record.created", record, name="Robot kit")
    # then the endpoint received one POST whose signature verifies with the endpoint's secret
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = Webhook(endpoint.secret).verify(request["body"], request["headers"])
    assert body == {
        "type": "record.created",
        "timestamp": event.created_at.isoformat(),
        "data": {"event_id": event.pk, "record_type": "core.user", "record_id": str(record.pk), "name": "Robot kit"},
    }
    assert request["headers"]["webhook-id"] == f"evt_{event.pk}"
    assert request["headers"]["content-type"] == "application/json"
    assert request["path"] == "/hooks"
    # and the delivery is logged as succeeded
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.response_status_code) == (
        WebhookDeliveryStatus.SUCCEEDED, 1, 0, 200
    )
    assert delivery.response_body == '{"received": true}'
    assert delivery.next_attempt_at is None
    assert list(delivery.attempt_log.values_list("number", "succeeded", "response_status_code")) == [(1, True, 200)]


def test_a_signature_made_with_another_secret_does_not_verify(receiver, admin, record):
    endpoint_for(receiver, admin)
    commit_event("record.created", record)
    request = receiver.requests[0]
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY").verify(request["body"], request["headers"])


def test_a_failing_endpoint_is_retried_with_backoff_and_then_succeeds(receiver, admin, record):
    # given an endpoint that answers 500 once
    endpoint_for(receiver, admin)
    receiver.statuses = [500]
    # when an event is committed
    event = commit_event("record.changed", record, name="v2")
    # then the first attempt failed and a retry is scheduled 30 seconds later
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.response_status_code) == (
        WebhookDeliveryStatus.FAILED, 1, 1, 500
    )
    assert delivery.error == "HTTP 500 Internal Server Error"
    assert delivery.next_attempt_at - delivery.updated_at == dt.timedelta(seconds=30)
    # when the worker runs before the retry is due, then nothing is sent
    assert deliver_due_webhooks(now=delivery.next_attempt_at - dt.timedelta(seconds=1)) == 0
    assert len(receiver.requests) == 1
    # when it runs once the retry is due
    assert deliver_due_webhooks(now=delivery.next_attempt_at) == 1
    # then the second attempt succeeded, with the same webhook-id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failures, delivery.response_status_code, delivery.error) == (
        WebhookDeliveryStatus.SUCCEEDED, 2, 0, 200, ""
    )
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"evt_{event.pk}", f"evt_{event.pk}"]
    assert list(delivery.attempt_log.values_list("number", "succeeded", "response_status_code")) == [(1, False, 500), (2, True, 200)]


def test_an_endpoint_that_keeps_failing_is_retried_after_growing_delays_and_then_given_up(receiver, admin, record):
    # given an endpoint that always answers 500
    endpoint_for(receiver, admin)
    receiver.statuses = [500] * 10
    commit_event("record.changed", record)
    delivery = WebhookDelivery.objects.get()
    waits = [delivery.next_attempt_at - delivery.updated_at]
    # when the worker sends each retry when it is due
    while delivery.status == WebhookDeliveryStatus.FAILED:
        deliver_due_webhooks(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - delivery.updated_at)
    # then it waited 30 s, 2 min, 10 min, 1 h, 6 h, and after the sixth attempt it is dead
    assert waits == [dt.timedelta(seconds=30), dt.timedelta(minutes=2), dt.timedelta(minutes=10), dt.timedelta(hours=1), dt.timedelta(hours=6)]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (WebhookDeliveryStatus.DEAD, 6, None)
    assert len(receiver.requests) == 6
    assert deliver_due_webhooks(now=timezone.now() + dt.timedelta(days=7)) == 0


def test_an_unreachable_endpoint_is_a_failed_attempt_with_the_error(admin, record):
    # given an endpoint on a port where nothing listens
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_endpoint_create(actor=admin, data={"url": f"http://127.0.0.1:{port}/x", "event_types": ["*"]})
    commit_event("record.changed", record)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_status_code) == (WebhookDeliveryStatus.FAILED, None)
    assert "Connection refused" in delivery.error


def test_a_record_s_events_reach_an_endpoint_in_order_even_across_retries(receiver, admin, record):
    # given an endpoint that fails the first request
    endpoint_for(receiver, admin)
    receiver.statuses = [500]
    # when one transaction commits two events of the same record
    with transaction.atomic():
        created = record_event("record.created", target=record)
        changed = record_event("record.changed", target=record)
    # then only the first was tried; the second waits for it
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"evt_{created.pk}"]
    retry_at = WebhookDelivery.objects.get(event=created).next_attempt_at
    # when the retry is due, then the first goes, and the second right after it
    deliver_due_webhooks(now=retry_at)
    deliver_due_webhooks(now=retry_at)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"evt_{created.pk}", f"evt_{created.pk}", f"evt_{changed.pk}"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDeliveryStatus.SUCCEEDED}


def test_only_active_endpoints_with_a_matching_event_type_receive_the_event(receiver, admin, record):
    endpoint_for(receiver, admin, event_types=["record.changed"])
    inactive = endpoint_for(receiver, admin)
    webhook_endpoint_update(actor=admin, endpoint_id=inactive.pk, data={"is_active": False})
    commit_event("record.created", record)
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 0
    changed = commit_event("record.changed", record)
    assert [json.loads(r["body"])["data"]["event_id"] for r in receiver.requests] == [changed.pk]


def test_an_event_of_a_rolled_back_transaction_is_never_delivered(receiver, admin, record):
    # given an endpoint for every event
    endpoint_for(receiver, admin)
    # when a change records an event and then rolls back
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event("record.changed", target=record, payload={"name": "never"})
        raise RuntimeError("the change failed")
    # and the outbox is dispatched and the worker makes a pass
    dispatch_outbox()
    call_command("run_worker", "--once", verbosity=0)
    # then nothing was ever sent
    assert receiver.requests == []
    assert OutboxEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_re_send_posts_the_event_again_with_the_same_id_and_is_audited(receiver, admin, record, api_client):
    # given a delivered event
    endpoint = endpoint_for(receiver, admin)
    event = commit_event("record.created", record)
    delivery = WebhookDelivery.objects.get()
    # when an administrator re-sends it through the API
    response = api_client(admin).post(f"/api/v1/core/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/resend")
    # then it was queued, and (tasks run at once in tests) sent again on commit, with the same webhook-id
    assert response.status_code == 202
    assert response.json()["status"] == "succeeded"
    assert response.json()["attempts"] == 2
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"evt_{event.pk}", f"evt_{event.pk}"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.SUCCEEDED, 2)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
    entry = AuditEntry.objects.get(action="other", object_id=str(endpoint.pk))
    assert entry.message == f"Webhook delivery {delivery.pk} of event {event.pk} (record.created) re-sent"
    assert entry.actor == admin
