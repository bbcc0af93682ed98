"""Counterparty writes. Each runs in one transaction and records an audit row.

Duplicates: `duplicates_find` lists counterparties sharing the tax ID, a normalised phone or e-mail (of the
counterparty or one of its contacts), or a very similar name. `counterparty_create(check_duplicates=True)` (the UI,
the API without `force`, the importer without "create even if duplicate") refuses with `DuplicateFound` (409)
listing them; `counterparty_merge` folds a duplicate into the survivor.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import ProtectedError, Q
from django.db.models.functions import Length
from django.utils.translation import gettext

from fabrika.core import audit, events
from fabrika.core.custom_fields import clean_custom_values
from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings

from .address_parser import parse_address
from .models import (
    ROLE_FIELDS,
    Address,
    AddressKind,
    BankAccount,
    Contact,
    Counterparty,
    PartyKind,
    PartyRole,
    Position,
    Segment,
    Tag,
)
from .validation import (
    normalise_bic,
    normalise_code,
    normalise_kpp,
    normalise_name,
    normalise_phone,
    normalise_tax_id,
    phone_for_matching,
)

ROLE_FLAGS = tuple(ROLE_FIELDS.values())
TEXT_LIMITS = {"full_name": 500, "registration_number": 32, "website": 200, "city": 120, "notes": 10000}
EDITABLE_FIELDS = (
    "kind", "name", "full_name", *ROLE_FLAGS, "parent", "country", "tax_id", "kpp", "registration_number", "email",
    "phone", "website", "city", "notes", "price_type_code", "discount_group", "responsible", "is_active", "is_own_company",
)
M2M_FIELDS = {"segments": Segment, "tags": Tag}
ENTITY = "parties.counterparty"
NAME_SIMILARITY = 0.85


def _add(errors: dict[str, list[str]], name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _clean_email(value: str, errors: dict[str, list[str]], name: str = "email") -> str:
    value = (value or "").strip().lower()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            _add(errors, name, gettext("Enter a valid e-mail address, e.g. name@example.com"))
    return value


def _directory_items(model, values, errors: dict[str, list[str]], name: str) -> list:
    """Directory rows from ids, names or instances; unknown ones are an error on `name`."""
    items = []
    for value in values or []:
        if isinstance(value, model):
            items.append(value)
            continue
        text = str(value).strip()
        item = model.objects.filter(pk=int(text)).first() if text.isdigit() else model.objects.filter(name__iexact=text).first()
        if item is None:
            _add(errors, name, gettext("Unknown %(what)s: %(value)s") % {"what": model._meta.verbose_name, "value": text})
        else:
            items.append(item)
    return items


def _clean(data: dict[str, Any], *, existing: Counterparty | None) -> tuple[dict[str, Any], dict[str, list]]:
    """(column values, {m2m name: items}) or ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    if "roles" in data:
        roles = list(data["roles"] or [])
        unknown = [role for role in roles if role not in ROLE_FIELDS]
        if unknown:
            _add(errors, "roles", gettext("Must be some of: %(choices)s") % {"choices": ", ".join(PartyRole.values)})
        for role, flag in ROLE_FIELDS.items():
            cleaned[flag] = role in roles
    for flag in (*ROLE_FLAGS, "is_own_company"):
        if flag in cleaned:
            cleaned[flag] = bool(cleaned[flag])
    if "name" in cleaned or existing is None:
        name = (cleaned.get("name") or "").strip()
        if not name:
            _add(errors, "name", gettext("Name is required"))
        elif len(name) > 300:
            _add(errors, "name", gettext("At most %(limit)s characters") % {"limit": 300})
        cleaned["name"] = name
        cleaned["name_key"] = normalise_name(name)[:300]
    if "kind" in cleaned and cleaned["kind"] not in PartyKind.values:
        _add(errors, "kind", gettext("Must be one of: %(choices)s") % {"choices": ", ".join(PartyKind.values)})
    kind = cleaned.get("kind", existing.kind if existing else PartyKind.ORGANISATION)
    for text_field, limit in TEXT_LIMITS.items():
        if text_field in cleaned:
            cleaned[text_field] = (cleaned[text_field] or "").strip()
            if len(cleaned[text_field]) > limit:
                _add(errors, text_field, gettext("At most %(limit)s characters") % {"limit": limit})
    if "country" in cleaned or existing is None:
        country = (cleaned.get("country") or "").strip().upper() or company_settings().country
        if len(country) != 2 or not country.isalpha():
            _add(errors, "country", gettext("Use the two-letter ISO country code, e.g. RU, ES, AM"))
        cleaned["country"] = country
    country = cleaned.get("country") or (existing.country if existing else "") or company_settings().country
    if "email" in cleaned:
        cleaned["email"] = _clean_email(cleaned["email"], errors)
    for name, normalise in (("tax_id", normalise_tax_id), ("phone", normalise_phone)):
        if name in cleaned:
            try:
                cleaned[name] = normalise(cleaned[name] or "", country=country)
            except ValueError as error:
                _add(errors, name, str(error))
    if "kpp" in cleaned:
        try:
            cleaned["kpp"] = normalise_kpp(cleaned["kpp"])
        except ValueError as error:
            _add(errors, "kpp", str(error))
        if cleaned.get("kpp") and (country != "RU" or kind != PartyKind.ORGANISATION):
            _add(errors, "kpp", gettext("Only Russian organisations have a KPP"))
    for name in ("price_type_code", "discount_group"):
        if name in cleaned:
            try:
                cleaned[name] = normalise_code(cleaned[name] or "")
            except ValueError as error:
                _add(errors, name, str(error))
    if "parent" in cleaned:
        parent = cleaned["parent"]
        if parent in ("", None):
            parent = None
        elif not isinstance(parent, Counterparty):
            parent = Counterparty.objects.filter(pk=int(parent)).first() if str(parent).isdigit() else None
            if parent is None:
                _add(errors, "parent", gettext("Choose an existing counterparty as head office"))
        if parent is not None and existing is not None:
            ancestor, seen = parent, set()
            while ancestor is not None and ancestor.pk not in seen:
                if ancestor.pk == existing.pk:
                    _add(errors, "parent", gettext("A counterparty cannot be a branch of itself or of its own branch"))
                    break
                seen.add(ancestor.pk)
                ancestor = ancestor.parent
        cleaned["parent"] = parent
    if "responsible" in cleaned or existing is None:
        responsible = cleaned.get("responsible")
        if isinstance(responsible, int | str) and str(responsible).isdigit():
            responsible = User.objects.filter(pk=int(responsible), is_active=True).first()
        if not isinstance(responsible, User) or not responsible.is_active:
            _add(errors, "responsible", gettext("Choose an active user as responsible"))
        cleaned["responsible"] = responsible
    if "custom" in data or existing is None:
        try:
            cleaned["custom"] = clean_custom_values(ENTITY, data.get("custom") or {}, existing=existing.custom if existing else None)
        except ValidationError as error:
            errors.update(error.errors)
    related = {name: _directory_items(model, data[name], errors, name) for name, model in M2M_FIELDS.items() if name in data}
    if errors:
        raise ValidationError(errors)
    return cleaned, related


