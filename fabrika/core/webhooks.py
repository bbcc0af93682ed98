"""Outgoing webhooks: endpoint services (create, update, delete, rotate secret, re-send) and the sender.

Requests are signed as Standard Webhooks (https://www.standardwebhooks.com/): headers `webhook-id` (the event id,
the same on every retry so receivers can deduplicate), `webhook-timestamp` and `webhook-signature`
(v1 HMAC-SHA256 with the endpoint's `whsec_` secret); body `{"type", "timestamp", "data"}`. They are sent with
urllib outside any database transaction (a delivery is claimed with a short lease first), do not follow redirects,
and a non-2xx answer or a network error is retried after 30 s, 2 min, 10 min, 1 h and 6 h, then the delivery is
dead. Deliveries of one record's events to one endpoint are sent in event order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Min, QuerySet
from django.utils import timezone
from standardwebhooks import Webhook

from . import audit
from .errors import Conflict, NotFound, ValidationError
from .models import User
from .models.audit import AuditAction
from .models.webhooks import WebhookAttempt, WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from .timers import retry_delay

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 10
# How long a claimed delivery is reserved for the worker sending it; if that worker dies, another retries after it.
SEND_LEASE = dt.timedelta(minutes=2)
RESPONSE_EXCERPT_CHARS = 1000
MAX_EVENT_TYPES = 50
EVENT_TYPE_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
UNFINISHED = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.FAILED)
AUDITED_FIELDS = ("url", "description", "event_types", "is_active")
USER_AGENT = "Fabrika-Webhooks/1"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- endpoint services -------------------------------------------------------------------------------------------


def _event_types(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    if not isinstance(value, list | tuple):
        return None
    result: list[str] = []
    for item in value:
        if not isinstance(item, str):
            return None
        item = item.strip()
        if item and item not in result:
            result.append(item)
    return result


def _clean(data: dict[str, Any], *, existing: WebhookEndpoint | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "url" in data or existing is None:
        url = (data.get("url") or "").strip()
        if not url:
            errors["url"] = ["URL is required"]
        elif len(url) > 500:
            errors["url"] = ["At most 500 characters"]
        else:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except DjangoValidationError:
                errors["url"] = ["Enter an http:// or https:// address, e.g. https://example.com/webhooks"]
        cleaned["url"] = url
    if "description" in data:
        description = (data.get("description") or "").strip()
        if len(description) > 300:
            errors["description"] = ["At most 300 characters"]
        cleaned["description"] = description
    if "event_types" in data or existing is None:
        event_types = _event_types(data.get("event_types"))
        if event_types is None:
            errors["event_types"] = ["Give a list of event types"]
        elif not event_types:
            errors["event_types"] = ["Choose at least one event type, or * for every event"]
        elif len(event_types) > MAX_EVENT_TYPES:
            errors["event_types"] = [f"At most {MAX_EVENT_TYPES} event types"]
        else:
            invalid = [item for item in event_types if not EVENT_TYPE_PATTERN.match(item)]
            if invalid:
                errors["event_types"] = [
                    f"Not an event type: {', '.join(invalid)} (use names like record.created, record.* or *)"
                ]
        cleaned["event_types"] = event_types
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = ["Must be true or false"]
        cleaned["is_active"] = data["is_active"]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def webhook_endpoint_create(*, actor: User, data: dict[str, Any]) -> WebhookEndpoint:
    cleaned = _clean(data, existing=None)
    endpoint = WebhookEndpoint.objects.create(secret=new_secret(), created_by=actor if actor.pk else None, **cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=endpoint, changes=audit.snapshot(endpoint, AUDITED_FIELDS))
    return endpoint


def _locked(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found")
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, actor: User, endpoint_id: int, data: dict[str, Any]) -> WebhookEndpoint:
    endpoint = _locked(endpoint_id)
    before = audit.snapshot(endpoint, AUDITED_FIELDS)
    cleaned = _clean(data, existing=endpoint)
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    endpoint.save()
    changes = audit.diff(before, audit.snapshot(endpoint, AUDITED_FIELDS))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=endpoint, changes=changes)
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, actor: User, endpoint_id: int) -> WebhookEndpoint:
    endpoint = _locked(endpoint_id)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=endpoint, message="Signing secret rotated")
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, actor: User, endpoint_id: int) -> None:
    endpoint = _locked(endpoint_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=endpoint, changes=audit.snapshot(endpoint, AUDITED_FIELDS))
    endpoint.delete()


@transaction.atomic
def webhook_delivery_resend(*, actor: User, delivery_id: int) -> WebhookDelivery:
    """Queue a delivery again now (whatever its status), with a fresh retry schedule; the worker sends it."""
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint", "event").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"Webhook delivery {delivery_id} not found")
    if not delivery.endpoint.is_active:
        raise Conflict("The endpoint is inactive: activate it before re-sending", code="endpoint_inactive")
    now = timezone.now()
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.failures = 0
    delivery.next_attempt_at = now
    delivery.updated_at = now
    delivery.save(update_fields=["status", "failures", "next_attempt_at", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.OTHER,
        target=delivery.endpoint,
        message=f"Webhook delivery {delivery.pk} of event {delivery.event_id} ({delivery.event.event_type}) re-sent",
    )
    from .events import dispatch_after_commit

    dispatch_after_commit()
    return delivery


# --- selectors ---------------------------------------------------------------------------------------------------


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("url", "id")


def webhook_endpoint_get(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} not found")
    return endpoint


def webhook_deliveries(*, endpoint: WebhookEndpoint, status: str = "") -> QuerySet[WebhookDelivery]:
    if status and status not in WebhookDeliveryStatus.values:
        raise ValidationError({"status": [f"Must be one of: {', '.join(WebhookDeliveryStatus.values)}"]})
    queryset = endpoint.deliveries.select_related("event").prefetch_related("attempt_log").order_by("-id")
    return queryset.filter(status=status) if status else queryset


def webhook_delivery_get(*, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = webhook_deliveries(endpoint=endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"Webhook delivery {delivery_id} not found")
    return delivery


# --- sending -----------------------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - a redirect is an answer, not followed
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def message_body(delivery: WebhookDelivery) -> str:
    event = delivery.event
    data = {"event_id": event.pk, "record_type": event.aggregate, "record_id": event.aggregate_id, **event.payload}
    body = {"type": event.event_type, "timestamp": event.created_at.isoformat(), "data": data}
    return json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def message_id(delivery: WebhookDelivery) -> str:
    return f"evt_{delivery.event_id}"


def _send(delivery: WebhookDelivery) -> dict[str, Any]:
    """POST the signed event; returns the attempt's outcome. Never called inside a database transaction."""
    body = message_body(delivery)
    sent_at = dt.datetime.now(dt.UTC)
    msg_id = message_id(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(delivery.endpoint.secret).sign(msg_id, sent_at, body),
    }
    request = urllib.request.Request(delivery.endpoint.url, data=body.encode(), headers=headers, method="POST")
    outcome: dict[str, Any] = {"status_code": None, "body": "", "error": "", "succeeded": False}
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            outcome["status_code"] = response.status
            outcome["body"] = response.read(4 * RESPONSE_EXCERPT_CHARS).decode("utf-8", "replace")
            outcome["succeeded"] = 200 <= response.status < 300
    except urllib.error.HTTPError as error:
        outcome["status_code"] = error.code
        outcome["body"] = (error.read(4 * RESPONSE_EXCERPT_CHARS) or b"").decode("utf-8", "replace")
        outcome["error"] = f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        outcome["error"] = f"{type(error).__name__}: {reason}"[:1000]
    outcome["duration_ms"] = int((time.monotonic() - started) * 1000)
    outcome["body"] = outcome["body"][:RESPONSE_EXCERPT_CHARS]
    if not outcome["succeeded"] and not outcome["error"]:
        outcome["error"] = f"HTTP {outcome['status_code']}: expected a 2xx answer"
    return outcome


