"""The import API: upload (multipart) → preview → commit, error report, scope and permission."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from fabrika.core.models import ImportJob
from fabrika.parties.models import Counterparty

ROWS = [["Название", "ИНН", "Клиент"], ["Лицей 239", 7830002293, "да"], ["", None, "нет"], ["Робокидс", None, "yes"]]


def _upload(client, content: bytes, name: str = "clients.xlsx", entity: str = "parties.counterparty", **headers):
    return client.post("/api/v1/core/imports", {"entity": entity, "file": SimpleUploadedFile(name, content)}, **headers)


def _json(client, path: str, body: dict):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_xlsx_upload_preview_and_commit(make_user, api_client, xlsx):
    client = api_client(make_user())
    # when an xlsx is uploaded
    created = _upload(client, xlsx(ROWS))
    # then its columns and the guessed mapping come back
    assert created.status_code == 201, created.content
    job = created.json()
    assert (job["status"], job["file_format"], job["total_rows"]) == ("uploaded", "xlsx", 3)
    assert job["columns"] == ["Название", "ИНН", "Клиент"]
    assert job["mapping"] == {"Название": "name", "ИНН": "tax_id", "Клиент": "is_client"}
    assert [field["name"] for field in job["fields"]][:3] == ["name", "kind", "is_client"]
    # when previewed with the mapping
    preview = _json(client, f"/api/v1/core/imports/{job['id']}/preview", {"mapping": job["mapping"]})
    # then the bad row is named, with its column and rule, and nothing is written
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert (body["valid_rows"], body["invalid_rows"]) == (2, 1)
    assert body["errors"] == [{"row": 3, "column": "Название", "field": "name", "value": "", "message": "Required"}]
    assert [row["row"] for row in body["rows"]] == [2, 3, 4]
    assert Counterparty.objects.count() == 0
    # when committed, valid rows only
    committed = _json(client, f"/api/v1/core/imports/{job['id']}/commit", {"mode": "valid_only"})
    assert committed.status_code == 200
    assert (committed.json()["status"], committed.json()["created_count"]) == ("completed", 2)
    assert sorted(Counterparty.objects.values_list("name", "tax_id", "is_client")) == [("Лицей 239", "7830002293", True), ("Робокидс", "", True)]


def test_error_report_lists_the_rejected_rows_with_their_errors(make_user, api_client):
    client = api_client(make_user())
    job = _upload(client, "Name;City\nGood;Kazan\n;Perm\n".encode("cp1251"), name="clients.csv").json()
    _json(client, f"/api/v1/core/imports/{job['id']}/commit", {"mode": "all_or_nothing"})
    report = client.get(f"/api/v1/core/imports/{job['id']}/errors.csv")
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert report.content.decode("utf-8-sig") == "Row;Name;City;Errors\r\n3;;Perm;Name: Required\r\n"
    assert Counterparty.objects.count() == 0


def test_commit_with_an_unknown_mode_is_422(make_user, api_client):
    client = api_client(make_user())
    job = _upload(client, b"Name\nA\n", name="a.csv").json()
    response = _json(client, f"/api/v1/core/imports/{job['id']}/commit", {"mode": "whatever"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"mode": ["Must be one of: all_or_nothing, valid_only"]}
    assert Counterparty.objects.count() == 0


def test_a_bad_file_is_422_naming_the_file(make_user, api_client):
    response = _upload(api_client(make_user()), b"%PDF-1.4", name="scan.pdf")
    assert response.status_code == 422
    assert response.json()["errors"] == {"file": ["Upload an .xlsx or .csv file"]}
    assert ImportJob.objects.count() == 0


def test_a_user_without_add_permission_is_refused(make_user, api_client):
    # given a storekeeper (may view counterparties, not add them)
    client = api_client(make_user("Storekeeper"))
    response = _upload(client, b"Name\nA\n", name="a.csv")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ImportJob.objects.count() == 0
    # and the entity is not offered to them
    assert client.get("/api/v1/core/imports/entities").json() == []


def test_another_users_import_is_404(make_user, api_client):
    owner_client = api_client(make_user())
    job = _upload(owner_client, b"Name\nA\n", name="a.csv").json()
    other = api_client(make_user())
    assert other.get(f"/api/v1/core/imports/{job['id']}").status_code == 404
    assert _json(other, f"/api/v1/core/imports/{job['id']}/commit", {"mode": "valid_only"}).status_code == 404
    assert other.get(f"/api/v1/core/imports/{job['id']}/errors.csv").status_code == 404
    assert Counterparty.objects.count() == 0


def test_upload_honours_the_idempotency_key(make_user, api_client):
    client = api_client(make_user())
    first = _upload(client, b"Name\nA\n", name="a.csv", HTTP_IDEMPOTENCY_KEY="upload-1")
    again = _upload(client, b"Name\nA\n", name="a.csv", HTTP_IDEMPOTENCY_KEY="upload-1")
    other = _upload(client, b"Name\nB\n", name="a.csv", HTTP_IDEMPOTENCY_KEY="upload-1")
    assert again.json()["id"] == first.json()["id"] and again["Idempotency-Replayed"] == "true"
    assert other.status_code == 422
    assert ImportJob.objects.count() == 1


def test_entities_list_the_importable_types_and_their_fields(make_user, api_client):
    body = api_client(make_user()).get("/api/v1/core/imports/entities").json()
    assert [(item["entity"], item["label"]) for item in body] == [("parties.counterparty", "Counterparties"), ("crm.lead", "Leads")]
    assert body[0]["fields"][0] == {"name": "name", "label": "Name", "required": True, "help_text": ""}