def _snapshot(counterparty: Counterparty) -> dict[str, Any]:
    result = audit.snapshot(counterparty)
    result.pop("name_key", None)
    if counterparty.pk:
        for name in M2M_FIELDS:
            result[name] = sorted(str(item) for item in getattr(counterparty, name).all())
    return result


def counterparty_validate(*, data: dict[str, Any], existing: Counterparty | None = None) -> dict[str, Any]:
    """Run the same checks as create/update without saving: the cleaned values, or ValidationError by field."""
    cleaned, related = _clean(data, existing=existing)
    return {**cleaned, **related}


# --- duplicates -----------------------------------------------------------------------------------------------


@dataclass
class DuplicateCandidate:
    counterparty: Counterparty
    reasons: list[str] = field(default_factory=list)  # codes: tax_id, phone, email, name
    similarity: float = 0.0  # name similarity, 0..1

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.counterparty.pk,
            "name": self.counterparty.name,
            "tax_id": self.counterparty.tax_id,
            "reasons": list(self.reasons),
            "similarity": round(self.similarity, 2),
        }


def name_similarity(first: str, second: str) -> float:
    """difflib ratio of the two names normalised (lower case, no legal forms, quotes or punctuation)."""
    a, b = normalise_name(first), normalise_name(second)
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def _similar_name_ids(name: str, *, exclude_pk: int | None) -> dict[int, float]:
    key = normalise_name(name)
    if not key:
        return {}
    # ratio = 2M/(len a + len b) >= 0.85 needs len b between 0.74 and 1.36 times len a
    low, high = int(len(key) * NAME_SIMILARITY / (2 - NAME_SIMILARITY)), int(len(key) * (2 - NAME_SIMILARITY) / NAME_SIMILARITY) + 1
    rows = Counterparty.objects.annotate(key_length=Length("name_key")).filter(key_length__gte=low, key_length__lte=high)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    matcher = difflib.SequenceMatcher(None, "", key)  # caches the second sequence
    found: dict[int, float] = {}
    for pk, other in rows.values_list("pk", "name_key").iterator(chunk_size=5000):
        matcher.set_seq1(other)
        if matcher.real_quick_ratio() >= NAME_SIMILARITY and matcher.quick_ratio() >= NAME_SIMILARITY:
            ratio = matcher.ratio()
            if ratio >= NAME_SIMILARITY:
                found[pk] = ratio
    return found


