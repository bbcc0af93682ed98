"""Print templates: sandboxed rendering, validation on save (422, form errors), versions, reset, admin pages."""

from __future__ import annotations

import pytest

from fabrika.core import printing
from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry
from fabrika.core.models.printing import PrintTemplate, PrintTemplateVersion

CODE = "inventory.receipt_note"


@pytest.fixture
def template(admin_user):
    return printing.print_template_create(actor=admin_user, document_type=CODE)


def test_registry_discovers_the_inventory_forms():
    codes = [document.code for document in printing.printable_documents()]
    assert {"inventory.receipt_note", "inventory.delivery_note"} <= set(codes)


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("{% include 'core/base.html' %}", "include"),
        ("{% extends 'core/base.html' %}", "extends"),
        ("{% load i18n %}", "i18n"),
        ("{% debug %}", "debug"),
        ("{% for x in lines %}", "endfor"),
        ("{{ lines|nosuchfilter }}", "nosuchfilter"),
    ],
)
def test_unsafe_or_broken_source_is_a_validation_error_on_body(template, admin_user, body, fragment):
    with pytest.raises(ValidationError) as refused:
        printing.print_template_update(actor=admin_user, template_id=template.pk, data={"body": body})
    assert list(refused.value.errors) == ["body"] and fragment in refused.value.errors["body"][0]
    template.refresh_from_db()
    assert template.version == 1 and "labels.title" in template.body


def test_context_must_be_plain_data(admin_user):
    with pytest.raises(TypeError):
        printing.ensure_plain({"user": admin_user})


def test_filters_format_money_words_and_dates_in_the_print_language(db):
    from django.utils import translation

    source = "{% load fabrika_print %}{{ 1234.5|money }}|{{ '1234.50'|money:'RUB' }}|{{ '21.00'|amount_in_words:'RUB' }}|{{ '2026-03-02'|print_date }}"
    context = {"x": 1}
    with translation.override("ru"):
        ru = printing.render_source(source, "", context, paper_size="A4", orientation="portrait")
    with translation.override("en"):
        en = printing.render_source(source, "", context, paper_size="A4", orientation="portrait")
    assert "1\xa0234,50|1\xa0234,50\xa0₽|двадцать один рубль, ноль копеек|2 марта 2026\u202fг." in ru
    assert "1,234.50|RUB1,234.50|twenty-one roubles, zero kopeks|March 2, 2026" in en


def test_external_urls_are_never_fetched():
    with pytest.raises(ValueError):
        printing.refuse_url_fetcher("http://169.254.169.254/latest/meta-data")
    with pytest.raises(ValueError):
        printing.refuse_url_fetcher("file:///etc/passwd")
    pdf = printing.html_to_pdf('<img src="http://example.invalid/x.png"><p style="background:url(file:///etc/passwd)">ok</p>')
    assert pdf.startswith(b"%PDF")


def test_edit_keeps_versions_and_reset_restores_the_default(template, admin_user):
    original = template.body
    printing.print_template_update(actor=admin_user, template_id=template.pk, data={"body": "v2 {{ document.number }}"}, comment="short")
    printing.print_template_reset(actor=admin_user, template_id=template.pk)
    template.refresh_from_db()
    assert template.version == 3 and template.body == original
    versions = list(PrintTemplateVersion.objects.filter(template=template).order_by("version").values_list("version", "body", "comment"))
    assert versions[1] == (2, "v2 {{ document.number }}", "short")
    printing.print_template_restore(actor=admin_user, template_id=template.pk, version=2)
    template.refresh_from_db()
    assert template.version == 4 and template.body == "v2 {{ document.number }}"
    assert AuditEntry.objects.filter(action="update", object_id=str(template.pk)).count() == 3


def test_api_update_with_a_syntax_error_is_422_and_changes_nothing(template, admin_user, api_client):
    client = api_client(admin_user)
    response = client.patch(f"/api/v1/core/print/templates/{template.pk}", {"body": "{% if %}"}, content_type="application/json")
    assert response.status_code == 422
    assert "body" in response.json()["errors"]
    assert PrintTemplate.objects.get(pk=template.pk).version == 1
    ok = client.patch(f"/api/v1/core/print/templates/{template.pk}", {"body": "<p>{{ document.number }}</p>", "comment": "api"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    versions = client.get(f"/api/v1/core/print/templates/{template.pk}/versions").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert client.get("/api/v1/core/print/templates/999999").status_code == 404


def test_api_create_and_types(admin_user, api_client):
    client = api_client(admin_user)
    created = client.post("/api/v1/core/print/templates", {"document_type": CODE, "language": "xx"}, content_type="application/json")
    assert created.status_code == 422 and "language" in created.json()["errors"]
    created = client.post("/api/v1/core/print/templates", {"document_type": CODE, "language": "en", "name": "EN"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["language"] == "en"
    assert CODE in [row["code"] for row in client.get("/api/v1/core/print/types").json()]


def test_admin_pages_list_edit_preview_and_versions(template, admin_user, web_client, make_user):
    client = web_client(admin_user)
    listing = client.get("/settings/print-templates/")
    assert listing.status_code == 200 and "Delivery note" in listing.content.decode()
    form = {"name": "Receipt", "language": "", "paper_size": "A4", "orientation": "portrait", "is_default": "on", "active": "on", "css": ""}
    bad = client.post(f"/settings/print-templates/{template.pk}/", {**form, "body": "{% endif %}", "action": "save"})
    assert bad.status_code == 422 and "Template error" in bad.content.decode()
    preview = client.post(f"/settings/print-templates/{template.pk}/", {**form, "body": "<p>{{ counterparty.name }}</p>", "action": "preview_html"})
    assert preview.status_code == 200 and "<p>Sample supplier</p>" in preview.content.decode()
    pdf = client.post(f"/settings/print-templates/{template.pk}/", {**form, "body": "<p>{{ counterparty.name }}</p>", "action": "preview_pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert PrintTemplate.objects.get(pk=template.pk).version == 1  # previews save nothing
    saved = client.post(f"/settings/print-templates/{template.pk}/", {**form, "body": "<p>{{ counterparty.name }}</p>", "action": "save"})
    assert saved.status_code == 302 and PrintTemplate.objects.get(pk=template.pk).version == 2
    assert client.get(f"/settings/print-templates/{template.pk}/versions/").status_code == 200
    assert client.post(f"/settings/print-templates/{template.pk}/reset/").status_code == 302
    assert web_client(make_user("Sales manager")).get("/settings/print-templates/").status_code == 403
