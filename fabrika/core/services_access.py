"""Writes of the access area: users, roles, departments, company settings, currencies and rates, numbering.

Each service runs in one transaction, validates its input (a `ValidationError` naming every bad field and the rule
it breaks, the database left as it was), records an audit entry (old → new per field on updates) and a domain event.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.numbers import get_currency_name, get_currency_precision, get_currency_symbol, list_currencies
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from . import audit, events, numbering
from .errors import Conflict, NotFound, ValidationError
from .models import (
    CompanySettings,
    Currency,
    Department,
    ExchangeRate,
    NumberCounter,
    NumberSequence,
    RoleProfile,
    Scope,
    User,
)
from .models.audit import AuditAction
from .models.company import ValuationMethod
from .selectors import company_settings

Errors = dict[str, list[str]]

# Codes Babel lists among territories that are not countries (unknown region, outlying Oceania, unions, test codes).
_NOT_COUNTRIES = {"ZZ", "QO", "EU", "EZ", "UN", "XA", "XB"}
_DOCUMENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _text(data: dict[str, Any], field: str, errors: Errors, *, limit: int, required: bool = False, label: str = "") -> str:
    value = data.get(field)
    value = "" if value is None else str(value).strip()
    if required and not value:
        _add(errors, field, f"{label or field.replace('_', ' ').capitalize()} is required")
    elif len(value) > limit:
        _add(errors, field, f"At most {limit} characters")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _pk(value: Any) -> int | None:
    """The primary key of a model instance, an int or a digit string; None for empty; -1 for anything else."""
    if value in (None, ""):
        return None
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return -1


# --- reference data --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def iso_currency_codes() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO 3166 alpha-2 code → English name."""
    territories = Locale("en").territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES}


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


# --- users -----------------------------------------------------------------------------------------------------

USER_FIELDS = ("username", "first_name", "last_name", "email", "department", "roles", "is_active", "language", "position", "phone")


def _user_snapshot(user: User) -> dict[str, Any]:
    values = audit.snapshot(
        user, fields=("username", "first_name", "last_name", "email", "department", "is_active", "language", "position", "phone")
    )
    values["roles"] = sorted(user.groups.values_list("name", flat=True))
    return values


def _clean_user(data: dict[str, Any], *, existing: User | None) -> tuple[dict[str, Any], list[Group] | None]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    creating = existing is None
    if creating or "username" in data:
        username = _text(data, "username", errors, limit=150, required=True, label="Username")
        if username:
            try:
                UnicodeUsernameValidator()(username)
            except DjangoValidationError:
                _add(errors, "username", "Use only letters, digits and @ . + - _")
            else:
                taken = User.objects.filter(username__iexact=username)
                if existing is not None:
                    taken = taken.exclude(pk=existing.pk)
                if taken.exists():
                    _add(errors, "username", f"The username '{username}' is already taken")
        cleaned["username"] = username
    for field, limit in (("first_name", 150), ("last_name", 150), ("position", 200)):
        if creating or field in data:
            cleaned[field] = _text(data, field, errors, limit=limit)
    if creating or "phone" in data:
        phone = _text(data, "phone", errors, limit=32)
        if phone and not re.fullmatch(r"\+?[0-9 ()\-]{3,31}", phone):
            _add(errors, "phone", "Use digits, spaces, brackets and dashes, optionally starting with +, e.g. +7 495 123-45-67")
        cleaned["phone"] = phone
    if creating or "email" in data:
        email = _text(data, "email", errors, limit=254).lower()
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                _add(errors, "email", "Enter a valid e-mail address, e.g. name@example.com")
            else:
                taken = User.objects.filter(email__iexact=email)
                if existing is not None:
                    taken = taken.exclude(pk=existing.pk)
                if taken.exists():
                    _add(errors, "email", f"Another user already has the e-mail {email}")
        cleaned["email"] = email
    if creating or "language" in data:
        language = _text(data, "language", errors, limit=8)
        if language and language not in language_codes():
            _add(errors, "language", f"Choose one of: {', '.join(language_codes())} (or leave empty for the browser's language)")
        cleaned["language"] = language
    if creating or "department" in data:
        department_id = _pk(data.get("department"))
        department = None
        if department_id is not None:
            department = Department.objects.filter(pk=department_id).first()
            if department is None:
                _add(errors, "department", f"Department {data.get('department')} does not exist")
        cleaned["department"] = department
    if creating or "is_active" in data:
        cleaned["is_active"] = _bool(data.get("is_active", True))
    roles: list[Group] | None = None
    if creating or "roles" in data:
        wanted = data.get("roles") or []
        ids = [_pk(role) for role in wanted]
        if any(role_id is None or role_id < 0 for role_id in ids):
            _add(errors, "roles", "Choose roles from the list")
        else:
            roles = list(Group.objects.filter(pk__in=ids).order_by("name"))
            missing = sorted(set(ids) - {role.pk for role in roles})
            if missing:
                _add(errors, "roles", f"Role(s) {', '.join(map(str, missing))} do not exist")
    _raise(errors)
    return cleaned, roles


