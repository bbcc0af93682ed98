"""Pricing pages on the UI kit: price types, price lists with their items grid, discount rules (a form per kind),
managers' discount limits and the Price check page. Every write goes through pricing.services."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.catalog.views import dry_run
from fabrika.core.errors import DomainError, NotFound, ValidationError
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view

from . import engine, selectors, services
from .display import date_text, number_text, percent_text, rule_terms
from .forms import (
    DiscountLimitForm,
    DiscountRuleForm,
    ItemAddForm,
    ItemPriceForm,
    PriceCheckForm,
    PriceListCopyForm,
    PriceListForm,
    PriceTypeForm,
)
from .models import DiscountKind, DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _get(getter: Callable, pk):
    try:
        return getter(pk)
    except NotFound:
        raise Http404


def _form_errors(form, error: DomainError) -> DomainError:
    """The service's error keyed by the form's fields: "counterparty_id" → "counterparty", "group_ids" → "groups"."""
    errors: dict[str, list[str]] = {}
    for key, messages_ in error.field_errors().items():
        name = key
        if key not in form.fields:
            if key.endswith("_ids") and f"{key[:-4]}s" in form.fields:
                name = f"{key[:-4]}s"
            elif key.endswith("_id") and key[:-3] in form.fields:
                name = key[:-3]
        errors.setdefault(name, []).extend(messages_)
    return ValidationError(errors) if errors else error


def _apply_errors(form, error: DomainError) -> None:
    apply_errors(form, _form_errors(form, error))


def _form_page(request, form, *, title: str, cancel_url: str, template: str = "core/ui/form.html", extra: dict | None = None):
    """A record form whose fields are checked as they are left (htmx posts the form back with `_field`: see _save)."""
    context = {"form": form, "form_title": title, "cancel_url": cancel_url, "validate_url": request.get_full_path()}
    return render(request, template, {**context, **(extra or {})})


def _validate_field(request, form, call: Callable):
    """Inline validation of the field named in `_field`: the form's own checks, then the service's rules run on the
    whole form and rolled back. While another field is still invalid the service is not asked (its data is not whole)."""
    def validate(valid_form):
        try:
            data = valid_form.service_data()
        except (KeyError, AttributeError):
            return
        try:
            dry_run(lambda: call(data))
        except DomainError as error:
            raise _form_errors(valid_form, error) from error

    return validate_field_response(request, form, validate=validate)


def _save(request, form, call: Callable, *, success: Callable[[object], str], message: Callable[[object], str]):
    """Run the service when the form is valid; its errors go beside the fields. Returns a redirect, the one field
    re-rendered (inline validation, nothing saved) or None."""
    if request.method == "POST" and request.POST.get("_field"):
        return _validate_field(request, form, call)
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        saved = call(form.service_data())
    except DomainError as error:
        _apply_errors(form, error)
        return None
    messages.success(request, message(saved))
    return redirect(success(saved))


def _delete(request, obj, *, call: Callable, done_url: str, cancel_url: str):
    error = ""
    if request.method == "POST":
        try:
            call()
        except DomainError as failure:
            error = failure.message
        else:
            messages.success(request, _("“%(name)s” deleted.") % {"name": obj})
            return redirect(done_url)
    return render(request, "core/ui/confirm_delete.html", {"object": obj, "error": error, "cancel_url": cancel_url})


# ----------------------------------------------------------------------------------------------- price types


def _type_url(price_type: PriceType) -> str:
    return reverse("pricing:price_type_detail", args=[price_type.pk])


PRICE_TYPE_LIST = ListConfig(
    entity="pricing.pricetype",
    model=PriceType,
    title=gettext_lazy("Price types"),
    queryset=lambda actor: selectors.price_type_list(),
    url_name="pricing:price_type_list",
    create_url_name="pricing:price_type_create",
    detail_url=_type_url,
    columns=(
        Column("code", gettext_lazy("Code"), sort="code", link=True),
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("prices_include_tax", gettext_lazy("Prices include tax"), value=lambda t: display(t.prices_include_tax), export=lambda t: t.prices_include_tax),
        Column("is_retail", gettext_lazy("Retail"), value=lambda t: display(t.is_retail), export=lambda t: t.is_retail, sort="is_retail"),
        Column("list_count", gettext_lazy("Price lists"), sort="list_count"),
        Column("is_active", gettext_lazy("Active"), value=lambda t: display(t.is_active), export=lambda t: t.is_active, sort="is_active"),
    ),
    default_columns=("code", "name", "currency", "prices_include_tax", "is_retail", "list_count", "is_active"),
    default_sort="code",
    search_fields=("code", "name"),
    filters=(Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),),
)


@login_required
def price_type_list(request):
    _require(request, PriceType, "view")
    return list_view(request, PRICE_TYPE_LIST, template="pricing/list.html", context={"section": "types"})


@login_required
def price_type_detail(request, pk: int):
    _require(request, PriceType, "view")
    price_type = _get(selectors.price_type_get, pk)
    from fabrika.parties.models import Counterparty

    lists = selectors.price_list_list(price_type_id=price_type.pk)
    clients = Counterparty.objects.filter(price_type_code=price_type.code).order_by("name")
    context = {
        "object": price_type,
        "card_title": f"{price_type.code} — {price_type.name}",
        "card_subtitle": _("Retail price type") if price_type.is_retail else _("Price type"),
        "card_fields": [
            CardField(_("Code"), price_type.code),
            CardField(_("Name"), price_type.name),
            CardField(_("Currency"), price_type.currency),
            CardField(_("Prices include tax"), display(price_type.prices_include_tax)),
            CardField(_("Retail"), display(price_type.is_retail)),
            CardField(_("Active"), display(price_type.is_active)),
        ],
        "related_lists": [
            RelatedList(
                title=_("Price lists"), headers=[_("Name"), _("Currency"), _("Valid from"), _("Valid to"), _("Items"), _("Active")],
                rows=[RelatedRow([pl.name, pl.currency, date_text(pl.valid_from), date_text(pl.valid_to), pl.item_count, display(pl.is_active)],
                                 url=reverse("pricing:price_list_detail", args=[pl.pk])) for pl in lists],
                empty_text=_("No price lists yet."),
            ),
            RelatedList(
                title=_("Clients with this price type"), headers=[_("Name")],
                rows=[RelatedRow([c.name], url=reverse("parties:counterparty_detail", args=[c.pk])) for c in clients[:100]],
                empty_text=_("No client has this price type."),
            ),
        ],
        "timeline": record_timeline(price_type, labels=field_labels(PriceType, "pricing.pricetype")),
        "back_url": reverse("pricing:price_type_list"),
        "can_change": can(request.user, PriceType, "change"),
        "can_delete": can(request.user, PriceType, "delete"),
        "edit_url": reverse("pricing:price_type_edit", args=[price_type.pk]),
        "delete_url": reverse("pricing:price_type_delete", args=[price_type.pk]),
        "new_list_url": f"{reverse('pricing:price_list_create')}?price_type={price_type.pk}" if can(request.user, PriceList, "add") else "",
    }
    return render(request, "pricing/card.html", context)


@login_required
def price_type_create(request):
    _require(request, PriceType, "add")
    form = PriceTypeForm(request.POST or None)
    done = _save(request, form, lambda data: services.price_type_create(actor=request.user, data=data), success=_type_url,
                 message=lambda t: _("Price type “%(code)s” created.") % {"code": t.code})
    return done or _form_page(request, form, title=_("New price type"), cancel_url=reverse("pricing:price_type_list"))


@login_required
def price_type_edit(request, pk: int):
    _require(request, PriceType, "change")
    price_type = _get(selectors.price_type_get, pk)
    initial = {name: getattr(price_type, name) for name in PriceTypeForm.base_fields}
    form = PriceTypeForm(request.POST or None, initial=initial)
    done = _save(request, form, lambda data: services.price_type_update(actor=request.user, price_type_id=price_type.pk, data=data),
                 success=_type_url, message=lambda t: _("Price type “%(code)s” saved.") % {"code": t.code})
    return done or _form_page(request, form, title=str(price_type), cancel_url=_type_url(price_type))


@login_required
def price_type_delete(request, pk: int):
    _require(request, PriceType, "delete")
    price_type = _get(selectors.price_type_get, pk)
    return _delete(request, price_type, call=lambda: services.price_type_delete(actor=request.user, price_type_id=price_type.pk),
                   done_url=reverse("pricing:price_type_list"), cancel_url=_type_url(price_type))


# ----------------------------------------------------------------------------------------------- price lists


def _list_url(price_list: PriceList) -> str:
    return reverse("pricing:price_list_detail", args=[price_list.pk])


def _type_choices(actor) -> list[tuple[int, str]]:
    return list(PriceType.objects.values_list("pk", "code"))


def _currency_choices(actor) -> list[tuple[str, str]]:
    return [(code, code) for code in PriceList.objects.order_by("currency").values_list("currency", flat=True).distinct()]


PRICE_LIST_LIST = ListConfig(
    entity="pricing.pricelist",
    model=PriceList,
    title=gettext_lazy("Price lists"),
    queryset=lambda actor: selectors.price_list_list(),
    url_name="pricing:price_list_list",
    create_url_name="pricing:price_list_create",
    detail_url=_list_url,
    columns=(
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("price_type", gettext_lazy("Price type"), value=lambda pl: pl.price_type.code, sort="price_type__code"),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("valid_from", gettext_lazy("Valid from"), value=lambda pl: date_text(pl.valid_from), export=lambda pl: pl.valid_from, sort="valid_from"),
        Column("valid_to", gettext_lazy("Valid to"), value=lambda pl: date_text(pl.valid_to), export=lambda pl: pl.valid_to, sort="valid_to"),
        Column("item_count", gettext_lazy("Items"), sort="item_count"),
        Column("is_active", gettext_lazy("Active"), value=lambda pl: display(pl.is_active), export=lambda pl: pl.is_active, sort="is_active"),
    ),
    default_columns=("name", "price_type", "currency", "valid_from", "valid_to", "item_count", "is_active"),
    default_sort="-valid_from",
    search_fields=("name",),
    filters=(
        Filter("price_type", gettext_lazy("Price type"), lookup="price_type_id", choices=_type_choices),
        Filter("currency", gettext_lazy("Currency"), lookup="currency", choices=_currency_choices),
        Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),
        Filter("valid_from", gettext_lazy("Valid from"), lookup="valid_from", kind="date_range"),
    ),
)


@login_required
def price_list_list(request):
    _require(request, PriceList, "view")
    return list_view(request, PRICE_LIST_LIST, template="pricing/list.html", context={"section": "lists"})


@login_required
def price_list_detail(request, pk: int):
    _require(request, PriceList, "view")
    price_list = _get(selectors.price_list_get, pk)
    search = (request.GET.get("q") or "").strip()
    items = list(selectors.price_list_items(price_list.pk, search=search)[:1000])
    can_change_items = can(request.user, PriceListItem, "change")
    context = {
        "object": price_list,
        "card_title": price_list.name,
        "card_subtitle": _("%(type)s prices in %(currency)s") % {"type": price_list.price_type.name, "currency": price_list.currency},
        "card_fields": [
            CardField(_("Price type"), str(price_list.price_type), url=_type_url(price_list.price_type)),
            CardField(_("Currency"), price_list.currency),
            CardField(_("Valid from"), date_text(price_list.valid_from)),
            CardField(_("Valid to"), display(date_text(price_list.valid_to))),
            CardField(_("Prices include tax"), display(price_list.price_type.prices_include_tax)),
            CardField(_("Active"), display(price_list.is_active)),
            CardField(_("Items"), price_list.item_count),
            CardField(_("Notes"), display(price_list.notes)),
        ],
        "related_lists": [],
        "timeline": record_timeline(price_list, labels=field_labels(PriceList, "pricing.pricelist")),
        "back_url": reverse("pricing:price_list_list"),
        "items": items,
        "search": search,
        "can_change": can(request.user, PriceList, "change"),
        "can_delete": can(request.user, PriceList, "delete"),
        "can_change_items": can_change_items,
        "can_delete_items": can(request.user, PriceListItem, "delete"),
        "edit_url": reverse("pricing:price_list_edit", args=[price_list.pk]),
        "delete_url": reverse("pricing:price_list_delete", args=[price_list.pk]),
        "item_form": ItemAddForm(prefix="item") if can(request.user, PriceListItem, "add") else None,
        "copy_form": PriceListCopyForm(prefix="copy") if can(request.user, PriceList, "add") else None,
    }
    return render(request, "pricing/price_list_detail.html", context)


@login_required
def price_list_create(request):
    _require(request, PriceList, "add")
    initial = {"price_type": request.GET.get("price_type")} if request.GET.get("price_type", "").isdigit() else {}
    form = PriceListForm(request.POST or None, initial=initial)
    done = _save(request, form, lambda data: services.price_list_create(actor=request.user, data=data), success=_list_url,
                 message=lambda pl: _("Price list “%(name)s” created.") % {"name": pl.name})
    return done or _form_page(request, form, title=_("New price list"), cancel_url=reverse("pricing:price_list_list"))


@login_required
def price_list_edit(request, pk: int):
    _require(request, PriceList, "change")
    price_list = _get(selectors.price_list_get, pk)
    initial = {name: getattr(price_list, name) for name in ("name", "currency", "valid_from", "valid_to", "is_active", "notes")}
    initial["price_type"] = price_list.price_type_id
    form = PriceListForm(request.POST or None, initial=initial)
    done = _save(request, form, lambda data: services.price_list_update(actor=request.user, price_list_id=price_list.pk, data=data),
                 success=_list_url, message=lambda pl: _("Price list “%(name)s” saved.") % {"name": pl.name})
    return done or _form_page(request, form, title=price_list.name, cancel_url=_list_url(price_list))


@login_required
def price_list_delete(request, pk: int):
    _require(request, PriceList, "delete")
    price_list = _get(selectors.price_list_get, pk)
    return _delete(request, price_list, call=lambda: services.price_list_delete(actor=request.user, price_list_id=price_list.pk),
                   done_url=reverse("pricing:price_list_list"), cancel_url=_list_url(price_list))


@login_required
def price_list_copy(request, pk: int):
    _require(request, PriceList, "add")
    price_list = _get(selectors.price_list_get, pk)
    form = PriceListCopyForm(request.POST or None, prefix="copy")
    done = _save(request, form, lambda data: services.price_list_copy(actor=request.user, price_list_id=price_list.pk, data=data),
                 success=_list_url, message=lambda pl: _("Price list “%(name)s” created.") % {"name": pl.name})
    return done or _form_page(request, form, title=_("Copy “%(name)s” to a new date") % {"name": price_list.name}, cancel_url=_list_url(price_list))


@login_required
@require_POST
def price_list_item_add(request, pk: int):
    _require(request, PriceListItem, "add")
    price_list = _get(selectors.price_list_get, pk)
    form = ItemAddForm(request.POST, prefix="item")
    if form.is_valid():
        try:
            item = services.price_list_item_add(actor=request.user, price_list_id=price_list.pk, data=form.service_data())
        except DomainError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, _("%(sku)s added at %(price)s.") % {"sku": item.product.sku, "price": number_text(item.price, 2)})
            return redirect(_list_url(price_list))
    errors = "; ".join(f"{form.fields[name].label if name in form.fields else ''}: {', '.join(msgs)}".lstrip(": ") for name, msgs in form.errors.items())
    messages.error(request, _("Item not added: %(error)s") % {"error": errors})
    return redirect(_list_url(price_list))


def _item_of(price_list: PriceList, item_pk: int) -> PriceListItem:
    item = _get(selectors.price_list_item_get, item_pk)
    if item.price_list_id != price_list.pk:
        raise Http404
    return item


@login_required
@require_POST
def price_list_item_edit(request, pk: int, item_pk: int):
    """Change one item's price; htmx gets the row back (with the error beside the price), a plain post a redirect."""
    _require(request, PriceListItem, "change")
    price_list = _get(selectors.price_list_get, pk)
    item = _item_of(price_list, item_pk)
    form = ItemPriceForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            item = services.price_list_item_update(actor=request.user, item_id=item.pk, data=form.cleaned_data)
        except DomainError as failure:
            error = "; ".join(m for ms in failure.field_errors().values() for m in ms) or failure.message
    else:
        error = "; ".join(m for ms in form.errors.values() for m in ms)
    if request.headers.get("HX-Request"):
        context = {"object": price_list, "item": item, "error": error, "saved": not error, "can_change_items": True,
                   "can_delete_items": can(request.user, PriceListItem, "delete"), "value": request.POST.get("price", "")}
        return render(request, "pricing/_item_row.html", context, status=422 if error else 200)
    if error:
        messages.error(request, _("%(sku)s: %(error)s") % {"sku": item.product.sku, "error": error})
    else:
        messages.success(request, _("%(sku)s: the price is now %(price)s.") % {"sku": item.product.sku, "price": number_text(item.price, 2)})
    return redirect(_list_url(price_list))


