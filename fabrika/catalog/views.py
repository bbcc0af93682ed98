"""Catalog pages on the UI kit: products (list, card, form, barcodes, conversions), product groups (tree), units."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view

from . import selectors, services
from .enums import ProductKind, Tracking
from .forms import BarcodeForm, ProductForm, ProductGroupForm, UnitConversionForm, UnitForm
from .models import Product, ProductGroup, Unit, UnitConversion

ENTITY = "catalog.product"


class _DryRun(Exception):
    """Raised to roll back a service run whose only purpose was to check its rules (inline validation)."""


def dry_run(call) -> None:
    """Run a service for its checks only: whatever it wrote is rolled back; its DomainError goes to the caller."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass


def conversion_label(conversion: UnitConversion) -> str:
    """ "1 box = 12 pcs" with the factor in plain digits (never 1E+3)."""
    factor = conversion.factor.normalize()
    if factor == factor.to_integral():
        factor = factor.quantize(Decimal(1))
    return f"1 {conversion.from_unit.code} = {factor:f} {conversion.to_unit.code}"


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _product(pk: int) -> Product:
    try:
        return selectors.product_get(pk)
    except NotFound:
        raise Http404


def _detail_url(product: Product) -> str:
    return reverse("catalog:product_detail", args=[product.pk])


def _group_choices(actor) -> list[tuple[int, str]]:
    return [(pk, label) for pk, label, _depth in group_tree()]


def _group_filter(queryset, value: str):
    return queryset.filter(group_id__in=selectors.product_group_descendant_ids(int(value)))


def _barcodes(product: Product) -> str:
    return ", ".join(barcode.code for barcode in product.barcodes.all())


def _product_queryset(actor):
    return selectors.product_list().prefetch_related("barcodes")


PRODUCT_LIST = ListConfig(
    entity=ENTITY,
    model=Product,
    title=gettext_lazy("Products"),
    queryset=_product_queryset,
    url_name="catalog:product_list",
    create_url_name="catalog:product_create",
    detail_url=_detail_url,
    columns=(
        Column("sku", gettext_lazy("SKU"), sort="sku", link=True),
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("kind", gettext_lazy("Kind"), value=lambda p: p.get_kind_display(), sort="kind"),
        Column("group", gettext_lazy("Group"), value=lambda p: str(p.group) if p.group else "", sort="group__name"),
        Column("stock_unit", gettext_lazy("Unit"), value=lambda p: p.stock_unit.code, sort="stock_unit__code"),
        Column("tracking", gettext_lazy("Tracking"), value=lambda p: p.get_tracking_display(), sort="tracking"),
        Column("barcodes", gettext_lazy("Barcodes"), value=_barcodes),
        Column("is_active", gettext_lazy("Active"), sort="is_active"),
        Column("updated_at", gettext_lazy("Updated"), value=lambda p: formats.date_format(p.updated_at, "SHORT_DATE_FORMAT"),
               export=lambda p: p.updated_at, sort="updated_at"),
    ),
    default_columns=("sku", "name", "kind", "group", "stock_unit", "tracking", "barcodes"),
    default_sort="sku",
    search_fields=("sku", "name", "barcodes__code"),
    filters=(
        Filter("kind", gettext_lazy("Kind"), lookup="kind", choices=ProductKind.choices),
        Filter("group", gettext_lazy("Group"), lookup="", apply=_group_filter, choices=_group_choices),
        Filter("tracking", gettext_lazy("Tracking"), lookup="tracking", choices=Tracking.choices),
        Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),
    ),
)


@login_required
def product_list(request):
    _require(request, Product, "view")
    if request.GET.get("q"):  # a barcode search joins barcodes: one row per product
        config = dataclasses.replace(PRODUCT_LIST, queryset=lambda actor: _product_queryset(actor).distinct())
        return list_view(request, config, template="catalog/product_list.html")
    return list_view(request, PRODUCT_LIST, template="catalog/product_list.html")


# ----------------------------------------------------------------------------------------------- card