@transaction.atomic
def user_create(*, actor: User, data: dict[str, Any]) -> User:
    """Create a user. Without a password they get a random one nobody knows, and set their own through the
    "Forgot your password?" e-mail (Django sends reset mail only to users with a usable password)."""
    password = data.get("password") or ""
    errors: Errors = {}
    try:
        cleaned, roles = _clean_user(data, existing=None)
    except ValidationError as error:
        errors.update(error.errors)
    if password:
        try:
            candidate = User(username=str(data.get("username") or ""), email=str(data.get("email") or ""))
            password_validation.validate_password(password, candidate)
        except DjangoValidationError as error:
            errors["password"] = list(error.messages)
    _raise(errors)
    user = User(**cleaned)
    user.set_password(password or secrets.token_urlsafe(32))
    user.save()
    user.groups.set(roles or [])
    audit.record(actor=actor, action=AuditAction.CREATE, target=user, changes=_user_snapshot(user))
    events.record_event("record.created", target=user, payload={"id": user.pk, "username": user.username})
    return user


@transaction.atomic
def user_update(*, actor: User, user_id: int, data: dict[str, Any]) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} not found")
    before = _user_snapshot(user)
    cleaned, roles = _clean_user({key: value for key, value in data.items() if key in USER_FIELDS}, existing=user)
    if user.pk == actor.pk:
        if cleaned.get("is_active") is False:
            raise ValidationError({"is_active": ["You cannot deactivate yourself"]})
        if roles is not None and not actor.is_superuser and {g.pk for g in roles} != set(user.groups.values_list("pk", flat=True)):
            raise ValidationError({"roles": ["You cannot change your own roles; ask another administrator"]})
    for field, value in cleaned.items():
        setattr(user, field, value)
    user.save()
    if roles is not None:
        user.groups.set(roles)
    changes = audit.diff(before, _user_snapshot(user))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=user, changes=changes)
        events.record_event("record.changed", target=user, payload={"id": user.pk, "changes": changes})
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user_id: int) -> User:
    """Deactivate a user: they can no longer log in or use their API tokens; their records and history stay."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} not found")
    if user.pk == actor.pk:
        raise ValidationError({"is_active": ["You cannot deactivate yourself"]})
    if not user.is_active:
        raise Conflict(f"User {user.username} is already inactive", code="already_inactive")
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=user, changes={"is_active": [True, False]}, message="User deactivated")
    events.record_event("record.changed", target=user, payload={"id": user.pk, "changes": {"is_active": [True, False]}})
    return user


# --- roles -----------------------------------------------------------------------------------------------------


def _role_snapshot(group: Group) -> dict[str, Any]:
    profile = RoleProfile.objects.filter(group=group).first()
    return {
        "name": group.name,
        "scope": profile.scope if profile else Scope.OWN,
        "description": profile.description if profile else "",
        "discount_limit_percent": str(profile.discount_limit_percent) if profile else "0.00",
        "permissions": sorted(
            f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")
        ),
    }


def _clean_role(data: dict[str, Any], *, existing: Group | None) -> tuple[dict[str, Any], list[Permission] | None]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    creating = existing is None
    if creating or "name" in data:
        name = _text(data, "name", errors, limit=150, required=True, label="Name")
        taken = Group.objects.filter(name__iexact=name)
        if existing is not None:
            taken = taken.exclude(pk=existing.pk)
        if name and taken.exists():
            _add(errors, "name", f"A role named '{name}' already exists")
        cleaned["name"] = name
    if creating or "scope" in data:
        scope = data.get("scope") or Scope.OWN
        if scope not in Scope.values:
            _add(errors, "scope", f"Choose one of: {', '.join(Scope.values)}")
        cleaned["scope"] = scope
    if creating or "description" in data:
        cleaned["description"] = _text(data, "description", errors, limit=2000)
    if creating or "discount_limit_percent" in data:
        raw = data.get("discount_limit_percent")
        try:
            limit = Decimal(str(raw if raw not in (None, "") else "0"))
        except InvalidOperation:
            _add(errors, "discount_limit_percent", "Enter a number, e.g. 7.5")
        else:
            if not limit.is_finite() or limit < 0 or limit > 100:
                _add(errors, "discount_limit_percent", "Must be between 0 and 100")
            elif limit != limit.quantize(Decimal("0.01")):
                _add(errors, "discount_limit_percent", "At most 2 decimal places")
            else:
                cleaned["discount_limit_percent"] = limit.quantize(Decimal("0.01"))
    permissions: list[Permission] | None = None
    if creating or "permissions" in data:
        permissions = []
        wanted = data.get("permissions") or []
        ids = [item for item in wanted if _pk(item) not in (None, -1)]
        names = [str(item) for item in wanted if _pk(item) in (None, -1)]
        found = list(Permission.objects.filter(pk__in=[_pk(item) for item in ids]).select_related("content_type"))
        unknown = [str(item) for item in ids if _pk(item) not in {p.pk for p in found}]
        for name in names:
            app_label, _, codename = name.partition(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is None:
                unknown.append(name)
            else:
                found.append(permission)
        if unknown:
            _add(errors, "permissions", f"Unknown permission(s): {', '.join(unknown)}")
        permissions = found
    _raise(errors)
    return cleaned, permissions


@transaction.atomic
def role_create(*, actor: User, data: dict[str, Any]) -> Group:
    cleaned, permissions = _clean_role(data, existing=None)
    group = Group.objects.create(name=cleaned["name"])
    RoleProfile.objects.create(
        group=group, scope=cleaned["scope"], description=cleaned["description"], discount_limit_percent=cleaned["discount_limit_percent"]
    )
    group.permissions.set(permissions or [])
    audit.record(actor=actor, action=AuditAction.CREATE, target=group, changes=_role_snapshot(group))
    events.record_event("record.created", target=group, payload={"id": group.pk, "name": group.name})
    return group


@transaction.atomic
def role_update(*, actor: User, role_id: int, data: dict[str, Any]) -> Group:
    group = Group.objects.select_for_update().filter(pk=role_id).first()
    if group is None:
        raise NotFound(f"Role {role_id} not found")
    before = _role_snapshot(group)
    cleaned, permissions = _clean_role(data, existing=group)
    if "name" in cleaned:
        group.name = cleaned.pop("name")
        group.save(update_fields=["name"])
    profile, _ = RoleProfile.objects.get_or_create(group=group)
    if cleaned:
        for field, value in cleaned.items():
            setattr(profile, field, value)
        profile.save(update_fields=list(cleaned))
    if permissions is not None:
        group.permissions.set(permissions)
    changes = audit.diff(before, _role_snapshot(group))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=group, changes=changes)
        events.record_event("record.changed", target=group, payload={"id": group.pk, "changes": changes})
    return group


@transaction.atomic
def role_delete(*, actor: User, role_id: int) -> None:
    group = Group.objects.select_for_update().filter(pk=role_id).first()
    if group is None:
        raise NotFound(f"Role {role_id} not found")
    members = group.user_set.count()
    if members:
        raise Conflict(f"The role '{group.name}' still has {members} member(s); take it away from them first", code="role_in_use")
    audit.record(actor=actor, action=AuditAction.DELETE, target=group, changes=_role_snapshot(group))
    events.record_event("record.deleted", target=group, payload={"id": group.pk, "name": group.name})
    group.delete()


# --- departments -----------------------------------------------------------------------------------------------


def _clean_department(data: dict[str, Any], *, existing: Department | None) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    creating = existing is None
    if creating or "name" in data:
        cleaned["name"] = _text(data, "name", errors, limit=200, required=True, label="Name")
    if creating or "parent" in data:
        parent_id = _pk(data.get("parent"))
        parent = None
        if parent_id is not None:
            parent = Department.objects.filter(pk=parent_id).first()
            if parent is None:
                _add(errors, "parent", f"Department {data.get('parent')} does not exist")
            elif existing is not None and parent.pk in existing.descendant_ids():
                _add(errors, "parent", "A department cannot be placed inside itself or one of its sub-departments")
        cleaned["parent"] = parent
    if creating or "head" in data:
        head_id = _pk(data.get("head"))
        head = None
        if head_id is not None:
            head = User.objects.filter(pk=head_id, is_active=True).first()
            if head is None:
                _add(errors, "head", "Choose an active user as the head")
        cleaned["head"] = head
    name = cleaned.get("name", existing.name if existing else "")
    parent = cleaned["parent"] if "parent" in cleaned else (existing.parent if existing else None)
    if name and "parent" not in errors:
        siblings = Department.objects.filter(parent=parent, name__iexact=name)
        if existing is not None:
            siblings = siblings.exclude(pk=existing.pk)
        if siblings.exists():
            _add(errors, "name", f"'{parent or 'The top level'}' already has a department named '{name}'")
    _raise(errors)
    return cleaned


@transaction.atomic
def department_create(*, actor: User, data: dict[str, Any]) -> Department:
    department = Department.objects.create(**_clean_department(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=department, changes=audit.snapshot(department))
    events.record_event("record.created", target=department, payload={"id": department.pk, "name": department.name})
    return department


@transaction.atomic
def department_update(*, actor: User, department_id: int, data: dict[str, Any]) -> Department:
    department = Department.objects.select_for_update().filter(pk=department_id).first()
    if department is None:
        raise NotFound(f"Department {department_id} not found")
    before = audit.snapshot(department)
    for field, value in _clean_department(data, existing=department).items():
        setattr(department, field, value)
    department.save()
    changes = audit.diff(before, audit.snapshot(department))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=department, changes=changes)
        events.record_event("record.changed", target=department, payload={"id": department.pk, "changes": changes})
    return department


@transaction.atomic
def department_delete(*, actor: User, department_id: int) -> None:
    department = Department.objects.select_for_update().filter(pk=department_id).first()
    if department is None:
        raise NotFound(f"Department {department_id} not found")
    if department.children.exists():
        raise Conflict(f"'{department}' has sub-departments; move or delete them first", code="department_has_children")
    members = department.members.count()
    if members:
        raise Conflict(f"'{department}' still has {members} member(s); move them to another department first", code="department_has_members")
    audit.record(actor=actor, action=AuditAction.DELETE, target=department, changes=audit.snapshot(department))
    events.record_event("record.deleted", target=department, payload={"id": department.pk, "name": department.name})
    department.delete()


# --- company settings ------------------------------------------------------------------------------------------

COMPANY_FIELDS = ("name", "base_currency", "country", "time_zone", "fiscal_year_start_month", "default_valuation_method", "allow_negative_stock")


def _clean_company(data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    if "name" in data:
        cleaned["name"] = _text(data, "name", errors, limit=200, required=True, label="Company name")
    if "base_currency" in data:
        code = _text(data, "base_currency", errors, limit=3).upper()
        if code not in iso_currency_codes():
            _add(errors, "base_currency", "Enter an ISO 4217 currency code, e.g. RUB, EUR, USD")
        cleaned["base_currency"] = code
    if "country" in data:
        country = _text(data, "country", errors, limit=2).upper()
        if country not in country_names():
            _add(errors, "country", "Enter an ISO 3166 two-letter country code, e.g. RU, DE, US")
        cleaned["country"] = country
    if "time_zone" in data:
        zone = _text(data, "time_zone", errors, limit=64)
        if zone not in time_zone_names():
            _add(errors, "time_zone", "Enter a time zone from the IANA database, e.g. Europe/Moscow")
        cleaned["time_zone"] = zone
    if "fiscal_year_start_month" in data:
        month = _pk(data.get("fiscal_year_start_month"))
        if month is None or not 1 <= month <= 12:
            _add(errors, "fiscal_year_start_month", "Enter a month number from 1 to 12")
        cleaned["fiscal_year_start_month"] = month
    if "default_valuation_method" in data:
        method = data.get("default_valuation_method")
        if method not in ValuationMethod.values:
            _add(errors, "default_valuation_method", f"Choose one of: {', '.join(ValuationMethod.values)}")
        cleaned["default_valuation_method"] = method
    if "allow_negative_stock" in data:
        cleaned["allow_negative_stock"] = _bool(data.get("allow_negative_stock"))
    method = cleaned.get("default_valuation_method")
    if cleaned.get("allow_negative_stock") and method == ValuationMethod.FIFO:
        _add(errors, "allow_negative_stock", "Negative stock is possible only with moving-average valuation")
    _raise(errors)
    return cleaned


@transaction.atomic
def company_settings_update(*, actor: User, data: dict[str, Any]) -> CompanySettings:
    """Change the fields present in `data` (a partial update)."""
    company_settings()
    company = CompanySettings.objects.select_for_update().get(pk=1)
    before = audit.snapshot(company)
    cleaned = _clean_company({key: value for key, value in data.items() if key in COMPANY_FIELDS})
    for field, value in cleaned.items():
        setattr(company, field, value)
    if company.allow_negative_stock and company.default_valuation_method == ValuationMethod.FIFO:
        raise ValidationError({"allow_negative_stock": ["Negative stock is possible only with moving-average valuation"]})
    company.save()
    changes = audit.diff(before, audit.snapshot(company))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=company, changes=changes)
        events.record_event("record.changed", target=company, payload={"id": company.pk, "changes": changes})
    return company


# --- currencies and exchange rates -----------------------------------------------------------------------------


def _clean_currency(data: dict[str, Any], *, existing: Currency | None) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    if existing is None:
        code = _text(data, "code", errors, limit=3, required=True, label="Code").upper()
        if code and "code" not in errors:
            if code not in iso_currency_codes():
                _add(errors, "code", "Not an ISO 4217 currency code; use e.g. RUB, EUR, USD")
            elif Currency.objects.filter(code=code).exists():
                _add(errors, "code", f"The currency {code} already exists")
        cleaned["code"] = code
    elif "code" in data and str(data["code"] or "").strip().upper() != existing.code:
        _add(errors, "code", "The code of an existing currency cannot be changed")
    code = cleaned.get("code") or (existing.code if existing else "")
    known = code in iso_currency_codes()
    if existing is None or "name" in data:
        name = _text(data, "name", errors, limit=100)
        if not name and known:
            name = get_currency_name(code, locale="en")
        if not name and "code" not in errors:
            _add(errors, "name", "Name is required")
        cleaned["name"] = name
    if existing is None or "symbol" in data:
        symbol = _text(data, "symbol", errors, limit=8)
        if not symbol and known and existing is None:
            symbol = get_currency_symbol(code, locale="en")[:8]
        cleaned["symbol"] = symbol
    if existing is None or "minor_unit" in data:
        raw = data.get("minor_unit")
        if raw in (None, "") and existing is None:
            minor_unit = get_currency_precision(code) if known else 2
        else:
            minor_unit = _pk(raw)
        if minor_unit is None or not 0 <= minor_unit <= 6:
            _add(errors, "minor_unit", "Enter the number of decimal places, from 0 to 6")
        cleaned["minor_unit"] = minor_unit
    _raise(errors)
    return cleaned


@transaction.atomic
def currency_create(*, actor: User, data: dict[str, Any]) -> Currency:
    """Add a currency; name, symbol and decimal places default to the ISO 4217 data when not given."""
    currency = Currency.objects.create(**_clean_currency(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=currency, changes=audit.snapshot(currency))
    events.record_event("record.created", target=currency, payload={"id": currency.pk, "code": currency.code})
    return currency


@transaction.atomic
def currency_update(*, actor: User, currency_id: int, data: dict[str, Any]) -> Currency:
    currency = Currency.objects.select_for_update().filter(pk=currency_id).first()
    if currency is None:
        raise NotFound(f"Currency {currency_id} not found")
    before = audit.snapshot(currency)
    for field, value in _clean_currency(data, existing=currency).items():
        setattr(currency, field, value)
    currency.save()
    changes = audit.diff(before, audit.snapshot(currency))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=currency, changes=changes)
        events.record_event("record.changed", target=currency, payload={"id": currency.pk, "changes": changes})
    return currency


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


@transaction.atomic
def exchange_rate_add(*, actor: User, currency_id: int, data: dict[str, Any]) -> ExchangeRate:
    """Record how many units of the base currency `nominal` units of the currency cost on a date."""
    currency = Currency.objects.filter(pk=currency_id).first()
    if currency is None:
        raise NotFound(f"Currency {currency_id} not found")
    errors: Errors = {}
    if currency.code == company_settings().base_currency:
        raise ValidationError({"currency": [f"{currency.code} is the base currency: its rate is always 1"]})
    on = _date(data.get("date"))
    if on is None:
        _add(errors, "date", "Enter a date as YYYY-MM-DD")
    elif ExchangeRate.objects.filter(currency=currency, date=on).exists():
        _add(errors, "date", f"{currency.code} already has a rate on {on.isoformat()}; there is one rate per currency per day")
    rate = None
    try:
        rate = Decimal(str(data.get("rate") if data.get("rate") not in (None, "") else "x").strip().replace(",", "."))
    except InvalidOperation:
        _add(errors, "rate", "Enter a number, e.g. 92.5")
    if rate is not None:
        if not rate.is_finite() or rate <= 0:
            _add(errors, "rate", "The rate must be greater than 0")
        elif rate != rate.quantize(Decimal("0.000001")):
            _add(errors, "rate", "At most 6 decimal places")
        elif rate >= Decimal("1000000000"):
            _add(errors, "rate", "At most 9 digits before the decimal point")
    nominal_raw = data.get("nominal")
    nominal = 1 if nominal_raw in (None, "") else _pk(nominal_raw)
    if nominal is None or nominal < 1 or nominal > 1_000_000:
        _add(errors, "nominal", "The nominal is a whole number from 1 to 1000000, e.g. 100 for rates per 100 units")
    _raise(errors)
    exchange_rate = ExchangeRate.objects.create(currency=currency, date=on, rate=rate.quantize(Decimal("0.000001")), nominal=nominal)
    audit.record(actor=actor, action=AuditAction.CREATE, target=exchange_rate, changes=audit.snapshot(exchange_rate))
    events.record_event(
        "record.created", target=exchange_rate, payload={"id": exchange_rate.pk, "currency": currency.code, "date": on.isoformat()}
    )
    return exchange_rate


@transaction.atomic
def exchange_rate_delete(*, actor: User, rate_id: int) -> ExchangeRate:
    """Delete a mistaken rate; returns the deleted row (its currency_id tells where it was)."""
    exchange_rate = ExchangeRate.objects.select_related("currency").filter(pk=rate_id).first()
    if exchange_rate is None:
        raise NotFound(f"Exchange rate {rate_id} not found")
    audit.record(actor=actor, action=AuditAction.DELETE, target=exchange_rate, changes=audit.snapshot(exchange_rate))
    events.record_event(
        "record.deleted",
        target=exchange_rate,
        payload={"id": exchange_rate.pk, "currency": exchange_rate.currency.code, "date": exchange_rate.date.isoformat()},
    )
    exchange_rate.delete()
    return exchange_rate


# --- numbering -------------------------------------------------------------------------------------------------


def _clean_sequence(data: dict[str, Any], *, existing: NumberSequence | None) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    if existing is None:
        document_type = _text(data, "document_type", errors, limit=64, required=True, label="Document type")
        if document_type and not _DOCUMENT_TYPE.match(document_type):
            _add(errors, "document_type", "Use lowercase letters, digits and _ starting with a letter, e.g. sales_order")
        elif document_type and NumberSequence.objects.filter(document_type=document_type).exists():
            _add(errors, "document_type", f"A sequence for '{document_type}' already exists")
        cleaned["document_type"] = document_type
    if existing is None or "name" in data:
        cleaned["name"] = _text(data, "name", errors, limit=200)
    if existing is None or "prefix" in data:
        prefix = _text(data, "prefix", errors, limit=20)
        if "{" in prefix or "}" in prefix:
            _add(errors, "prefix", "The prefix cannot contain { or }")
        cleaned["prefix"] = prefix
    if existing is None or "pattern" in data:
        pattern = _text(data, "pattern", errors, limit=100) or ("{prefix}-{year}-{number}" if existing is None else "")
        try:
            numbering.validate_pattern(pattern)
        except ValidationError as error:
            errors.setdefault("pattern", []).extend(error.errors.get("pattern", []))
        cleaned["pattern"] = pattern
    if existing is None or "padding" in data:
        raw = data.get("padding")
        padding = 5 if raw in (None, "") and existing is None else _pk(raw)
        if padding is None or not 1 <= padding <= 12:
            _add(errors, "padding", "Enter the number of digits, from 1 to 12")
        cleaned["padding"] = padding
    if existing is None or "yearly_reset" in data:
        cleaned["yearly_reset"] = _bool(data.get("yearly_reset", True))
    yearly = cleaned.get("yearly_reset", existing.yearly_reset if existing else True)
    pattern = cleaned.get("pattern", existing.pattern if existing else "")
    if yearly and "pattern" not in errors and not numbering.pattern_has_year(pattern):
        _add(errors, "pattern", "With a yearly restart the pattern must contain {year} or {yy}, or numbers would repeat")
    _raise(errors)
    return cleaned


@transaction.atomic
def number_sequence_create(*, actor: User, data: dict[str, Any]) -> NumberSequence:
    sequence = NumberSequence.objects.create(**_clean_sequence(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=sequence, changes=audit.snapshot(sequence))
    events.record_event("record.created", target=sequence, payload={"id": sequence.pk, "document_type": sequence.document_type})
    return sequence


@transaction.atomic
def number_sequence_update(*, actor: User, sequence_id: int, data: dict[str, Any]) -> NumberSequence:
    """Change how a document type is numbered. Switching the yearly restart carries the count over, so no number
    already issued is issued again."""
    sequence = NumberSequence.objects.select_for_update().filter(pk=sequence_id).first()
    if sequence is None:
        raise NotFound(f"Numbering sequence {sequence_id} not found")
    before = audit.snapshot(sequence)
    cleaned = _clean_sequence(data, existing=sequence)
    was_yearly = sequence.yearly_reset
    for field, value in cleaned.items():
        setattr(sequence, field, value)
    sequence.save()
    if was_yearly != sequence.yearly_reset:
        this_year = timezone.localdate().year
        old_year, new_year = (this_year, 0) if was_yearly else (0, this_year)
        old = NumberCounter.objects.select_for_update().filter(sequence=sequence, year=old_year).first()
        if old is not None:
            counter, _ = NumberCounter.objects.select_for_update().get_or_create(sequence=sequence, year=new_year)
            if counter.last_value < old.last_value:
                counter.last_value = old.last_value
                counter.save(update_fields=["last_value"])
    changes = audit.diff(before, audit.snapshot(sequence))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=sequence, changes=changes)
        events.record_event("record.changed", target=sequence, payload={"id": sequence.pk, "changes": changes})
    return sequence