@login_required
@require_POST
def price_list_item_delete(request, pk: int, item_pk: int):
    _require(request, PriceListItem, "delete")
    price_list = _get(selectors.price_list_get, pk)
    item = _item_of(price_list, item_pk)
    services.price_list_item_delete(actor=request.user, item_id=item.pk)
    messages.success(request, _("%(sku)s removed from the list.") % {"sku": item.product.sku})
    return redirect(_list_url(price_list))


# ----------------------------------------------------------------------------------------------- discount rules


def _rule_url(rule: DiscountRule) -> str:
    return reverse("pricing:discount_rule_detail", args=[rule.pk])


def _rule_scope(rule: DiscountRule) -> str:
    parts = [product.sku for product in rule.products.all()] + [group.name for group in rule.groups.all()]
    return ", ".join(parts) or _("every product")


RULE_LIST = ListConfig(
    entity="pricing.discountrule",
    model=DiscountRule,
    title=gettext_lazy("Discount rules"),
    queryset=lambda actor: selectors.discount_rule_list(),
    url_name="pricing:discount_rule_list",
    detail_url=_rule_url,
    columns=(
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("kind", gettext_lazy("Kind"), value=lambda r: r.get_kind_display(), export=lambda r: r.kind, sort="kind"),
        Column("terms", gettext_lazy("Discount"), value=rule_terms),
        Column("counterparty", gettext_lazy("Client"), value=lambda r: str(r.counterparty) if r.counterparty_id else "", sort="counterparty__name"),
        Column("scope", gettext_lazy("Products"), value=_rule_scope),
        Column("segments", gettext_lazy("Segments"), value=lambda r: ", ".join(s.name for s in r.segments.all())),
        Column("valid_from", gettext_lazy("Valid from"), value=lambda r: date_text(r.valid_from), export=lambda r: r.valid_from, sort="valid_from"),
        Column("valid_to", gettext_lazy("Valid to"), value=lambda r: date_text(r.valid_to), export=lambda r: r.valid_to, sort="valid_to"),
        Column("priority", gettext_lazy("Priority"), sort="priority"),
        Column("is_active", gettext_lazy("Active"), value=lambda r: display(r.is_active), export=lambda r: r.is_active, sort="is_active"),
    ),
    default_columns=("name", "kind", "terms", "counterparty", "scope", "valid_from", "valid_to", "priority", "is_active"),
    default_sort="kind",
    search_fields=("name", "description", "counterparty__name"),
    filters=(
        Filter("kind", gettext_lazy("Kind"), lookup="kind", choices=DiscountKind.choices),
        Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),
        Filter("valid_from", gettext_lazy("Valid from"), lookup="valid_from", kind="date_range"),
    ),
)


