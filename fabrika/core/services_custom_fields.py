"""Custom field definitions: create, change, deactivate, delete. Each runs in one transaction with an audit row."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from . import audit, events
from .custom_fields import convert_value, custom_field_entities, entity_model, link_target_entities
from .errors import Conflict, NotFound, ValidationError
from .models import User
from .models.audit import AuditAction
from .models.custom_fields import CustomFieldDefinition, CustomFieldType

EDITABLE_FIELDS = (
    "entity",
    "context",
    "code",
    "label",
    "help_text",
    "field_type",
    "required",
    "choices",
    "default",
    "target_entity",
    "decimal_places",
    "order",
    "is_active",
    "show_in_list",
    "filterable",
)
# What records' stored values depend on: fixed once the field exists (create a new field instead).
FIXED_AFTER_CREATE = ("entity", "context", "code", "field_type", "target_entity")
CHOICE_TYPES = (CustomFieldType.CHOICE, CustomFieldType.MULTICHOICE)
NO_DEFAULT_TYPES = (CustomFieldType.FILE, CustomFieldType.LINK)
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CONTEXT_RE = re.compile(r"^[a-z][a-z0-9_]*:[A-Za-z0-9_-]+$")
MAX_CHOICES = 200
MAX_DECIMAL_PLACES = 10


def custom_field_get(definition_id: int) -> CustomFieldDefinition:
    try:
        return CustomFieldDefinition.objects.get(pk=definition_id)
    except (CustomFieldDefinition.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Custom field %(id)s not found") % {"id": definition_id})


def custom_field_list(*, entity: str = "", context: str | None = None, include_inactive: bool = True):
    """Definitions for the admin pages and the API, ordered by entity, context, order."""
    queryset = CustomFieldDefinition.objects.all()
    if entity:
        queryset = queryset.filter(entity=entity)
    if context is not None:
        queryset = queryset.filter(context=context)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("entity", "context", "order", "id")


def _text(errors, cleaned, field: str, limit: int, *, required: bool = False) -> None:
    value = cleaned.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("Enter text"))
        return
    value = value.strip()
    if required and not value:
        errors.setdefault(field, []).append(_("Required"))
    elif len(value) > limit:
        errors.setdefault(field, []).append(_("At most %(limit)d characters") % {"limit": limit})
    cleaned[field] = value


def _flag(errors, cleaned, field: str) -> None:
    if not isinstance(cleaned.get(field), bool):
        errors.setdefault(field, []).append(_("Enter true or false"))


def _clean_choices(errors, raw: Any) -> list[dict[str, str]]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        errors.setdefault("choices", []).append(_("Enter a list of choices, each with a value and a label"))
        return []
    choices: list[dict[str, str]] = []
    seen: set[str] = set()
    for position, item in enumerate(raw, start=1):
        if isinstance(item, str):
            item = {"value": item, "label": item}
        value = item.get("value") if isinstance(item, dict) else None
        label = item.get("label") if isinstance(item, dict) else None
        value = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        label = str(label).strip() if isinstance(label, str) else ""
        if not value:
            errors.setdefault("choices", []).append(_("Choice %(n)d: enter a value") % {"n": position})
            continue
        if len(value) > 100 or len(label) > 150:
            errors.setdefault("choices", []).append(
                _("Choice %(n)d: at most 100 characters for the value and 150 for the label") % {"n": position}
            )
            continue
        if value in seen:
            errors.setdefault("choices", []).append(_("Choice %(n)d: the value %(value)s appears twice") % {"n": position, "value": value})
            continue
        seen.add(value)
        choices.append({"value": value, "label": label or value})
    if len(choices) > MAX_CHOICES:
        errors.setdefault("choices", []).append(_("At most %(limit)d choices") % {"limit": MAX_CHOICES})
    return choices


def _clean(data: dict[str, Any], *, existing: CustomFieldDefinition | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS))
    for name in unknown:
        errors[name] = [_("Unknown attribute")]
    given = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    if existing is not None:
        for name in FIXED_AFTER_CREATE:
            if name in given and (given[name] or "") != (getattr(existing, name) or ""):
                errors.setdefault(name, []).append(_("Cannot be changed once the field exists; create a new field instead"))
    current = {name: getattr(existing, name) for name in EDITABLE_FIELDS} if existing is not None else {
        "entity": "", "context": "", "code": "", "label": "", "help_text": "", "field_type": "", "required": False,
        "choices": [], "default": None, "target_entity": "", "decimal_places": None, "order": 0, "is_active": True,
        "show_in_list": False, "filterable": False,
    }
    cleaned = {**current, **given}
    if errors:
        raise ValidationError(errors)

    _text(errors, cleaned, "entity", 100, required=True)
    if cleaned["entity"] and existing is None and cleaned["entity"] not in custom_field_entities():
        errors.setdefault("entity", []).append(
            _("Not an entity that accepts custom fields: %(entity)s (choose one of: %(choices)s)")
            % {"entity": cleaned["entity"], "choices": ", ".join(custom_field_entities())}
        )
    _text(errors, cleaned, "context", 100)
    if cleaned["context"] and not CONTEXT_RE.match(cleaned["context"]):
        errors.setdefault("context", []).append(_('Leave empty for every record, or use "kind:id", e.g. pipeline:3'))
    _text(errors, cleaned, "code", 50, required=True)
    if cleaned["code"] and not CODE_RE.match(cleaned["code"]):
        errors.setdefault("code", []).append(
            _("Use lowercase Latin letters, digits and underscores, starting with a letter, e.g. delivery_date")
        )
    _text(errors, cleaned, "label", 150, required=True)
    _text(errors, cleaned, "help_text", 300)
    field_type = cleaned["field_type"]
    if field_type not in CustomFieldType.values:
        errors.setdefault("field_type", []).append(
            _("Must be one of: %(choices)s") % {"choices": ", ".join(CustomFieldType.values)}
        )
    for flag in ("required", "is_active", "show_in_list", "filterable"):
        _flag(errors, cleaned, flag)
    order = cleaned["order"]
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 1_000_000:
        errors.setdefault("order", []).append(_("Enter a whole number from 0 to 1000000"))

    if field_type in CHOICE_TYPES:
        cleaned["choices"] = _clean_choices(errors, cleaned["choices"])
        if not cleaned["choices"] and "choices" not in errors:
            errors["choices"] = [_("A choice field needs at least one choice")]
    elif cleaned["choices"]:
        errors.setdefault("choices", []).append(_("Only choice and multiple choice fields have choices"))
    else:
        cleaned["choices"] = []

    _text(errors, cleaned, "target_entity", 100)
    if field_type == CustomFieldType.LINK:
        if not cleaned["target_entity"]:
            errors.setdefault("target_entity", []).append(_("A link field needs the entity it links to"))
        elif existing is None and cleaned["target_entity"] not in link_target_entities():
            errors.setdefault("target_entity", []).append(
                _("Not an entity a field can link to: %(entity)s") % {"entity": cleaned["target_entity"]}
            )
    elif cleaned["target_entity"]:
        errors.setdefault("target_entity", []).append(_("Only link fields have a linked entity"))

    places = cleaned["decimal_places"]
    if field_type == CustomFieldType.DECIMAL:
        if places is not None and (isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= MAX_DECIMAL_PLACES):
            errors.setdefault("decimal_places", []).append(
                _("Enter a whole number from 0 to %(limit)d, or leave empty") % {"limit": MAX_DECIMAL_PLACES}
            )
    elif places is not None:
        errors.setdefault("decimal_places", []).append(_("Only decimal fields have decimal places"))

    if cleaned["default"] is not None and not errors:
        if field_type in NO_DEFAULT_TYPES:
            errors["default"] = [_("Fields of this type cannot have a default")]
        else:
            probe = CustomFieldDefinition(**{name: cleaned[name] for name in EDITABLE_FIELDS if name != "default"})
            try:
                cleaned["default"] = convert_value(probe, cleaned["default"])
            except ValueError as error:
                errors["default"] = [str(error)]

    if not errors:
        _check_code_free(errors, cleaned, existing)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_code_free(errors, cleaned, existing: CustomFieldDefinition | None) -> None:
    """Values of all contexts share the record's `custom` object: a code may be reused only by other contexts."""
    others = CustomFieldDefinition.objects.filter(entity=cleaned["entity"], code=cleaned["code"])
    if existing is not None:
        others = others.exclude(pk=existing.pk)
    if cleaned["context"]:
        clash = others.filter(Q(context="") | Q(context=cleaned["context"]))
    else:
        clash = others
    if clash.exists():
        errors["code"] = [
            _("The code %(code)s is already used by another field of %(entity)s")
            % {"code": cleaned["code"], "entity": cleaned["entity"]}
        ]


