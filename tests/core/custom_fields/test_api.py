"""/api/v1/core/custom-fields: CRUD for administrators, 422 problem+json for bad definitions."""

from __future__ import annotations

import json

from fabrika.core.models import AuditEntry
from fabrika.core.models.custom_fields import CustomFieldDefinition
from fabrika.parties.services import counterparty_create

URL = "/api/v1/core/custom-fields"
ENTITY = "parties.counterparty"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_crud(admin_user, api_client):
    client = api_client(admin_user)
    # create
    response = post(client, URL, {
        "entity": ENTITY, "code": "segment", "label": "Segment", "field_type": "multichoice",
        "choices": [{"value": "edu", "label": "Education"}, {"value": "gov"}], "default": ["gov"], "filterable": True,
    })
    assert response.status_code == 201, response.content
    created = response.json()
    assert {key: created[key] for key in ("entity", "context", "code", "field_type", "choices", "default", "required", "is_active", "filterable")} == {
        "entity": ENTITY, "context": "", "code": "segment", "field_type": "multichoice",
        "choices": [{"value": "edu", "label": "Education"}, {"value": "gov", "label": "gov"}], "default": ["gov"],
        "required": False, "is_active": True, "filterable": True,
    }
    detail_url = f"{URL}/{created['id']}"
    # read
    assert client.get(detail_url).json()["label"] == "Segment"
    listing = client.get(URL, {"entity": ENTITY}).json()
    assert [item["code"] for item in listing["items"]] == ["segment"]
    assert client.get(URL, {"entity": "catalog.product"}).json()["items"] == []
    # update
    response = patch(client, detail_url, {"label": "Market segment", "is_active": False})
    assert response.status_code == 200, response.content
    assert (response.json()["label"], response.json()["is_active"]) == ("Market segment", False)
    assert client.get(URL, {"active": "true"}).json()["items"] == []
    # delete
    assert client.delete(detail_url).status_code == 204
    assert CustomFieldDefinition.objects.count() == 0
    assert client.get(detail_url).status_code == 404
    assert list(AuditEntry.objects.filter(content_type__model="customfielddefinition").order_by("id").values_list("action", flat=True)) == [
        "create", "update", "delete",
    ]


def test_entities_lists_what_accepts_custom_fields_and_what_links_can_point_to(admin_user, api_client):
    body = api_client(admin_user).get(f"{URL}/entities").json()
    assert {"entity": ENTITY, "label": "Counterparty"} in body["entities"]
    assert {"entity": "core.user", "label": "User"} in body["link_targets"]
    assert "core.auditentry" not in [item["entity"] for item in body["link_targets"]]


def test_choice_field_without_choices_is_422_and_nothing_is_stored(admin_user, api_client):
    response = post(api_client(admin_user), URL, {"entity": ENTITY, "code": "segment", "label": "Segment", "field_type": "choice"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"choices": ["A choice field needs at least one choice"]}
    assert CustomFieldDefinition.objects.count() == 0


def test_duplicate_code_is_422_and_nothing_is_stored(admin_user, api_client, make_field):
    make_field("segment")
    response = post(api_client(admin_user), URL, {"entity": ENTITY, "code": "segment", "label": "Again", "field_type": "text"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"code": ["The code segment is already used by another field of parties.counterparty"]}
    assert list(CustomFieldDefinition.objects.values_list("label", flat=True)) == ["Segment"]


def test_changing_the_type_is_422_and_nothing_changes(admin_user, api_client, make_field):
    definition = make_field("staff", "integer")
    response = patch(api_client(admin_user), f"{URL}/{definition.pk}", {"field_type": "decimal", "label": "Staff count"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"field_type": ["Cannot be changed once the field exists; create a new field instead"]}
    definition.refresh_from_db()
    assert (definition.field_type, definition.label) == ("integer", "Staff")


def test_deleting_a_field_in_use_is_409(admin_user, api_client, make_field):
    definition = make_field("region")
    counterparty_create(actor=admin_user, data={"name": "Lyceum 239", "custom": {"region": "North"}})
    response = api_client(admin_user).delete(f"{URL}/{definition.pk}")
    assert response.status_code == 409
    assert response.json()["code"] == "custom_field_in_use"
    assert CustomFieldDefinition.objects.filter(pk=definition.pk).exists()


def test_other_roles_cannot_read_or_change_definitions(make_user, api_client, make_field):
    definition = make_field("region")
    client = api_client(make_user("Sales manager"))
    assert client.get(URL).status_code == 403
    assert post(client, URL, {"entity": ENTITY, "code": "x", "label": "X", "field_type": "text"}).status_code == 403
    assert patch(client, f"{URL}/{definition.pk}", {"label": "Hacked"}).status_code == 403
    assert client.delete(f"{URL}/{definition.pk}").status_code == 403
    definition.refresh_from_db()
    assert definition.label == "Region"
    assert CustomFieldDefinition.objects.count() == 1
    # a director may read but not change
    director = api_client(make_user("Director"))
    assert director.get(URL).status_code == 200
    assert patch(director, f"{URL}/{definition.pk}", {"label": "Hacked"}).status_code == 403


def test_counterparty_api_reports_custom_errors_by_field(make_user, api_client, make_field):
    make_field("employees", "integer", required=True)
    client = api_client(make_user("Sales manager"))
    response = post(client, "/api/v1/parties/counterparties", {"name": "Lyceum 239", "custom": {"employees": "many", "ghost": 1}})
    assert response.status_code == 422
    assert response.json()["errors"] == {"custom.employees": ["Enter a whole number"], "custom.ghost": ["Unknown field"]}
    response = post(client, "/api/v1/parties/counterparties", {"name": "Lyceum 239", "custom": {"employees": "120"}})
    assert response.status_code == 201
    assert response.json()["custom"] == {"employees": 120}
