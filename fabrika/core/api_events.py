"""Webhook endpoints and their delivery log: /api/v1/core/webhooks...

(No `from __future__ import annotations` here: django-ninja reads the annotations at import time.)
"""

import datetime as dt

from ninja import Router, Schema, Status

from . import webhooks
from .models.webhooks import WebhookEndpoint
from .pagination import Page, paginate
from .permissions import require

router = Router(tags=["webhooks"])


class WebhookEndpointIn(Schema):
    url: str
    description: str = ""
    event_types: list[str]
    is_active: bool = True


class WebhookEndpointPatch(Schema):
    url: str | None = None
    description: str | None = None
    event_types: list[str] | None = None
    is_active: bool | None = None


class WebhookEndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    secret: str


class WebhookAttemptOut(Schema):
    number: int
    at: dt.datetime
    succeeded: bool
    response_status_code: int | None
    response_body: str
    error: str
    duration_ms: int


class WebhookDeliveryOut(Schema):
    id: int
    event_id: int
    event_type: str
    record_type: str
    record_id: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    response_status_code: int | None
    response_body: str
    error: str
    duration_ms: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    attempt_log: list[WebhookAttemptOut]

    @staticmethod
    def resolve_event_type(obj) -> str:
        return obj.event.event_type

    @staticmethod
    def resolve_record_type(obj) -> str:
        return obj.event.aggregate

    @staticmethod
    def resolve_record_id(obj) -> str:
        return obj.event.aggregate_id

    @staticmethod
    def resolve_attempt_log(obj) -> list:
        return list(obj.attempt_log.all())


@router.get("/webhooks", response=Page[WebhookEndpointOut])
def webhook_list(request, cursor: str | None = None, limit: int = 50):
    require(request.user, WebhookEndpoint, "view")
    return paginate(webhooks.webhook_endpoint_list(), cursor=cursor, limit=limit)


@router.post("/webhooks", response={201: WebhookEndpointWithSecretOut})
def webhook_create(request, payload: WebhookEndpointIn):
    require(request.user, WebhookEndpoint, "add")
    return Status(201, webhooks.webhook_endpoint_create(actor=request.user, data=payload.dict()))


@router.get("/webhooks/{endpoint_id}", response=WebhookEndpointOut)
def webhook_detail(request, endpoint_id: int):
    require(request.user, WebhookEndpoint, "view")
    return webhooks.webhook_endpoint_get(endpoint_id)


@router.patch("/webhooks/{endpoint_id}", response=WebhookEndpointOut)
def webhook_update(request, endpoint_id: int, payload: WebhookEndpointPatch):
    require(request.user, WebhookEndpoint, "change")
    endpoint = webhooks.webhook_endpoint_get(endpoint_id)
    return webhooks.webhook_endpoint_update(actor=request.user, endpoint_id=endpoint.pk, data=payload.dict(exclude_unset=True))


@router.delete("/webhooks/{endpoint_id}", response={204: None})
def webhook_delete(request, endpoint_id: int):
    require(request.user, WebhookEndpoint, "delete")
    endpoint = webhooks.webhook_endpoint_get(endpoint_id)
    webhooks.webhook_endpoint_delete(actor=request.user, endpoint_id=endpoint.pk)
    return Status(204, None)


@router.get("/webhooks/{endpoint_id}/secret", response=WebhookEndpointWithSecretOut)
def webhook_secret(request, endpoint_id: int):
    require(request.user, WebhookEndpoint, "change")
    return webhooks.webhook_endpoint_get(endpoint_id)


@router.post("/webhooks/{endpoint_id}/rotate-secret", response=WebhookEndpointWithSecretOut)
def webhook_rotate_secret(request, endpoint_id: int):
    require(request.user, WebhookEndpoint, "change")
    endpoint = webhooks.webhook_endpoint_get(endpoint_id)
    return webhooks.webhook_endpoint_rotate_secret(actor=request.user, endpoint_id=endpoint.pk)


@router.get("/webhooks/{endpoint_id}/deliveries", response=Page[WebhookDeliveryOut])
def webhook_delivery_list(request, endpoint_id: int, status: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, WebhookEndpoint, "view")
    endpoint = webhooks.webhook_endpoint_get(endpoint_id)
    return paginate(webhooks.webhook_deliveries(endpoint=endpoint, status=status), cursor=cursor, limit=limit, with_count=False)


@router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", response={202: WebhookDeliveryOut})
def webhook_delivery_resend(request, endpoint_id: int, delivery_id: int):
    require(request.user, WebhookEndpoint, "change")
    endpoint = webhooks.webhook_endpoint_get(endpoint_id)
    delivery = webhooks.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    webhooks.webhook_delivery_resend(actor=request.user, delivery_id=delivery.pk)
    return Status(202, webhooks.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery.pk))
