from __future__ import annotations

import base64

import pytest
from django.db import transaction
from django.urls import reverse

from fabrika.core.events import record_event
from fabrika.core.models import AuditEntry
from fabrika.core.models.webhooks import WebhookDelivery, WebhookEndpoint
from fabrika.core.outbox import fan_out
from fabrika.core.webhooks import webhook_endpoint_create

URL = "/api/v1/core/webhooks"


@pytest.fixture
def endpoint(admin_user) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=admin_user, data={"url": "https://erp.example.com/hooks", "description": "ERP", "event_types": ["record.*"]}
    )


def test_api_creates_an_endpoint_with_a_generated_secret_shown_once(admin_user, api_client):
    # when an administrator creates an endpoint
    response = api_client(admin_user).post(
        URL,
        {"url": "https://erp.example.com/hooks", "description": "ERP", "event_types": ["record.created", "*"]},
        content_type="application/json",
    )
    # then it is stored with a whsec_ secret of 24 random bytes, returned in the answer
    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert body["url"] == "https://erp.example.com/hooks"
    assert body["event_types"] == ["record.created", "*"]
    assert body["is_active"] is True
    assert body["secret"] == endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    assert len(base64.b64decode(endpoint.secret.removeprefix("whsec_"))) == 24
    # and the creation is audited without the secret
    entry = AuditEntry.objects.get(action="create", object_id=str(endpoint.pk))
    assert entry.changes == {"url": "https://erp.example.com/hooks", "description": "ERP", "event_types": ["record.created", "*"], "is_active": True}
    # and the plain read does not show the secret; the secret read does
    assert "secret" not in api_client(admin_user).get(f"{URL}/{endpoint.pk}").json()
    assert api_client(admin_user).get(f"{URL}/{endpoint.pk}/secret").json()["secret"] == endpoint.secret


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"url": "ftp://files.example.com/x", "event_types": ["*"]}, {"url": ["Enter an http:// or https:// address, e.g. https://example.com/webhooks"]}),
        ({"url": "not a url", "event_types": []}, {
            "url": ["Enter an http:// or https:// address, e.g. https://example.com/webhooks"],
            "event_types": ["Choose at least one event type, or * for every event"],
        }),
        ({"url": "", "event_types": ["Record Created"]}, {
            "url": ["URL is required"],
            "event_types": ["Not an event type: Record Created (use names like record.created, record.* or *)"],
        }),
    ],
)
def test_api_refuses_a_bad_url_or_event_types_with_422_and_stores_nothing(admin_user, api_client, payload, errors):
    response = api_client(admin_user).post(URL, payload, content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == errors
    assert WebhookEndpoint.objects.count() == 0
    assert AuditEntry.objects.filter(action="create").count() == 0


def test_api_updates_deactivates_and_deletes_an_endpoint(admin_user, api_client, endpoint):
    client = api_client(admin_user)
    response = client.patch(f"{URL}/{endpoint.pk}", {"event_types": ["record.changed"], "is_active": False}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["event_types"], response.json()["is_active"]) == (["record.changed"], False)
    assert AuditEntry.objects.get(action="update").changes == {"event_types": [["record.*"], ["record.changed"]], "is_active": [True, False]}
    # a bad patch is refused and changes nothing
    refused = client.patch(f"{URL}/{endpoint.pk}", {"url": "javascript:alert(1)"}, content_type="application/json")
    assert refused.status_code == 422
    endpoint.refresh_from_db()
    assert endpoint.url == "https://erp.example.com/hooks"
    # rotating the secret replaces it
    old_secret = endpoint.secret
    rotated = client.post(f"{URL}/{endpoint.pk}/rotate-secret")
    assert rotated.status_code == 200
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != old_secret
    # deleting removes it
    assert client.delete(f"{URL}/{endpoint.pk}").status_code == 204
    assert WebhookEndpoint.objects.count() == 0
    assert client.get(f"{URL}/{endpoint.pk}").status_code == 404


def test_api_lists_endpoints_and_their_deliveries(admin_user, api_client, endpoint):
    with transaction.atomic():
        event = record_event("record.created", target=admin_user, payload={"name": "root"})
    fan_out(now=event.created_at, limit=10)
    client = api_client(admin_user)
    assert [row["id"] for row in client.get(URL).json()["items"]] == [endpoint.pk]
    deliveries = client.get(f"{URL}/{endpoint.pk}/deliveries").json()["items"]
    assert len(deliveries) == 1
    assert {k: deliveries[0][k] for k in ("event_id", "event_type", "record_type", "record_id", "status", "attempts", "attempt_log")} == {
        "event_id": event.pk, "event_type": "record.created", "record_type": "core.user", "record_id": str(admin_user.pk),
        "status": "pending", "attempts": 0, "attempt_log": [],
    }
    assert client.get(f"{URL}/{endpoint.pk}/deliveries?status=dead").json()["items"] == []
    assert client.get(f"{URL}/{endpoint.pk}/deliveries?status=bogus").status_code == 422


def test_a_user_without_the_webhook_permission_can_neither_read_nor_create(make_user, api_client, endpoint):
    manager = make_user("Sales manager")
    client = api_client(manager)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{endpoint.pk}/secret").status_code == 403
    response = client.post(URL, {"url": "https://evil.example.com", "event_types": ["*"]}, content_type="application/json")
    assert response.status_code == 403
    assert WebhookEndpoint.objects.count() == 1


def test_a_director_sees_endpoints_but_not_their_secret(make_user, api_client, endpoint):
    director = make_user("Director")
    client = api_client(director)
    assert client.get(f"{URL}/{endpoint.pk}").status_code == 200
    assert client.get(f"{URL}/{endpoint.pk}/secret").status_code == 403


def test_the_form_shows_errors_beside_the_fields_then_creates_the_endpoint(admin_user, web_client):
    client = web_client(admin_user)
    # when the form is sent with a bad URL and no event type
    response = client.post(reverse("core:webhook_create"), {"url": "ftp://x.example.com", "event_types": "  ", "is_active": "on"})
    # then the page shows the errors by the fields and nothing is stored
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["url"] == ["Enter an http:// or https:// address, e.g. https://example.com/webhooks"]
    assert form.errors["event_types"] == ["Choose at least one event type, or * for every event"]
    assert WebhookEndpoint.objects.count() == 0
    # when it is sent again with a bad event type, then the service's message shows by that field
    response = client.post(reverse("core:webhook_create"), {"url": "https://erp.example.com/in", "event_types": "record created!"})
    assert response.context["form"].errors["event_types"] == ["Not an event type: created! (use names like record.created, record.* or *)"]
    assert WebhookEndpoint.objects.count() == 0
    # when it is corrected
    response = client.post(
        reverse("core:webhook_create"), {"url": "https://erp.example.com/in", "event_types": "record.created, record.changed", "is_active": "on"}
    )
    # then the endpoint exists and its page shows the secret
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("core:webhook_detail", args=[endpoint.pk])
    assert endpoint.event_types == ["record.created", "record.changed"]
    page = client.get(response["Location"])
    assert endpoint.secret in page.content.decode()
    assert "https://erp.example.com/in" in client.get(reverse("core:webhook_list")).content.decode()


def test_the_endpoint_page_shows_the_delivery_log_and_re_sends(admin_user, web_client, endpoint):
    # given a delivery that has not been sent yet
    with transaction.atomic():
        event = record_event("record.changed", target=admin_user, payload={})
    fan_out(now=event.created_at, limit=10)
    delivery = WebhookDelivery.objects.get()
    client = web_client(admin_user)
    # when the log page is opened
    page = client.get(reverse("core:webhook_detail", args=[endpoint.pk])).content.decode()
    # then the delivery is listed with a re-send button
    assert f'id="delivery-{delivery.pk}"' in page
    assert reverse("core:webhook_delivery_resend", args=[endpoint.pk, delivery.pk]) in page
    # when re-send is pressed, then the delivery is queued again and the action audited
    response = client.post(reverse("core:webhook_delivery_resend", args=[endpoint.pk, delivery.pk]))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="other", object_id=str(endpoint.pk)).count() == 1


def test_the_webhook_pages_are_closed_to_users_without_the_permission(make_user, web_client, endpoint):
    client = web_client(make_user("Sales manager"))
    assert client.get(reverse("core:webhook_list")).status_code == 403
    assert client.get(reverse("core:webhook_detail", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("core:webhook_delete", args=[endpoint.pk])).status_code == 403
    assert WebhookEndpoint.objects.count() == 1