def duplicates_find(
    *, name: str = "", tax_id: str = "", phone: str = "", email: str = "", exclude_pk: int | None = None, limit: int = 20
) -> list[DuplicateCandidate]:
    """Counterparties that look like the one described: same tax ID, same phone or e-mail (its own or a contact's,
    compared normalised), or a name at least 85% similar once legal forms and punctuation are dropped.
    Unscoped (duplicates matter across managers); callers show only what the user may see as links."""
    country = company_settings().country
    reasons: dict[int, list[str]] = {}
    similarity: dict[int, float] = {}

    def found(ids, reason: str) -> None:
        for pk in ids:
            if pk != exclude_pk and reason not in reasons.setdefault(pk, []):
                reasons[pk].append(reason)

    tax_id = (tax_id or "").strip().replace(" ", "")
    if tax_id:
        found(Counterparty.objects.filter(tax_id__iexact=tax_id).values_list("pk", flat=True), "tax_id")
    phone = phone_for_matching(phone, country=country) if phone else ""
    if phone:
        found(Counterparty.objects.filter(Q(phone=phone) | Q(contacts__phone=phone)).values_list("pk", flat=True), "phone")
    email = (email or "").strip().lower()
    if email:
        found(Counterparty.objects.filter(Q(email__iexact=email) | Q(contacts__email__iexact=email)).values_list("pk", flat=True), "email")
    if name:
        similarity = _similar_name_ids(name, exclude_pk=exclude_pk)
        found(similarity, "name")
    order = {"tax_id": 0, "phone": 1, "email": 2, "name": 3}
    parties = Counterparty.objects.select_related("responsible").in_bulk(list(reasons))
    candidates = [
        DuplicateCandidate(counterparty=parties[pk], reasons=sorted(found_reasons, key=order.__getitem__), similarity=similarity.get(pk, 0.0))
        for pk, found_reasons in reasons.items()
        if pk in parties
    ]
    candidates.sort(key=lambda c: (min(order[r] for r in c.reasons), -len(c.reasons), -c.similarity, c.counterparty.name, c.counterparty.pk))
    return candidates[:limit]


class DuplicateFound(Conflict):
    code = "duplicate_counterparty"

    def __init__(self, candidates: list[DuplicateCandidate]):
        names = ", ".join(candidate.counterparty.name for candidate in candidates[:5])
        super().__init__(
            gettext("Possible duplicate of: %(names)s. Check them, or confirm to create anyway.") % {"names": names},
            candidates=[candidate.as_dict() for candidate in candidates],
        )
        self.candidates = candidates


REASON_LABELS = {
    "tax_id": lambda: gettext("same tax ID"),
    "phone": lambda: gettext("same phone"),
    "email": lambda: gettext("same e-mail"),
    "name": lambda: gettext("similar name"),
}


def reason_labels(reasons: list[str]) -> str:
    return ", ".join(REASON_LABELS[reason]() for reason in reasons)


# --- counterparties -------------------------------------------------------------------------------------------


def _own_company_unmark(*, actor: User, keep: int | None) -> None:
    """Only one counterparty is the company itself: marking another one moves the mark (audited on the old one)."""
    for previous in Counterparty.objects.select_for_update().filter(is_own_company=True).exclude(pk=keep):
        previous.is_own_company = False
        previous.save(update_fields=["is_own_company", "updated_at"])
        audit.record(actor=actor, action=AuditAction.UPDATE, target=previous, changes={"is_own_company": [True, False]})


