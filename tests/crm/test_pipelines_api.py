from __future__ import annotations

import json

import pytest

from fabrika.crm.models import Deal, Pipeline
from fabrika.crm.services_pipelines import deal_create

pytestmark = pytest.mark.django_db


def test_admin_creates_a_pipeline_with_stages(admin_user, api_client):
    client = api_client(admin_user)
    body = {"name": "Service", "purpose": "service", "stages": [{"name": "Ticket", "probability": 5}, {"name": "Done", "kind": "won"}]}
    response = client.post("/api/v1/crm/pipelines", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert [(s["name"], s["kind"], s["probability"]) for s in data["stages"]] == [("Ticket", "open", 5), ("Done", "won", 100)]


def test_manager_cannot_configure_pipelines(manager, api_client):
    response = api_client(manager).post("/api/v1/crm/pipelines", json.dumps({"name": "X"}), content_type="application/json")
    assert response.status_code == 403
    assert not Pipeline.objects.filter(name="X").exists()


def test_deal_create_move_and_refusal_via_api(manager, api_client, pipeline, stages, client_party):
    client = api_client(manager)
    body = {"pipeline_id": pipeline.pk, "title": "Kits", "counterparty_id": client_party.pk, "amount": "250.00", "currency": None}
    response = client.post("/api/v1/crm/deals", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    deal = response.json()
    assert deal["amount"] == "250.00" and deal["stage_name"] == "New" and deal["responsible_id"] == manager.pk
    refused = client.post(f"/api/v1/crm/deals/{deal['id']}/move", json.dumps({"stage_id": stages["Negotiation"].pk}), content_type="application/json")
    assert refused.status_code == 409
    assert "expected close" in refused.json()["detail"]
    moved = client.post(f"/api/v1/crm/deals/{deal['id']}/move", json.dumps({"stage_id": stages["Proposal"].pk}), content_type="application/json")
    assert moved.status_code == 200 and moved.json()["stage_name"] == "Proposal"
    history = client.get(f"/api/v1/crm/deals/{deal['id']}/history").json()
    assert [row["stage_name"] for row in history] == ["New", "Proposal"]


def test_bad_deal_input_is_422_with_field_errors(manager, api_client, pipeline, client_party):
    body = {"pipeline_id": pipeline.pk, "title": "", "counterparty_id": client_party.pk, "amount": "abc", "expected_close": "tomorrow"}
    response = api_client(manager).post("/api/v1/crm/deals", json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(response.json()["errors"]) >= {"title", "amount", "expected_close"}
    assert Deal.objects.count() == 0


def test_deals_outside_scope_are_404_and_not_listed(manager, other_manager, api_client, pipeline, client_party):
    mine = deal_create(actor=manager, pipeline=pipeline, title="Mine", counterparty=client_party, amount="10")
    theirs = deal_create(actor=other_manager, pipeline=pipeline, title="Theirs", counterparty=client_party, amount="20")
    client = api_client(manager)
    listed = client.get(f"/api/v1/crm/deals?pipeline={pipeline.pk}").json()
    assert [item["title"] for item in listed["items"]] == ["Mine"]
    assert client.get(f"/api/v1/crm/deals/{theirs.pk}").status_code == 404
    assert client.patch(f"/api/v1/crm/deals/{theirs.pk}", json.dumps({"title": "x"}), content_type="application/json").status_code == 404
    assert client.get(f"/api/v1/crm/deals/{mine.pk}").status_code == 200


def test_deal_list_filters_by_amount(manager, api_client, pipeline, client_party):
    deal_create(actor=manager, pipeline=pipeline, title="Small", counterparty=client_party, amount="10")
    deal_create(actor=manager, pipeline=pipeline, title="Big", counterparty=client_party, amount="1000")
    items = api_client(manager).get("/api/v1/crm/deals?amount_min=100").json()["items"]
    assert [item["title"] for item in items] == ["Big"]
    bad = api_client(manager).get("/api/v1/crm/deals?amount_min=lots")
    assert bad.status_code == 422


def test_kanban_api_counts_and_sums_per_column(manager, api_client, pipeline, stages, client_party):
    deal_create(actor=manager, pipeline=pipeline, title="A", counterparty=client_party, amount="10.10")
    deal_create(actor=manager, pipeline=pipeline, title="B", counterparty=client_party, amount="0.20")
    columns = api_client(manager).get(f"/api/v1/crm/pipelines/{pipeline.pk}/kanban").json()
    new = columns[0]
    assert new["stage"]["name"] == "New" and new["count"] == 2 and new["total"] == "10.30"
    assert columns[1]["count"] == 0 and columns[1]["total"] == "0.00"
