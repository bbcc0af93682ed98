"""Inventory pages on the UI kit: warehouses and locations, stock documents (list, forms per type, card with lines,
htmx product search and a barcode field for keyboard-wedge scanners, post and cancel), lots, serial numbers,
reservations of a document and period close. Views are thin: the services write, the selectors read."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.catalog import selectors as catalog_selectors
from fabrika.catalog.enums import NON_STOCK_KINDS, Tracking
from fabrika.catalog.models import Product
from fabrika.catalog.views import dry_run
from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.models import Counterparty

from . import selectors, services
from .enums import VIRTUAL_KINDS, DocumentStatus, DocumentType, LocationKind
from .forms import DocumentForm, LineForm, LocationForm, PeriodCloseForm, ReservationForm, WarehouseForm
from .models import (
    Location,
    Lot,
    PeriodClose,
    Reservation,
    SerialNumber,
    StockDocument,
    StockDocumentLine,
    StockMove,
    Warehouse,
)
from .printing import DELIVERY_NOTE, RECEIPT_NOTE

DOCUMENT_ENTITY = "inventory.stockdocument"
QUANTITY_STEP = Decimal("0.0001")


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def number(value, places: int | None = None) -> str:
    if value is None:
        return ""
    if places is None:
        value = Decimal(value).normalize()
        if value == value.to_integral():
            value = value.quantize(Decimal(1))
    return formats.number_format(value, places, use_l10n=True)


def plain(value: Decimal) -> str:
    """A quantity as the services take it: no exponent, no trailing zeros ("11", not "11.0000")."""
    return f"{value.normalize():f}"


def _errors_text(error: DomainError) -> str:
    return "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message


# ----------------------------------------------------------------------------------------------- warehouses


def _warehouse(pk: int) -> Warehouse:
    warehouse = selectors.warehouse_list().filter(pk=pk).first()
    if warehouse is None:
        raise Http404
    return warehouse


@login_required
def warehouse_list(request):
    _require(request, Warehouse, "view")
    can_add = can(request.user, Warehouse, "add")
    form = WarehouseForm(request.POST or None)
    if request.method == "POST":
        _require(request, Warehouse, "add")
        if form.is_valid():
            try:
                warehouse = services.warehouse_create(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Warehouse “%(name)s” created.") % {"name": warehouse.name})
                return redirect("inventory:warehouse_detail", pk=warehouse.pk)
    context = {
        "warehouses": selectors.warehouse_list(),
        "virtual_locations": selectors.location_list(include_virtual=True).exclude(kind=LocationKind.INTERNAL),
        "virtual_kinds": [LocationKind(kind).label for kind in VIRTUAL_KINDS],
        "form": form if can_add else None,
    }
    return render(request, "inventory/warehouse_list.html", context)


@login_required
def warehouse_detail(request, pk: int):
    _require(request, Warehouse, "view")
    warehouse = _warehouse(pk)
    can_add = can(request.user, Location, "add")
    form = LocationForm(request.POST or None, warehouse=warehouse)
    if request.method == "POST":
        _require(request, Location, "add")
        if form.is_valid():
            try:
                location = services.location_create(
                    actor=request.user, parent_id=form.cleaned_data["parent"].pk, name=form.cleaned_data["name"], code=form.cleaned_data["code"]
                )
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Location “%(name)s” added.") % {"name": location})
                return redirect("inventory:warehouse_detail", pk=warehouse.pk)
    locations = list(selectors.location_list(warehouse_id=warehouse.pk))
    children: dict[int | None, list[Location]] = {}
    for location in locations:
        children.setdefault(location.parent_id, []).append(location)
    tree: list[dict] = []

    def walk(parent_id, level):
        for location in sorted(children.get(parent_id, []), key=lambda loc: (loc.name, loc.pk)):
            tree.append({"location": location, "depth": level, "indent": level * 1.5})
            walk(location.pk, level + 1)

    walk(None, 0)
    on_hand = selectors.stock_on_hand(warehouse_id=warehouse.pk, group_by="location")
    per_location: dict[int, list[Decimal]] = {}
    for row in on_hand:
        totals = per_location.setdefault(row["location_id"], [Decimal(0), Decimal(0)])
        totals[0] += row["quantity"]
        totals[1] += row["value"]
    for node in tree:
        totals = per_location.get(node["location"].pk)
        node["value"] = number(totals[1], 2) if totals else ""
    context = {
        "warehouse": warehouse,
        "tree": tree,
        "total_value": number(sum((row["value"] for row in on_hand), Decimal(0)), 2),
        "form": form if can_add else None,
        "timeline": record_timeline(warehouse, labels=field_labels(Warehouse, "inventory.warehouse")),
    }
    return render(request, "inventory/warehouse_detail.html", context)


# ----------------------------------------------------------------------------------------------- documents: list


def _document_url(document: StockDocument) -> str:
    return reverse("inventory:document_detail", args=[document.pk])


def _warehouse_filter(queryset, value: str):
    return queryset.filter(Q(from_location__warehouse_id=value) | Q(to_location__warehouse_id=value)).distinct()


def _warehouse_choices(actor):
    return [(w.pk, str(w)) for w in selectors.warehouse_list()]


def _counterparty_choices(actor):
    ids = selectors.stock_document_list_for_user(actor).filter(counterparty__isnull=False).order_by().values("counterparty_id")
    return [(c.pk, c.name) for c in Counterparty.objects.filter(pk__in=ids).order_by("name")]


def _document_title(document: StockDocument) -> str:
    return f"{document.get_document_type_display()} {document.number or _('(draft)')}"


DOCUMENT_LIST = ListConfig(
    entity=DOCUMENT_ENTITY,
    model=StockDocument,
    title=gettext_lazy("Stock documents"),
    queryset=lambda actor: selectors.stock_document_list_for_user(actor).select_related("from_location", "to_location"),
    url_name="inventory:document_list",
    detail_url=_document_url,
    columns=(
        Column("number", gettext_lazy("Number"), value=lambda d: d.number or _("(draft)"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda d: formats.date_format(d.date, "SHORT_DATE_FORMAT"), export=lambda d: d.date, sort="date"),
        Column("document_type", gettext_lazy("Type"), value=lambda d: d.get_document_type_display(), sort="document_type"),
        Column("status", gettext_lazy("Status"), value=lambda d: d.get_status_display(), sort="status"),
        Column("counterparty", gettext_lazy("Counterparty"), value=lambda d: d.counterparty.name if d.counterparty else "", sort="counterparty__name"),
        Column("from_location", gettext_lazy("From"), value=lambda d: str(d.from_location or "")),
        Column("to_location", gettext_lazy("To"), value=lambda d: str(d.to_location or "")),
        Column("total_value", gettext_lazy("Value"), value=lambda d: number(d.total_value, 2), export=lambda d: d.total_value, sort="total_value"),
        Column("reference", gettext_lazy("Reference"), sort="reference"),
        Column("author", gettext_lazy("Author"), value=lambda d: str(d.author), sort="author__username"),
    ),
    default_columns=("number", "date", "document_type", "status", "counterparty", "from_location", "to_location", "total_value"),
    default_sort="-date",
    search_fields=("number", "reference", "counterparty__name", "notes"),
    filters=(
        Filter("type", gettext_lazy("Type"), lookup="document_type", choices=DocumentType.choices),
        Filter("status", gettext_lazy("Status"), lookup="status", choices=DocumentStatus.choices),
        Filter("warehouse", gettext_lazy("Warehouse"), lookup="", apply=_warehouse_filter, choices=_warehouse_choices),
        Filter("counterparty", gettext_lazy("Counterparty"), lookup="counterparty_id", choices=_counterparty_choices),
    ),
)


def _date_param(request, name: str, errors: list[str]) -> dt.date | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(_("Enter a date as YYYY-MM-DD"))
        return None


@login_required
def document_list(request):
    _require(request, StockDocument, "view")
    errors: list[str] = []
    date_from, date_to = _date_param(request, "date_from", errors), _date_param(request, "date_to", errors)
    base = DOCUMENT_LIST.queryset
    config = dataclasses.replace(
        DOCUMENT_LIST,
        queryset=lambda actor: base(actor).filter(
            **({"date__gte": date_from} if date_from else {}), **({"date__lte": date_to} if date_to else {})
        ),
    )
    context = {
        "date_from": date_from.isoformat() if date_from else "",
        "date_to": date_to.isoformat() if date_to else "",
        "date_errors": errors,
        "document_types": DocumentType.choices if can(request.user, StockDocument, "add") else [],
    }
    return list_view(request, config, template="inventory/document_list.html", context=context)


# ----------------------------------------------------------------------------------------------- documents: header


def _document(request, pk: int) -> StockDocument:
    try:
        return selectors.stock_document_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _header_page(request, form: DocumentForm, document: StockDocument | None, document_type: str):
    validate_url = (
        reverse("inventory:document_validate", args=[document.pk]) if document
        else reverse("inventory:document_validate_new", args=[document_type])
    )
    context = {
        "form": form,
        "validate_url": validate_url,
        "object": document,
        "form_title": _document_title(document) if document else _("New document: %(type)s") % {"type": DocumentType(document_type).label},
        "cancel_url": _document_url(document) if document else reverse("inventory:document_list"),
    }
    return render(request, "inventory/document_form.html", context)


@login_required
def document_create(request, document_type: str):
    _require(request, StockDocument, "add")
    if document_type not in DocumentType.values:
        raise Http404
    form = DocumentForm(request.POST or None, document_type=document_type, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            document = services.stock_document_create(actor=request.user, document_type=document_type, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Draft created: add the lines."))
            return redirect(_document_url(document))
    return _header_page(request, form, None, document_type)


@login_required
def document_edit(request, pk: int):
    _require(request, StockDocument, "change")
    document = _document(request, pk)
    if document.status != DocumentStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; cancel a posted document instead."))
        return redirect(_document_url(document))
    form = DocumentForm(request.POST or None, document_type=document.document_type, actor=request.user, instance=document)
    if request.method == "POST" and form.is_valid():
        try:
            services.stock_document_update(actor=request.user, document_id=document.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Document saved."))
            return redirect(_document_url(document))
    return _header_page(request, form, document, document.document_type)


@login_required
def document_validate(request, pk: int | None = None, document_type: str = ""):
    """Inline validation of one header field (htmx): the service's checks run and are rolled back."""
    if request.method != "POST":
        return redirect("inventory:document_list")
    _require(request, StockDocument, "change" if pk else "add")
    document = _document(request, pk) if pk else None
    kind = document.document_type if document else document_type
    if kind not in DocumentType.values:
        raise Http404
    form = DocumentForm(request.POST, document_type=kind, actor=request.user)

    def validate(valid_form):
        data = valid_form.service_data()
        if document is None:
            dry_run(lambda: services.stock_document_create(actor=request.user, document_type=kind, data=data))
        elif document.status == DocumentStatus.DRAFT:
            dry_run(lambda: services.stock_document_update(actor=request.user, document_id=document.pk, data=data))

    return validate_field_response(request, form, validate=validate)


