"""`Idempotency-Key` on activity create: a retried request returns the first answer and creates nothing."""

from __future__ import annotations

from fabrika.crm.models import Activity, ChecklistItem

from . import test_activities_support

crm_org = test_activities_support.crm_org


def test_activity_create_with_the_same_key_and_body_creates_one_activity(crm_org, api_client):
    client = api_client(crm_org.manager)
    body = {
        "kind": "task",
        "subject": "Call back about the doors",
        "due_at": "2026-03-02T10:00:00+03:00",
        "counterparty_id": crm_org.mine.pk,
        "checklist": ["Prices", "Delivery"],
    }
    first = client.post(
        "/api/v1/crm/activities", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="task-1"
    )
    again = client.post(
        "/api/v1/crm/activities", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="task-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert list(Activity.objects.values_list("pk", "subject")) == [
        (first.json()["id"], "Call back about the doors")
    ]
    assert sorted(ChecklistItem.objects.values_list("text", flat=True)) == ["Delivery", "Prices"]
    # a refused request is remembered too: its retry answers the same 422 and still creates nothing
    bad = {"kind": "meeting", "subject": "No start"}
    refused = client.post(
        "/api/v1/crm/activities", bad, content_type="application/json", HTTP_IDEMPOTENCY_KEY="task-2"
    )
    retried = client.post(
        "/api/v1/crm/activities", bad, content_type="application/json", HTTP_IDEMPOTENCY_KEY="task-2"
    )
    assert (refused.status_code, retried.status_code) == (422, 422)
    assert retried.json() == refused.json() and refused.json()["errors"] == {
        "starts_at": ["A meeting needs a start time"]
    }
    assert Activity.objects.count() == 1