def _card_fields(product: Product) -> list[CardField]:
    group_url = reverse("catalog:group_list") if product.group_id else ""
    fields = [
        CardField(_("SKU"), product.sku),
        CardField(_("Kind"), product.get_kind_display()),
        CardField(_("Group"), display(product.group), url=group_url),
        CardField(_("Stock unit"), f"{product.stock_unit.code} — {product.stock_unit.name}"),
        CardField(_("Purchase unit"), display(product.purchase_unit.code if product.purchase_unit else None)),
        CardField(_("Tracking"), product.get_tracking_display()),
        CardField(_("Shelf life, days"), display(product.shelf_life_days)),
        CardField(_("Active"), display(product.is_active)),
        CardField(_("Description"), display(product.description)),
        CardField(_("Created"), formats.date_format(product.created_at, "SHORT_DATETIME_FORMAT")),
    ]
    return fields


def _stock_lists(request, product: Product) -> list[RelatedList]:
    """Stock on hand per location and lot, lots and serial numbers: inventory's data, read through its selectors
    (inventory sits above catalog; the card only reads)."""
    from fabrika.inventory import selectors as stock
    from fabrika.inventory.models import Location, Lot, SerialNumber, StockMove

    if not product.is_stockable or not can(request.user, StockMove, "view"):
        return []
    rows = stock.stock_on_hand(product_ids=[product.pk], group_by="lot")
    locations = {loc.pk: loc for loc in Location.objects.filter(pk__in={row["location_id"] for row in rows})}
    lots = {lot.pk: lot for lot in Lot.objects.filter(pk__in={row["lot_id"] for row in rows if row["lot_id"]})}
    unit = product.stock_unit.code
    on_hand = [
        RelatedRow([
            str(locations[row["location_id"]]), str(lots[row["lot_id"]]) if row["lot_id"] else "",
            f"{formats.number_format(row['quantity'].normalize(), use_l10n=True)} {unit}",
            formats.number_format(row["value"], 2, use_l10n=True),
        ])
        for row in rows
    ]
    total_quantity = sum((row["quantity"] for row in rows), start=0)
    total_value = sum((row["value"] for row in rows), start=0)
    result = [
        RelatedList(
            title=_("Stock on hand: %(quantity)s %(unit)s, value %(value)s") % {
                "quantity": formats.number_format(total_quantity.normalize() if rows else 0, use_l10n=True), "unit": unit,
                "value": formats.number_format(total_value, 2, use_l10n=True),
            },
            headers=[_("Location"), _("Lot"), _("Quantity"), _("Value")],
            rows=on_hand,
            empty_text=_("Not in stock."),
        )
    ]
    if product.tracking == Tracking.LOT:
        result.append(RelatedList(
            title=_("Lots"), headers=[_("Lot"), _("Production date"), _("Expiry date")],
            rows=[
                RelatedRow([lot.code, display(lot.production_date), display(lot.expiry_date)], url=reverse("inventory:lot_detail", args=[lot.pk]))
                for lot in stock.lot_list(product_id=product.pk)[:100]
            ],
            empty_text=_("No lots yet."),
        ))
    if product.tracking == Tracking.SERIAL:
        serials = SerialNumber.objects.filter(product=product).select_related("location").order_by("serial")[:200]
        result.append(RelatedList(
            title=_("Serial numbers"), headers=[_("Serial number"), _("Where"), _("Reserved for")],
            rows=[
                RelatedRow([s.serial, str(s.location), s.reserved_reference], url=reverse("inventory:serial_detail", args=[s.pk]))
                for s in serials
            ],
            empty_text=_("No serial numbers yet."),
        ))
    return result


