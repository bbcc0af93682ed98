"""`Idempotency-Key` for API endpoints that create records (IETF draft "The Idempotency-Key HTTP Header Field").

Put `@idempotent` right under the router decorator of a POST create endpoint:

    @router.post("/counterparties", response={201: CounterpartyOut})
    @idempotent
    def counterparty_create(request, payload: CounterpartyIn): ...

A request without the header runs as usual. With it:
- the key (1–255 printable ASCII characters) is reserved for the user in its own short transaction *before* the
  endpoint runs, so a second connection sees it in progress;
- the first request runs; its final response (any status below 500, errors included) is stored for 24 hours
  (settings.FABRIKA_IDEMPOTENCY_TTL_HOURS; expired keys are purged by the worker's housekeeping);
- a repeat with the same key and the same request (method, path, body) gets the stored status and body with the
  header `Idempotency-Replayed: true`, and nothing runs again;
- the same key with another request answers 422; a repeat while the first still runs answers 409;
- a 5xx answer releases the key, so the client may retry it.
Keys are per user. Reservation happens after authentication and input parsing: a request refused there stores nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from .errors import Conflict, ValidationError
from .models import IdempotencyRecord
from .models.idempotency import IdempotencyStatus

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
KEY_MAX_LENGTH = 255
# The default; the effective time is settings.FABRIKA_IDEMPOTENCY_TTL_HOURS (see retention()).
RETENTION = dt.timedelta(hours=24)
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]+$")
_REQUEST_ATTRIBUTE = "_fabrika_idempotency_record"


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of the request body in a canonical form.

    JSON: keys sorted, no insignificant whitespace (so `{"a":1, "b":2}` and `{"b": 2,"a": 1}` are the same request).
    Multipart and form bodies: the sorted fields plus the SHA-256 of each uploaded file. Anything else: the raw bytes.
    """
    content_type = (request.content_type or "").lower()
    digest = hashlib.sha256()
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        fields = sorted((name, value) for name in request.POST for value in request.POST.getlist(name))
        files = []
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                files.append([name, upload.name, file_digest.hexdigest()])
        digest.update(json.dumps({"fields": fields, "files": files}, sort_keys=True, ensure_ascii=False).encode())
        return digest.hexdigest()
    body = request.body
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        digest.update(body)
    else:
        digest.update(canonical.encode())
    return digest.hexdigest()


def retention() -> dt.timedelta:
    """How long a key is remembered: settings.FABRIKA_IDEMPOTENCY_TTL_HOURS (default 24, at least 1)."""
    hours = int(getattr(settings, "FABRIKA_IDEMPOTENCY_TTL_HOURS", RETENTION.total_seconds() // 3600))
    return dt.timedelta(hours=max(hours, 1))


def _validate_key(key: str) -> str:
    if not key:
        raise ValidationError({HEADER: ["The Idempotency-Key header is empty: send a unique value, e.g. a UUID"]})
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError({HEADER: [f"At most {KEY_MAX_LENGTH} characters"]})
    if not _KEY_PATTERN.match(key):
        raise ValidationError({HEADER: ["Use printable ASCII characters without spaces, e.g. a UUID"]})
    return key


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(record.response_body, status=record.response_status, content_type=record.response_content_type)
    response[REPLAYED_HEADER] = "true"
    return response


def _check_same_request(record: IdempotencyRecord, *, method: str, path: str, fingerprint: str) -> None:
    if record.method != method or record.path != path or record.fingerprint != fingerprint:
        raise ValidationError(
            {HEADER: ["This key was already used for a different request; use a new key for a new request"]}
        )


def idempotency_reserve(*, user, key: str, method: str, path: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Reserve the key for this request, or find the earlier request that used it.

    Returns (record, created). Commits on its own (when called outside a transaction) so that other connections see
    the reservation while the request runs. Raises ValidationError when the key was used for another request and
    Conflict while that earlier request is still running."""
    key = _validate_key(key)
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=method, path=path[:500], fingerprint=fingerprint, expires_at=now + retention()
                )
            return record, True
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if existing is None:
                continue  # released meanwhile: try again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            _check_same_request(existing, method=method, path=path[:500], fingerprint=fingerprint)
            if existing.status == IdempotencyStatus.IN_PROGRESS:
                raise Conflict(
                    "A request with this Idempotency-Key is still being processed; retry later", code="idempotency_in_progress"
                )
            return existing, False
    raise Conflict("A request with this Idempotency-Key is still being processed; retry later", code="idempotency_in_progress")


def idempotency_complete(*, record: IdempotencyRecord, response: HttpResponse) -> None:
    """Store the final response of the request that reserved the key; a 5xx releases the key instead."""
    if response.status_code >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=IdempotencyStatus.COMPLETED,
        response_status=response.status_code,
        response_content_type=response.get("Content-Type", "application/json")[:100],
        response_body=response.content.decode("utf-8", errors="replace"),
        completed_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete the records whose time is over; returns how many. The worker's housekeeping runs it."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _wrap_run(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wraps the ninja operation's `run` (auth → parse → handler → error mapping → response) to store the response."""

    @functools.wraps(run)
    def run_and_store(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            record = getattr(request, _REQUEST_ATTRIBUTE, None)
            if record is not None:
                idempotency_release(record=record)
            raise
        record = getattr(request, _REQUEST_ATTRIBUTE, None)
        if record is not None:
            idempotency_complete(record=record, response=response)
        return response

    return run_and_store


def _document(operation) -> None:
    extra = dict(operation.openapi_extra or {})
    extra.setdefault("parameters", []).append(
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "description": "A unique key (e.g. a UUID) that makes retrying this request safe: a repeat with the same "
            "key and body returns the first response (header Idempotency-Replayed: true) and creates nothing.",
            "schema": {"type": "string", "maxLength": KEY_MAX_LENGTH},
        }
    )
    extra["x-idempotent"] = True
    operation.openapi_extra = extra


def idempotent(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Honour `Idempotency-Key` on this endpoint (see the module docstring)."""

    @functools.wraps(handler)
    def reserve_then_handle(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return handler(request, *args, **kwargs)
        record, created = idempotency_reserve(
            user=request.user,
            key=key.strip(),
            method=request.method or "",
            path=request.path,
            fingerprint=request_fingerprint(request),
        )
        if not created:
            return _replay(record)
        setattr(request, _REQUEST_ATTRIBUTE, record)
        return handler(request, *args, **kwargs)

    # ninja resolves string annotations (from __future__ import annotations) in the function's module globals,
    # which for this wrapper are ours: hand it the handler's signature with the annotations already evaluated.
    reserve_then_handle.__signature__ = inspect.signature(handler, eval_str=True)  # type: ignore[attr-defined]
    contribute_operation_callback(reserve_then_handle, _document)
    return decorate_view(_wrap_run)(reserve_then_handle)


__all__ = [
    "HEADER",
    "REPLAYED_HEADER",
    "idempotency_complete",
    "idempotency_purge_expired",
    "idempotency_release",
    "idempotency_reserve",
    "idempotent",
    "request_fingerprint",
    "retention",
]
