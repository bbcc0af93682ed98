"""Reads of the access area: users, roles and their permission grid, the department tree, currencies and rates,
numbering sequences, API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db.models import Count, F, Prefetch, Q, QuerySet

from . import numbering
from .errors import DomainError, NotFound
from .models import ApiToken, Currency, Department, ExchangeRate, NumberSequence, User
from .selectors import company_settings

# Apps whose models appear in the role permission grid: Fabrika's own, plus roles themselves (auth.group).
GRID_EXTRA_MODELS = {("auth", "group")}
# Platform bookkeeping tables nobody grants access to.
GRID_HIDDEN_MODELS = {("core", "loginfailure"), ("core", "numbercounter"), ("core", "roleprofile")}
STANDARD_ACTIONS = ("view", "add", "change", "delete")


class ExchangeRateMissing(DomainError):
    status = 422
    code = "exchange_rate_missing"


# --- users -----------------------------------------------------------------------------------------------------


def user_list(*, search: str = "", department_id: int | None = None, role_id: int | None = None, active: str = "") -> QuerySet[User]:
    queryset = User.objects.select_related("department").prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
    if search:
        queryset = queryset.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
            | Q(position__icontains=search)
        )
    if department_id:
        queryset = queryset.filter(department_id=department_id)
    if role_id:
        queryset = queryset.filter(groups__id=role_id)
    if active == "yes":
        queryset = queryset.filter(is_active=True)
    elif active == "no":
        queryset = queryset.filter(is_active=False)
    return queryset.order_by("username", "id")


def user_get(user_id: int) -> User:
    user = User.objects.select_related("department").filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


# --- roles -----------------------------------------------------------------------------------------------------


def role_list() -> QuerySet[Group]:
    return Group.objects.select_related("profile").annotate(
        member_count=Count("user", distinct=True), permission_count=Count("permissions", distinct=True)
    ).order_by("name", "id")


def role_get(role_id: int) -> Group:
    group = Group.objects.select_related("profile").filter(pk=role_id).first()
    if group is None:
        raise NotFound(f"Role {role_id} not found")
    return group


@dataclass
class GridRow:
    model_label: str  # app_label.model
    name: str
    standard: dict[str, Permission | None]
    extra: list[Permission] = field(default_factory=list)


@dataclass
class GridApp:
    app_label: str
    name: str
    rows: list[GridRow]


def _grid_model(app_label: str, model: str) -> bool:
    if (app_label, model) in GRID_HIDDEN_MODELS:
        return False
    if (app_label, model) in GRID_EXTRA_MODELS:
        return True
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return False
    return config.name.startswith("fabrika.")


def permission_grid() -> list[GridApp]:
    """Rows = models grouped by app, columns = view/add/change/delete, plus each model's own extra permissions."""
    rows: dict[tuple[str, str], GridRow] = {}
    for permission in Permission.objects.select_related("content_type").order_by("content_type__app_label", "content_type__model", "codename"):
        content_type = permission.content_type
        if not _grid_model(content_type.app_label, content_type.model):
            continue
        model_class = content_type.model_class()
        key = (content_type.app_label, content_type.model)
        if key not in rows:
            name = str(model_class._meta.verbose_name_plural).capitalize() if model_class else content_type.model
            rows[key] = GridRow(model_label=f"{key[0]}.{key[1]}", name=name, standard=dict.fromkeys(STANDARD_ACTIONS))
        action = permission.codename.split("_", 1)[0]
        if action in STANDARD_ACTIONS and permission.codename == f"{action}_{content_type.model}":
            rows[key].standard[action] = permission
        else:
            rows[key].extra.append(permission)
    result: dict[str, GridApp] = {}
    for (app_label, _model), row in rows.items():
        if app_label not in result:
            try:
                app_name = str(apps.get_app_config(app_label).verbose_name)
            except LookupError:
                app_name = app_label
            result[app_label] = GridApp(app_label=app_label, name=app_name, rows=[])
        result[app_label].rows.append(row)
    for app in result.values():
        app.rows.sort(key=lambda row: row.name.lower())
    return sorted(result.values(), key=lambda app: (app.app_label != "core", app.name.lower()))


def permission_ids_of_grid() -> set[int]:
    return {
        permission.pk
        for app in permission_grid()
        for row in app.rows
        for permission in [*row.standard.values(), *row.extra]
        if permission is not None
    }


# --- departments -----------------------------------------------------------------------------------------------


def department_tree() -> list[tuple[Department, int]]:
    """Every department with its depth, parents before their children, siblings by name (two queries)."""
    departments = list(Department.objects.select_related("head").annotate(member_count=Count("members")).order_by("name", "id"))
    children: dict[int | None, list[Department]] = {}
    for department in departments:
        children.setdefault(department.parent_id, []).append(department)
    result: list[tuple[Department, int]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for department in children.get(parent_id, []):
            result.append((department, depth))
            walk(department.pk, depth + 1)

    walk(None, 0)
    return result


def department_get(department_id: int) -> Department:
    department = Department.objects.select_related("head", "parent").filter(pk=department_id).first()
    if department is None:
        raise NotFound(f"Department {department_id} not found")
    return department


# --- currencies and exchange rates -----------------------------------------------------------------------------


def currency_list() -> QuerySet[Currency]:
    return Currency.objects.order_by("code")


def currency_get(*, currency_id: int | None = None, code: str | None = None) -> Currency:
    queryset = Currency.objects.all()
    currency = queryset.filter(pk=currency_id).first() if currency_id is not None else queryset.filter(code=(code or "").upper()).first()
    if currency is None:
        raise NotFound(f"Currency {currency_id if currency_id is not None else code} not found")
    return currency


def exchange_rates_of(currency: Currency, *, date_from: dt.date | None = None, date_to: dt.date | None = None) -> QuerySet[ExchangeRate]:
    queryset = ExchangeRate.objects.filter(currency=currency)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    return queryset.order_by("-date", "-id")


def exchange_rate_on(*, currency_code: str, on_date: dt.date) -> Decimal:
    """Units of the base currency for one unit of `currency_code` on `on_date`: the latest rate on or before that
    date, divided by its nominal. The base currency is 1."""
    code = (currency_code or "").strip().upper()
    if code == company_settings().base_currency:
        return Decimal(1)
    row = (
        ExchangeRate.objects.filter(currency__code=code, date__lte=on_date)
        .order_by("-date")
        .values_list("rate", "nominal", "date")
        .first()
    )
    if row is None:
        raise ExchangeRateMissing(
            f"No exchange rate for {code} on or before {on_date.isoformat()}; add one under Currencies",
            field="currency",
            currency=code,
            date=on_date.isoformat(),
        )
    rate, nominal, _ = row
    return rate if nominal == 1 else rate / nominal


# --- numbering -------------------------------------------------------------------------------------------------


def number_sequence_list() -> list[tuple[NumberSequence, str]]:
    """Every sequence with the number its next document would get today (nothing is taken)."""
    return [(sequence, numbering.preview_next(sequence)) for sequence in NumberSequence.objects.order_by("document_type")]


def number_sequence_get(sequence_id: int) -> NumberSequence:
    sequence = NumberSequence.objects.filter(pk=sequence_id).first()
    if sequence is None:
        raise NotFound(f"Numbering sequence {sequence_id} not found")
    return sequence


# --- API tokens --------------------------------------------------------------------------------------------------


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-id")
