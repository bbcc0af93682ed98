"""The administrator's custom field pages."""

from __future__ import annotations

from django.urls import reverse

from fabrika.core.models import AuditEntry
from fabrika.core.models.custom_fields import CustomFieldDefinition
from fabrika.parties.services import counterparty_create

ENTITY = "parties.counterparty"


def test_admin_creates_a_field_after_fixing_the_form(admin_user, web_client):
    client = web_client(admin_user)
    url = reverse("core:custom_field_create")
    assert client.get(url, {"entity": ENTITY}).status_code == 200
    # given a choice field submitted without choices
    form = {"entity": ENTITY, "code": "segment", "label": "Segment", "field_type": "choice", "choices": "", "order": "0", "is_active": "on"}
    response = client.post(url, form)
    # then the form comes back with the error beside the field, and nothing is stored
    assert response.status_code == 200
    assert response.context["form"].errors == {"choices": ["A choice field needs at least one choice"]}
    assert "A choice field needs at least one choice" in response.content.decode()
    assert CustomFieldDefinition.objects.count() == 0
    # when the choices are given
    response = client.post(url, {**form, "choices": "edu | Education\ngov", "default": "gov", "filterable": "on"})
    # then the field is stored and the list shows it
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('core:custom_field_list')}?entity=parties.counterparty"
    definition = CustomFieldDefinition.objects.get()
    assert (definition.choices, definition.default, definition.filterable, definition.is_active) == (
        [{"value": "edu", "label": "Education"}, {"value": "gov", "label": "gov"}], "gov", True, True,
    )
    listing = client.get(response["Location"])
    assert listing.status_code == 200
    assert [row.code for row in listing.context["rows"]] == ["segment"]
    assert "Segment" in listing.content.decode()
    assert AuditEntry.objects.filter(action="create", object_id=str(definition.pk), content_type__model="customfielddefinition").count() == 1


def test_admin_edits_a_field_but_not_its_code_or_type(admin_user, web_client, make_field):
    definition = make_field("tags", "multichoice", choices=[{"value": "a", "label": "A"}])
    client = web_client(admin_user)
    url = reverse("core:custom_field_edit", args=[definition.pk])
    page = client.get(url)
    assert page.context["form"].initial["choices"] == "a | A"
    response = client.post(url, {
        "entity": "catalog.product", "code": "hacked", "field_type": "text",  # disabled: ignored
        "label": "Tags", "choices": "a | A\nb | B", "default": "a, b", "order": "3", "is_active": "on", "show_in_list": "on",
    })
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.entity, definition.code, definition.field_type) == (ENTITY, "tags", "multichoice")
    assert (definition.choices, definition.default, definition.order, definition.show_in_list) == (
        [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}], ["a", "b"], 3, True,
    )


def test_admin_deactivates_and_cannot_delete_a_field_in_use(admin_user, web_client, make_field):
    definition = make_field("region")
    counterparty_create(actor=admin_user, data={"name": "Lyceum 239", "custom": {"region": "North"}})
    client = web_client(admin_user)
    response = client.post(reverse("core:custom_field_delete", args=[definition.pk]), follow=True)
    assert "1 record(s) hold a value for Region: deactivate the field instead of deleting it" in response.content.decode()
    assert CustomFieldDefinition.objects.filter(pk=definition.pk).exists()
    client.post(reverse("core:custom_field_deactivate", args=[definition.pk]))
    definition.refresh_from_db()
    assert definition.is_active is False
    client.post(reverse("core:custom_field_activate", args=[definition.pk]))
    definition.refresh_from_db()
    assert definition.is_active is True


def test_pages_need_the_custom_field_permissions(make_user, web_client, make_field):
    definition = make_field("region")
    client = web_client(make_user("Sales manager"))
    assert client.get(reverse("core:custom_field_list")).status_code == 403
    assert client.get(reverse("core:custom_field_create")).status_code == 403
    assert client.post(reverse("core:custom_field_deactivate", args=[definition.pk])).status_code == 403
    definition.refresh_from_db()
    assert definition.is_active is True
    director = web_client(make_user("Director"))
    assert director.get(reverse("core:custom_field_list")).status_code == 200
    assert director.get(reverse("core:custom_field_edit", args=[definition.pk])).status_code == 403
