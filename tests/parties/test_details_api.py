"""API for duplicates (409 unless forced), merge, contacts, addresses, bank accounts and directories."""

from __future__ import annotations

import json

import pytest

from fabrika.parties.models import Contact, Counterparty, Position
from fabrika.parties.services import contact_create, counterparty_create

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_returns_409_with_candidates_unless_forced(org, api_client):
    client = api_client(org.manager)
    before = Counterparty.objects.count()
    response = _post(client, "/api/v1/parties/counterparties", {"name": "ООО Robo Alpha", "tax_id": "7707083893"})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "duplicate_counterparty"
    assert body["candidates"] == [{"id": org.mine.pk, "name": "Robo Alpha", "tax_id": "7707083893", "reasons": ["tax_id", "name"], "similarity": 1.0}]
    assert Counterparty.objects.count() == before
    forced = _post(client, "/api/v1/parties/counterparties?force=true", {"name": "ООО Robo Alpha", "tax_id": "7707083893"})
    assert forced.status_code == 201, forced.content
    in_body = _post(client, "/api/v1/parties/counterparties", {"name": "Robo Alpha 2", "force": True, "roles": ["supplier", "carrier"]})
    assert in_body.status_code == 201
    assert in_body.json()["roles"] == ["supplier", "carrier"]
    assert Counterparty.objects.count() == before + 2


def test_duplicates_endpoint_and_role_filter(org, api_client):
    client = api_client(org.director)
    found = client.get("/api/v1/parties/counterparties/duplicates", {"phone": "+7 (495) 123-45-67"}).json()
    assert [(item["name"], item["reasons"]) for item in found] == [("Robo Gamma", ["phone"])]
    counterparty_create(actor=org.director, data={"name": "Truckers", "is_carrier": True})
    listing = client.get("/api/v1/parties/counterparties", {"role": "carrier"}).json()
    assert [item["name"] for item in listing["items"]] == ["Truckers"]
    assert client.get("/api/v1/parties/counterparties", {"role": "boss"}).status_code == 422


def test_merge_endpoint_needs_both_records_in_scope(org, api_client):
    duplicate = counterparty_create(actor=org.head, data={"name": "Robo Alpha copy", "responsible": org.manager})
    contact_create(actor=org.head, counterparty=duplicate, name="Ivan")
    head = api_client(org.head)
    outside = _post(head, f"/api/v1/parties/counterparties/{org.mine.pk}/merge", {"duplicate_id": org.outsiders.pk})
    assert outside.status_code == 404
    response = _post(head, f"/api/v1/parties/counterparties/{org.mine.pk}/merge", {"duplicate_id": duplicate.pk})
    assert response.status_code == 200, response.content
    assert not Counterparty.objects.filter(pk=duplicate.pk).exists()
    assert list(Contact.objects.filter(counterparty=org.mine).values_list("name", flat=True)) == ["Ivan"]
    manager = api_client(org.manager)  # sales managers may not delete, so they may not merge
    assert _post(manager, f"/api/v1/parties/counterparties/{org.mine.pk}/merge", {"duplicate_id": org.mine.pk}).status_code == 403


def test_contacts_addresses_bank_accounts_crud_and_scope(org, api_client):
    position = Position.objects.create(name="Buyer")
    client = api_client(org.manager)
    base = f"/api/v1/parties/counterparties/{org.mine.pk}"
    contact = _post(client, f"{base}/contacts", {"name": "Ivan", "position_id": position.pk, "phone": "8 495 222 33 44"})
    assert contact.status_code == 201, contact.content
    assert (contact.json()["phone"], contact.json()["is_primary"]) == ("+74952223344", True)
    bad = _post(client, f"{base}/contacts", {"name": "Olga", "email": "olga"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"email"}
    patched = client.patch(f"/api/v1/parties/contacts/{contact.json()['id']}", json.dumps({"note": "Calls on Mondays"}), content_type="application/json")
    assert patched.json()["note"] == "Calls on Mondays"
    address = _post(client, f"{base}/addresses", {"raw": "191186, г. Санкт-Петербург, Невский пр-т, д. 28"})
    assert {key: address.json()[key] for key in ("postcode", "city", "street", "building")} == {
        "postcode": "191186", "city": "Санкт-Петербург", "street": "Невский пр-т", "building": "д. 28"
    }
    account = _post(client, f"{base}/bank-accounts", {"bank_name": "Sberbank", "bic": "044525225", "account": "40702810000000000001"})
    assert account.status_code == 201 and account.json()["is_default"] is True
    assert [item["name"] for item in client.get(f"{base}/contacts").json()] == ["Ivan"]
    other = api_client(org.outsider)
    assert other.get(f"{base}/contacts").status_code == 404
    assert other.delete(f"/api/v1/parties/contacts/{contact.json()['id']}").status_code == 404
    assert _post(other, f"{base}/addresses", {"raw": "x"}).status_code == 404
    assert client.delete(f"/api/v1/parties/contacts/{contact.json()['id']}").status_code == 204
    assert Contact.objects.count() == 0


def test_directories_need_their_own_rights(org, api_client):
    assert _post(api_client(org.manager), "/api/v1/parties/positions", {"name": "Engineer"}).status_code == 403
    head = api_client(org.head)
    created = _post(head, "/api/v1/parties/segments", {"name": "Schools"})
    assert created.status_code == 201
    assert _post(head, "/api/v1/parties/segments", {"name": "schools"}).status_code == 422
    assert [item["name"] for item in api_client(org.manager).get("/api/v1/parties/segments").json()] == ["Schools"]
