"""Generic access to "any record" by its entity name ("app_label.model_name") and id.

Endpoints that work on any record (statuses, attachments, ...) fetch it with `record_for_user`, which applies the
same checks as the record's own card: the role's "view" permission on the model and, for records with a
`responsible` user, the role's scope. Anything outside answers NotFound (404), never 403, so that ids outside the
scope reveal nothing.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model

from .errors import NotFound, ValidationError
from .permissions import can, get_scoped

RESPONSIBLE_FIELD = "responsible"


def entity_of(instance_or_model: Model | type[Model]) -> str:
    """ "app_label.model_name" of a record (or model class), e.g. "parties.counterparty"."""
    meta = instance_or_model._meta
    return f"{meta.app_label}.{meta.model_name}"


def model_for_entity(entity: str) -> type[Model]:
    """The model class named by an entity; ValidationError naming `entity` when there is none."""
    if not isinstance(entity, str) or entity.count(".") != 1:
        raise ValidationError(
            {
                "entity": [
                    f"Unknown record type '{entity}': use app_label.model_name, e.g. parties.counterparty"
                ]
            }
        )
    try:
        return apps.get_model(entity)
    except (LookupError, ValueError):
        raise ValidationError(
            {
                "entity": [
                    f"Unknown record type '{entity}': use app_label.model_name, e.g. parties.counterparty"
                ]
            }
        )


def has_responsible(model: type[Model]) -> bool:
    try:
        model._meta.get_field(RESPONSIBLE_FIELD)
    except FieldDoesNotExist:
        return False
    return True


def responsible_id_of(record: Model) -> int | None:
    """The id of the record's responsible user, or None when the model has no `responsible` field."""
    if not has_responsible(type(record)):
        return None
    return getattr(record, f"{RESPONSIBLE_FIELD}_id", None)


def record_url(record: Model) -> str:
    """The record's page (`get_absolute_url()`), or "" when the model has none."""
    method = getattr(record, "get_absolute_url", None)
    return method() if callable(method) else ""


def content_type_for_entity(entity: str) -> ContentType:
    return ContentType.objects.get_for_model(model_for_entity(entity), for_concrete_model=False)


def record_for_user(user, entity: str, object_id) -> Model:
    """The record `entity`/`object_id` if the user may see it; NotFound (404) otherwise.

    Checks the role's "view" permission on the model and, when the model has a `responsible` field, the scope.
    An unknown entity answers ValidationError (422) naming `entity`.
    """
    model = model_for_entity(entity)
    not_found = NotFound(f"{str(model._meta.verbose_name).capitalize()} {object_id} not found")
    if not getattr(user, "is_authenticated", False) or not can(user, model, "view"):
        raise not_found
    try:
        pk = model._meta.pk.to_python(object_id)
    except DjangoValidationError:
        raise not_found
    if pk is None:
        raise not_found
    if has_responsible(model):
        return get_scoped(model._default_manager.all(), user, pk, responsible_field=RESPONSIBLE_FIELD)
    try:
        return model._default_manager.get(pk=pk)
    except model.DoesNotExist:
        raise not_found
