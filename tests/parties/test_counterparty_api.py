from __future__ import annotations

import json

from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create


def test_create_list_detail(make_user, api_client):
    manager = make_user()
    client = api_client(manager)
    response = client.post("/api/v1/parties/counterparties", json.dumps({"name": "Lyceum 239"}), content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["responsible_id"] == manager.pk
    listing = client.get("/api/v1/parties/counterparties").json()
    assert [item["name"] for item in listing["items"]] == ["Lyceum 239"]
    assert client.get(f"/api/v1/parties/counterparties/{created['id']}").json()["name"] == "Lyceum 239"


def test_validation_error_is_problem_json(make_user, api_client):
    client = api_client(make_user())
    response = client.post("/api/v1/parties/counterparties", json.dumps({"name": "", "email": "x"}), content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body["errors"]) == {"name", "email"}
    assert Counterparty.objects.count() == 0


def test_scope_hides_other_managers_records(make_user, api_client):
    owner, other = make_user(), make_user()
    party = counterparty_create(actor=owner, data={"name": "Owner's client"})
    client = api_client(other)
    assert client.get(f"/api/v1/parties/counterparties/{party.pk}").status_code == 404
    assert client.get("/api/v1/parties/counterparties").json()["items"] == []
    assert client.patch(f"/api/v1/parties/counterparties/{party.pk}", json.dumps({"name": "x"}), content_type="application/json").status_code == 404


def test_unauthenticated_is_401(db, client):
    response = client.get("/api/v1/parties/counterparties")
    assert response.status_code == 401


def test_create_with_idempotency_key_is_safe_to_retry(make_user, api_client):
    # given a create sent twice with the same key (a client retrying after a timeout)
    client = api_client(make_user())
    body = json.dumps({"name": "Retry Ltd", "is_client": True})
    first = client.post("/api/v1/parties/counterparties", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c0ffee")
    second = client.post("/api/v1/parties/counterparties", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="c0ffee")
    # then one counterparty, and the retry got the same answer
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotency-Replayed"] == "true"
    assert Counterparty.objects.count() == 1


def test_list_pages_follow_next_cursor(make_user, api_client):
    user = make_user()
    for name in ("C", "A", "B"):
        counterparty_create(actor=user, data={"name": name})
    client = api_client(user)
    first = client.get("/api/v1/parties/counterparties?limit=2").json()
    second = client.get(f"/api/v1/parties/counterparties?limit=2&cursor={first['next_cursor']}").json()
    assert [item["name"] for item in first["items"]] == ["A", "B"]
    assert [item["name"] for item in second["items"]] == ["C"]
    assert (first["count"], second["next_cursor"]) == (3, None)
