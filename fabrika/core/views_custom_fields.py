"""Custom field administration: list per entity, create, edit, deactivate / activate, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import services_custom_fields as services
from .custom_fields import custom_field_entities
from .errors import DomainError, NotFound
from .forms_custom_fields import CustomFieldDefinitionForm
from .models.custom_fields import CustomFieldDefinition
from .permissions import can


def _require(request, action: str) -> None:
    if not can(request.user, CustomFieldDefinition, action):
        raise DjangoPermissionDenied


def _get(definition_id: int) -> CustomFieldDefinition:
    try:
        return services.custom_field_get(definition_id)
    except NotFound:
        raise Http404


def _show_errors(form: CustomFieldDefinitionForm, error: DomainError) -> None:
    for field, field_messages in error.field_errors().items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


def _list_url(entity: str) -> str:
    url = reverse("core:custom_field_list")
    return f"{url}?{urlencode({'entity': entity})}" if entity else url


@login_required
def custom_field_list(request):
    _require(request, "view")
    entities = custom_field_entities()
    entity = request.GET.get("entity", "")
    if entity not in entities:
        entity = ""
    rows = list(services.custom_field_list(entity=entity))
    for row in rows:
        row.entity_label = entities.get(row.entity, row.entity)
    return render(
        request,
        "core/custom_fields/list.html",
        {
            "rows": rows,
            "entities": entities.items(),
            "entity": entity,
            "can_add": can(request.user, CustomFieldDefinition, "add"),
            "can_change": can(request.user, CustomFieldDefinition, "change"),
        },
    )


@login_required
def custom_field_create(request):
    _require(request, "add")
    entity = request.GET.get("entity", "")
    form = CustomFieldDefinitionForm(request.POST or None, initial={"entity": entity} if entity else None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = services.custom_field_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Custom field %(label)s created.") % {"label": definition.label})
            return redirect(_list_url(definition.entity))
    return render(request, "core/custom_fields/form.html", {"form": form, "title": _("New custom field")})


@login_required
def custom_field_edit(request, definition_id: int):
    _require(request, "change")
    definition = _get(definition_id)
    form = CustomFieldDefinitionForm(request.POST or None, instance=definition)
    if request.method == "POST" and form.is_valid():
        try:
            services.custom_field_update(actor=request.user, definition_id=definition.pk, data=form.service_data())
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Custom field %(label)s saved.") % {"label": definition.label})
            return redirect(_list_url(definition.entity))
    return render(
        request,
        "core/custom_fields/form.html",
        {
            "form": form,
            "object": definition,
            "title": _("Edit custom field"),
            "can_delete": can(request.user, CustomFieldDefinition, "delete"),
        },
    )


@login_required
@require_POST
def custom_field_deactivate(request, definition_id: int):
    _require(request, "change")
    definition = _get(definition_id)
    services.custom_field_deactivate(actor=request.user, definition_id=definition.pk)
    messages.success(request, _("Custom field %(label)s deactivated: it is hidden, its values are kept.") % {"label": definition.label})
    return redirect(_list_url(definition.entity))


@login_required
@require_POST
def custom_field_activate(request, definition_id: int):
    _require(request, "change")
    definition = _get(definition_id)
    services.custom_field_activate(actor=request.user, definition_id=definition.pk)
    messages.success(request, _("Custom field %(label)s activated.") % {"label": definition.label})
    return redirect(_list_url(definition.entity))


@login_required
@require_POST
def custom_field_delete(request, definition_id: int):
    _require(request, "delete")
    definition = _get(definition_id)
    try:
        services.custom_field_delete(actor=request.user, definition_id=definition.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:custom_field_edit", definition_id=definition.pk)
    messages.success(request, _("Custom field %(label)s deleted.") % {"label": definition.label})
    return redirect(_list_url(definition.entity))