@transaction.atomic
def counterparty_create(*, actor: User, data: dict[str, Any], check_duplicates: bool = False) -> Counterparty:
    """Create a counterparty. With `check_duplicates`, refuse with DuplicateFound when `duplicates_find` finds any."""
    data = {"responsible": actor, **data}
    cleaned, related = _clean(data, existing=None)
    if check_duplicates:
        candidates = duplicates_find(
            name=cleaned["name"], tax_id=cleaned.get("tax_id", ""), phone=cleaned.get("phone", ""), email=cleaned.get("email", "")
        )
        if candidates:
            raise DuplicateFound(candidates)
    if cleaned.get("is_own_company"):
        _own_company_unmark(actor=actor, keep=None)
    counterparty = Counterparty.objects.create(**cleaned)
    for name, items in related.items():
        getattr(counterparty, name).set(items)
    audit.record(actor=actor, action=AuditAction.CREATE, target=counterparty, changes=_snapshot(counterparty))
    events.record_event("record.created", target=counterparty, payload={"id": counterparty.pk, "name": counterparty.name})
    return counterparty


@transaction.atomic
def counterparty_update(*, actor: User, counterparty_id: int, data: dict[str, Any]) -> Counterparty:
    counterparty = Counterparty.objects.select_for_update().get(pk=counterparty_id)
    before = _snapshot(counterparty)
    cleaned, related = _clean(data, existing=counterparty)
    if cleaned.get("is_own_company") and not counterparty.is_own_company:
        _own_company_unmark(actor=actor, keep=counterparty.pk)
    for name, value in cleaned.items():
        setattr(counterparty, name, value)
    counterparty.save()
    for name, items in related.items():
        getattr(counterparty, name).set(items)
    changes = audit.diff(before, _snapshot(counterparty))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=counterparty, changes=changes)
        events.record_event("record.changed", target=counterparty, payload={"id": counterparty.pk, "changes": changes})
    return counterparty


@transaction.atomic
def counterparty_delete(*, actor: User, counterparty_id: int) -> None:
    counterparty = Counterparty.objects.select_for_update().get(pk=counterparty_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=counterparty, changes=_snapshot(counterparty))
    events.record_event("record.deleted", target=counterparty, payload={"id": counterparty.pk, "name": counterparty.name})
    try:
        counterparty.delete()
    except ProtectedError:
        raise Conflict(
            gettext("%(name)s is used by other records and cannot be deleted: deactivate it instead") % {"name": counterparty.name},
            code="counterparty_in_use",
            counterparty_id=counterparty.pk,
        )


def _bulk_update(*, actor: User, counterparty_ids: list[int], values: dict[str, Any]) -> int:
    """Set `values` on each counterparty (locked in id order), with an audit row and an event per changed record."""
    changed = 0
    rows = Counterparty.objects.select_related("responsible").select_for_update(of=("self",))
    for counterparty in rows.filter(pk__in=counterparty_ids).order_by("pk"):
        before = audit.snapshot(counterparty)
        for name, value in values.items():
            setattr(counterparty, name, value)
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
        raise ValidationError({"responsible": [gettext("Choose an active user as responsible")]})
    return _bulk_update(actor=actor, counterparty_ids=counterparty_ids, values={"responsible": responsible})


@transaction.atomic
def counterparty_bulk_set_active(*, actor: User, counterparty_ids: list[int], is_active: bool) -> int:
    """Deactivate (archive) or reactivate every listed counterparty; returns how many changed."""
    return _bulk_update(actor=actor, counterparty_ids=counterparty_ids, values={"is_active": bool(is_active)})


# --- contacts -------------------------------------------------------------------------------------------------