# ----------------------------------------------------------------------------------------------- documents: card


def _line_rows(document: StockDocument) -> list[dict]:
    rows = []
    for line in document.lines.all():
        rows.append({
            "line": line,
            "quantity": number(line.quantity),
            "stock_quantity": number(line.stock_quantity),
            "expected": number(line.expected_quantity) if line.expected_quantity is not None else "",
            "difference": number((line.counted_quantity or 0) - line.expected_quantity) if line.expected_quantity is not None else "",
            "unit_cost": number(line.unit_cost, 2) if line.unit_cost is not None else "",
            "cost": number(line.cost, 2) if line.cost is not None else "",
        })
    return rows


def _header_fields(document: StockDocument) -> list[CardField]:
    fields = [
        CardField(_("Type"), document.get_document_type_display()),
        CardField(_("Status"), document.get_status_display()),
        CardField(_("Number"), display(document.number)),
        CardField(_("Date"), formats.date_format(document.date, "SHORT_DATE_FORMAT")),
    ]
    if document.counterparty_id:
        fields.append(CardField(_("Counterparty"), document.counterparty.name, url=reverse("parties:counterparty_detail", args=[document.counterparty_id])))
    fields += [
        CardField(_("From"), display(document.from_location)),
        CardField(_("To"), display(document.to_location)),
    ]
    if document.currency:
        fields.append(CardField(_("Currency"), f"{document.currency} × {number(document.exchange_rate)}"))
    fields += [
        CardField(_("Value"), number(document.total_value, 2)),
        CardField(_("Reference"), display(document.reference)),
        CardField(_("Notes"), display(document.notes)),
        CardField(_("Author"), str(document.author)),
    ]
    if document.posted_at:
        fields.append(CardField(_("Posted"), f"{formats.date_format(document.posted_at, 'SHORT_DATETIME_FORMAT')} · {document.posted_by}"))
    if document.cancelled_at:
        fields.append(CardField(_("Cancelled"), f"{formats.date_format(document.cancelled_at, 'SHORT_DATETIME_FORMAT')} · {document.cancelled_by}"))
    return fields


