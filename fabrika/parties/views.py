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
from .forms import AddressForm, BankAccountForm, ContactForm, CounterpartyForm, DirectoryForm, MergeForm
from .models import Address, BankAccount, Contact, Counterparty, PartyKind, PartyRole, Position, Segment, Tag
from .services import ENTITY


def _detail_url(counterparty: Counterparty) -> str:
    return reverse("parties:counterparty_detail", args=[counterparty.pk])


def _role_filter(queryset, value: str):
    from .models import ROLE_FIELDS

    return queryset.filter(**{ROLE_FIELDS[value]: True}) if value in ROLE_FIELDS else queryset.none()


COUNTERPARTY_LIST = ListConfig(
    entity=ENTITY,
    model=Counterparty,
    title=gettext_lazy("Counterparties"),
    queryset=selectors.counterparty_search_queryset_for_user,
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
            choices=PartyRole.choices,
        ),
        Filter("segment", gettext_lazy("Segment"), lookup="segments", choices=lambda actor: [(str(s.pk), s.name) for s in Segment.objects.all()]),
        Filter("tag", gettext_lazy("Tag"), lookup="tags", choices=lambda actor: [(str(t.pk), t.name) for t in Tag.objects.all()]),
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
        CardField(_("Full legal name"), display(counterparty.full_name)),
        CardField(_("Head office"), display(counterparty.parent), url=counterparty.parent.get_absolute_url() if counterparty.parent else ""),
        CardField(_("Country"), display(counterparty.country)),
        CardField(_("Tax ID"), display(counterparty.tax_id)),
        CardField(_("KPP"), display(counterparty.kpp)),
        CardField(_("Registration number"), display(counterparty.registration_number)),
        CardField(_("Website"), display(counterparty.website)),
        CardField(_("Segments"), display(", ".join(str(s) for s in counterparty.segments.all()))),
        CardField(_("Tags"), display(", ".join(str(t) for t in counterparty.tags.all()))),
        CardField(_("Price type"), display(counterparty.price_type_code)),
        CardField(_("Discount group"), display(counterparty.discount_group)),
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
            title=_("Contacts"),
            headers=[_("Name"), _("Position"), _("Phone"), _("E-mail"), _("Primary")],
            rows=[
                RelatedRow([c.name, display(c.position), display(c.phone), display(c.email), display(c.is_primary)], url=reverse("parties:contact_edit", args=[c.pk]))
                for c in counterparty.contacts.select_related("position")
            ],
            empty_text=_("No contacts yet."),
        ),
        RelatedList(
            title=_("Addresses"),
            headers=[_("Address"), _("Kind")],
            rows=[RelatedRow([str(a), a.get_kind_display()], url=reverse("parties:address_edit", args=[a.pk])) for a in counterparty.addresses.all()],
            empty_text=_("No addresses yet."),
        ),
        RelatedList(
            title=_("Bank accounts"),
            headers=[_("Bank"), _("BIC"), _("Account"), _("Currency"), _("Default")],
            rows=[
                RelatedRow([b.bank_name, display(b.bic), b.account, display(b.currency), display(b.is_default)], url=reverse("parties:bank_account_edit", args=[b.pk]))
                for b in counterparty.bank_accounts.all()
            ],
            empty_text=_("No bank accounts yet."),
        ),
        RelatedList(
            title=_("Branches"),
            headers=[_("Name"), _("City")],
            rows=[RelatedRow([b.name, display(b.city)], url=_detail_url(b)) for b in selectors.counterparty_queryset_for_user(request.user).filter(parent=counterparty)],
            empty_text=_("No branches."),
        ),
        RelatedList(
            title=_("Possible duplicates (same tax ID, e-mail or phone)"),
            headers=[_("Name"), _("Tax ID"), _("E-mail"), _("Phone"), _("Responsible")],
            rows=[RelatedRow([d.name, d.tax_id, d.email, d.phone, str(d.responsible)], url=_detail_url(d)) for d in duplicates],
            empty_text=_("No other counterparty has the same tax ID, e-mail or phone."),
        ),
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


def _form_page(request, form: CounterpartyForm, instance: Counterparty | None, duplicates=()):
    validate_url = reverse("parties:counterparty_validate", args=[instance.pk]) if instance else reverse("parties:counterparty_validate_new")
    context = {
        "form": form,
        "object": instance,
        "form_title": instance.name if instance else _("New counterparty"),
        "validate_url": validate_url,
        "cancel_url": _detail_url(instance) if instance else reverse("parties:counterparty_list"),
        "duplicates": duplicates,
    }
    return render(request, "parties/counterparty_form.html", context)