def _clean_contact(*, counterparty: Counterparty, name: str, position, phone: str, email: str, note: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        _add(errors, "name", gettext("Name is required"))
    elif len(name) > 200:
        _add(errors, "name", gettext("At most %(limit)s characters") % {"limit": 200})
    if position not in (None, "") and not isinstance(position, Position):
        found = Position.objects.filter(pk=int(position)).first() if str(position).isdigit() else None
        if found is None:
            _add(errors, "position", gettext("Choose a position from the directory"))
        position = found
    try:
        phone = normalise_phone(phone or "", country=counterparty.country or company_settings().country)
    except ValueError as error:
        _add(errors, "phone", str(error))
    email = _clean_email(email, errors)
    note = (note or "").strip()
    if len(note) > 5000:
        _add(errors, "note", gettext("At most %(limit)s characters") % {"limit": 5000})
    if errors:
        raise ValidationError(errors)
    return {"name": name, "position": position or None, "phone": phone, "email": email, "note": note}


def _make_only_primary(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(counterparty_id=contact.counterparty_id, is_primary=True).exclude(pk=contact.pk).update(is_primary=False)


@transaction.atomic
def contact_create(
    *, actor: User, counterparty: Counterparty, name: str, position=None, phone: str = "", email: str = "", note: str = "",
    is_primary: bool | None = None,
) -> Contact:
    """Add a contact person; the first contact of a counterparty becomes its primary one unless told otherwise."""
    values = _clean_contact(counterparty=counterparty, name=name, position=position, phone=phone, email=email, note=note)
    if is_primary is None:
        is_primary = not Contact.objects.filter(counterparty=counterparty).exists()
    contact = Contact.objects.create(counterparty=counterparty, is_primary=bool(is_primary), **values)
    _make_only_primary(contact)
    audit.record(actor=actor, action=AuditAction.CREATE, target=contact, changes=audit.snapshot(contact))
    events.record_event("record.created", target=contact, payload={"id": contact.pk, "counterparty_id": counterparty.pk, "name": contact.name})
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact_id: int, data: dict[str, Any]) -> Contact:
    contact = Contact.objects.select_related("counterparty", "position").select_for_update(of=("self",)).get(pk=contact_id)
    before = audit.snapshot(contact)
    current = {name: getattr(contact, name) for name in ("name", "position", "phone", "email", "note")}
    values = _clean_contact(counterparty=contact.counterparty, **{**current, **{k: v for k, v in data.items() if k in current}})
    for name, value in values.items():
        setattr(contact, name, value)
    if "is_primary" in data:
        contact.is_primary = bool(data["is_primary"])
    contact.save()
    _make_only_primary(contact)
    changes = audit.diff(before, audit.snapshot(contact))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=contact, changes=changes)
        events.record_event("record.changed", target=contact, payload={"id": contact.pk, "changes": changes})
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact_id: int) -> None:
    contact = Contact.objects.select_for_update().get(pk=contact_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=contact, changes=audit.snapshot(contact))
    events.record_event("record.deleted", target=contact, payload={"id": contact.pk, "counterparty_id": contact.counterparty_id})
    try:
        contact.delete()
    except ProtectedError:
        raise Conflict(gettext("%(name)s is used by other records and cannot be deleted") % {"name": contact.name}, code="contact_in_use")


# --- addresses ------------------------------------------------------------------------------------------------

ADDRESS_PARTS = {"country": 2, "region": 120, "city": 120, "street": 200, "building": 60, "postcode": 20}