def _claim(delivery: WebhookDelivery, *, now: dt.datetime) -> bool:
    with transaction.atomic():
        claimed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status__in=UNFINISHED, next_attempt_at=delivery.next_attempt_at, next_attempt_at__lte=now
        ).update(next_attempt_at=now + SEND_LEASE, attempts=F("attempts") + 1, updated_at=now)
    return claimed == 1


@transaction.atomic
def _record(delivery: WebhookDelivery, outcome: dict[str, Any]) -> None:
    now = timezone.now()
    delivery.refresh_from_db(fields=["attempts", "failures"])
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now - dt.timedelta(milliseconds=outcome["duration_ms"]),
        succeeded=outcome["succeeded"],
        response_status_code=outcome["status_code"],
        response_body=outcome["body"],
        error=outcome["error"],
        duration_ms=outcome["duration_ms"],
    )
    result = {
        "response_status_code": outcome["status_code"],
        "response_body": outcome["body"],
        "error": outcome["error"],
        "duration_ms": outcome["duration_ms"],
        "updated_at": now,
    }
    if outcome["succeeded"]:
        result.update(status=WebhookDeliveryStatus.SUCCEEDED, failures=0, next_attempt_at=None)
    else:
        failures = delivery.failures + 1
        delay = retry_delay(failures)
        result.update(
            failures=failures,
            status=WebhookDeliveryStatus.FAILED if delay is not None else WebhookDeliveryStatus.DEAD,
            next_attempt_at=now + delay if delay is not None else None,
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**result)


