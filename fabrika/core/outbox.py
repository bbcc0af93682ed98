"""Delivery of domain events from the outbox (OutboxEvent rows written by `fabrika.core.events.record_event`).

Each event is fanned out once into one delivery row per subscriber — an in-process consumer registered with
`register_event_consumer` (EventDelivery) or an active webhook endpoint whose event types match (WebhookDelivery) —
and every delivery then progresses on its own: at least once, retried with backoff, and in order per record
(a record's later event waits for this subscriber until its earlier ones succeeded). A rolled-back change never
wrote its event row, so nothing is ever delivered for it.

`dispatch_outbox` runs in the worker loop (`run_worker`) and in a task enqueued when each transaction that recorded
events commits. See docs/adr/0002-timers-and-event-consumers.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Min
from django.utils import timezone

from .models import OutboxEvent
from .models.events import EventDelivery, EventDeliveryStatus
from .timers import RETRY_DELAYS, error_text, retry_delay

logger = logging.getLogger(__name__)

EventHandler = Callable[[OutboxEvent], Any]
UNFINISHED = (EventDeliveryStatus.PENDING, EventDeliveryStatus.FAILED)


@dataclass(frozen=True)
class EventConsumer:
    name: str
    handler: EventHandler
    event_types: tuple[str, ...]

    def wants(self, event_type: str) -> bool:
        return event_type_matches(self.event_types, event_type)


_consumers: dict[str, EventConsumer] = {}


def event_type_matches(patterns: Iterable[str], event_type: str) -> bool:
    """`*` matches every event, `record.*` every event starting with `record.`, anything else only itself."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def register_event_consumer(name: str, handler: EventHandler, *, event_types: tuple[str, ...] = ("*",)) -> None:
    """Deliver events of `event_types` to `handler(event)`. Register in your AppConfig.ready(). `name` identifies
    the consumer's progress in the database: keep it stable across releases. The handler runs in a transaction
    with the delivery's `succeeded` mark; if it raises, its writes are undone and it is retried later."""
    if not name or len(name) > 100:
        raise ValueError("A consumer name is 1 to 100 characters")
    if not event_types:
        raise ValueError("A consumer needs at least one event type ('*' for all)")
    _consumers[name] = EventConsumer(name=name, handler=handler, event_types=tuple(event_types))


def unregister_event_consumer(name: str) -> None:
    _consumers.pop(name, None)


def registered_consumers() -> dict[str, EventConsumer]:
    return dict(_consumers)


def fan_out(*, now: dt.datetime, limit: int) -> int:
    """Create the delivery rows of up to `limit` undispatched events, oldest first; returns how many events."""
    from .models.webhooks import WebhookDelivery, WebhookEndpoint

    if not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists():
        return 0  # the usual case on an idle pass: no write transaction (and no SQLite write lock) needed
    with transaction.atomic():
        # A blocking lock (not skip_locked): a second worker waits for the first one's batch and then finds it
        # dispatched, so events are always fanned out in id order.
        events = list(OutboxEvent.objects.select_for_update().filter(dispatched_at__isnull=True).order_by("id")[:limit])
        if not events:
            return 0
        consumers = list(_consumers.values())
        endpoints = list(WebhookEndpoint.objects.filter(is_active=True))
        consumer_rows: list[EventDelivery] = []
        webhook_rows: list[WebhookDelivery] = []
        for event in events:
            consumer_rows.extend(
                EventDelivery(consumer=consumer.name, event=event, next_attempt_at=now)
                for consumer in consumers
                if consumer.wants(event.event_type)
            )
            webhook_rows.extend(
                WebhookDelivery(endpoint=endpoint, event=event, next_attempt_at=now, updated_at=now)
                for endpoint in endpoints
                if event_type_matches(endpoint.event_types, event.event_type)
            )
        EventDelivery.objects.bulk_create(consumer_rows, ignore_conflicts=True)
        WebhookDelivery.objects.bulk_create(webhook_rows, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[event.pk for event in events], dispatched_at__isnull=True).update(dispatched_at=now)
    return len(events)


def _first_unfinished(deliveries: list[EventDelivery]) -> dict[tuple[str, str, str], int]:
    """For each (consumer, record type, record id) among `deliveries`: the lowest event id not yet delivered."""
    keyed = [d for d in deliveries if d.event.aggregate]
    if not keyed:
        return {}
    rows = (
        EventDelivery.objects.filter(
            status__in=UNFINISHED,
            consumer__in={d.consumer for d in keyed},
            event__aggregate__in={d.event.aggregate for d in keyed},
            event__aggregate_id__in={d.event.aggregate_id for d in keyed},
        )
        .values_list("consumer", "event__aggregate", "event__aggregate_id")
        .annotate(first=Min("event_id"))
        .order_by()
    )
    return {(consumer, aggregate, aggregate_id): first for consumer, aggregate, aggregate_id, first in rows}