@login_required
def discount_rule_list(request):
    _require(request, DiscountRule, "view")
    kinds = DiscountKind.choices if can(request.user, DiscountRule, "add") else []
    return list_view(request, RULE_LIST, template="pricing/list.html", context={"section": "rules", "new_rule_kinds": kinds})


@login_required
def discount_rule_detail(request, pk: int):
    _require(request, DiscountRule, "view")
    rule = _get(selectors.discount_rule_get, pk)
    fields = [
        CardField(_("Kind"), rule.get_kind_display()),
        CardField(_("Discount"), rule_terms(rule)),
    ]
    if rule.counterparty_id:
        fields.append(CardField(_("Client"), str(rule.counterparty), url=reverse("parties:counterparty_detail", args=[rule.counterparty_id])))
    fields += [
        CardField(_("Products"), _rule_scope(rule)),
        CardField(_("Client segments"), ", ".join(s.name for s in rule.segments.all()) or (_("every client") if rule.kind != DiscountKind.PERSONAL else "—")),
        CardField(_("Valid from"), date_text(rule.valid_from)),
        CardField(_("Valid to"), display(date_text(rule.valid_to))),
        CardField(_("Priority"), rule.priority),
        CardField(_("Active"), display(rule.is_active)),
        CardField(_("Description"), display(rule.description)),
    ]
    related = []
    if rule.tiers.all():
        related.append(RelatedList(title=_("Tiers"), headers=[_("From"), _("Discount, %")],
                                   rows=[RelatedRow([number_text(t.threshold), percent_text(t.percent)]) for t in rule.tiers.all()]))
    context = {
        "object": rule,
        "card_title": rule.name,
        "card_subtitle": rule.get_kind_display(),
        "card_fields": fields,
        "related_lists": related,
        "timeline": record_timeline(rule, labels=field_labels(DiscountRule, "pricing.discountrule")),
        "back_url": reverse("pricing:discount_rule_list"),
        "can_change": can(request.user, DiscountRule, "change"),
        "can_delete": can(request.user, DiscountRule, "delete"),
        "edit_url": reverse("pricing:discount_rule_edit", args=[rule.pk]),
        "delete_url": reverse("pricing:discount_rule_delete", args=[rule.pk]),
    }
    return render(request, "pricing/card.html", context)


