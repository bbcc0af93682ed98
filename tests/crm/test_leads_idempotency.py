"""`Idempotency-Key` on the lead endpoints that create records: lead create and lead conversion."""

from __future__ import annotations

from fabrika.crm.models import Deal, Lead, Pipeline, Stage
from fabrika.crm.services_leads import lead_create
from fabrika.parties.models import Counterparty

from . import test_activities_support

crm_org = test_activities_support.crm_org


def test_lead_create_with_the_same_key_and_body_creates_one_lead(crm_org, api_client):
    client = api_client(crm_org.manager)
    body = {"name": "Api Lead", "email": "api@example.com", "company_name": "Mebel LLC"}
    first = client.post(
        "/api/v1/crm/leads", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="lead-1"
    )
    again = client.post(
        "/api/v1/crm/leads", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="lead-1"
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert list(Lead.objects.values_list("pk", "name")) == [(first.json()["id"], "Api Lead")]
    # the same key with another body is refused and creates nothing
    other = client.post(
        "/api/v1/crm/leads",
        {**body, "name": "Other"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="lead-1",
    )
    assert other.status_code == 422 and Lead.objects.count() == 1
    # a new key is a new request
    assert (
        client.post(
            "/api/v1/crm/leads", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="lead-2"
        ).status_code
        == 201
    )
    assert Lead.objects.count() == 2


def test_lead_convert_with_the_same_key_converts_once(crm_org, api_client):
    pipeline = Pipeline.objects.create(name="Sales")
    Stage.objects.create(pipeline=pipeline, name="New", order=1)
    lead = lead_create(
        actor=crm_org.manager,
        data={"name": "Oleg", "company_name": "Doors LLC", "email": "oleg@doors.example"},
    )
    client = api_client(crm_org.manager)
    body = {"pipeline_id": pipeline.pk, "deal_title": "40 doors"}
    first = client.post(
        f"/api/v1/crm/leads/{lead.pk}/convert",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="convert-1",
    )
    again = client.post(
        f"/api/v1/crm/leads/{lead.pk}/convert",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="convert-1",
    )
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert first.json()["status"] == "converted"
    assert list(Deal.objects.values_list("title", flat=True)) == ["40 doors"]
    assert Counterparty.objects.filter(name="Doors LLC").count() == 1
    # without the key, a second conversion is refused by the lead's state machine
    assert (
        client.post(f"/api/v1/crm/leads/{lead.pk}/convert", body, content_type="application/json").status_code
        == 409
    )
