"""Form helpers: custom fields in forms, service errors beside the fields, inline (htmx) validation of one field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from fabrika.core import custom_fields
from fabrika.core.errors import DomainError

CUSTOM_PREFIX = "custom_"


def form_field_name(error_key: str) -> str:
    """A service error key as a form field name: "custom.<code>" → "custom_<code>"."""
    if error_key.startswith("custom."):
        return CUSTOM_PREFIX + error_key.split(".", 1)[1]
    return error_key


def add_custom_fields(form: forms.BaseForm, entity: str, *, custom: dict[str, Any] | None, context: str | None = None) -> None:
    """Append the entity's custom fields to the form, with initial values from the record's `custom` dict."""
    form.fields.update(custom_fields.form_fields(entity, context=context))
    if custom is not None and not form.is_bound:
        form.initial.update(custom_fields.initial_from_custom(entity, custom, context=context))


def custom_values(form: forms.BaseForm, entity: str, *, context: str | None = None) -> dict[str, Any]:
    """The custom values of a valid form, by code, ready for the service's `custom` argument."""
    return custom_fields.custom_from_form(entity, form.cleaned_data, context=context)


def apply_errors(form: forms.BaseForm, error: DomainError) -> None:
    """Show a service's error beside the fields it names (unknown fields and general errors go on top)."""
    field_errors = error.field_errors()
    for key, messages in field_errors.items():
        name = form_field_name(key)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    if not field_errors:
        form.add_error(None, error.message)


def validate_field_response(
    request: HttpRequest, form: forms.BaseForm, *, validate: Callable[[forms.BaseForm], None]
) -> HttpResponse:
    """Render the one field named in the request's `_field` with its errors, after the form's own checks and
    `validate(form)` (the service's cleaning without saving, which may raise a DomainError). Nothing is saved."""
    name = request.POST.get("_field", "")
    if name not in form.fields:
        return HttpResponse(status=204)
    if name not in form.errors:  # the form's own checks passed for this field: run the service's rules
        try:
            validate(form)
        except DomainError as error:
            for key, messages in error.field_errors().items():
                if form_field_name(key) == name:
                    for message in messages:
                        form.add_error(name, message)
    field = form[name]
    return HttpResponse(
        render_to_string("core/ui/_field.html", {"field": field, "validate_url": request.path}, request=request)
    )
