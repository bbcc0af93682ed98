"""Counterparty pages on the UI kit: list, card, form (with inline validation), delete; and the global-search hook."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.core import custom_fields
from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import BulkAction, Column, Filter, ListConfig
from fabrika.core.ui.search import SearchGroup, SearchHit
from fabrika.core.ui.views import list_view

from . import selectors, services
from .forms import CounterpartyForm
from .models import Counterparty, PartyKind
from .services import ENTITY


def _detail_url(counterparty: Counterparty) -> str:
    return reverse("parties:counterparty_detail", args=[counterparty.pk])


def _role_filter(queryset, value: str):
    return queryset.filter(**{f"is_{value}": True})


COUNTERPARTY_LIST = ListConfig(
    entity=ENTITY,
    model=Counterparty,
    title=gettext_lazy("Counterparties"),
    queryset=selectors.counterparty_queryset_for_user,
    url_name="parties:counterparty_list",
    create_url_name="parties:counterparty_create",
    detail_url=_detail_url,
    columns=(
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("kind", gettext_lazy("Kind"), value=lambda c: c.get_kind_display(), sort="kind"),
        Column("roles", gettext_lazy("Roles"), value=lambda c: c.roles_display),
        Column("tax_id", gettext_lazy("Tax ID"), sort="tax_id"),
        Column("email", gettext_lazy("E-mail"), sort="email"),
        Column("phone", gettext_lazy("Phone"), sort="phone"),
        Column("city", gettext_lazy("City"), sort="city"),
        Column("responsible", gettext_lazy("Responsible"), value=lambda c: str(c.responsible), sort="responsible__username"),
        Column("is_active", gettext_lazy("Active"), sort="is_active"),
        Column("created_at", gettext_lazy("Created"), value=lambda c: formats.date_format(c.created_at, "SHORT_DATE_FORMAT"), export=lambda c: c.created_at, sort="created_at"),
        Column("updated_at", gettext_lazy("Updated"), value=lambda c: formats.date_format(c.updated_at, "SHORT_DATE_FORMAT"), export=lambda c: c.updated_at, sort="updated_at"),
    ),
    default_columns=("name", "roles", "tax_id", "phone", "city", "responsible"),
    default_sort="name",
    search_fields=selectors.COUNTERPARTY_SEARCH_FIELDS,
    filters=(
        Filter("kind", gettext_lazy("Kind"), lookup="kind", choices=PartyKind.choices),
        Filter(
            "role",
            gettext_lazy("Role"),
            lookup="",
            apply=_role_filter,
            choices=(("client", gettext_lazy("Client")), ("supplier", gettext_lazy("Supplier")), ("dealer", gettext_lazy("Dealer / partner"))),
        ),
        Filter("responsible", gettext_lazy("Responsible"), lookup="responsible_id", choices=lambda actor: selectors.responsible_choices()),
        Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),
        Filter("created", gettext_lazy("Created"), lookup="created_at", kind="date_range"),
    ),
    bulk_actions=(
        BulkAction(
            "set_responsible",
            gettext_lazy("Change responsible"),
            permission="change",
            run=lambda *, actor, ids, value: services.counterparty_bulk_set_responsible(actor=actor, counterparty_ids=ids, responsible_id=value),
            value_label=gettext_lazy("New responsible"),
            value_choices=lambda actor: selectors.responsible_choices(),
        ),
        BulkAction(
            "deactivate",
            gettext_lazy("Deactivate"),
            permission="change",
            run=lambda *, actor, ids, value: services.counterparty_bulk_set_active(actor=actor, counterparty_ids=ids, is_active=False),
        ),
        BulkAction(
            "activate",
            gettext_lazy("Activate"),
            permission="change",
            run=lambda *, actor, ids, value: services.counterparty_bulk_set_active(actor=actor, counterparty_ids=ids, is_active=True),
        ),
    ),
)


def _require(request, action: str) -> None:
    if not can(request.user, Counterparty, action):
        raise DjangoPermissionDenied


def _get(request, pk: int) -> Counterparty:
    try:
        return selectors.counterparty_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


@login_required
def counterparty_list(request):
    _require(request, "view")  # a bulk action (POST) also checks the permission it needs
    return list_view(request, COUNTERPARTY_LIST)


def _card_fields(counterparty: Counterparty) -> list[CardField]:
    fields = [
        CardField(_("Kind"), counterparty.get_kind_display()),
        CardField(_("Roles"), display(counterparty.roles_display)),
        CardField(_("Tax ID"), display(counterparty.tax_id)),
        CardField(_("E-mail"), display(counterparty.email), url=f"mailto:{counterparty.email}" if counterparty.email else ""),
        CardField(_("Phone"), display(counterparty.phone), url=f"tel:{counterparty.phone}" if counterparty.phone else ""),
        CardField(_("City"), display(counterparty.city)),
        CardField(_("Responsible"), str(counterparty.responsible)),
        CardField(_("Active"), display(counterparty.is_active)),
    ]
    for definition in custom_fields.definitions_for(ENTITY):
        fields.append(CardField(definition.label, display(custom_fields.display_value(definition, (counterparty.custom or {}).get(definition.code)))))
    fields += [
        CardField(_("Notes"), display(counterparty.notes)),
        CardField(_("Created"), formats.date_format(counterparty.created_at, "SHORT_DATETIME_FORMAT")),
        CardField(_("Updated"), formats.date_format(counterparty.updated_at, "SHORT_DATETIME_FORMAT")),
    ]
    return fields


@login_required
def counterparty_detail(request, pk: int):
    _require(request, "view")
    counterparty = _get(request, pk)
    duplicates = selectors.counterparty_duplicates_for_user(request.user, counterparty)
    related = [
        RelatedList(
            title=_("Possible duplicates (same tax ID, e-mail or phone)"),
            headers=[_("Name"), _("Tax ID"), _("E-mail"), _("Phone"), _("Responsible")],
            rows=[RelatedRow([d.name, d.tax_id, d.email, d.phone, str(d.responsible)], url=_detail_url(d)) for d in duplicates],
            empty_text=_("No other counterparty has the same tax ID, e-mail or phone."),
        )
    ]
    context = {
        "object": counterparty,
        "card_title": counterparty.name,
        "card_subtitle": counterparty.roles_display,
        "card_fields": _card_fields(counterparty),
        "related_lists": related,
        "timeline": record_timeline(counterparty, labels=field_labels(Counterparty, ENTITY)),
        "back_url": reverse("parties:counterparty_list"),
        "can_change": can(request.user, Counterparty, "change"),
        "can_delete": can(request.user, Counterparty, "delete"),
    }
    return render(request, "parties/counterparty_detail.html", context)


def _form_page(request, form: CounterpartyForm, instance: Counterparty | None):
    validate_url = reverse("parties:counterparty_validate", args=[instance.pk]) if instance else reverse("parties:counterparty_validate_new")
    context = {
        "form": form,
        "object": instance,
        "form_title": instance.name if instance else _("New counterparty"),
        "validate_url": validate_url,
        "cancel_url": _detail_url(instance) if instance else reverse("parties:counterparty_list"),
    }
    return render(request, "parties/counterparty_form.html", context)


@login_required
def counterparty_create(request):
    _require(request, "add")
    form = CounterpartyForm(request.POST or None, initial={"responsible": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.counterparty_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Counterparty “%(name)s” created.") % {"name": saved.name})
            return redirect(_detail_url(saved))
    return _form_page(request, form, None)


@login_required
def counterparty_edit(request, pk: int):
    _require(request, "change")
    instance = _get(request, pk)
    form = CounterpartyForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.counterparty_update(actor=request.user, counterparty_id=instance.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Counterparty “%(name)s” saved.") % {"name": saved.name})
            return redirect(_detail_url(saved))
    return _form_page(request, form, instance)


@login_required
@require_POST
def counterparty_validate(request, pk: int | None = None):
    """Inline validation of one field (htmx): the service's checks, nothing saved."""
    _require(request, "change" if pk else "add")
    instance = _get(request, pk) if pk else None
    form = CounterpartyForm(request.POST, instance=instance)
    return validate_field_response(
        request, form, validate=lambda valid_form: services.counterparty_validate(data=valid_form.service_data(), existing=instance)
    )