@login_required
def product_detail(request, pk: int):
    _require(request, Product, "view")
    product = _product(pk)
    barcodes = list(product.barcodes.select_related("unit").order_by("code"))
    conversions = list(
        UnitConversion.objects.filter(product=product).select_related("from_unit", "to_unit").order_by("from_unit__code")
    )
    general = list(
        UnitConversion.objects.filter(product__isnull=True)
        .filter(Q(from_unit=product.stock_unit_id) | Q(to_unit=product.stock_unit_id))
        .select_related("from_unit", "to_unit").order_by("from_unit__code")
    )
    related = [
        RelatedList(
            title=_("Units and conversions"), headers=[_("Conversion"), _("Applies to")],
            rows=[RelatedRow([conversion_label(c), _("this product")]) for c in conversions]
            + [RelatedRow([conversion_label(c), _("every product")]) for c in general],
            empty_text=_("Only the stock unit."),
        ),
        RelatedList(
            title=_("Attributes"), headers=[_("Name"), _("Value")],
            rows=[RelatedRow([name, display(value)]) for name, value in (product.attributes or {}).items()],
            empty_text=_("No attributes."),
        ),
        *_stock_lists(request, product),
    ]
    can_change = can(request.user, Product, "change")
    context = {
        "object": product,
        "card_title": f"{product.sku} {product.name}",
        "card_subtitle": product.get_kind_display(),
        "card_fields": _card_fields(product),
        "related_lists": related,
        "timeline": record_timeline(product, labels=field_labels(Product, ENTITY)),
        "back_url": reverse("catalog:product_list"),
        "can_change": can_change,
        "barcodes": barcodes,
        "barcode_form": BarcodeForm(prefix="barcode") if can_change else None,
        "conversion_form": UnitConversionForm(prefix="conversion", initial={"to_unit": product.stock_unit_id}) if can(request.user, UnitConversion, "add") else None,
    }
    return render(request, "catalog/product_detail.html", context)


# ----------------------------------------------------------------------------------------------- form


def _form_page(request, form: ProductForm, instance: Product | None):
    context = {
        "form": form,
        "object": instance,
        "form_title": f"{instance.sku} {instance.name}" if instance else _("New product"),
        "validate_url": reverse("catalog:product_validate", args=[instance.pk]) if instance else reverse("catalog:product_validate_new"),
        "cancel_url": _detail_url(instance) if instance else reverse("catalog:product_list"),
    }
    return render(request, "catalog/product_form.html", context)


@login_required
def product_create(request):
    _require(request, Product, "add")
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.product_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Product “%(sku)s” created.") % {"sku": saved.sku})
            return redirect(_detail_url(saved))
    return _form_page(request, form, None)