def _lines_context(request, document: StockDocument, **extra) -> dict:
    editable = document.status == DocumentStatus.DRAFT and can(request.user, StockDocument, "change")
    return {
        "object": document,
        "line_rows": _line_rows(document),
        "editable": editable,
        "is_count": document.document_type == DocumentType.COUNT,
        "shows_cost": document.document_type in (DocumentType.RECEIPT, DocumentType.CUSTOMER_RETURN, DocumentType.COUNT),
        **extra,
    }


def _detail_context(request, document: StockDocument, *, line_form: LineForm | None = None) -> dict:
    related = []
    if document.status != DocumentStatus.DRAFT:
        moves = StockMove.objects.filter(document=document).select_related("product", "from_location", "to_location", "lot", "serial").order_by("id")
        related.append(RelatedList(
            title=_("Stock moves"),
            headers=[_("Product"), _("From"), _("To"), _("Lot / serial"), _("Quantity"), _("Unit cost"), _("Value"), _("Date")],
            rows=[
                RelatedRow([
                    move.product.sku, str(move.from_location), str(move.to_location), str(move.lot or move.serial or ""),
                    number(move.quantity), number(move.unit_cost, 2), number(move.value + move.adjustment_value, 2),
                    formats.date_format(move.date, "SHORT_DATE_FORMAT") + (f" ({_('reversal')})" if move.reverses_id else ""),
                ])
                for move in moves
            ],
            empty_text=_("No moves."),
        ))
    if document.reference and can(request.user, Reservation, "view"):
        related.append(_reservations_list(document))
    cancel_action = "cancel" if document.status == DocumentStatus.POSTED else "change"
    return {
        "card_title": _document_title(document),
        "card_subtitle": document.get_status_display(),
        "card_fields": _header_fields(document),
        "related_lists": related,
        "timeline": record_timeline(document, labels=field_labels(StockDocument, DOCUMENT_ENTITY)),
        "back_url": reverse("inventory:document_list"),
        "can_post": document.status == DocumentStatus.DRAFT and can(request.user, StockDocument, "post"),
        "can_cancel": document.status != DocumentStatus.CANCELLED and can(request.user, StockDocument, cancel_action),
        "print_code": _print_code(document),
        "line_form": line_form or LineForm(document=document, product=None, prefix="line"),
        **_lines_context(request, document),
    }


