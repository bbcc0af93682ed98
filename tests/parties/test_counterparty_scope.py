"""Scope isolation: list, card, global search, CSV/XLSX export and API show exactly the records the role's scope
includes — own (Sales manager), department (Head of sales), all (Director)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

LIST = "/parties/counterparties/"
API = "/api/v1/parties/counterparties"


def list_names(client) -> list[str]:
    response = client.get(LIST, {"view": "0"})
    assert response.status_code == 200
    return [row["cells"][0]["value"] for row in response.context["rows"]]


def search_names(client, query: str = "Robo") -> list[str]:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return [hit.title for group in response.context["groups"] for hit in group.hits]


def csv_names(client) -> list[str]:
    response = client.get(LIST, {"export": "csv", "view": "0"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [row[0] for row in rows[1:]]


def xlsx_names(client) -> list[str]:
    response = client.get(LIST, {"export": "xlsx", "view": "0"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def api_names(client) -> list[str]:
    return [item["name"] for item in client.get(API).json()["items"]]


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("manager", ["Robo Alpha"]),
        ("head", ["Robo Alpha", "Robo Gamma"]),
        ("director", ["Robo Alpha", "Robo Beta", "Robo Gamma"]),
    ],
)
def test_every_surface_shows_exactly_the_scope(org, web_client, api_client, who, visible):
    # given a sales manager, a head of the Sales department and a director
    user = getattr(org, who)
    web, api = web_client(user), api_client(user)
    # when each surface lists counterparties, then each shows the same records: the scope's, sorted by name
    assert list_names(web) == visible
    assert search_names(web) == visible
    assert csv_names(web) == visible
    assert xlsx_names(web) == visible
    assert api_names(api) == visible


@pytest.mark.parametrize("who", ["manager", "head"])
def test_a_record_outside_the_scope_is_not_found_everywhere(org, web_client, api_client, who):
    # given Beta, owned by a manager of the Export department
    user, beta = getattr(org, who), org.outsiders
    web, api = web_client(user), api_client(user)
    # when the manager or the head of Sales opens it by id, then it does not exist for them (404, not 403)
    assert web.get(f"{LIST}{beta.pk}/").status_code == 404
    assert web.get(f"{LIST}{beta.pk}/edit/").status_code == 404
    assert web.post(f"{LIST}{beta.pk}/validate/", {"_field": "name", "name": "x"}).status_code == 404
    assert api.get(f"{API}/{beta.pk}").status_code == 404
    assert search_names(web, "Beta") == []
    assert web.get(f"{LIST}{beta.pk}/delete/").status_code in (403, 404)
    # and nothing about it changed
    beta.refresh_from_db()
    assert (beta.name, beta.responsible_id) == ("Robo Beta", org.outsider.pk)


def test_manager_does_not_see_a_colleagues_record_but_the_head_does(org, web_client):
    gamma = org.colleagues
    assert web_client(org.manager).get(f"{LIST}{gamma.pk}/").status_code == 404
    response = web_client(org.head).get(f"{LIST}{gamma.pk}/")
    assert response.status_code == 200
    assert response.context["object"].name == "Robo Gamma"


def test_a_bulk_action_never_reaches_a_record_outside_the_scope(org, web_client):
    # given the manager ticks their own record and (by forging the form) Beta
    client = web_client(org.manager)
    # when they hand both to the director
    response = client.post(
        LIST, {"action": "set_responsible", "value_set_responsible": str(org.manager.pk), "ids": [org.mine.pk, org.outsiders.pk]}
    )
    assert response.status_code == 302
    # then only their own record was touched (it already was theirs: nothing to change), Beta stays with its owner
    org.outsiders.refresh_from_db()
    assert org.outsiders.responsible_id == org.outsider.pk
    response = client.post(LIST, {"action": "deactivate", "ids": [org.mine.pk, org.outsiders.pk]})
    org.mine.refresh_from_db()
    org.outsiders.refresh_from_db()
    assert (org.mine.is_active, org.outsiders.is_active) == (False, True)
