"""Saved list views per user: save, apply, default, replace, delete; private to their owner; API."""

from __future__ import annotations

import json

from fabrika.core.models import AuditEntry, SavedView
from fabrika.core.ui.services import saved_view_save

LIST = "/parties/counterparties/"


def names(response) -> list[str]:
    return [row["cells"][0]["value"] for row in response.context["rows"]]


def test_save_a_view_and_open_it(org, web_client):
    client = web_client(org.director)
    # when the director saves the current filters (page and view are not kept) and columns as "Kazan"
    response = client.post(
        "/ui/saved-views/",
        {"entity": "parties.counterparty", "name": " Kazan ", "query": "q=Beta&sort=-name&page=3&view=9", "cols": ["name", "city"], "next": LIST},
    )
    view = SavedView.objects.get()
    assert (view.user, view.name, view.query, view.columns, view.is_default) == (org.director, "Kazan", "q=Beta&sort=-name", ["name", "city"], False)
    assert response.status_code == 302 and response["Location"] == f"{LIST}?view={view.pk}"
    # then opening it applies its search, sort and columns
    opened = client.get(LIST, {"view": view.pk})
    assert names(opened) == ["Robo Beta"]
    assert opened.context["state"].visible_keys == ["name", "city"]
    assert opened.context["active_view"] == view
    # and the creation is audited
    assert AuditEntry.objects.filter(action="create", content_type__model="savedview", object_id=str(view.pk)).count() == 1


def test_default_view_opens_when_the_list_is_opened_bare(org, web_client):
    saved_view_save(actor=org.director, entity="parties.counterparty", name="Gamma", query="q=Gamma", is_default=True)
    client = web_client(org.director)
    assert names(client.get(LIST)) == ["Robo Gamma"]
    # "All" (view=0) and any explicit filter bypass it
    assert names(client.get(LIST, {"view": "0"})) == ["Robo Alpha", "Robo Beta", "Robo Gamma"]
    assert names(client.get(LIST, {"q": "Alpha"})) == ["Robo Alpha"]


def test_only_one_default_and_saving_the_same_name_replaces(org):
    first = saved_view_save(actor=org.director, entity="parties.counterparty", name="A", query="q=a", is_default=True)
    second = saved_view_save(actor=org.director, entity="parties.counterparty", name="B", query="q=b", is_default=True)
    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    replaced = saved_view_save(actor=org.director, entity="parties.counterparty", name="A", query="q=aa", columns=["name"])
    assert replaced.pk == first.pk
    assert SavedView.objects.filter(user=org.director).count() == 2
    replaced.refresh_from_db()
    assert (replaced.query, replaced.columns) == ("q=aa", ["name"])


def test_views_are_private(org, web_client):
    view = saved_view_save(actor=org.director, entity="parties.counterparty", name="Mine", query="q=Robo")
    client = web_client(org.manager)
    response = client.get(LIST, {"view": view.pk})
    assert response.context["active_view"] is None
    assert response.context["saved_views"] == []
    # and another user cannot delete it
    response = client.post(f"/ui/saved-views/{view.pk}/delete/", {"next": LIST})
    assert response.status_code == 302
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_a_nameless_view_is_refused_and_nothing_saved(org, web_client):
    response = web_client(org.director).post("/ui/saved-views/", {"entity": "parties.counterparty", "name": " ", "next": LIST}, follow=True)
    assert "Name is required" in response.content.decode()
    assert SavedView.objects.count() == 0


def test_delete_own_view(org, web_client):
    view = saved_view_save(actor=org.director, entity="parties.counterparty", name="Old")
    response = web_client(org.director).post(f"/ui/saved-views/{view.pk}/delete/", {"next": LIST})
    assert response["Location"] == f"{LIST}?view=0"
    assert SavedView.objects.count() == 0
    assert AuditEntry.objects.filter(action="delete", content_type__model="savedview", object_id=str(view.pk)).count() == 1


def test_saved_views_api(org, api_client):
    client = api_client(org.manager)
    created = client.post(
        "/api/v1/core/saved-views",
        json.dumps({"entity": "parties.counterparty", "name": "Clients", "query": "role=client", "columns": ["name"], "is_default": True}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("entity", "name", "query", "columns", "is_default")} == {
        "entity": "parties.counterparty", "name": "Clients", "query": "role=client", "columns": ["name"], "is_default": True,
    }
    assert [v["name"] for v in client.get("/api/v1/core/saved-views?entity=parties.counterparty").json()] == ["Clients"]
    assert api_client(org.director).get("/api/v1/core/saved-views").json() == []
    refused = client.post("/api/v1/core/saved-views", json.dumps({"entity": "x", "name": ""}), content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"name": ["Name is required"], "entity": ["Name the record type as app_label.model_name"]}
    assert api_client(org.director).delete(f"/api/v1/core/saved-views/{body['id']}").status_code == 404
    assert client.delete(f"/api/v1/core/saved-views/{body['id']}").status_code == 204
    assert SavedView.objects.count() == 0
