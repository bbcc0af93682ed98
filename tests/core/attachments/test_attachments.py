from __future__ import annotations

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fabrika.core.attachments import attachment_upload, attachments_for_record
from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry
from fabrika.core.models.attachments import Attachment

ENTITY = "parties.counterparty"
API = "/api/v1/core/attachments"


def _stored_files(media_root) -> list[str]:
    if not media_root.exists():
        return []
    return sorted(name for _dir, _dirs, files in os.walk(media_root) for name in files)


def _url(counterparty) -> str:
    return f"{API}?entity={ENTITY}&object_id={counterparty.pk}"


def test_upload_list_download_delete_through_the_api(
    api_client, manager, counterparty, media_root, django_capture_on_commit_callbacks
):
    client = api_client(manager)
    # when Anna uploads a drawing
    upload = SimpleUploadedFile("Drawing v2.pdf", b"%PDF-1.4 robot arm", content_type="application/pdf")
    response = client.post(_url(counterparty), {"file": upload})
    # then it is stored under a random name, with its original name and size
    assert response.status_code == 201
    body = response.json()
    attachment = Attachment.objects.get()
    assert {k: body[k] for k in ("id", "name", "size", "content_type", "uploaded_by_id", "download_url")} == {
        "id": attachment.pk,
        "name": "Drawing v2.pdf",
        "size": 18,
        "content_type": "application/pdf",
        "uploaded_by_id": manager.pk,
        "download_url": f"/api/v1/core/attachments/{attachment.pk}/download",
    }
    assert attachment.file.name.startswith("attachments/") and attachment.file.name.endswith(".pdf")
    assert len(_stored_files(media_root)) == 1
    entry = AuditEntry.objects.get(action="attach")
    assert (entry.object_id, entry.changes, entry.message) == (
        str(counterparty.pk),
        {"file": "Drawing v2.pdf", "size": 18},
        "Drawing v2.pdf (18 bytes)",
    )
    # the list shows it
    assert [item["name"] for item in client.get(_url(counterparty)).json()] == ["Drawing v2.pdf"]
    # the download streams it with the original name
    download = client.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 robot arm"
    assert download["Content-Disposition"] == 'attachment; filename="Drawing v2.pdf"'
    assert download["Content-Type"] == "application/pdf"
    # deleting it removes the row and the file, audited
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{API}/{attachment.pk}").status_code == 204
    assert Attachment.objects.count() == 0
    assert _stored_files(media_root) == []
    assert AuditEntry.objects.get(action="delete").changes == {"file": ["Drawing v2.pdf", None]}


def test_too_large_file_is_refused_and_nothing_is_stored(api_client, manager, counterparty, media_root):
    # given a limit of 1000 bytes (conftest) and a 1001-byte file
    upload = SimpleUploadedFile("big.pdf", b"x" * 1001, content_type="application/pdf")
    response = api_client(manager).post(_url(counterparty), {"file": upload})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "file": ["The file is 1001 bytes; the limit is 1000 bytes (1000 bytes)"]
    }
    assert Attachment.objects.count() == 0
    assert _stored_files(media_root) == []
    assert AuditEntry.objects.filter(action="attach").count() == 0


def test_file_at_the_limit_is_accepted(manager, counterparty):
    upload = SimpleUploadedFile("exact.txt", b"x" * 1000, content_type="text/plain")
    assert attachment_upload(actor=manager, record=counterparty, upload=upload).size == 1000


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("virus.exe", "Files of type .exe are not accepted; allowed: pdf, png, txt"),
        ("README", "Files of type no extension are not accepted; allowed: pdf, png, txt"),
        ("script.PDF.sh", "Files of type .sh are not accepted; allowed: pdf, png, txt"),
    ],
)
def test_file_type_outside_the_list_is_refused(manager, counterparty, media_root, name, message):
    with pytest.raises(ValidationError) as error:
        attachment_upload(actor=manager, record=counterparty, upload=SimpleUploadedFile(name, b"data"))
    assert error.value.errors == {"file": [message]}
    assert Attachment.objects.count() == 0
    assert _stored_files(media_root) == []