def _deliver(delivery: EventDelivery, consumer: EventConsumer, *, now: dt.datetime) -> bool | None:
    """Run one consumer on one event. True: delivered; False: failed (retry scheduled); None: another worker has it."""
    with transaction.atomic():
        locked = (
            EventDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery.pk, status__in=UNFINISHED, next_attempt_at__lte=now)
            .values_list("status", "attempts")
            .first()
        )
        if locked is None:
            return None
        status, attempts = locked
        claimed = EventDelivery.objects.filter(pk=delivery.pk, status=status, attempts=attempts).update(
            status=EventDeliveryStatus.SUCCEEDED, attempts=F("attempts") + 1, delivered_at=now, last_error=""
        )
        if claimed != 1:
            return None
        try:
            with transaction.atomic():
                consumer.handler(delivery.event)
        except Exception as error:
            # Consumers are our own code: they keep being retried (at the longest delay once the schedule is
            # used up) until a fix is deployed, so no event is ever skipped.
            delay = retry_delay(min(attempts + 1, len(RETRY_DELAYS)))
            EventDelivery.objects.filter(pk=delivery.pk).update(
                status=EventDeliveryStatus.FAILED, delivered_at=None, last_error=error_text(error), next_attempt_at=now + delay
            )
            logger.warning("Event consumer %s failed on event %s: %s", consumer.name, delivery.event_id, error)
            return False
    return True


def deliver_to_consumers(*, now: dt.datetime, limit: int) -> int:
    """One pass over due consumer deliveries; returns how many handlers ran (successfully or not)."""
    consumers = registered_consumers()
    if not consumers:
        return 0
    due = list(
        EventDelivery.objects.filter(status__in=UNFINISHED, next_attempt_at__lte=now, consumer__in=list(consumers))
        .select_related("event")
        .order_by("event_id", "id")[:limit]
    )
    heads = _first_unfinished(due)
    done_keys: set[tuple[str, str, str]] = set()
    ran = 0
    for delivery in due:
        key = (delivery.consumer, delivery.event.aggregate, delivery.event.aggregate_id)
        if delivery.event.aggregate:
            # Only the record's oldest undelivered event may run; the next one goes on the next pass.
            if key in done_keys or heads.get(key) != delivery.event_id:
                continue
            done_keys.add(key)
        outcome = _deliver(delivery, consumers[delivery.consumer], now=now)
        if outcome is not None:
            ran += 1
    return ran


def dispatch_outbox(*, limit: int = 500) -> int:
    """Fan out new events and run due deliveries (consumers, then webhooks) until nothing more is due or `limit`
    deliveries ran. Returns the number of deliveries that ran (each consumer call and each webhook request)."""
    from .webhooks import deliver_due_webhooks

    ran = 0
    while ran < limit:
        now = timezone.now()
        fanned = fan_out(now=now, limit=limit)
        progress = deliver_to_consumers(now=now, limit=limit - ran)
        progress += deliver_due_webhooks(now=now, limit=max(limit - ran - progress, 0))
        ran += progress
        if not fanned and not progress:
            break
    return ran


def outbox_purge_delivered(*, before: dt.datetime) -> int:
    """Delete the events dispatched before `before` whose every delivery is finished: each consumer succeeded and
    each webhook delivery succeeded or was given up (their delivery rows and attempt logs go with them). An event
    with a consumer or webhook still pending or retrying is kept, so nothing undelivered is ever lost. Returns how
    many events were deleted. The worker's housekeeping runs it (FABRIKA_OUTBOX_RETENTION_DAYS)."""
    from .models.webhooks import WebhookDelivery
    from .webhooks import UNFINISHED as WEBHOOK_UNFINISHED

    unfinished_events = EventDelivery.objects.filter(status__in=UNFINISHED).values("event_id")
    unsent_events = WebhookDelivery.objects.filter(status__in=WEBHOOK_UNFINISHED).values("event_id")
    purgeable = (
        OutboxEvent.objects.filter(dispatched_at__isnull=False, dispatched_at__lt=before)
        .exclude(pk__in=unfinished_events)
        .exclude(pk__in=unsent_events)
    )
    ids = list(purgeable.values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            batch = ids[start : start + 500]
            # Checked again inside the transaction: a re-send may have reopened a delivery meanwhile.
            _, per_model = (
                OutboxEvent.objects.filter(pk__in=batch).exclude(pk__in=unfinished_events).exclude(pk__in=unsent_events).delete()
            )
            deleted += per_model.get(OutboxEvent._meta.label, 0)
    return deleted