@login_required
def discount_rule_create(request):
    _require(request, DiscountRule, "add")
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in DiscountKind.values:
        raise Http404
    form = DiscountRuleForm(request.POST or None, kind=kind)
    done = _save(request, form, lambda data: services.discount_rule_create(actor=request.user, data=data), success=_rule_url,
                 message=lambda r: _("Discount rule “%(name)s” created.") % {"name": r.name})
    title = _("New discount: %(kind)s") % {"kind": DiscountKind(kind).label}
    return done or _form_page(request, form, title=title, cancel_url=reverse("pricing:discount_rule_list"))


@login_required
def discount_rule_edit(request, pk: int):
    _require(request, DiscountRule, "change")
    rule = _get(selectors.discount_rule_get, pk)
    form = DiscountRuleForm(request.POST or None, kind=rule.kind, initial=DiscountRuleForm.initial_for(rule))
    done = _save(request, form, lambda data: services.discount_rule_update(actor=request.user, rule_id=rule.pk, data=data),
                 success=_rule_url, message=lambda r: _("Discount rule “%(name)s” saved.") % {"name": r.name})
    return done or _form_page(request, form, title=f"{rule.name} ({rule.get_kind_display()})", cancel_url=_rule_url(rule))


@login_required
def discount_rule_delete(request, pk: int):
    _require(request, DiscountRule, "delete")
    rule = _get(selectors.discount_rule_get, pk)
    return _delete(request, rule, call=lambda: services.discount_rule_delete(actor=request.user, rule_id=rule.pk),
                   done_url=reverse("pricing:discount_rule_list"), cancel_url=_rule_url(rule))


