"""Forms with inline validation: errors beside each field, an htmx endpoint that validates one field without saving,
custom fields in the form, the card and the list."""

from __future__ import annotations

from django import forms

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, CustomFieldDefinition
from fabrika.core.ui.forms import apply_errors
from fabrika.parties.models import Counterparty

NEW = "/parties/counterparties/new/"
VALIDATE_NEW = "/parties/counterparties/new/validate/"
BAD_INN = "7707083894"  # the checksum digit is wrong
GOOD_INN = "7707083893"


def test_inline_validation_names_the_rule_and_saves_nothing(org, web_client):
    client = web_client(org.manager)
    # when the tax id field changes to an INN with a wrong checksum
    response = client.post(VALIDATE_NEW, {"_field": "tax_id", "name": "Lyceum", "kind": "organisation", "tax_id": BAD_INN})
    # then only that field comes back, with the rule beside it
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div class="field has-error"') and 'id="field-tax_id"' in body
    assert '<p class="error" role="alert" id="error-tax_id">The INN checksum does not match: check the digits</p>' in body
    assert f'value="{BAD_INN}"' in body
    # and a valid INN clears the error
    body = client.post(VALIDATE_NEW, {"_field": "tax_id", "name": "Lyceum", "kind": "organisation", "tax_id": GOOD_INN}).content.decode()
    assert "has-error" not in body and "error-tax_id" not in body
    # the form's own checks come first: an empty name is required
    body = client.post(VALIDATE_NEW, {"_field": "name", "name": "", "kind": "organisation"}).content.decode()
    assert "This field is required." in body
    # an e-mail, checked as the user leaves the field
    body = client.post(VALIDATE_NEW, {"_field": "email", "name": "x", "kind": "organisation", "email": "nobody@"}).content.decode()
    assert "Enter a valid email address." in body
    # nothing was saved or audited
    assert Counterparty.objects.count() == 3
    assert AuditEntry.objects.filter(action="create", content_type__model="counterparty").count() == 3


def test_unknown_field_answers_no_content(org, web_client):
    assert web_client(org.manager).post(VALIDATE_NEW, {"_field": "password"}).status_code == 204


def test_create_shows_service_errors_beside_fields_then_saves(org, web_client):
    client = web_client(org.manager)
    # given a form with a bad INN and a bad phone
    response = client.post(NEW, {"name": "Lyceum 239", "kind": "organisation", "tax_id": BAD_INN, "phone": "12"})
    # then the page shows each error beside its field and nothing is saved
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"tax_id": ["The INN checksum does not match: check the digits"], "phone": ["Not a valid phone number for its country"]}
    assert 'id="error-tax_id"' in response.content.decode()
    assert not Counterparty.objects.filter(name="Lyceum 239").exists()
    # when fixed, the valid INN is Robo Alpha's: the form warns of the possible duplicate and still saves nothing
    fixed = {"name": "Lyceum 239", "kind": "organisation", "tax_id": GOOD_INN, "phone": "+7 812 555-01-02"}
    response = client.post(NEW, fixed)
    assert response.status_code == 200
    assert response.context["duplicates"] == [
        {"name": "Robo Alpha", "reasons": "same tax ID", "url": f"/parties/counterparties/{org.mine.pk}/", "responsible": str(org.manager)}
    ]
    assert 'id="duplicate-warning"' in response.content.decode() and "force" in response.context["form"].fields
    assert not Counterparty.objects.filter(name="Lyceum 239").exists()
    # when confirmed ("create anyway"), the counterparty is created with the author responsible, and the card opens
    response = client.post(NEW, {**fixed, "force": "on"})
    created = Counterparty.objects.get(name="Lyceum 239")
    assert response.status_code == 302 and response["Location"] == f"/parties/counterparties/{created.pk}/"
    assert (created.tax_id, created.phone, created.responsible, created.is_active) == (GOOD_INN, "+78125550102", org.manager, True)


def test_the_form_renders_htmx_validation_on_every_field(org, web_client):
    body = web_client(org.manager).get(NEW).content.decode()
    assert f'hx-post="{VALIDATE_NEW}"' in body
    assert """hx-vals='{"_field": "tax_id"}'""" in body


def test_edit_with_an_error_keeps_the_record(org, web_client):
    client = web_client(org.manager)
    url = f"/parties/counterparties/{org.mine.pk}/edit/"
    response = client.post(url, {"name": "Robo Alpha 2", "kind": "organisation", "email": "bad", "responsible": org.manager.pk, "is_active": "on"})
    assert response.context["form"].errors == {"email": ["Enter a valid email address."]}
    org.mine.refresh_from_db()
    assert org.mine.name == "Robo Alpha"
    response = client.post(url, {"name": "Robo Alpha 2", "kind": "organisation", "tax_id": GOOD_INN, "responsible": org.manager.pk, "is_active": "on"})
    assert response.status_code == 302
    org.mine.refresh_from_db()
    assert (org.mine.name, org.mine.email) == ("Robo Alpha 2", "")


def test_custom_fields_in_form_card_list_and_filter(org, web_client):
    # given a choice custom field shown in lists and filterable
    CustomFieldDefinition.objects.create(
        entity="parties.counterparty", code="segment", label="Segment", field_type="choice",
        choices=[{"value": "school", "label": "School"}, {"value": "club", "label": "Robot club"}],
        show_in_list=True, filterable=True,
    )
    client = web_client(org.manager)
    # the form has it, and saving stores the value
    assert "custom_segment" in client.get(NEW).context["form"].fields
    response = client.post(NEW, {"name": "Club 1", "kind": "organisation", "custom_segment": "club"})
    assert response.status_code == 302
    club = Counterparty.objects.get(name="Club 1")
    assert club.custom == {"segment": "club"}
    # a value outside the choices is refused beside the field
    response = client.post(NEW, {"name": "Club 2", "kind": "organisation", "custom_segment": "pub"})
    assert "custom_segment" in response.context["form"].errors
    assert not Counterparty.objects.filter(name="Club 2").exists()
    # the card shows it by label
    card = client.get(f"/parties/counterparties/{club.pk}/")
    assert ("Segment", "Robot club") in [(str(f.label), f.value) for f in card.context["card_fields"]]
    # the list offers the column and the filter
    listing = client.get("/parties/counterparties/", {"cols": ["name", "cf_segment"], "cf_segment": "club"})
    assert [[c["value"] for c in row["cells"]] for row in listing.context["rows"]] == [["Club 1", "Robot club"]]
    assert [f.code for f in listing.context["state"].custom_filters] == ["segment"]
    # and a bad filter value is reported, not a crash
    bad = client.get("/parties/counterparties/", {"cf_segment": "pub"})
    assert bad.status_code == 200 and list(bad.context["state"].errors) == ["cf_segment"]


def test_service_errors_for_custom_values_land_on_their_form_fields():
    class Sample(forms.Form):
        name = forms.CharField()
        custom_segment = forms.CharField()

    form = Sample({"name": "x", "custom_segment": "y"})
    assert form.is_valid()
    apply_errors(form, ValidationError({"custom.segment": ["Not one of the choices"], "custom.gone": ["Unknown field"], "name": ["Taken"]}))
    assert form.errors == {"custom_segment": ["Not one of the choices"], "__all__": ["Unknown field"], "name": ["Taken"]}