def _first_unfinished(deliveries: list[WebhookDelivery]) -> dict[tuple[int, str, str], int]:
    keyed = [d for d in deliveries if d.event.aggregate]
    if not keyed:
        return {}
    rows = (
        WebhookDelivery.objects.filter(
            status__in=UNFINISHED,
            endpoint_id__in={d.endpoint_id for d in keyed},
            event__aggregate__in={d.event.aggregate for d in keyed},
            event__aggregate_id__in={d.event.aggregate_id for d in keyed},
        )
        .values_list("endpoint_id", "event__aggregate", "event__aggregate_id")
        .annotate(first=Min("event_id"))
        .order_by()
    )
    return {(endpoint_id, aggregate, aggregate_id): first for endpoint_id, aggregate, aggregate_id, first in rows}


def deliver_due_webhooks(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Send up to `limit` due deliveries (new ones and retries); returns how many requests were made."""
    if limit <= 0:
        return 0
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status__in=UNFINISHED, next_attempt_at__lte=now, endpoint__is_active=True)
        .select_related("event", "endpoint")
        .order_by("event_id", "id")[:limit]
    )
    heads = _first_unfinished(due)
    taken: set[tuple[int, str, str]] = set()
    sent = 0
    for delivery in due:
        key = (delivery.endpoint_id, delivery.event.aggregate, delivery.event.aggregate_id)
        if delivery.event.aggregate:
            # In order per record: only its oldest unfinished event goes to this endpoint now.
            if key in taken or heads.get(key) != delivery.event_id:
                continue
            taken.add(key)
        if not _claim(delivery, now=now):
            continue
        outcome = _send(delivery)
        _record(delivery, outcome)
        sent += 1
        if not outcome["succeeded"]:
            logger.info("Webhook delivery %s to %s failed: %s", delivery.pk, delivery.endpoint.url, outcome["error"])
    return sent


# --- housekeeping ------------------------------------------------------------------------------------------------


def webhook_deliveries_purge(*, before: dt.datetime) -> int:
    """Delete finished deliveries (succeeded or given up) last touched before `before`, with their attempt log;
    pending and retrying ones are kept whatever their age. Returns how many deliveries were deleted. The worker's
    housekeeping runs it (FABRIKA_WEBHOOK_LOG_RETENTION_DAYS)."""
    finished = (WebhookDeliveryStatus.SUCCEEDED, WebhookDeliveryStatus.DEAD)
    ids = list(WebhookDelivery.objects.filter(status__in=finished, updated_at__lt=before).values_list("pk", flat=True))
    deleted = 0
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            # The status is checked again: a manual re-send may have queued one of them meanwhile.
            _, per_model = WebhookDelivery.objects.filter(
                pk__in=ids[start : start + 500], status__in=finished, updated_at__lt=before
            ).delete()
            deleted += per_model.get(WebhookDelivery._meta.label, 0)
    return deleted
