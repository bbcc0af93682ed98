"""The administrator's form for a custom field definition. It only shapes the input; the service checks every rule."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .custom_fields import custom_field_entities, link_target_entities
from .models.custom_fields import CustomFieldDefinition, CustomFieldType
from .services_custom_fields import FIXED_AFTER_CREATE


def choices_to_text(choices: list[dict[str, str]]) -> str:
    lines = []
    for choice in choices or []:
        value, label = choice.get("value", ""), choice.get("label", "")
        lines.append(value if not label or label == value else f"{value} | {label}")
    return "\n".join(lines)


def text_to_choices(text: str) -> list[dict[str, str]]:
    choices = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        value, _bar, label = line.partition("|")
        choices.append({"value": value.strip(), "label": label.strip() or value.strip()})
    return choices


def default_to_text(definition: CustomFieldDefinition) -> str:
    default = definition.default
    if default is None:
        return ""
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, list):
        return ", ".join(str(value) for value in default)
    if isinstance(default, dict):
        return json.dumps(default)
    return str(default)


class CustomFieldDefinitionForm(forms.Form):
    entity = forms.ChoiceField(label=_("Entity"), required=False)
    context = forms.CharField(
        label=_("Context"), required=False, max_length=100,
        help_text=_('Leave empty for every record; "pipeline:3" limits the field to the deals of pipeline 3.'),
    )
    code = forms.CharField(
        label=_("Code"), required=False, max_length=50,
        help_text=_("Key of the value in the API, imports and filters, e.g. delivery_date. Cannot be changed later."),
    )
    label = forms.CharField(label=_("Label"), required=False, max_length=150)
    help_text = forms.CharField(label=_("Help text"), required=False, max_length=300)
    field_type = forms.ChoiceField(label=_("Type"), choices=[("", "---------"), *CustomFieldType.choices], required=False)
    choices = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('Choice fields only: one per line, as "value" or "value | label", e.g. "red | Red".'),
    )
    target_entity = forms.ChoiceField(
        label=_("Linked entity"), required=False, help_text=_("Link fields only: the kind of record the field points to.")
    )
    decimal_places = forms.IntegerField(
        label=_("Decimal places"), required=False, help_text=_("Decimal fields only: the most digits after the point.")
    )
    default = forms.CharField(
        label=_("Default value"), required=False,
        help_text=_('Filled in on new records, e.g. "yes", "12.50", "2025-01-31"; several choices separated by commas.'),
    )
    order = forms.IntegerField(label=_("Order"), required=False, initial=0, min_value=0)
    required = forms.BooleanField(label=_("Required"), required=False)
    show_in_list = forms.BooleanField(label=_("Show in lists"), required=False)
    filterable = forms.BooleanField(label=_("Filterable"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, instance: CustomFieldDefinition | None = None, **kwargs):
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {
                **{name: getattr(instance, name) for name in (
                    "entity", "context", "code", "label", "help_text", "field_type", "target_entity", "decimal_places",
                    "order", "required", "show_in_list", "filterable", "is_active",
                )},
                "choices": choices_to_text(instance.choices),
                "default": default_to_text(instance),
                **kwargs["initial"],
            }
        super().__init__(*args, **kwargs)
        entities = custom_field_entities()
        if instance is not None and instance.entity not in entities:
            entities[instance.entity] = instance.entity
        self.fields["entity"].choices = [("", "---------"), *((name, f"{label} ({name})") for name, label in entities.items())]
        targets = link_target_entities()
        if instance is not None and instance.target_entity and instance.target_entity not in targets:
            targets[instance.target_entity] = instance.target_entity
        self.fields["target_entity"].choices = [("", "---------"), *((name, f"{label} ({name})") for name, label in targets.items())]
        for name in ("entity", "code", "label", "field_type"):
            self.fields[name].widget.attrs["aria-required"] = "true"
        if instance is not None:
            for name in FIXED_AFTER_CREATE:
                self.fields[name].disabled = True

    def service_data(self) -> dict[str, Any]:
        """cleaned_data in the shape the service takes (choices as a list, the default parsed for its type)."""
        data = dict(self.cleaned_data)
        if self.instance is not None:
            for name in FIXED_AFTER_CREATE:
                data.pop(name, None)
        field_type = self.instance.field_type if self.instance is not None else data.get("field_type")
        data["choices"] = text_to_choices(data.get("choices", ""))
        default = (data.get("default") or "").strip()
        if not default:
            data["default"] = None
        elif field_type == CustomFieldType.MULTICHOICE:
            data["default"] = [part.strip() for part in default.split(",") if part.strip()]
        else:
            data["default"] = default
        if data.get("order") is None:
            data["order"] = 0
        return data
