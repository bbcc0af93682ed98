"""The import pages: upload → mapping → preview → commit → result, refusals shown beside the fields."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fabrika.core.models import ImportJob
from fabrika.parties.models import Counterparty

CSV = "Name;E-mail\nAlpha;alpha@example.com\nBeta;not-mail\n"


def _upload(client, content: bytes = CSV.encode(), name: str = "clients.csv"):
    return client.post(reverse("core:import_start"), {"entity": "parties.counterparty", "file": SimpleUploadedFile(name, content)})


def test_the_whole_journey(make_user, web_client):
    client = web_client(make_user())
    # upload → redirected to the mapping, with the guesses preselected and sample values shown
    assert client.get(reverse("core:import_start")).status_code == 200
    response = _upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("core:import_mapping", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert '<option value="name" selected>' in page
    assert "alpha@example.com" in page
    # mapping → preview, which lists the bad row and its error; nothing written
    response = client.post(reverse("core:import_mapping", args=[job.pk]), {"column_0": "name", "column_1": "email"})
    assert response["Location"] == reverse("core:import_preview", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Enter a valid e-mail address, e.g. name@example.com" in page
    assert Counterparty.objects.count() == 0
    # commit all-or-nothing → result says nothing was imported
    response = client.post(reverse("core:import_preview", args=[job.pk]), {"mode": "all_or_nothing"})
    assert response["Location"] == reverse("core:import_result", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page
    assert Counterparty.objects.count() == 0
    # back to the preview, commit only the valid rows → one record, the error report downloadable
    response = client.post(reverse("core:import_preview", args=[job.pk]), {"mode": "valid_only"})
    page = client.get(response["Location"]).content.decode()
    assert "1 record created." in page
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["Alpha"]
    report = client.get(reverse("core:import_errors", args=[job.pk]))
    assert report.content.decode("utf-8-sig") == "Row;Name;E-mail;Errors\r\n3;Beta;not-mail;E-mail: Enter a valid e-mail address, e.g. name@example.com\r\n"


def test_a_mapping_without_the_required_field_is_shown_on_the_form(make_user, web_client):
    client = web_client(make_user())
    _upload(client)
    job = ImportJob.objects.get()
    response = client.post(reverse("core:import_mapping", args=[job.pk]), {"column_0": "", "column_1": "email"})
    assert response.status_code == 200
    assert "Map a column to the required field “Name”" in response.content.decode()
    assert ImportJob.objects.get().status == "uploaded"


def test_a_bad_file_is_shown_beside_the_file_field(make_user, web_client):
    client = web_client(make_user())
    response = _upload(client, b"%PDF", name="scan.pdf")
    assert response.status_code == 200
    assert "Upload an .xlsx or .csv file" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_user_without_add_permission_cannot_import(make_user, web_client):
    client = web_client(make_user("Storekeeper"))
    page = client.get(reverse("core:import_start")).content.decode()
    assert "Your role does not allow creating any record type that can be imported." in page
    response = _upload(client)
    assert response.status_code == 200
    assert ImportJob.objects.count() == 0
    assert Counterparty.objects.count() == 0


def test_another_users_import_is_404(make_user, web_client):
    _upload(web_client(make_user()))
    job = ImportJob.objects.get()
    other = web_client(make_user())
    for name in ("core:import_mapping", "core:import_preview", "core:import_result", "core:import_errors"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404