def _print_code(document: StockDocument) -> str | None:
    """The printed form of a posted receipt (receipt note) or issue (delivery note); None for other documents."""
    if document.status != DocumentStatus.POSTED:
        return None
    return {DocumentType.RECEIPT: RECEIPT_NOTE, DocumentType.ISSUE: DELIVERY_NOTE}.get(document.document_type)


@login_required
def document_detail(request, pk: int):
    _require(request, StockDocument, "view")
    document = _document(request, pk)
    return render(request, "inventory/document_detail.html", _detail_context(request, document))


def _lines_response(request, document: StockDocument, *, status: str = "", error: str = "", line_form: LineForm | None = None):
    document = _document(request, document.pk)  # fresh lines
    context = _lines_context(request, document, scan_status=status, scan_error=error, line_form=line_form, oob=True)
    return render(request, "inventory/_document_lines.html", context)


def _draft_for_change(request, pk: int) -> StockDocument:
    _require(request, StockDocument, "change")
    document = _document(request, pk)
    if document.status != DocumentStatus.DRAFT:
        raise Http404
    return document


@login_required
def document_product_search(request, pk: int):
    """htmx autocomplete: products by SKU, name or barcode; each hit opens the line form for that product."""
    document = _draft_for_change(request, pk)
    query = (request.GET.get("q") or "").strip()
    products = []
    if query:
        products = list(
            catalog_selectors.product_list(search=query, active=True).exclude(kind__in=list(NON_STOCK_KINDS))[:10]
        )
    return render(request, "inventory/_product_hits.html", {"object": document, "products": products, "q": query})


