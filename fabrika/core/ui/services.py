"""Writes of the UI kit: saved list views. Each is one transaction with an audit row."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from django.db import transaction

from fabrika.core import audit
from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.models import SavedView, User
from fabrika.core.models.audit import AuditAction

from .lists import NOT_SAVED_PARAMS


def _clean_query(query: str) -> str:
    pairs = [(key, value) for key, value in parse_qsl((query or "").lstrip("?"), keep_blank_values=False) if key not in NOT_SAVED_PARAMS]
    return urlencode(pairs)


@transaction.atomic
def saved_view_save(
    *, actor: User, entity: str, name: str, query: str = "", columns: Sequence[str] = (), is_default: bool = False
) -> SavedView:
    """Create the actor's view `name` for `entity`, or replace it when one of that name exists."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Name is required"]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters"]
    if not entity or "." not in entity or len(entity) > 100:
        errors["entity"] = ["Name the record type as app_label.model_name"]
    query = _clean_query(query)
    if len(query) > 2000:
        errors["query"] = ["At most 2000 characters of filters"]
    columns = [str(column) for column in columns if str(column).strip()]
    if len(columns) > 50 or any(len(column) > 100 for column in columns):
        errors["columns"] = ["At most 50 column keys of up to 100 characters"]
    if errors:
        raise ValidationError(errors)
    if is_default:
        for other in SavedView.objects.select_for_update().filter(user=actor, entity=entity, is_default=True).exclude(name=name):
            other.is_default = False
            other.save(update_fields=["is_default"])
    view = SavedView.objects.select_for_update().filter(user=actor, entity=entity, name=name).first()
    if view is None:
        view = SavedView.objects.create(user=actor, entity=entity, name=name, query=query, columns=columns, is_default=is_default)
        audit.record(actor=actor, action=AuditAction.CREATE, target=view, changes=audit.snapshot(view))
        return view
    before = audit.snapshot(view)
    view.query, view.columns, view.is_default = query, columns, is_default
    view.save(update_fields=["query", "columns", "is_default"])
    changes = audit.diff(before, audit.snapshot(view))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=view, changes=changes)
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, saved_view_id: int) -> None:
    """Delete one of the actor's own saved views (another user's view is not found)."""
    view = SavedView.objects.select_for_update().filter(user=actor, pk=saved_view_id).first()
    if view is None:
        raise NotFound(f"Saved view {saved_view_id} not found")
    audit.record(actor=actor, action=AuditAction.DELETE, target=view, changes=audit.snapshot(view))
    view.delete()
