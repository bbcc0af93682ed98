"""Custom field definitions: /api/v1/core/custom-fields..."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema, Status
from pydantic import Field

from . import services_custom_fields as services
from .custom_fields import custom_field_entities, link_target_entities
from .models.custom_fields import CustomFieldDefinition
from .pagination import Page, paginate
from .permissions import require

router = Router(tags=["custom fields"])


class ChoiceSchema(Schema):
    value: str
    label: str = ""


class CustomFieldIn(Schema):
    entity: str
    context: str = ""
    code: str
    label: str
    help_text: str = ""
    field_type: str
    required: bool = False
    choices: list[ChoiceSchema] = Field(default_factory=list)
    default: Any = None
    target_entity: str = ""
    decimal_places: int | None = None
    order: int = 0
    is_active: bool = True
    show_in_list: bool = False
    filterable: bool = False


class CustomFieldPatch(Schema):
    # entity, context, code, field_type and target_entity cannot change: the service answers 422 when they differ.
    entity: str | None = None
    context: str | None = None
    code: str | None = None
    field_type: str | None = None
    target_entity: str | None = None
    label: str | None = None
    help_text: str | None = None
    required: bool | None = None
    choices: list[ChoiceSchema] | None = None
    default: Any = None
    decimal_places: int | None = None
    order: int | None = None
    is_active: bool | None = None
    show_in_list: bool | None = None
    filterable: bool | None = None


class CustomFieldOut(Schema):
    id: int
    entity: str
    context: str
    code: str
    label: str
    help_text: str
    field_type: str
    required: bool
    choices: list[ChoiceSchema]
    default: Any = None
    target_entity: str
    decimal_places: int | None
    order: int
    is_active: bool
    show_in_list: bool
    filterable: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class EntityOut(Schema):
    entity: str
    label: str


class EntitiesOut(Schema):
    entities: list[EntityOut]
    link_targets: list[EntityOut]


def _data(payload: Schema, *, partial: bool) -> dict[str, Any]:
    data = payload.dict(exclude_unset=partial)
    if data.get("choices") is not None:
        data["choices"] = [{"value": choice["value"], "label": choice["label"]} for choice in data["choices"]]
    elif partial and "choices" in data:
        data["choices"] = []
    return data


@router.get("/custom-fields", response=Page[CustomFieldOut])
def custom_field_list(
    request, entity: str = "", context: str | None = None, active: bool | None = None, cursor: str | None = None, limit: int = 100
):
    require(request.user, CustomFieldDefinition, "view")
    queryset = services.custom_field_list(entity=entity, context=context)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return paginate(queryset, cursor=cursor, limit=limit)


@router.get("/custom-fields/entities", response=EntitiesOut)
def custom_field_entity_list(request):
    require(request.user, CustomFieldDefinition, "view")
    return {
        "entities": [{"entity": name, "label": label} for name, label in custom_field_entities().items()],
        "link_targets": [{"entity": name, "label": label} for name, label in link_target_entities().items()],
    }


@router.post("/custom-fields", response={201: CustomFieldOut})
def custom_field_create(request, payload: CustomFieldIn):
    require(request.user, CustomFieldDefinition, "add")
    return Status(201, services.custom_field_create(actor=request.user, data=_data(payload, partial=False)))


@router.get("/custom-fields/{definition_id}", response=CustomFieldOut)
def custom_field_detail(request, definition_id: int):
    require(request.user, CustomFieldDefinition, "view")
    return services.custom_field_get(definition_id)


@router.patch("/custom-fields/{definition_id}", response=CustomFieldOut)
def custom_field_update(request, definition_id: int, payload: CustomFieldPatch):
    require(request.user, CustomFieldDefinition, "change")
    definition = services.custom_field_get(definition_id)
    return services.custom_field_update(actor=request.user, definition_id=definition.pk, data=_data(payload, partial=True))


@router.delete("/custom-fields/{definition_id}", response={204: None})
def custom_field_delete(request, definition_id: int):
    require(request.user, CustomFieldDefinition, "delete")
    definition = services.custom_field_get(definition_id)
    services.custom_field_delete(actor=request.user, definition_id=definition.pk)
    return Status(204, None)