# ----------------------------------------------------------------------------------------------- discount limits


def _limit_url(limit: ManualDiscountLimit) -> str:
    return reverse("pricing:discount_limit_edit", args=[limit.pk])


LIMIT_LIST = ListConfig(
    entity="pricing.manualdiscountlimit",
    model=ManualDiscountLimit,
    title=gettext_lazy("Discount limits"),
    queryset=lambda actor: selectors.discount_limit_list(),
    url_name="pricing:discount_limit_list",
    create_url_name="pricing:discount_limit_create",
    detail_url=_limit_url,
    columns=(
        Column("who", gettext_lazy("User or role"), value=lambda lim: str(lim.user or lim.group), link=True),
        Column("applies", gettext_lazy("Applies to"), value=lambda lim: _("user") if lim.user_id else _("role")),
        Column("max_percent", gettext_lazy("Maximum special discount, %"), value=lambda lim: percent_text(lim.max_percent),
               export=lambda lim: lim.max_percent, sort="max_percent"),
    ),
    default_columns=("who", "applies", "max_percent"),
    default_sort="-max_percent",
    search_fields=("user__username", "group__name"),
)


@login_required
def discount_limit_list(request):
    _require(request, ManualDiscountLimit, "view")
    return list_view(request, LIMIT_LIST, template="pricing/list.html", context={"section": "limits"})