@login_required
def document_line_form(request, pk: int):
    """htmx: the add-line form for the chosen product (its units, lot or serial fields, unit cost)."""
    document = _draft_for_change(request, pk)
    product = None
    raw = request.GET.get("product") or ""
    if raw.isdigit():
        product = Product.objects.select_related("stock_unit").filter(pk=raw, is_active=True).first()
    if product is None:
        raise Http404
    form = LineForm(document=document, product=product, prefix="line")
    return render(request, "inventory/_line_form.html", {"object": document, "line_form": form})


@login_required
def document_line_add(request, pk: int):
    document = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_document_url(document))
    raw = request.POST.get("line-product") or ""
    product = Product.objects.select_related("stock_unit").filter(pk=raw).first() if raw.isdigit() else None
    form = LineForm(request.POST, document=document, product=product, prefix="line")
    if product is None:
        form.add_error(None, _("Choose a product first: search by SKU, name or barcode."))

    def add() -> str:
        lines = services.stock_document_add_line(actor=request.user, document_id=document.pk, data=form.service_data())
        return _("Added: %(sku)s × %(quantity)s") % {"sku": product.sku, "quantity": number(sum(line.quantity for line in lines))}

    return _submit_line_form(request, document, form, save=add, failed=_("The line was not added: see the fields."))


def _submit_line_form(request, document: StockDocument, form: LineForm, *, save: Callable[[], str], failed: str):
    """A submitted line form: `save` (returns the status text) runs when the form is valid; the service's errors go
    beside the fields. With htmx the lines table comes back in place with a fresh form, else the card."""
    if form.is_valid():
        try:
            status = save()
        except DomainError as error:
            apply_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, status)
                return redirect(_document_url(document))
            return _lines_response(request, document, status=status, line_form=LineForm(document=document, product=None, prefix="line"))
    if not request.htmx:
        return _render_detail_with_form(request, document, form)
    return _lines_response(request, document, line_form=form, error=failed)


def _render_detail_with_form(request, document: StockDocument, form: LineForm):
    return render(request, "inventory/document_detail.html", _detail_context(request, document, line_form=form))


@login_required
def document_line_remove(request, pk: int, line_pk: int):
    document = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_document_url(document))
    try:
        services.stock_document_remove_line(actor=request.user, document_id=document.pk, line_id=line_pk)
    except NotFound:
        raise Http404
    if not request.htmx:
        return redirect(_document_url(document))
    return _lines_response(request, document, status=_("Line removed."))


