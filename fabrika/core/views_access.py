"""Access administration pages: users, roles, departments, company settings, currencies and rates, numbering,
personal API tokens and the global audit log. Thin: parse the form, check the permission, call a service or a
selector, show service errors beside the fields."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import numbering, selectors_access, services_access, tokens
from .errors import DomainError, NotFound
from .forms_access import (
    AuditFilterForm,
    CompanySettingsForm,
    CurrencyForm,
    DepartmentForm,
    ExchangeRateForm,
    NumberSequenceForm,
    RoleForm,
    TokenForm,
    UserForm,
)
from .models import AuditEntry, CompanySettings, Currency, Department, ExchangeRate, NumberSequence, User
from .permissions import can
from .selectors import company_settings
from .selectors_audit import audit_entries_for_user

AUDIT_PER_PAGE = 50
USERS_PER_PAGE = 100
RATES_SHOWN = 100
TOKEN_SESSION_KEY = "fabrika_new_api_token"


def allowed(user: User, model: type[Model], action: str) -> bool:
    """Model permissions granted through roles; staff and superusers may do everything here."""
    return user.is_authenticated and user.is_active and (user.is_superuser or user.is_staff or can(user, model, action))


def _require(request, model: type[Model], action: str) -> None:
    if not allowed(request.user, model, action):
        raise DjangoPermissionDenied


def _found(getter, *args, **kwargs):
    try:
        return getter(*args, **kwargs)
    except NotFound:
        raise Http404


def _show_errors(form: forms.Form, error: DomainError) -> None:
    for field, field_messages in error.field_errors().items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


def _form_page(request, form: forms.Form, *, title: str, back_url: str, **extra):
    return render(request, "core/access/form.html", {"form": form, "title": title, "back_url": back_url, **extra})


# --- users -----------------------------------------------------------------------------------------------------


@login_required
def user_list(request):
    _require(request, User, "view")
    search = request.GET.get("q", "").strip()
    department_id = request.GET.get("department", "")
    role_id = request.GET.get("role", "")
    active = request.GET.get("active", "yes")
    rows = selectors_access.user_list(
        search=search,
        department_id=int(department_id) if department_id.isdigit() else None,
        role_id=int(role_id) if role_id.isdigit() else None,
        active=active,
    )
    page = Paginator(rows, USERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/access/user_list.html",
        {
            "page": page, "query": query.urlencode(), "q": search, "department": department_id, "role": role_id, "active": active,
            "departments": Department.objects.order_by("name"), "roles": Group.objects.order_by("name"),
            "can_add": allowed(request.user, User, "add"), "can_change": allowed(request.user, User, "change"),
        },
    )


@login_required
def user_create(request):
    _require(request, User, "add")
    form = UserForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            data = {**form.cleaned_data, "roles": list(form.cleaned_data["roles"])}
            user = services_access.user_create(actor=request.user, data=data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.username})
            return redirect("core:user_list")
    return _form_page(request, form, title=_("New user"), back_url="core:user_list")


@login_required
def user_edit(request, pk: int):
    _require(request, User, "change")
    user = _found(selectors_access.user_get, pk)
    form = UserForm(request.POST or None, creating=False, initial=UserForm.initial_for(user))
    if request.method == "POST" and form.is_valid():
        try:
            data = {**form.cleaned_data, "roles": list(form.cleaned_data["roles"])}
            services_access.user_update(actor=request.user, user_id=user.pk, data=data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("User %(name)s saved.") % {"name": user.username})
            return redirect("core:user_list")
    return _form_page(
        request, form, title=_("User %(name)s") % {"name": user.username}, back_url="core:user_list", object=user,
        deactivate_url="core:user_deactivate" if user.is_active and user.pk != request.user.pk else "",
    )


@login_required
@require_POST
def user_deactivate(request, pk: int):
    _require(request, User, "change")
    try:
        user = services_access.user_deactivate(actor=request.user, user_id=pk)
    except NotFound:
        raise Http404
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:user_edit", pk=pk)
    messages.success(request, _("User %(name)s deactivated.") % {"name": user.username})
    return redirect("core:user_list")


# --- roles -----------------------------------------------------------------------------------------------------


@login_required
def role_list(request):
    _require(request, Group, "view")
    return render(
        request,
        "core/access/role_list.html",
        {"roles": selectors_access.role_list(), "can_add": allowed(request.user, Group, "add")},
    )


def _role_page(request, form: RoleForm, *, title: str, group: Group | None):
    if form.is_bound:
        selected = set(form.cleaned_data.get("permissions") or []) if hasattr(form, "cleaned_data") else set()
    else:
        selected = set(form.initial.get("permissions", []))
    return render(
        request,
        "core/access/role_form.html",
        {
            "form": form, "title": title, "object": group, "grid": selectors_access.permission_grid(), "selected": selected,
            "can_delete": group is not None and allowed(request.user, Group, "delete"),
        },
    )


@login_required
def role_create(request):
    _require(request, Group, "add")
    form = RoleForm(request.POST or None, permission_ids=selectors_access.permission_ids_of_grid(), initial={"scope": "own"})
    if request.method == "POST" and form.is_valid():
        try:
            group = services_access.role_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Role %(name)s created.") % {"name": group.name})
            return redirect("core:role_list")
    return _role_page(request, form, title=_("New role"), group=None)


@login_required
def role_edit(request, pk: int):
    _require(request, Group, "change")
    group = _found(selectors_access.role_get, pk)
    profile = getattr(group, "profile", None)
    grid_ids = selectors_access.permission_ids_of_grid()
    initial = {
        "name": group.name,
        "scope": profile.scope if profile else "own",
        "description": profile.description if profile else "",
        "discount_limit_percent": str(profile.discount_limit_percent) if profile else "0",
        "permissions": [pk for pk in group.permissions.values_list("pk", flat=True) if pk in grid_ids],
    }
    form = RoleForm(request.POST or None, permission_ids=grid_ids, initial=initial)
    if request.method == "POST" and form.is_valid():
        # Permissions outside the grid (granted by other means) are kept as they are.
        kept = [pk for pk in group.permissions.values_list("pk", flat=True) if pk not in grid_ids]
        data = {**form.cleaned_data, "permissions": [*form.cleaned_data["permissions"], *kept]}
        try:
            services_access.role_update(actor=request.user, role_id=group.pk, data=data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Role %(name)s saved.") % {"name": data["name"]})
            return redirect("core:role_list")
    return _role_page(request, form, title=_("Role %(name)s") % {"name": group.name}, group=group)


@login_required
@require_POST
def role_delete(request, pk: int):
    _require(request, Group, "delete")
    try:
        services_access.role_delete(actor=request.user, role_id=pk)
    except NotFound:
        raise Http404
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:role_edit", pk=pk)
    messages.success(request, _("Role deleted."))
    return redirect("core:role_list")


# --- departments -----------------------------------------------------------------------------------------------


@login_required
def department_list(request):
    _require(request, Department, "view")
    return render(
        request,
        "core/access/department_list.html",
        {
            "tree": selectors_access.department_tree(),
            "can_add": allowed(request.user, Department, "add"),
            "can_change": allowed(request.user, Department, "change"),
        },
    )


@login_required
def department_create(request):
    _require(request, Department, "add")
    form = DepartmentForm(request.POST or None, initial={"parent": request.GET.get("parent") or None})
    if request.method == "POST" and form.is_valid():
        try:
            department = services_access.department_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Department %(name)s created.") % {"name": department.name})
            return redirect("core:department_list")
    return _form_page(request, form, title=_("New department"), back_url="core:department_list")


@login_required
def department_edit(request, pk: int):
    _require(request, Department, "change")
    department = _found(selectors_access.department_get, pk)
    initial = {"name": department.name, "parent": department.parent_id, "head": department.head_id}
    form = DepartmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_access.department_update(actor=request.user, department_id=department.pk, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Department %(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("core:department_list")
    return _form_page(
        request, form, title=_("Department %(name)s") % {"name": department.name}, back_url="core:department_list",
        object=department, delete_url="core:department_delete" if allowed(request.user, Department, "delete") else "",
    )


@login_required
@require_POST
def department_delete(request, pk: int):
    _require(request, Department, "delete")
    try:
        services_access.department_delete(actor=request.user, department_id=pk)
    except NotFound:
        raise Http404
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:department_edit", pk=pk)
    messages.success(request, _("Department deleted."))
    return redirect("core:department_list")


# --- company settings ------------------------------------------------------------------------------------------


@login_required
def company_settings_edit(request):
    _require(request, CompanySettings, "change")
    company = company_settings()
    initial = {field: getattr(company, field) for field in services_access.COMPANY_FIELDS}
    form = CompanySettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_access.company_settings_update(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Company settings saved."))
            return redirect("core:company_settings")
    return _form_page(request, form, title=_("Company settings"), back_url="core:home")


# --- currencies and exchange rates -----------------------------------------------------------------------------


@login_required
def currency_list(request):
    _require(request, Currency, "view")
    return render(
        request,
        "core/access/currency_list.html",
        {
            "currencies": selectors_access.currency_list(),
            "base_currency": company_settings().base_currency,
            "can_add": allowed(request.user, Currency, "add"),
        },
    )


@login_required
def currency_create(request):
    _require(request, Currency, "add")
    form = CurrencyForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            currency = services_access.currency_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Currency %(code)s added.") % {"code": currency.code})
            return redirect("core:currency_detail", pk=currency.pk)
    return _form_page(request, form, title=_("New currency"), back_url="core:currency_list")


@login_required
def currency_detail(request, pk: int):
    """The currency's settings and its exchange rates, newest first, with a form to add one."""
    _require(request, Currency, "view")
    currency = _found(selectors_access.currency_get, currency_id=pk)
    can_change = allowed(request.user, Currency, "change")
    can_add_rate = allowed(request.user, ExchangeRate, "add")
    form = CurrencyForm(
        request.POST if request.method == "POST" and "save_currency" in request.POST else None,
        creating=False,
        initial={"code": currency.code, "name": currency.name, "symbol": currency.symbol, "minor_unit": currency.minor_unit},
    )
    rate_form = ExchangeRateForm(request.POST if request.method == "POST" and "add_rate" in request.POST else None)
    if form.is_bound:
        if not can_change:
            raise DjangoPermissionDenied
        if form.is_valid():
            try:
                services_access.currency_update(actor=request.user, currency_id=currency.pk, data=form.cleaned_data)
            except DomainError as error:
                _show_errors(form, error)
            else:
                messages.success(request, _("Currency %(code)s saved.") % {"code": currency.code})
                return redirect("core:currency_detail", pk=currency.pk)
    if rate_form.is_bound:
        if not can_add_rate:
            raise DjangoPermissionDenied
        if rate_form.is_valid():
            try:
                services_access.exchange_rate_add(actor=request.user, currency_id=currency.pk, data=rate_form.cleaned_data)
            except DomainError as error:
                _show_errors(rate_form, error)
            else:
                messages.success(request, _("Rate added."))
                return redirect("core:currency_detail", pk=currency.pk)
    return render(
        request,
        "core/access/currency_detail.html",
        {
            "object": currency, "form": form, "rate_form": rate_form,
            "rates": selectors_access.exchange_rates_of(currency)[:RATES_SHOWN],
            "is_base": currency.code == company_settings().base_currency,
            "can_change": can_change, "can_add_rate": can_add_rate,
            "can_delete_rate": allowed(request.user, ExchangeRate, "delete"),
        },
    )