@login_required
def discount_limit_create(request):
    _require(request, ManualDiscountLimit, "add")
    form = DiscountLimitForm(request.POST or None)
    done = _save(request, form, lambda data: services.discount_limit_create(actor=request.user, data=data),
                 success=lambda lim: reverse("pricing:discount_limit_list"), message=lambda lim: _("Discount limit for %(who)s saved.") % {"who": lim.user or lim.group})
    return done or _form_page(request, form, title=_("New discount limit"), cancel_url=reverse("pricing:discount_limit_list"))


@login_required
def discount_limit_edit(request, pk: int):
    _require(request, ManualDiscountLimit, "change")
    limit = _get(selectors.discount_limit_get, pk)
    form = DiscountLimitForm(request.POST or None, initial={"user": limit.user_id, "group": limit.group_id, "max_percent": f"{limit.max_percent.normalize():f}"})
    done = _save(request, form, lambda data: services.discount_limit_update(actor=request.user, limit_id=limit.pk, data=data),
                 success=lambda lim: reverse("pricing:discount_limit_list"), message=lambda lim: _("Discount limit for %(who)s saved.") % {"who": lim.user or lim.group})
    extra = {"delete_url": reverse("pricing:discount_limit_delete", args=[limit.pk]) if can(request.user, ManualDiscountLimit, "delete") else ""}
    return done or _form_page(request, form, title=str(limit), cancel_url=reverse("pricing:discount_limit_list"), template="pricing/limit_form.html", extra=extra)


