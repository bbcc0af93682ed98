"""Counterparty writes. Each runs in one transaction and records an audit row."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import ProtectedError

from fabrika.core import audit, events
from fabrika.core.custom_fields import clean_custom_values
from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings

from .models import Counterparty, PartyKind
from .validation import normalise_phone, normalise_tax_id

EDITABLE_FIELDS = ("kind", "name", "is_client", "is_supplier", "is_dealer", "tax_id", "email", "phone", "city", "notes", "responsible", "is_active")
ENTITY = "parties.counterparty"


def _clean(data: dict[str, Any], *, existing: Counterparty | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    country = company_settings().country
    for field in EDITABLE_FIELDS:
        if field not in data:
            continue
        cleaned[field] = data[field]
    if "name" in cleaned or existing is None:
        name = (cleaned.get("name") or "").strip()
        if not name:
            errors.setdefault("name", []).append("Name is required")
        elif len(name) > 300:
            errors.setdefault("name", []).append("At most 300 characters")
        cleaned["name"] = name
    if "kind" in cleaned and cleaned["kind"] not in PartyKind.values:
        errors.setdefault("kind", []).append(f"Must be one of: {', '.join(PartyKind.values)}")
    for text_field, limit in (("city", 120), ("notes", 10000)):
        if text_field in cleaned:
            cleaned[text_field] = (cleaned[text_field] or "").strip()
            if len(cleaned[text_field]) > limit:
                errors.setdefault(text_field, []).append(f"At most {limit} characters")
    if cleaned.get("email"):
        cleaned["email"] = cleaned["email"].strip().lower()
        try:
            validate_email(cleaned["email"])
        except DjangoValidationError:
            errors.setdefault("email", []).append("Enter a valid e-mail address, e.g. name@example.com")
    for field, normalise in (("tax_id", normalise_tax_id), ("phone", normalise_phone)):
        if field in cleaned:
            try:
                cleaned[field] = normalise(cleaned[field] or "", country=country)
            except ValueError as error:
                errors.setdefault(field, []).append(str(error))
    if "responsible" in cleaned or existing is None:
        responsible = cleaned.get("responsible")
        if isinstance(responsible, int | str) and str(responsible).isdigit():
            responsible = User.objects.filter(pk=int(responsible), is_active=True).first()
        if not isinstance(responsible, User) or not responsible.is_active:
            errors.setdefault("responsible", []).append("Choose an active user as responsible")
        cleaned["responsible"] = responsible
    if "custom" in data:
        try:
            cleaned["custom"] = clean_custom_values(ENTITY, data["custom"] or {}, existing=existing.custom if existing else None)
        except ValidationError as error:
            errors.update(error.errors)
    elif existing is None:
        try:
            cleaned["custom"] = clean_custom_values(ENTITY, {}, existing=None)
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def counterparty_validate(*, data: dict[str, Any], existing: Counterparty | None = None) -> dict[str, Any]:
    """Run the same checks as create/update without saving: the cleaned values, or ValidationError by field."""
    return _clean(data, existing=existing)


@transaction.atomic
def counterparty_create(*, actor: User, data: dict[str, Any]) -> Counterparty:
    data = {"responsible": actor, **data}
    cleaned = _clean(data, existing=None)
    counterparty = Counterparty.objects.create(**cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=counterparty, changes=audit.snapshot(counterparty))
    events.record_event("record.created", target=counterparty, payload={"id": counterparty.pk, "name": counterparty.name})
    return counterparty


@transaction.atomic
def counterparty_update(*, actor: User, counterparty_id: int, data: dict[str, Any]) -> Counterparty:
    counterparty = Counterparty.objects.select_for_update().get(pk=counterparty_id)
    before = audit.snapshot(counterparty)
    cleaned = _clean(data, existing=counterparty)
    for field, value in cleaned.items():
        setattr(counterparty, field, value)
    counterparty.save()
    changes = audit.diff(before, audit.snapshot(counterparty))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=counterparty, changes=changes)
        events.record_event("record.changed", target=counterparty, payload={"id": counterparty.pk, "changes": changes})
    return counterparty


@transaction.atomic
def counterparty_delete(*, actor: User, counterparty_id: int) -> None:
    counterparty = Counterparty.objects.select_for_update().get(pk=counterparty_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=counterparty, changes=audit.snapshot(counterparty))
    events.record_event("record.deleted", target=counterparty, payload={"id": counterparty.pk, "name": counterparty.name})
    try:
        counterparty.delete()
    except ProtectedError:
        raise Conflict(
            f"{counterparty.name} is used by other records and cannot be deleted: deactivate it instead",
            code="counterparty_in_use",
            counterparty_id=counterparty.pk,
        )


def _bulk_update(*, actor: User, counterparty_ids: list[int], values: dict[str, Any]) -> int:
    """Set `values` on each counterparty (locked in id order), with an audit row and an event per changed record."""
    changed = 0
    rows = Counterparty.objects.select_related("responsible").select_for_update(of=("self",))
    for counterparty in rows.filter(pk__in=counterparty_ids).order_by("pk"):
        before = audit.snapshot(counterparty)
        for field, value in values.items():
            setattr(counterparty, field, value)
        changes = audit.diff(before, audit.snapshot(counterparty))
        if not changes:
            continue
        counterparty.save(update_fields=[*values, "updated_at"])
        audit.record(actor=actor, action=AuditAction.UPDATE, target=counterparty, changes=changes)
        events.record_event("record.changed", target=counterparty, payload={"id": counterparty.pk, "changes": changes})
        changed += 1
    return changed


@transaction.atomic
def counterparty_bulk_set_responsible(*, actor: User, counterparty_ids: list[int], responsible_id: int | str) -> int:
    """Make one active user responsible for every listed counterparty; returns how many changed."""
    responsible = None
    if str(responsible_id).isdigit():
        responsible = User.objects.filter(pk=int(responsible_id), is_active=True).first()
    if responsible is None:
        raise ValidationError({"responsible": ["Choose an active user as responsible"]})
    return _bulk_update(actor=actor, counterparty_ids=counterparty_ids, values={"responsible": responsible})


@transaction.atomic
def counterparty_bulk_set_active(*, actor: User, counterparty_ids: list[int], is_active: bool) -> int:
    """Deactivate (archive) or reactivate every listed counterparty; returns how many changed."""
    return _bulk_update(actor=actor, counterparty_ids=counterparty_ids, values={"is_active": bool(is_active)})