@login_required
def document_line_edit(request, pk: int, line_pk: int):
    """htmx: GET puts the line's values in the line form; POST changes the line in place."""
    document = _draft_for_change(request, pk)
    line = document.lines.select_related("product__stock_unit", "unit", "lot").filter(pk=line_pk).first()
    if line is None:
        raise Http404
    if request.method != "POST":
        form = LineForm(document=document, product=None, line=line, prefix="line")
        if not request.htmx:
            return _render_detail_with_form(request, document, form)
        return render(request, "inventory/_line_form.html", {"object": document, "line_form": form})
    form = LineForm(request.POST, document=document, product=None, line=line, prefix="line")

    def change() -> str:
        data = form.service_data()
        data.pop("product", None)
        services.stock_document_update_line(actor=request.user, document_id=document.pk, line_id=line.pk, data=data)
        return _("Line %(position)s changed") % {"position": line.position}

    return _submit_line_form(request, document, form, save=change, failed=_("The line was not changed: see the fields."))


def _increment_line(request, document: StockDocument, line: StockDocumentLine, amount: Decimal) -> list[StockDocumentLine]:
    """One more scan of a product already on the document: the line's quantity grows (it keeps its place)."""
    return [services.stock_document_update_line(
        actor=request.user, document_id=document.pk, line_id=line.pk, data={"quantity": plain(line.quantity + amount)},
    )]


@login_required
def document_scan(request, pk: int):
    """The barcode field: a scanned code adds a line (1 of the barcode's unit) or adds 1 to the line already there.

    Products that need more (a serial number, a lot, a receipt's unit cost when none is known yet) open the line form
    prefilled instead. With htmx the lines are swapped in place and the focus stays in the field."""
    document = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_document_url(document))
    code = (request.POST.get("code") or request.POST.get("barcode") or "").strip()
    status, error, form = "", "", None
    try:
        product, unit = catalog_selectors.product_by_barcode(code) if code else (None, None)
    except NotFound:
        product, unit = None, None
        error = _("Unknown barcode %(code)s") % {"code": code}
    if product is None and not error:
        error = _("Scan or type a barcode.")
    elif product is not None:
        existing = next(
            (
                line for line in document.lines.all()
                if line.product_id == product.pk and line.unit_id == unit.pk and line.lot_id is None and not line.serial
            ),
            None,
        )
        needs_form = product.tracking != Tracking.NONE or (
            document.document_type == DocumentType.RECEIPT and existing is None
        )
        try:
            if existing is not None and product.tracking == Tracking.NONE:
                _increment_line(request, document, existing, Decimal(1))
                status = _("%(sku)s: %(quantity)s %(unit)s") % {"sku": product.sku, "quantity": number(existing.quantity + 1), "unit": unit.code}
            elif needs_form:
                form = LineForm(document=document, product=product, prefix="line", initial={"unit": unit.pk, "quantity": "1"})
                status = _("%(sku)s %(name)s: fill in the line and add it") % {"sku": product.sku, "name": product.name}
            else:
                services.stock_document_add_line(actor=request.user, document_id=document.pk, data={"barcode": code})
                status = _("%(sku)s: %(quantity)s %(unit)s") % {"sku": product.sku, "quantity": "1", "unit": unit.code}
        except DomainError as refused:
            error = _errors_text(refused)
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif status:
            messages.success(request, status)
        if form is not None:
            return _render_detail_with_form(request, document, form)
        return redirect(_document_url(document))
    return _lines_response(request, document, status=status, error=error, line_form=form)


@login_required
def document_fill_count(request, pk: int):
    """Count sheet: one line per product and lot on record at the counted location, counted = on record; the
    storekeeper then corrects the lines that differ."""
    document = _draft_for_change(request, pk)
    if request.method != "POST" or document.document_type != DocumentType.COUNT or document.from_location_id is None:
        return redirect(_document_url(document))
    present = {(line.product_id, line.lot_id) for line in document.lines.all()}
    rows = selectors.stock_on_hand(location_id=document.from_location_id, group_by="lot")
    added = 0
    try:
        with transaction.atomic():
            for row in rows:
                if row["location_id"] != document.from_location_id or (row["product_id"], row["lot_id"]) in present:
                    continue
                product = Product.objects.get(pk=row["product_id"])
                if product.tracking == Tracking.SERIAL:
                    continue
                data = {"product": product.pk, "unit": product.stock_unit_id, "quantity": plain(row["quantity"])}
                if row["lot_id"]:
                    data["lot"] = row["lot_id"]
                services.stock_document_add_line(actor=request.user, document_id=document.pk, data=data)
                added += 1
    except DomainError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, _("Count sheet filled: %(count)d line(s) at the quantities on record.") % {"count": added})
    return redirect(_document_url(document))