@login_required
def product_edit(request, pk: int):
    _require(request, Product, "change")
    instance = _product(pk)
    form = ProductForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.product_update(actor=request.user, product_id=instance.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Product “%(sku)s” saved.") % {"sku": saved.sku})
            return redirect(_detail_url(saved))
    return _form_page(request, form, instance)


@login_required
@require_POST
def product_validate(request, pk: int | None = None):
    """Inline validation of one field (htmx): the service's checks run and are rolled back."""
    _require(request, Product, "change" if pk else "add")
    instance = _product(pk) if pk else None
    form = ProductForm(request.POST)

    def validate(valid_form):
        data = valid_form.service_data()
        if instance is None:
            dry_run(lambda: services.product_create(actor=request.user, data=data))
        else:
            dry_run(lambda: services.product_update(actor=request.user, product_id=instance.pk, data=data))

    return validate_field_response(request, form, validate=validate)


@login_required
@require_POST
def product_barcode_add(request, pk: int):
    _require(request, Product, "change")
    product = _product(pk)
    form = BarcodeForm(request.POST, prefix="barcode")
    if form.is_valid():
        try:
            services.barcode_add(actor=request.user, product_id=product.pk, code=form.cleaned_data["code"], unit=form.cleaned_data["unit"])
        except DomainError as error:
            messages.error(request, _("Barcode not added: %(error)s") % {"error": error.message})
        else:
            messages.success(request, _("Barcode %(code)s added.") % {"code": form.cleaned_data["code"]})
    else:
        messages.error(request, _("Barcode not added: %(error)s") % {"error": "; ".join(e for es in form.errors.values() for e in es)})
    return redirect(_detail_url(product))


@login_required
@require_POST
def product_barcode_remove(request, pk: int, barcode_pk: int):
    _require(request, Product, "change")
    product = _product(pk)
    if not product.barcodes.filter(pk=barcode_pk).exists():
        raise Http404
    services.barcode_remove(actor=request.user, barcode_id=barcode_pk)
    messages.success(request, _("Barcode removed."))
    return redirect(_detail_url(product))


@login_required
@require_POST
def product_conversion_add(request, pk: int):
    _require(request, UnitConversion, "add")
    product = _product(pk)
    form = UnitConversionForm(request.POST, prefix="conversion")
    if form.is_valid():
        try:
            conversion = services.unit_conversion_create(actor=request.user, product=product, **form.cleaned_data)
        except DomainError as error:
            messages.error(request, _("Conversion not added: %(error)s") % {"error": error.message})
        else:
            messages.success(request, _("Conversion “%(conversion)s” added.") % {"conversion": conversion_label(conversion)})
    else:
        messages.error(request, _("Conversion not added: %(error)s") % {"error": "; ".join(e for es in form.errors.values() for e in es)})
    return redirect(_detail_url(product))


# ----------------------------------------------------------------------------------------------- groups


def group_tree() -> list[tuple[int, str, int]]:
    """(id, name, depth) of every product group, parents before their children, siblings by name."""
    children: dict[int | None, list[ProductGroup]] = {}
    for group in ProductGroup.objects.order_by("name", "id"):
        children.setdefault(group.parent_id, []).append(group)
    result: list[tuple[int, str, int]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for group in children.get(parent_id, []):
            if group.pk in seen:
                continue
            seen.add(group.pk)
            result.append((group.pk, group.name, depth))
            walk(group.pk, depth + 1)

    walk(None, 0)
    return result


@login_required
def group_list(request):
    _require(request, ProductGroup, "view")
    can_add = can(request.user, ProductGroup, "add")
    form = ProductGroupForm(request.POST or None)
    if request.method == "POST":
        _require(request, ProductGroup, "add")
        if form.is_valid():
            try:
                group = services.product_group_create(actor=request.user, data=form.service_data())
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Group “%(name)s” created.") % {"name": group.name})
                return redirect("catalog:group_list")
    groups = {group.pk: group for group in ProductGroup.objects.all()}
    counts = dict(
        Product.objects.filter(group__isnull=False).values_list("group_id").annotate(n=Count("id")).order_by()
    )
    tree = [
        {"group": groups[pk], "depth": depth, "indent": depth * 1.5, "products": counts.get(pk, 0)}
        for pk, _name, depth in group_tree()
    ]
    context = {"tree": tree, "form": form if can_add else None, "can_change": can(request.user, ProductGroup, "change")}
    return render(request, "catalog/group_list.html", context)


@login_required
def group_edit(request, pk: int):
    _require(request, ProductGroup, "change")
    try:
        group = selectors.product_group_get(pk)
    except NotFound:
        raise Http404
    initial = {"name": group.name, "parent": group.parent_id, "valuation_method": group.valuation_method}
    form = ProductGroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.product_group_update(actor=request.user, group_id=group.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Group “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("catalog:group_list")
    return render(request, "core/ui/form.html", {"form": form, "form_title": group.name, "cancel_url": reverse("catalog:group_list")})


# ----------------------------------------------------------------------------------------------- units


@login_required
def unit_list(request):
    _require(request, Unit, "view")
    unit_form = UnitForm(request.POST if request.POST.get("form") == "unit" else None, prefix="unit")
    conversion_form = UnitConversionForm(request.POST if request.POST.get("form") == "conversion" else None, prefix="conversion")
    if request.method == "POST":
        if request.POST.get("form") == "unit":
            _require(request, Unit, "add")
            if unit_form.is_valid():
                try:
                    unit = services.unit_create(actor=request.user, **unit_form.cleaned_data)
                except DomainError as error:
                    apply_errors(unit_form, error)
                else:
                    messages.success(request, _("Unit “%(code)s” created.") % {"code": unit.code})
                    return redirect("catalog:unit_list")
        elif request.POST.get("form") == "conversion":
            _require(request, UnitConversion, "add")
            if conversion_form.is_valid():
                try:
                    conversion = services.unit_conversion_create(actor=request.user, **conversion_form.cleaned_data)
                except DomainError as error:
                    apply_errors(conversion_form, error)
                else:
                    messages.success(request, _("Conversion “%(conversion)s” added.") % {"conversion": conversion_label(conversion)})
                    return redirect("catalog:unit_list")
    context = {
        "units": Unit.objects.order_by("code"),
        "conversions": [
            {"conversion": c, "label": conversion_label(c)}
            for c in UnitConversion.objects.select_related("from_unit", "to_unit", "product").order_by("product__sku", "from_unit__code")
        ],
        "unit_form": unit_form if can(request.user, Unit, "add") else None,
        "conversion_form": conversion_form if can(request.user, UnitConversion, "add") else None,
    }
    return render(request, "catalog/unit_list.html", context)