@login_required
@require_POST
def exchange_rate_delete(request, pk: int):
    _require(request, ExchangeRate, "delete")
    deleted = _found(services_access.exchange_rate_delete, actor=request.user, rate_id=pk)
    messages.success(request, _("Rate deleted."))
    return redirect("core:currency_detail", pk=deleted.currency_id)


# --- numbering -------------------------------------------------------------------------------------------------


@login_required
def numbering_list(request):
    _require(request, NumberSequence, "view")
    return render(
        request,
        "core/access/numbering_list.html",
        {
            "sequences": selectors_access.number_sequence_list(),
            "can_add": allowed(request.user, NumberSequence, "add"),
            "can_change": allowed(request.user, NumberSequence, "change"),
        },
    )


@login_required
def numbering_create(request):
    _require(request, NumberSequence, "add")
    form = NumberSequenceForm(
        request.POST or None, creating=True, initial={"pattern": "{prefix}-{year}-{number}", "padding": 5, "yearly_reset": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            sequence = services_access.number_sequence_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Numbering for %(type)s created.") % {"type": sequence.document_type})
            return redirect("core:numbering_list")
    return _form_page(request, form, title=_("New numbering sequence"), back_url="core:numbering_list")


@login_required
def numbering_edit(request, pk: int):
    _require(request, NumberSequence, "change")
    sequence = _found(selectors_access.number_sequence_get, pk)
    initial = {field: getattr(sequence, field) for field in ("name", "prefix", "pattern", "padding", "yearly_reset")}
    form = NumberSequenceForm(request.POST or None, creating=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services_access.number_sequence_update(actor=request.user, sequence_id=sequence.pk, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Numbering for %(type)s saved.") % {"type": sequence.document_type})
            return redirect("core:numbering_list")
    return _form_page(
        request, form, title=_("Numbering: %(type)s") % {"type": sequence.document_type}, back_url="core:numbering_list",
        object=sequence, preview=numbering.preview_next(sequence),
    )


# --- personal API tokens -----------------------------------------------------------------------------------------


@login_required
def token_list(request):
    """The user's own tokens; a new token's secret is shown once, on the page right after it is created."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = tokens.api_token_create(user=request.user, name=form.cleaned_data["name"], actor=request.user)
        except DomainError as error:
            _show_errors(form, error)
        else:
            request.session[TOKEN_SESSION_KEY] = {"id": token.pk, "raw": raw}
            return redirect("core:token_list")
    new_token = request.session.pop(TOKEN_SESSION_KEY, None)
    return render(
        request,
        "core/access/token_list.html",
        {"form": form, "tokens": selectors_access.api_tokens_of(request.user), "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    try:
        token = tokens.api_token_revoke(token_id=pk, actor=request.user)
    except NotFound:
        raise Http404
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("core:token_list")


# --- audit log -------------------------------------------------------------------------------------------------


@login_required
def audit_log(request):
    _require(request, AuditEntry, "view")
    form = AuditFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "actor_id": data["actor"].pk if data["actor"] else None,
            "action": data["action"] or "",
            "object_type": data["object_type"] or "",
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "text": data["text"] or "",
        }
    entries = audit_entries_for_user(request.user, **filters) if not form.is_bound or form.is_valid() else AuditEntry.objects.none()
    page = Paginator(entries, AUDIT_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/access/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})