@login_required
def document_post(request, pk: int):
    _require(request, StockDocument, "post")
    document = _document(request, pk)
    if request.method != "POST":
        return redirect(_document_url(document))
    try:
        posted = services.stock_document_post(actor=request.user, document_id=document.pk, policy=selectors.stock_policy())
    except DomainError as error:
        messages.error(request, _("Not posted: %(error)s") % {"error": _errors_text(error)})
    else:
        messages.success(request, _("Posted as %(number)s.") % {"number": posted.number})
    return redirect(_document_url(document))


@login_required
def document_cancel(request, pk: int):
    """Asks for confirmation (GET), then cancels (POST): a draft simply, a posted document with reversal moves."""
    _require(request, StockDocument, "view")
    document = _document(request, pk)
    _require(request, StockDocument, "cancel" if document.status == DocumentStatus.POSTED else "change")
    error = ""
    if request.method == "POST":
        raw = (request.POST.get("date") or "").strip()
        try:
            on = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            error = _("Enter a date as YYYY-MM-DD")
        else:
            try:
                services.stock_document_cancel(actor=request.user, document_id=document.pk, policy=selectors.stock_policy(), on=on)
            except DomainError as refused:
                error = _errors_text(refused)
            else:
                messages.success(request, _("Document cancelled."))
                return redirect(_document_url(document))
    context = {"object": document, "title": _document_title(document), "error": error, "posted": document.status == DocumentStatus.POSTED}
    return render(request, "inventory/document_cancel.html", context)


# ----------------------------------------------------------------------------------------------- reservations


def _reservations_list(document: StockDocument) -> RelatedList:
    reservations = selectors.reservation_list(reference=document.reference, active_only=False)[:200]
    return RelatedList(
        title=_("Reservations for %(reference)s") % {"reference": document.reference},
        headers=[_("Product"), _("Location"), _("Lot / serial"), _("Quantity"), _("Status")],
        rows=[
            RelatedRow([r.product.sku, str(r.location), str(r.lot or r.serial or ""), number(r.quantity), r.get_status_display()])
            for r in reservations
        ],
        empty_text=_("Nothing reserved for this reference."),
        more_url=reverse("inventory:document_reservations", args=[document.pk]),
    )


@login_required
def document_reservations(request, pk: int):
    _require(request, Reservation, "view")
    document = _document(request, pk)
    product_ids = {line.product_id for line in document.lines.all()}
    can_add = bool(document.reference) and can(request.user, Reservation, "add")
    form = ReservationForm(request.POST or None, product_ids=product_ids, initial={"location": document.from_location_id})
    if request.method == "POST":
        if request.POST.get("release"):
            _require(request, Reservation, "change")
            reservation = selectors.reservation_list(reference=document.reference).filter(pk=request.POST["release"]).first() if document.reference else None
            if reservation is None:
                raise Http404
            services.reservation_release(actor=request.user, reservation_id=reservation.pk)
            messages.success(request, _("Reservation released."))
            return redirect("inventory:document_reservations", pk=document.pk)
        _require(request, Reservation, "add")
        if not document.reference:
            form.add_error(None, _("Give the document a reference first: reservations are made for a reference."))
        elif form.is_valid():
            try:
                services.reservation_create(
                    actor=request.user, product_id=form.cleaned_data["product"].pk, location_id=form.cleaned_data["location"].pk,
                    reference=document.reference, quantity=form.cleaned_data["quantity"] or None, serial=form.cleaned_data["serial"],
                )
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Reserved."))
                return redirect("inventory:document_reservations", pk=document.pk)
    reservations = selectors.reservation_list(reference=document.reference, active_only=False) if document.reference else Reservation.objects.none()
    rows = [
        {"reservation": r, "quantity": number(r.quantity), "available": number(selectors.available_quantity(product_id=r.product_id, location_id=r.location_id, lot_id=r.lot_id))}
        for r in reservations[:200]
    ]
    context = {
        "object": document, "title": _document_title(document), "rows": rows, "form": form if can_add else None,
        "can_release": can(request.user, Reservation, "change"),
    }
    return render(request, "inventory/document_reservations.html", context)


