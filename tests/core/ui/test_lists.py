"""The generic list on its first consumer, the counterparty list: filters, sort, search, columns, pages, htmx,
query count and export (content and audit)."""

from __future__ import annotations

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from fabrika.core.models import AuditEntry
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create

LIST = "/parties/counterparties/"


def names(response) -> list[str]:
    return [row["cells"][0]["value"] for row in response.context["rows"]]


def test_list_query_count_does_not_grow_with_rows(org, web_client):
    # given the director's list with 3 rows
    client = web_client(org.director)
    client.get(LIST)  # warm the content-type and session caches
    with CaptureQueriesContext(connection) as three_rows:
        assert client.get(LIST).status_code == 200
    # when 30 more counterparties of several responsible users exist
    for number in range(30):
        counterparty_create(actor=[org.manager, org.colleague, org.outsider][number % 3], data={"name": f"Extra {number:02d}"})
    with CaptureQueriesContext(connection) as many_rows:
        response = client.get(LIST)
    # then the page shows them all with the same number of queries
    assert len(response.context["rows"]) == 33
    assert len(many_rows) == len(three_rows), [q["sql"] for q in many_rows.captured_queries]


def test_search_filters_and_sort(org, web_client):
    client = web_client(org.director)
    # search by name, tax id, e-mail or phone
    assert names(client.get(LIST, {"q": "alpha@"})) == ["Robo Alpha"]
    assert names(client.get(LIST, {"q": "7707083893"})) == ["Robo Alpha"]
    assert names(client.get(LIST, {"q": "+7495"})) == ["Robo Gamma"]
    # filter by responsible, sort by name descending
    assert names(client.get(LIST, {"responsible": str(org.manager.pk)})) == ["Robo Alpha"]
    assert names(client.get(LIST, {"sort": "-name"})) == ["Robo Gamma", "Robo Beta", "Robo Alpha"]
    # sort by a column that is not sortable falls back to the default (name)
    response = client.get(LIST, {"sort": "notes"})
    assert response.context["state"].sort == "name"
    assert names(response) == ["Robo Alpha", "Robo Beta", "Robo Gamma"]


def test_role_active_and_date_filters(org, web_client):
    client = web_client(org.director)
    org.mine.is_client = True
    org.mine.save(update_fields=["is_client"])
    assert names(client.get(LIST, {"role": "client"})) == ["Robo Alpha"]
    Counterparty.objects.filter(pk=org.colleagues.pk).update(is_active=False)
    assert names(client.get(LIST, {"active": "no"})) == ["Robo Gamma"]
    assert names(client.get(LIST, {"active": "yes"})) == ["Robo Alpha", "Robo Beta"]
    assert names(client.get(LIST, {"created_from": "2000-01-01", "created_to": "2000-12-31"})) == []


def test_bad_filter_values_are_reported_and_ignored(org, web_client):
    client = web_client(org.director)
    response = client.get(LIST, {"kind": "robot", "created_from": "31.12.2024"})
    assert response.status_code == 200
    assert response.context["state"].errors == {
        "kind": ["Choose one of the offered values"],
        "created_from": ["Enter a date as YYYY-MM-DD"],
    }
    assert names(response) == ["Robo Alpha", "Robo Beta", "Robo Gamma"]
    assert "Enter a date as YYYY-MM-DD" in response.content.decode()


def test_column_chooser_and_unknown_columns(org, web_client):
    client = web_client(org.director)
    response = client.get(LIST, {"cols": ["name", "email", "bogus"], "q": "Alpha"})
    assert response.context["state"].visible_keys == ["name", "email"]
    assert [cell["value"] for cell in response.context["rows"][0]["cells"]] == ["Robo Alpha", "alpha@example.com"]
    # the default columns when none is chosen
    assert client.get(LIST).context["state"].visible_keys == ["name", "roles", "tax_id", "phone", "city", "responsible"]


def test_pagination(org, web_client):
    for number in range(60):
        counterparty_create(actor=org.director, data={"name": f"Zeta {number:02d}"})
    client = web_client(org.director)
    first = client.get(LIST)
    assert (len(first.context["rows"]), first.context["page"].paginator.count) == (50, 63)
    second = client.get(LIST, {"page": "2"})
    assert names(second) == [f"Zeta {n:02d}" for n in range(47, 60)]
    assert "Page 2 of 2" in second.content.decode()


def test_htmx_request_gets_only_the_results(org, web_client):
    client = web_client(org.director)
    response = client.get(LIST, {"q": "Beta"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="list-filters"' not in body
    assert "Robo Beta" in body and "Robo Alpha" not in body
    full = client.get(LIST, {"q": "Beta"}).content.decode()
    assert "<html" in full and 'id="list-results"' in full


def test_xlsx_export_has_the_filtered_rows_and_is_audited(org, web_client):
    # given two counterparties match "Robo A|Robo G" only through a search on "Robo" narrowed to Sales people
    client = web_client(org.head)
    # when the head exports the list sorted by name descending with chosen columns
    response = client.get(LIST, {"export": "xlsx", "sort": "-name", "cols": ["name", "tax_id", "email", "phone", "is_active"]})
    # then the workbook holds exactly those rows and columns
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="parties-counterparty-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["Name", "Tax ID", "E-mail", "Phone", "Active"],
        ["Robo Gamma", None, None, "+74951234567", "Yes"],
        ["Robo Alpha", "7707083893", "alpha@example.com", None, "Yes"],
    ]
    # and the export is in the audit log with its row count
    entry = AuditEntry.objects.get(action="export")
    assert entry.actor == org.head
    assert entry.changes == {
        "entity": "parties.counterparty",
        "format": "xlsx",
        "rows": 2,
        "columns": ["name", "tax_id", "email", "phone", "is_active"],
        "query": "sort=-name",
    }
    assert entry.message == "parties.counterparty: 2 rows to XLSX"


def test_csv_export_of_a_search_and_formula_text_is_defused(org, web_client):
    counterparty_create(actor=org.director, data={"name": "=HYPERLINK(\"http://evil\")"})
    client = web_client(org.director)
    response = client.get(LIST, {"export": "csv", "q": "H", "cols": ["name", "phone"]})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["Name", "Phone"], ["'=HYPERLINK(\"http://evil\")", ""], ["Robo Alpha", ""]]
    # the same text in XLSX stays text, never a formula
    sheet = load_workbook(io.BytesIO(client.get(LIST, {"export": "xlsx", "q": "HYPER", "cols": ["name"]}).content)).active
    assert sheet["A2"].value == "=HYPERLINK(\"http://evil\")" and sheet["A2"].data_type == "s"
    assert list(AuditEntry.objects.filter(action="export").values_list("changes__rows", flat=True).order_by("id")) == [2, 1]


def test_export_in_an_unknown_format_is_refused_and_not_audited(org, web_client):
    response = web_client(org.director).get(LIST, {"export": "pdf"})
    assert response.status_code == 200
    assert "Choose one of: csv, xlsx" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_role_without_view_permission_gets_403(org, make_user, web_client):
    nobody = make_user(role="", username="nobody")
    assert web_client(nobody).get(LIST).status_code == 403
    assert web_client(nobody).get(LIST, {"export": "csv"}).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()