@login_required
def counterparty_create(request):
    _require(request, "add")
    form = CounterpartyForm(request.POST or None, initial={"responsible": request.user}, show_force="force" in request.POST)
    duplicates: list = []
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.counterparty_create(actor=request.user, data=form.service_data(), check_duplicates=not form.cleaned_data.get("force"))
        except services.DuplicateFound as error:
            visible = set(selectors.counterparty_queryset_for_user(request.user).filter(pk__in=[c.counterparty.pk for c in error.candidates]).values_list("pk", flat=True))
            duplicates = [
                {"name": c.counterparty.name, "reasons": services.reason_labels(c.reasons), "url": _detail_url(c.counterparty) if c.counterparty.pk in visible else "", "responsible": str(c.counterparty.responsible)}
                for c in error.candidates
            ]
            form = CounterpartyForm(request.POST, initial={"responsible": request.user}, show_force=True)
            form.is_valid()
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Counterparty “%(name)s” created.") % {"name": saved.name})
            return redirect(_detail_url(saved))
    return _form_page(request, form, None, duplicates)


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


# --- contacts, addresses, bank accounts: pages on the card, guarded by the counterparty's change right ------------


def _child_page(request, form, *, title: str, counterparty: Counterparty, delete_url: str = ""):
    context = {"form": form, "form_title": title, "cancel_url": _detail_url(counterparty), "delete_url": delete_url}
    template = "parties/child_form_partial.html" if request.htmx else "parties/child_form.html"
    return render(request, template, context)


def _child(request, model, pk: int):
    _require(request, "change")
    child = model.objects.filter(pk=pk).select_related("counterparty").first()
    if child is None:
        raise Http404
    _get(request, child.counterparty_id)  # 404 outside the scope
    return child


def _save_child(request, form, *, run, counterparty: Counterparty, title: str, delete_url: str = ""):
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(_detail_url(counterparty))
    return _child_page(request, form, title=title, counterparty=counterparty, delete_url=delete_url)


def _contact_data(cleaned: dict) -> dict:
    return {name: cleaned.get(name) for name in ("name", "position", "phone", "email", "note")}


@login_required
def contact_create(request, pk: int):
    _require(request, "change")
    counterparty = _get(request, pk)
    form = ContactForm(request.POST or None)
    return _save_child(
        request, form, counterparty=counterparty, title=_("New contact of %(name)s") % {"name": counterparty.name},
        run=lambda data: services.contact_create(actor=request.user, counterparty=counterparty, is_primary=data.get("is_primary") or None, **_contact_data(data)),
    )


@login_required
def contact_edit(request, pk: int):
    contact = _child(request, Contact, pk)
    form = ContactForm(request.POST or None, instance=contact)
    return _save_child(
        request, form, counterparty=contact.counterparty, title=contact.name, delete_url=reverse("parties:contact_delete", args=[contact.pk]),
        run=lambda data: services.contact_update(actor=request.user, contact_id=contact.pk, data={**_contact_data(data), "is_primary": data.get("is_primary")}),
    )


@login_required
@require_POST
def contact_delete(request, pk: int):
    contact = _child(request, Contact, pk)
    services.contact_delete(actor=request.user, contact_id=contact.pk)
    messages.success(request, _("Deleted."))
    return redirect(_detail_url(contact.counterparty))


@login_required
def address_create(request, pk: int):
    _require(request, "change")
    counterparty = _get(request, pk)
    form = AddressForm(request.POST or None)
    return _save_child(
        request, form, counterparty=counterparty, title=_("New address of %(name)s") % {"name": counterparty.name},
        run=lambda data: services.address_create(actor=request.user, counterparty=counterparty, data=data),
    )


@login_required
def address_edit(request, pk: int):
    address = _child(request, Address, pk)
    initial = {name: getattr(address, name) for name in AddressForm.base_fields}
    form = AddressForm(request.POST or None, initial=initial)
    return _save_child(
        request, form, counterparty=address.counterparty, title=str(address), delete_url=reverse("parties:address_delete", args=[address.pk]),
        run=lambda data: services.address_update(actor=request.user, address_id=address.pk, data=data),
    )


@login_required
@require_POST
def address_delete(request, pk: int):
    address = _child(request, Address, pk)
    services.address_delete(actor=request.user, address_id=address.pk)
    messages.success(request, _("Deleted."))
    return redirect(_detail_url(address.counterparty))


@login_required
def bank_account_create(request, pk: int):
    _require(request, "change")
    counterparty = _get(request, pk)
    form = BankAccountForm(request.POST or None)
    return _save_child(
        request, form, counterparty=counterparty, title=_("New bank account of %(name)s") % {"name": counterparty.name},
        run=lambda data: services.bank_account_create(actor=request.user, counterparty=counterparty, data=data),
    )