@login_required
def discount_limit_delete(request, pk: int):
    _require(request, ManualDiscountLimit, "delete")
    limit = _get(selectors.discount_limit_get, pk)
    return _delete(request, limit, call=lambda: services.discount_limit_delete(actor=request.user, limit_id=limit.pk),
                   done_url=reverse("pricing:discount_limit_list"), cancel_url=_limit_url(limit))


# ----------------------------------------------------------------------------------------------- price check


@login_required
def price_check(request):
    """Client, product, quantity, date → the quote: every candidate discount, the chosen one, the difference from retail."""
    _require(request, PriceList, "view")
    form = PriceCheckForm(request.GET or None, actor=request.user)
    quote = None
    if request.GET and form.is_valid():
        data = form.cleaned_data
        client = data.get("counterparty")
        try:
            quote = engine.quote_line(
                product_id=data["product"].pk, quantity=data["quantity"], on=form.on(), currency=data.get("currency") or "",
                counterparty_id=client.pk if client else None, price_type_code=data.get("price_type") or "",
                purchases=selectors.ledger_purchases(client.pk) if client else None,
            )
        except DomainError as error:
            _apply_errors(form, error)
    context = {
        "form": form,
        "quote": quote,
        "candidates": [(candidate, DiscountKind(candidate.kind).label) for candidate in quote.candidates] if quote else [],
        "product": form.cleaned_data.get("product") if quote else None,
        "limit": engine.manual_discount_limit(user=request.user),
        "rules_url": reverse("pricing:discount_rule_list"),
    }
    return render(request, "pricing/price_check.html", context)