def _clean_address(data: dict[str, Any], *, existing: Address | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values = {name: getattr(existing, name) for name in (*ADDRESS_PARTS, "kind", "raw")} if existing else {"kind": AddressKind.LEGAL, "raw": ""}
    values.update({name: data[name] for name in (*ADDRESS_PARTS, "kind", "raw") if name in data})
    if values["kind"] not in AddressKind.values:
        _add(errors, "kind", gettext("Must be one of: %(choices)s") % {"choices": ", ".join(AddressKind.values)})
    values["raw"] = (values.get("raw") or "").strip()
    if len(values["raw"]) > 1000:
        _add(errors, "raw", gettext("At most %(limit)s characters") % {"limit": 1000})
    for name in ADDRESS_PARTS:
        values[name] = (values.get(name) or "").strip()
    if values["raw"] and not any(values[name] for name in ADDRESS_PARTS):
        parsed = parse_address(values["raw"])  # fill the parts the text allows; the text itself stays as entered
        values.update({name: getattr(parsed, name) for name in ADDRESS_PARTS})
    if not values["raw"] and not any(values[name] for name in ADDRESS_PARTS):
        _add(errors, "raw", gettext("Enter the address: paste it as text or fill its parts"))
    values["country"] = values["country"].upper()
    if values["country"] and (len(values["country"]) != 2 or not values["country"].isalpha()):
        _add(errors, "country", gettext("Use the two-letter ISO country code, e.g. RU, ES, AM"))
    for name, limit in ADDRESS_PARTS.items():
        if len(values[name]) > limit:
            _add(errors, name, gettext("At most %(limit)s characters") % {"limit": limit})
    if values["country"] == "RU" and values["postcode"] and not re.fullmatch(r"\d{6}", values["postcode"]):
        _add(errors, "postcode", gettext("A Russian postcode has 6 digits"))
    if errors:
        raise ValidationError(errors)
    if not values["raw"]:
        values["raw"] = ", ".join(values[name] for name in ("postcode", "region", "city", "street", "building") if values[name])
    return values


@transaction.atomic
def address_create(*, actor: User, counterparty: Counterparty, data: dict[str, Any]) -> Address:
    """Add an address. Text pasted into `raw` with no parts given is parsed into country, region, city, street,
    building and postcode where the parser can tell them."""
    address = Address.objects.create(counterparty=counterparty, **_clean_address(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=address, changes=audit.snapshot(address))
    events.record_event("record.created", target=address, payload={"id": address.pk, "counterparty_id": counterparty.pk})
    return address


@transaction.atomic
def address_update(*, actor: User, address_id: int, data: dict[str, Any]) -> Address:
    address = Address.objects.select_for_update().get(pk=address_id)
    before = audit.snapshot(address)
    for name, value in _clean_address(data, existing=address).items():
        setattr(address, name, value)
    address.save()
    changes = audit.diff(before, audit.snapshot(address))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=address, changes=changes)
        events.record_event("record.changed", target=address, payload={"id": address.pk, "changes": changes})
    return address


@transaction.atomic
def address_delete(*, actor: User, address_id: int) -> None:
    address = Address.objects.select_for_update().get(pk=address_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=address, changes=audit.snapshot(address))
    events.record_event("record.deleted", target=address, payload={"id": address.pk, "counterparty_id": address.counterparty_id})
    address.delete()


# --- bank accounts --------------------------------------------------------------------------------------------


def _clean_bank_account(data: dict[str, Any], *, counterparty: Counterparty, existing: BankAccount | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    names = ("bank_name", "bic", "account", "correspondent_account", "currency", "is_default")
    values = {name: getattr(existing, name) for name in names} if existing else {"is_default": False}
    values.update({name: data[name] for name in names if name in data})
    values["bank_name"] = (values.get("bank_name") or "").strip()
    if not values["bank_name"]:
        _add(errors, "bank_name", gettext("Bank name is required"))
    elif len(values["bank_name"]) > 200:
        _add(errors, "bank_name", gettext("At most %(limit)s characters") % {"limit": 200})
    country = counterparty.country or company_settings().country
    try:
        values["bic"] = normalise_bic(values.get("bic") or "", country=country)
    except ValueError as error:
        _add(errors, "bic", str(error))
    for name in ("account", "correspondent_account"):
        values[name] = re.sub(r"\s+", "", values.get(name) or "").upper()
        if values[name] and not re.fullmatch(r"[A-Z0-9]{5,34}", values[name]):
            _add(errors, name, gettext("An account number has 5 to 34 letters and digits"))
    if not values["account"] and "account" not in errors:
        _add(errors, "account", gettext("Account number is required"))
    if country == "RU" and values["account"] and not errors.get("account") and not re.fullmatch(r"\d{20}", values["account"]):
        _add(errors, "account", gettext("A Russian account number has 20 digits"))
    values["currency"] = (values.get("currency") or "").strip().upper()
    if values["currency"] and not re.fullmatch(r"[A-Z]{3}", values["currency"]):
        _add(errors, "currency", gettext("Use the three-letter currency code, e.g. RUB, EUR, AMD"))
    values["is_default"] = bool(values["is_default"])
    if errors:
        raise ValidationError(errors)
    return values


def _make_only_default(account: BankAccount) -> None:
    if account.is_default:
        BankAccount.objects.filter(counterparty_id=account.counterparty_id, is_default=True).exclude(pk=account.pk).update(is_default=False)


@transaction.atomic
def bank_account_create(*, actor: User, counterparty: Counterparty, data: dict[str, Any]) -> BankAccount:
    """Add a bank account; the first one becomes the default."""
    values = _clean_bank_account(data, counterparty=counterparty, existing=None)
    if "is_default" not in data:
        values["is_default"] = not BankAccount.objects.filter(counterparty=counterparty).exists()
    account = BankAccount.objects.create(counterparty=counterparty, **values)
    _make_only_default(account)
    audit.record(actor=actor, action=AuditAction.CREATE, target=account, changes=audit.snapshot(account))
    events.record_event("record.created", target=account, payload={"id": account.pk, "counterparty_id": counterparty.pk})
    return account


@transaction.atomic
def bank_account_update(*, actor: User, bank_account_id: int, data: dict[str, Any]) -> BankAccount:
    account = BankAccount.objects.select_related("counterparty").select_for_update(of=("self",)).get(pk=bank_account_id)
    before = audit.snapshot(account)
    for name, value in _clean_bank_account(data, counterparty=account.counterparty, existing=account).items():
        setattr(account, name, value)
    account.save()
    _make_only_default(account)
    changes = audit.diff(before, audit.snapshot(account))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=account, changes=changes)
        events.record_event("record.changed", target=account, payload={"id": account.pk, "changes": changes})
    return account


@transaction.atomic
def bank_account_delete(*, actor: User, bank_account_id: int) -> None:
    account = BankAccount.objects.select_for_update().get(pk=bank_account_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=account, changes=audit.snapshot(account))
    events.record_event("record.deleted", target=account, payload={"id": account.pk, "counterparty_id": account.counterparty_id})
    try:
        account.delete()
    except ProtectedError:
        raise Conflict(gettext("This bank account is used by other records and cannot be deleted"), code="bank_account_in_use")


# --- directories: positions, segments, tags -------------------------------------------------------------------

DIRECTORIES: dict[str, type[Position | Segment | Tag]] = {"position": Position, "segment": Segment, "tag": Tag}


def _clean_directory(model, data: dict[str, Any], *, existing) -> dict[str, Any]:
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in data or existing is None:
        name = (data.get("name") or "").strip()
        if not name:
            _add(errors, "name", gettext("Name is required"))
        elif len(name) > 120:
            _add(errors, "name", gettext("At most %(limit)s characters") % {"limit": 120})
        elif model.objects.filter(name__iexact=name).exclude(pk=existing.pk if existing else None).exists():
            _add(errors, "name", gettext("“%(name)s” already exists") % {"name": name})
        values["name"] = name
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return values


def directory_item_validate(model, data: dict[str, Any], *, existing=None) -> None:
    """Check a position/segment/tag without saving (inline form validation); raises ValidationError like a save."""
    _clean_directory(model, data, existing=existing)


@transaction.atomic
def directory_item_create(*, actor: User, model: type[Position | Segment | Tag], data: dict[str, Any]):
    item = model.objects.create(**_clean_directory(model, data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=item, changes=audit.snapshot(item))
    return item


@transaction.atomic
def directory_item_update(*, actor: User, model: type[Position | Segment | Tag], item_id: int, data: dict[str, Any]):
    item = model.objects.select_for_update().get(pk=item_id)
    before = audit.snapshot(item)
    for name, value in _clean_directory(model, data, existing=item).items():
        setattr(item, name, value)
    item.save()
    changes = audit.diff(before, audit.snapshot(item))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=item, changes=changes)
    return item


# --- merge ----------------------------------------------------------------------------------------------------

MERGE_FILL_FIELDS = (
    "full_name", "tax_id", "kpp", "registration_number", "email", "phone", "website", "city", "notes", "price_type_code",
    "discount_group", "parent",
)


def _generic_reference_models() -> list[type[models.Model]]:
    """Models pointing at any record by (content_type, object_id) — statuses, reminders, attachments, timers... —
    except the audit log, which stays with the record it describes."""
    from fabrika.core.models import AuditEntry

    found = []
    for model in apps.get_models():
        if model is AuditEntry:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        content_type = model._meta.concrete_fields and next((f for f in model._meta.concrete_fields if f.name == "content_type"), None)
        if "object_id" in names and content_type is not None and content_type.is_relation and content_type.related_model is ContentType:
            found.append(model)
    return found


@transaction.atomic
def counterparty_merge(*, actor: User, survivor: Counterparty, duplicate: Counterparty) -> Counterparty:
    """Fold `duplicate` into `survivor`: every record pointing at the duplicate (foreign keys and many-to-many of
    any app, found through the model's relations, and generic content-type references) is moved to the survivor,
    the survivor's empty fields, roles and custom values are filled from the duplicate, and the duplicate is deleted.
    Both get an audit entry (the duplicate's stays in the log) and a "counterparty.merged" event is recorded."""
    if survivor.pk == duplicate.pk:
        raise ValidationError({"duplicate": [gettext("Choose a different counterparty to merge into this one")]})
    first, second = sorted([survivor.pk, duplicate.pk])
    locked = Counterparty.objects.select_for_update().in_bulk([first, second])
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    ancestor = survivor.parent
    while ancestor is not None:
        if ancestor.pk == duplicate.pk:
            survivor.parent = duplicate.parent  # the survivor was the duplicate's branch: it takes its place
            break
        ancestor = ancestor.parent
    before = _snapshot(survivor)
    duplicate_snapshot = _snapshot(duplicate)
    moved: dict[str, int] = {}
    # the survivor's primary contact and default account stay so; the duplicate's become ordinary ones
    own_marked = {
        Contact: ("is_primary", list(Contact.objects.filter(counterparty=survivor, is_primary=True).values_list("pk", flat=True))),
        BankAccount: ("is_default", list(BankAccount.objects.filter(counterparty=survivor, is_default=True).values_list("pk", flat=True))),
    }
    for relation in Counterparty._meta.related_objects:
        if relation.many_to_many:
            through = relation.through
            source, target = relation.field.m2m_field_name(), relation.field.m2m_reverse_field_name()
            if relation.field.model is Counterparty and relation.related_model is Counterparty:
                continue
            rows = through.objects.filter(**{target: duplicate.pk})
            existing = set(through.objects.filter(**{target: survivor.pk}).values_list(source, flat=True))
            rows.filter(**{f"{source}__in": existing}).delete()
            count = rows.update(**{target: survivor.pk})
        elif relation.one_to_many or relation.one_to_one:
            field_name = relation.field.name
            queryset = relation.related_model._base_manager.filter(**{field_name: duplicate.pk})
            if relation.related_model is Counterparty and field_name == "parent":
                queryset = queryset.exclude(pk=survivor.pk)
            count = queryset.update(**{field_name: survivor.pk})
        else:
            continue
        if count:
            moved[f"{relation.related_model._meta.label_lower}.{relation.field.name}"] = count
    for name in M2M_FIELDS:  # the counterparty's own many-to-many fields
        getattr(survivor, name).add(*getattr(duplicate, name).all())
    content_type = ContentType.objects.get_for_model(Counterparty)
    for model in _generic_reference_models():
        count = model._base_manager.filter(content_type=content_type, object_id=str(duplicate.pk)).update(object_id=str(survivor.pk))
        if count:
            moved[model._meta.label_lower] = count
    for model, (flag, own) in own_marked.items():
        if own:
            model.objects.filter(counterparty=survivor, **{flag: True}).exclude(pk__in=own).update(**{flag: False})
    for name in MERGE_FILL_FIELDS:
        if not getattr(survivor, name) and getattr(duplicate, name):
            if name == "parent" and duplicate.parent_id == survivor.pk:
                continue
            setattr(survivor, name, getattr(duplicate, name))
    for flag in ROLE_FLAGS:
        setattr(survivor, flag, getattr(survivor, flag) or getattr(duplicate, flag))
    survivor.custom = {**(duplicate.custom or {}), **(survivor.custom or {})}
    survivor.save()
    changes = audit.diff(before, _snapshot(survivor))
    message = gettext("Merged “%(duplicate)s” (#%(id)s) into this counterparty") % {"duplicate": duplicate.name, "id": duplicate.pk}
    audit.record(actor=actor, action=AuditAction.UPDATE, target=survivor, changes={**changes, "merged": {"id": duplicate.pk, "name": duplicate.name, "moved": moved}}, message=message)
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        target=duplicate,
        changes=duplicate_snapshot,
        message=gettext("Merged into “%(survivor)s” (#%(id)s)") % {"survivor": survivor.name, "id": survivor.pk},
    )
    payload = {"survivor_id": survivor.pk, "duplicate_id": duplicate.pk, "duplicate_name": duplicate.name, "moved": moved}
    events.record_event("counterparty.merged", target=survivor, payload=payload)
    duplicate.delete()
    return survivor