@login_required
def bank_account_edit(request, pk: int):
    account = _child(request, BankAccount, pk)
    initial = {name: getattr(account, name) for name in BankAccountForm.base_fields}
    form = BankAccountForm(request.POST or None, initial=initial)
    return _save_child(
        request, form, counterparty=account.counterparty, title=str(account), delete_url=reverse("parties:bank_account_delete", args=[account.pk]),
        run=lambda data: services.bank_account_update(actor=request.user, bank_account_id=account.pk, data=data),
    )


@login_required
@require_POST
def bank_account_delete(request, pk: int):
    account = _child(request, BankAccount, pk)
    try:
        services.bank_account_delete(actor=request.user, bank_account_id=account.pk)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_detail_url(account.counterparty))


# --- merge ------------------------------------------------------------------------------------------------------


@login_required
def counterparty_merge(request, pk: int):
    """Pick a duplicate (offered: the likely ones in the user's scope) and fold it into this counterparty."""
    _require(request, "change")
    _require(request, "delete")
    survivor = _get(request, pk)
    candidates = services.duplicates_find(name=survivor.name, tax_id=survivor.tax_id, phone=survivor.phone, email=survivor.email, exclude_pk=survivor.pk)
    visible = set(selectors.counterparty_queryset_for_user(request.user).filter(pk__in=[c.counterparty.pk for c in candidates]).values_list("pk", flat=True))
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            duplicate = selectors.counterparty_get_for_user(request.user, form.cleaned_data["duplicate"])
            services.counterparty_merge(actor=request.user, survivor=survivor, duplicate=duplicate)
        except NotFound:
            form.add_error("duplicate", _("No counterparty with this number in your scope"))
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Merged “%(duplicate)s” into “%(survivor)s”.") % {"duplicate": duplicate.name, "survivor": survivor.name})
            return redirect(_detail_url(survivor))
    context = {
        "form": form,
        "object": survivor,
        "form_title": _("Merge a duplicate into %(name)s") % {"name": survivor.name},
        "cancel_url": _detail_url(survivor),
        "candidates": [
            {"pk": c.counterparty.pk, "name": c.counterparty.name, "reasons": services.reason_labels(c.reasons), "url": _detail_url(c.counterparty)}
            for c in candidates
            if c.counterparty.pk in visible
        ],
    }
    return render(request, "parties/merge.html", context)


# --- directories: positions, segments, tags ---------------------------------------------------------------------

DIRECTORY_MODELS = {"positions": Position, "segments": Segment, "tags": Tag}


def _directory_model(request, kind: str, action: str):
    model = DIRECTORY_MODELS.get(kind)
    if model is None:
        raise Http404
    if not can(request.user, model, action):
        raise DjangoPermissionDenied
    return model


@login_required
def directory_list(request, kind: str):
    model = _directory_model(request, kind, "view")
    context = {
        "title": str(model._meta.verbose_name_plural).capitalize(),
        "items": model.objects.all(),
        "kind": kind,
        "can_add": can(request.user, model, "add"),
        "can_change": can(request.user, model, "change"),
    }
    return render(request, "parties/directory_list.html", context)


@login_required
def directory_edit(request, kind: str, item_id: int | None = None):
    model = _directory_model(request, kind, "change" if item_id else "add")
    item = model.objects.filter(pk=item_id).first() if item_id else None
    if item_id and item is None:
        raise Http404
    form = DirectoryForm(request.POST or None, initial={"name": item.name, "is_active": item.is_active} if item else None)
    if request.method == "POST" and form.is_valid():
        try:
            if item:
                services.directory_item_update(actor=request.user, model=model, item_id=item.pk, data=form.cleaned_data)
            else:
                services.directory_item_create(actor=request.user, model=model, data=form.cleaned_data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("parties:directory_list", kind=kind)
    title = item.name if item else _("New %(what)s") % {"what": model._meta.verbose_name}
    cancel_url = reverse("parties:directory_list", args=[kind])
    validate_url = reverse("parties:directory_validate", args=[kind, item.pk]) if item else reverse("parties:directory_validate_new", args=[kind])
    context = {"form": form, "form_title": title, "cancel_url": cancel_url, "validate_url": validate_url}
    return render(request, "parties/child_form.html", context)


def _directory_validate(model, data: dict, *, existing) -> None:
    # the same rules directory_item_create/update apply, so the inline check and the save agree
    services.directory_item_validate(model, data, existing=existing)


@login_required
@require_POST
def directory_validate(request, kind: str, item_id: int | None = None):
    """Inline validation of one field of a position, segment or tag (htmx): the service's checks, nothing saved."""
    model = _directory_model(request, kind, "change" if item_id else "add")
    item = model.objects.filter(pk=item_id).first() if item_id else None
    if item_id and item is None:
        raise Http404
    form = DirectoryForm(request.POST)
    return validate_field_response(
        request, form, validate=lambda valid_form: _directory_validate(model, valid_form.cleaned_data, existing=item)
    )