# ----------------------------------------------------------------------------------------------- lots and serials


@login_required
def lot_list(request):
    _require(request, Lot, "view")
    query = (request.GET.get("q") or "").strip()
    lots = selectors.lot_list()
    if query:
        lots = lots.filter(Q(code__icontains=query) | Q(product__sku__icontains=query) | Q(product__name__icontains=query))
    today = dt.date.today()
    rows = [{"lot": lot, "expired": bool(lot.expiry_date and lot.expiry_date < today)} for lot in lots[:500]]
    return render(request, "inventory/lot_list.html", {"rows": rows, "q": query})


@login_required
def lot_detail(request, pk: int):
    _require(request, Lot, "view")
    lot = selectors.lot_list().filter(pk=pk).first()
    if lot is None:
        raise Http404
    rows = [row for row in selectors.stock_on_hand(product_ids=[lot.product_id], group_by="lot") if row["lot_id"] == lot.pk]
    locations = {loc.pk: loc for loc in Location.objects.filter(pk__in={row["location_id"] for row in rows})}
    moves = StockMove.objects.filter(lot=lot).select_related("from_location", "to_location", "document").order_by("date", "id")[:500]
    context = {
        "lot": lot,
        "on_hand": [{"location": locations[row["location_id"]], "quantity": number(row["quantity"]), "value": number(row["value"], 2)} for row in rows],
        "moves": [{"move": move, "quantity": number(move.quantity)} for move in moves],
    }
    return render(request, "inventory/lot_detail.html", context)


@login_required
def serial_list(request):
    _require(request, SerialNumber, "view")
    query = (request.GET.get("q") or "").strip()
    serials = SerialNumber.objects.select_related("product", "location").order_by("product__sku", "serial")
    if query:
        serials = serials.filter(Q(serial__icontains=query) | Q(product__sku__icontains=query))
    return render(request, "inventory/serial_list.html", {"serials": serials[:500], "q": query})


@login_required
def serial_detail(request, pk: int):
    _require(request, SerialNumber, "view")
    serial = SerialNumber.objects.select_related("product").filter(pk=pk).first()
    if serial is None:
        raise Http404
    history = selectors.serial_history(product_id=serial.product_id, serial=serial.serial)
    return render(request, "inventory/serial_detail.html", {"serial": serial, "history": history})


# ----------------------------------------------------------------------------------------------- periods


@login_required
def period_list(request):
    _require(request, PeriodClose, "view")
    form = PeriodCloseForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("reopen"):
            _require(request, PeriodClose, "delete")
            try:
                services.period_reopen(actor=request.user, month=request.POST["reopen"])
            except DomainError as error:
                messages.error(request, _errors_text(error))
            else:
                messages.success(request, _("Period reopened."))
            return redirect("inventory:period_list")
        _require(request, PeriodClose, "add")
        if form.is_valid():
            try:
                period = services.period_close(actor=request.user, month=form.cleaned_data["month"])
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Closed up to the end of %(month)s.") % {"month": period.month.strftime("%Y-%m")})
                return redirect("inventory:period_list")
    context = {
        "periods": PeriodClose.objects.select_related("closed_by").order_by("-month"),
        "form": form if can(request.user, PeriodClose, "add") else None,
        "can_reopen": can(request.user, PeriodClose, "delete"),
    }
    return render(request, "inventory/period_list.html", context)