@transaction.atomic
def custom_field_create(*, actor: User, data: dict[str, Any]) -> CustomFieldDefinition:
    cleaned = _clean(data, existing=None)
    definition = CustomFieldDefinition.objects.create(**cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=definition, changes=audit.snapshot(definition))
    events.record_event("record.created", target=definition, payload={"id": definition.pk, "entity": definition.entity, "code": definition.code})
    return definition


@transaction.atomic
def custom_field_update(*, actor: User, definition_id: int, data: dict[str, Any]) -> CustomFieldDefinition:
    definition = _locked(definition_id)
    before = audit.snapshot(definition)
    cleaned = _clean(data, existing=definition)
    for name, value in cleaned.items():
        setattr(definition, name, value)
    definition.save()
    changes = audit.diff(before, audit.snapshot(definition))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=definition, changes=changes)
        events.record_event("record.changed", target=definition, payload={"id": definition.pk, "changes": changes})
    return definition


def custom_field_deactivate(*, actor: User, definition_id: int) -> CustomFieldDefinition:
    """Hide the field from forms, lists and filters; stored values stay and return if it is activated again."""
    return custom_field_update(actor=actor, definition_id=definition_id, data={"is_active": False})


def custom_field_activate(*, actor: User, definition_id: int) -> CustomFieldDefinition:
    return custom_field_update(actor=actor, definition_id=definition_id, data={"is_active": True})


def custom_field_values_count(definition: CustomFieldDefinition) -> int:
    """How many records of the entity hold a value for this field."""
    model = entity_model(definition.entity)
    return model._default_manager.filter(**{"custom__has_key": definition.code}).count()


@transaction.atomic
def custom_field_delete(*, actor: User, definition_id: int) -> None:
    """Delete a field that no record uses; a field in use is refused (deactivate it instead, keeping the values)."""
    definition = _locked(definition_id)
    in_use = custom_field_values_count(definition)
    if in_use:
        raise Conflict(
            _("%(count)d record(s) hold a value for %(label)s: deactivate the field instead of deleting it")
            % {"count": in_use, "label": definition.label},
            code="custom_field_in_use",
            count=in_use,
        )
    audit.record(actor=actor, action=AuditAction.DELETE, target=definition, changes=audit.snapshot(definition))
    events.record_event("record.deleted", target=definition, payload={"id": definition.pk, "entity": definition.entity, "code": definition.code})
    definition.delete()


def _locked(definition_id: int) -> CustomFieldDefinition:
    try:
        return CustomFieldDefinition.objects.select_for_update().get(pk=definition_id)
    except (CustomFieldDefinition.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Custom field %(id)s not found") % {"id": definition_id})
