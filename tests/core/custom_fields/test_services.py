"""Custom field definitions: validation, immutability, deactivation, deletion and the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from fabrika.core.custom_fields import custom_field_entities, definitions_for
from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.core.models.custom_fields import CustomFieldDefinition
from fabrika.core.services_custom_fields import (
    custom_field_activate,
    custom_field_create,
    custom_field_deactivate,
    custom_field_delete,
    custom_field_update,
)
from fabrika.parties.services import counterparty_create

ENTITY = "parties.counterparty"


def refused(actor, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        custom_field_create(actor=actor, data=data)
    return caught.value.errors


def audit_for(definition) -> list[AuditEntry]:
    content_type = ContentType.objects.get_for_model(CustomFieldDefinition)
    return list(AuditEntry.objects.filter(content_type=content_type, object_id=str(definition.pk)).order_by("id"))


def test_create_stores_the_definition_and_records_audit_and_event(admin_user):
    # when an administrator adds a choice field
    definition = custom_field_create(
        actor=admin_user,
        data={
            "entity": ENTITY,
            "code": "segment",
            "label": "Segment",
            "help_text": "Market segment",
            "field_type": "choice",
            "choices": [{"value": "edu", "label": "Education"}, "retail"],
            "default": "edu",
            "required": True,
            "order": 5,
            "show_in_list": True,
            "filterable": True,
        },
    )
    # then it is stored with normalised choices
    definition.refresh_from_db()
    assert definition.choices == [{"value": "edu", "label": "Education"}, {"value": "retail", "label": "retail"}]
    assert (definition.default, definition.context, definition.is_active) == ("edu", "", True)
    # and an audit entry and a domain event were recorded
    [entry] = audit_for(definition)
    assert (entry.action, entry.actor, entry.object_repr) == ("create", admin_user, "Segment (segment)")
    assert entry.changes["code"] == "segment"
    assert entry.changes["choices"] == [{"value": "edu", "label": "Education"}, {"value": "retail", "label": "retail"}]
    event = OutboxEvent.objects.get(aggregate="core.customfielddefinition", aggregate_id=str(definition.pk))
    assert event.event_type == "record.created"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"code": "", "label": "", "field_type": ""}, {
            "code": ["Required"], "label": ["Required"], "field_type": ["Must be one of: text, long_text, integer, decimal, date, datetime, boolean, choice, multichoice, file, link"],
        }),
        ({"code": "Delivery-Date"}, {"code": ["Use lowercase Latin letters, digits and underscores, starting with a letter, e.g. delivery_date"]}),
        ({"context": "pipeline 3"}, {"context": ['Leave empty for every record, or use "kind:id", e.g. pipeline:3']}),
        ({"field_type": "choice"}, {"choices": ["A choice field needs at least one choice"]}),
        ({"field_type": "multichoice", "choices": [{"value": "a"}, {"value": "a", "label": "A"}]}, {"choices": ["Choice 2: the value a appears twice"]}),
        ({"field_type": "choice", "choices": [{"label": "No value"}]}, {"choices": ["Choice 1: enter a value"]}),
        ({"choices": ["a"]}, {"choices": ["Only choice and multiple choice fields have choices"]}),
        ({"field_type": "link"}, {"target_entity": ["A link field needs the entity it links to"]}),
        ({"field_type": "link", "target_entity": "core.auditentry"}, {"target_entity": ["Not an entity a field can link to: core.auditentry"]}),
        ({"target_entity": "core.user"}, {"target_entity": ["Only link fields have a linked entity"]}),
        ({"field_type": "decimal", "decimal_places": 11}, {"decimal_places": ["Enter a whole number from 0 to 10, or leave empty"]}),
        ({"decimal_places": 2}, {"decimal_places": ["Only decimal fields have decimal places"]}),
        ({"field_type": "integer", "default": "many"}, {"default": ["Enter a whole number"]}),
        ({"field_type": "file", "default": "x"}, {"default": ["Fields of this type cannot have a default"]}),
        ({"order": -1}, {"order": ["Enter a whole number from 0 to 1000000"]}),
        ({"required": "yes"}, {"required": ["Enter true or false"]}),
        ({"colour": "red"}, {"colour": ["Unknown attribute"]}),
    ],
)
def test_bad_definitions_are_refused_with_the_rule_and_nothing_is_stored(admin_user, data, errors):
    base = {"entity": ENTITY, "code": "field", "label": "Field", "field_type": "text"}
    assert refused(admin_user, {**base, **data}) == errors
    assert CustomFieldDefinition.objects.count() == 0
    assert AuditEntry.objects.filter(action="create", content_type__model="customfielddefinition").count() == 0


def test_an_entity_without_custom_values_is_refused(admin_user):
    data = {"entity": "core.department", "code": "field", "label": "Field", "field_type": "text"}
    accepted = ", ".join(custom_field_entities())
    assert "parties.counterparty" in accepted
    assert refused(admin_user, data) == {
        "entity": [f"Not an entity that accepts custom fields: core.department (choose one of: {accepted})"]
    }
    assert CustomFieldDefinition.objects.count() == 0


def test_a_code_is_unique_per_entity_across_global_and_context_fields(make_field, admin_user):
    # given a global field "region" and a pipeline field "budget"
    make_field("region")
    make_field("budget", "decimal", context="pipeline:1")
    message = "The code {} is already used by another field of parties.counterparty"
    # then neither code can be reused globally or in the same context, nor a global code in a context
    assert refused(admin_user, {"entity": ENTITY, "code": "region", "label": "R", "field_type": "text"}) == {"code": [message.format("region")]}
    assert refused(admin_user, {"entity": ENTITY, "code": "region", "label": "R", "field_type": "text", "context": "pipeline:2"}) == {"code": [message.format("region")]}
    assert refused(admin_user, {"entity": ENTITY, "code": "budget", "label": "B", "field_type": "text"}) == {"code": [message.format("budget")]}
    assert refused(admin_user, {"entity": ENTITY, "code": "budget", "label": "B", "field_type": "decimal", "context": "pipeline:1"}) == {"code": [message.format("budget")]}
    # but another pipeline may have its own "budget", and another entity its own "region"
    make_field("budget", "integer", context="pipeline:2")
    custom_field_create(actor=admin_user, data={"entity": "catalog.product", "code": "region", "label": "Region", "field_type": "text"})
    assert CustomFieldDefinition.objects.count() == 4


def test_update_records_old_and_new_values(make_field, admin_user):
    # given a field
    definition = make_field("segment", "choice", choices=[{"value": "edu", "label": "Education"}])
    # when its label and choices change
    custom_field_update(
        actor=admin_user,
        definition_id=definition.pk,
        data={"label": "Market", "choices": [{"value": "edu", "label": "Education"}, {"value": "gov", "label": "Government"}]},
    )
    # then the change is stored and audited old → new
    definition.refresh_from_db()
    assert definition.label == "Market"
    entry = audit_for(definition)[-1]
    assert entry.action == "update"
    assert entry.changes == {
        "choices": [[{"value": "edu", "label": "Education"}], [{"value": "edu", "label": "Education"}, {"value": "gov", "label": "Government"}]],
        "label": ["Segment", "Market"],
    }


def test_what_stored_values_depend_on_cannot_change(make_field, admin_user):
    definition = make_field("employees", "integer")
    with pytest.raises(ValidationError) as caught:
        custom_field_update(actor=admin_user, definition_id=definition.pk, data={"field_type": "text", "code": "staff", "label": "Staff"})
    message = ["Cannot be changed once the field exists; create a new field instead"]
    assert caught.value.errors == {"code": message, "field_type": message}
    definition.refresh_from_db()
    assert (definition.code, definition.field_type, definition.label) == ("employees", "integer", "Employees")
    assert [entry.action for entry in audit_for(definition)] == ["create"]


def test_deactivated_fields_disappear_and_come_back(make_field, admin_user):
    definition = make_field("region")
    custom_field_deactivate(actor=admin_user, definition_id=definition.pk)
    assert definitions_for(ENTITY) == []
    custom_field_activate(actor=admin_user, definition_id=definition.pk)
    assert definitions_for(ENTITY) == [definition]
    assert [(entry.action, entry.changes) for entry in audit_for(definition)[1:]] == [
        ("update", {"is_active": [True, False]}),
        ("update", {"is_active": [False, True]}),
    ]


def test_a_field_in_use_cannot_be_deleted_but_an_unused_one_can(make_field, admin_user):
    # given a field that one counterparty uses
    used = make_field("region")
    unused = make_field("spare")
    counterparty_create(actor=admin_user, data={"name": "Lyceum 239", "custom": {"region": "North"}})
    # when deleting it, then it is refused and kept
    with pytest.raises(Conflict) as caught:
        custom_field_delete(actor=admin_user, definition_id=used.pk)
    assert caught.value.message == "1 record(s) hold a value for Region: deactivate the field instead of deleting it"
    assert CustomFieldDefinition.objects.filter(pk=used.pk).exists()
    # and an unused field is deleted with an audit entry
    custom_field_delete(actor=admin_user, definition_id=unused.pk)
    assert list(CustomFieldDefinition.objects.values_list("code", flat=True)) == ["region"]
    assert [entry.action for entry in audit_for(unused)] == ["create", "delete"]