def test_upper_case_extension_and_path_in_name_are_normalised(manager, counterparty):
    attachment = attachment_upload(
        actor=manager,
        record=counterparty,
        upload=SimpleUploadedFile("C:\\Users\\anna\\Photo.PNG", b"\x89PNG"),
    )
    assert attachment.original_name == "Photo.PNG"
    assert attachment.mime_type == "image/png"


def test_empty_file_and_missing_file_are_refused(api_client, manager, counterparty):
    with pytest.raises(ValidationError) as error:
        attachment_upload(actor=manager, record=counterparty, upload=SimpleUploadedFile("empty.txt", b""))
    assert error.value.errors == {"file": ["The file is empty"]}
    response = api_client(manager).post(_url(counterparty), {})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["file"]
    assert Attachment.objects.count() == 0


def test_another_manager_gets_404_for_list_upload_download_delete(
    api_client, manager, other_manager, counterparty, media_root
):
    # given Anna's counterparty with a file
    attachment = attachment_upload(
        actor=manager, record=counterparty, upload=SimpleUploadedFile("offer.pdf", b"%PDF")
    )
    client = api_client(other_manager)
    # then Boris sees nothing of it
    assert client.get(_url(counterparty)).status_code == 404
    assert client.post(_url(counterparty), {"file": SimpleUploadedFile("x.pdf", b"%PDF")}).status_code == 404
    assert client.get(f"{API}/{attachment.pk}/download").status_code == 404
    assert client.delete(f"{API}/{attachment.pk}").status_code == 404
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["offer.pdf"]
    assert len(_stored_files(media_root)) == 1


def test_read_only_role_may_download_but_not_upload_or_delete(api_client, make_user, manager, counterparty):
    # given a storekeeper (sees all counterparties, changes none)
    storekeeper = make_user("Storekeeper", username="stan")
    attachment = attachment_upload(
        actor=manager, record=counterparty, upload=SimpleUploadedFile("offer.pdf", b"%PDF")
    )
    client = api_client(storekeeper)
    assert client.get(f"{API}/{attachment.pk}/download").status_code == 200
    assert client.post(_url(counterparty), {"file": SimpleUploadedFile("x.pdf", b"%PDF")}).status_code == 403
    assert client.delete(f"{API}/{attachment.pk}").status_code == 403
    assert Attachment.objects.count() == 1


def test_card_partial_uploads_with_htmx_and_shows_the_limit_error(
    web_client, manager, counterparty, media_root
):
    client = web_client(manager)
    url = reverse("core:record_attachments", kwargs={"entity": ENTITY, "object_id": counterparty.pk})
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "No files attached." in panel and 'accept=".pdf,.png,.txt"' in panel
    # a file of a refused type: the panel comes back with the error beside the file field
    response = client.post(url, {"file": SimpleUploadedFile("tool.exe", b"MZ")}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert ">Files of type .exe are not accepted; allowed: pdf, png, txt</p>" in response.content.decode()
    assert Attachment.objects.count() == 0
    # an accepted one is listed
    response = client.post(url, {"file": SimpleUploadedFile("photo.png", b"\x89PNG")}, HTTP_HX_REQUEST="true")
    attachment = Attachment.objects.get()
    assert (
        f'href="/attachments/{attachment.pk}/download/" download>photo.png</a>' in response.content.decode()
    )
    # downloading from the page, and deleting
    download = client.get(reverse("core:attachment_download", args=[attachment.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="photo.png"'
    response = client.post(reverse("core:attachment_delete", args=[attachment.pk]), HTTP_HX_REQUEST="true")
    assert "No files attached." in response.content.decode()
    assert Attachment.objects.count() == 0


def test_card_partial_of_another_managers_record_is_404(web_client, other_manager, manager, counterparty):
    attachment = attachment_upload(
        actor=manager, record=counterparty, upload=SimpleUploadedFile("offer.pdf", b"%PDF")
    )
    client = web_client(other_manager)
    assert (
        client.get(
            reverse("core:record_attachments", kwargs={"entity": ENTITY, "object_id": counterparty.pk})
        ).status_code
        == 404
    )
    assert client.get(reverse("core:attachment_download", args=[attachment.pk])).status_code == 404
    assert client.post(reverse("core:attachment_delete", args=[attachment.pk])).status_code == 404
    assert [a.original_name for a in attachments_for_record(counterparty)] == ["offer.pdf"]