@login_required
def counterparty_delete(request, pk: int):
    _require(request, "delete")
    counterparty = _get(request, pk)
    error = ""
    if request.method == "POST":
        try:
            services.counterparty_delete(actor=request.user, counterparty_id=counterparty.pk)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, _("Counterparty “%(name)s” deleted.") % {"name": counterparty.name})
            return redirect("parties:counterparty_list")
    return render(request, "core/ui/confirm_delete.html", {"object": counterparty, "error": error, "cancel_url": _detail_url(counterparty)})


def counterparty_search(actor, query: str, *, limit: int) -> SearchGroup | None:
    """Global-search provider (see fabrika.core.ui.search): counterparties by name, tax ID, e-mail or phone."""
    if not can(actor, Counterparty, "view"):
        return None
    queryset = selectors.counterparty_list_for_user(actor, search=query)
    hits = [
        SearchHit(title=c.name, detail=" · ".join(v for v in (c.tax_id, c.email, c.phone, c.city) if v), url=_detail_url(c))
        for c in queryset[:limit]
    ]
    total = len(hits) if len(hits) < limit else queryset.count()
    more_url = f"{reverse('parties:counterparty_list')}?{urlencode({'q': query, 'view': 0})}"
    return SearchGroup(key=ENTITY, label=str(Counterparty._meta.verbose_name_plural).capitalize(), hits=hits, total=total, more_url=more_url)
