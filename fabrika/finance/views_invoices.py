"""Invoice pages on the UI kit: invoice list (to clients / from suppliers), card with an htmx line editor for drafts,
post and cancel, invoices from an order or from shipments, manual and supplier invoices, payment schedules of orders
and invoices, credit notes (list, card, from an invoice or a return). Views are thin: services write, selectors read."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.catalog import selectors as catalog_selectors
from fabrika.catalog.models import Product
from fabrika.catalog.views import dry_run
from fabrika.core.errors import DomainError, NotFound, ValidationError
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.models import Counterparty
from fabrika.sales.models import SalesOrder, SalesReturn
from fabrika.sales.models.shipments import ShipmentStatus

from . import selectors_invoices as selectors
from . import services_invoices as services
from .forms_invoices import CancelForm, FreeLineForm, InvoiceHeaderForm, PostForm, ScheduleGenerateForm
from .models import CreditNote, Direction, DocumentStatus, Invoice, ScheduleKind
from .printing_invoices import ACT_OF_SERVICES, INVOICE_FORM, has_service_lines

INVOICE_ENTITY = "finance.invoice"
CREDIT_NOTE_ENTITY = "finance.creditnote"


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def money(value) -> str:
    if value is None:
        return ""
    return formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)


def quantity(value) -> str:
    if value is None:
        return ""
    value = Decimal(value).normalize()
    if value == value.to_integral():
        value = value.quantize(Decimal(1))
    return formats.number_format(value, use_l10n=True)


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _errors_text(error: DomainError) -> str:
    return "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message


def _invoice(request, pk) -> Invoice:
    try:
        return selectors.invoice_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _order(request, pk) -> SalesOrder:
    try:
        return selectors.order_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _invoice_url(invoice: Invoice) -> str:
    return reverse("finance:invoice_detail", args=[invoice.pk])


def _invoice_title(invoice: Invoice) -> str:
    kind = _("Supplier invoice") if invoice.direction == Direction.INCOMING else _("Invoice")
    return f"{kind} {invoice.number or _('(draft)')}"


# ----------------------------------------------------------------------------------------------- list


def _counterparty_choices(actor):
    ids = selectors.invoice_queryset_for_user(actor).order_by().values("counterparty_id")
    return [(c.pk, c.name) for c in Counterparty.objects.filter(pk__in=ids).order_by("name")]


INVOICE_LIST = ListConfig(
    entity=INVOICE_ENTITY,
    model=Invoice,
    title=gettext_lazy("Invoices"),
    queryset=selectors.invoice_queryset_for_user,
    url_name="finance:invoice_list",
    detail_url=_invoice_url,
    columns=(
        Column("number", gettext_lazy("Number"), value=lambda i: i.number or _("(draft)"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda i: _date(i.date), export=lambda i: i.date, sort="date"),
        Column("direction", gettext_lazy("Direction"), value=lambda i: i.get_direction_display(), sort="direction"),
        Column("status", gettext_lazy("Status"), value=lambda i: i.get_status_display(), sort="status"),
        Column("counterparty", gettext_lazy("Counterparty"), value=lambda i: i.counterparty.name, sort="counterparty__name"),
        Column("order", gettext_lazy("Order"), value=lambda i: str(i.order or "")),
        Column("supplier_reference", gettext_lazy("Supplier's number"), sort="supplier_reference"),
        Column("total", gettext_lazy("Total"), value=lambda i: money(i.total), export=lambda i: i.total, sort="total"),
        Column("paid_amount", gettext_lazy("Paid"), value=lambda i: money(i.paid_amount), export=lambda i: i.paid_amount, sort="paid_amount"),
        Column("open_amount", gettext_lazy("Open"), value=lambda i: money(i.open_amount) if i.status == DocumentStatus.POSTED else "",
               export=lambda i: i.open_amount if i.status == DocumentStatus.POSTED else None),
        Column("due_date", gettext_lazy("Due"), value=lambda i: _date(i.due_date) + (f" ({_('overdue')})" if selectors.is_overdue(i) else ""),
               export=lambda i: i.due_date, sort="due_date"),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("responsible", gettext_lazy("Responsible"), value=lambda i: str(i.responsible), sort="responsible__username"),
    ),
    default_columns=("number", "date", "status", "counterparty", "order", "total", "paid_amount", "open_amount", "due_date"),
    default_sort="-date",
    search_fields=("number", "counterparty__name", "supplier_reference", "notes"),
    filters=(
        Filter("direction", gettext_lazy("Direction"), lookup="direction", choices=Direction.choices),
        Filter("status", gettext_lazy("Status"), lookup="status", choices=DocumentStatus.choices),
        Filter("counterparty", gettext_lazy("Counterparty"), lookup="counterparty_id", choices=_counterparty_choices),
        Filter("period", gettext_lazy("Period"), lookup="date", kind="date_range"),
        Filter("overdue", gettext_lazy("Overdue"), lookup="", kind="boolean", apply=selectors.overdue_filter),
        Filter("open", gettext_lazy("Open only"), lookup="", kind="boolean", apply=selectors.open_filter),
    ),
    create_url_name="finance:invoice_create",
)


@login_required
def invoice_list(request):
    _require(request, Invoice, "view")
    direction = request.GET.get("direction", "")
    tabs = [
        {"label": _("All"), "url": reverse("finance:invoice_list") + "?view=0", "active": direction == ""},
        {"label": Direction.OUTGOING.label, "url": reverse("finance:invoice_list") + "?direction=out", "active": direction == Direction.OUTGOING},
        {"label": Direction.INCOMING.label, "url": reverse("finance:invoice_list") + "?direction=in", "active": direction == Direction.INCOMING},
    ]
    config = dataclasses.replace(INVOICE_LIST, create_url_name="")
    context = {"direction_tabs": tabs, "can_add": can(request.user, Invoice, "add"),
               "credit_notes_url": reverse("finance:credit_note_list")}
    return list_view(request, config, template="finance/invoice_list.html", context=context)


# ----------------------------------------------------------------------------------------------- create


def _header_page(request, form, *, title: str, cancel_url: str, invoice: Invoice | None = None):
    validate_url = (reverse("finance:invoice_validate", args=[invoice.pk]) if invoice
                    else reverse("finance:invoice_validate_new") + f"?direction={form.direction}")
    return render(request, "finance/invoice_form.html", {"form": form, "form_title": title, "cancel_url": cancel_url, "object": invoice,
                                                         "validate_url": validate_url})


@login_required
def invoice_validate(request, pk: int | None = None):
    """Inline validation of one header field (htmx): the service's checks run and are rolled back."""
    if request.method != "POST":
        return redirect("finance:invoice_list")
    _require(request, Invoice, "change" if pk else "add")
    invoice = _invoice(request, pk) if pk else None
    direction = invoice.direction if invoice else request.GET.get("direction") or Direction.OUTGOING
    if direction not in Direction.values:
        raise Http404
    form = InvoiceHeaderForm(request.POST, direction=direction, from_order=bool(invoice and invoice.order_id))

    def validate(valid_form):
        data = valid_form.service_data()
        if invoice is None:
            dry_run(lambda: services.invoice_create(actor=request.user, data={"direction": direction, **data}))
        elif invoice.status == DocumentStatus.DRAFT:
            dry_run(lambda: services.invoice_update(actor=request.user, invoice_id=invoice.pk, data=data))

    return validate_field_response(request, form, validate=validate)


@login_required
def invoice_create(request):
    """A manual invoice to a client or (?direction=in) a supplier's invoice: the header first, the lines on the card."""
    _require(request, Invoice, "add")
    direction = request.GET.get("direction") or request.POST.get("direction") or Direction.OUTGOING
    if direction not in Direction.values:
        raise Http404
    form = InvoiceHeaderForm(request.POST or None, direction=direction, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.invoice_create(actor=request.user, data={"direction": direction, **form.service_data()})
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Draft created: add the lines."))
            return redirect(_invoice_url(invoice))
    title = _("New supplier invoice") if direction == Direction.INCOMING else _("New invoice to a client")
    return _header_page(request, form, title=title, cancel_url=reverse("finance:invoice_list"))


@login_required
def invoice_edit(request, pk: int):
    _require(request, Invoice, "change")
    invoice = _invoice(request, pk)
    if invoice.status != DocumentStatus.DRAFT:
        messages.error(request, _("Only a draft can be edited; cancel a posted invoice instead."))
        return redirect(_invoice_url(invoice))
    initial = {name: getattr(invoice, name) for name in ("date", "due_date", "supplier_reference", "currency", "exchange_rate", "prices_include_tax", "notes")}
    initial["counterparty"] = invoice.counterparty_id
    form = InvoiceHeaderForm(request.POST or None, direction=invoice.direction, from_order=bool(invoice.order_id), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_update(actor=request.user, invoice_id=invoice.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Invoice saved."))
            return redirect(_invoice_url(invoice))
    return _header_page(request, form, title=_invoice_title(invoice), cancel_url=_invoice_url(invoice), invoice=invoice)


def _order_rows(order: SalesOrder, posted: dict | None = None) -> list[dict]:
    drafts = services.draft_quantities([line.pk for line in order.lines.all()])
    rows = []
    for line in order.lines.select_related("product", "unit").order_by("position", "id"):
        left = max(line.quantity - line.invoiced_quantity - drafts[line.pk], Decimal(0))
        value = (posted or {}).get(f"quantity_{line.pk}", quantity(left) if left else "")
        rows.append({"line": line, "ordered": quantity(line.quantity), "shipped": quantity(line.shipped_quantity),
                     "invoiced": quantity(line.invoiced_quantity), "left": quantity(left), "value": value})
    return rows


@login_required
def invoice_from_order(request, order_pk: int):
    """Invoice an order: each line's quantity defaults to what is left to invoice; a smaller one makes a partial invoice."""
    _require(request, Invoice, "add")
    order = _order(request, order_pk)
    errors: dict[str, list[str]] = {}
    date_value = request.POST.get("date") or timezone.localdate().isoformat()
    if request.method == "POST":
        lines = []
        for line in order.lines.all():
            raw = (request.POST.get(f"quantity_{line.pk}") or "").strip().replace(",", ".")
            if raw:
                lines.append({"order_line_id": line.pk, "quantity": raw})
        try:
            if not lines:
                raise ValidationError({"lines": [_("Enter a quantity on at least one line")]})
            invoice = services.invoice_create_from_order(
                actor=request.user, order_id=order.pk,
                data={"date": date_value, "due_date": request.POST.get("due_date") or None, "lines": lines},
            )
        except DomainError as error:
            errors = error.field_errors() or {"__all__": [error.message]}
        else:
            messages.success(request, _("Draft invoice created from order %(number)s.") % {"number": order.number})
            return redirect(_invoice_url(invoice))
    line_ids = [line.pk for line in order.lines.order_by("position", "id")]
    line_errors = {}
    for key, value in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
            line_errors.setdefault(int(parts[1]), []).extend(value)
    posted_lines = [pk for pk in line_ids if (request.POST.get(f"quantity_{pk}") or "").strip()] if request.method == "POST" else []
    rows = _order_rows(order, request.POST if request.method == "POST" else None)
    for row in rows:
        if row["line"].pk in posted_lines:
            row["errors"] = line_errors.get(posted_lines.index(row["line"].pk), [])
    general = [m if key in ("__all__", "lines") else f"{key}: {m}" for key, ms in errors.items() if not key.startswith("lines.") for m in ms]
    context = {"order": order, "rows": rows, "errors": general, "date": date_value, "due_date": request.POST.get("due_date", ""),
               "shipments": order.shipments.filter(status=ShipmentStatus.POSTED).order_by("date", "id")}
    return render(request, "finance/invoice_from_order.html", context)


@login_required
def invoice_from_shipments(request, order_pk: int):
    """Invoice posted shipments of an order: one line per shipment line not invoiced yet."""
    _require(request, Invoice, "add")
    order = _order(request, order_pk)
    shipments = list(order.shipments.filter(status=ShipmentStatus.POSTED).prefetch_related("lines__order_line__product").order_by("date", "id"))
    error = ""
    chosen = [value for value in request.POST.getlist("shipment") if value.isdigit()]
    if request.method == "POST":
        try:
            invoice = services.invoice_create_from_shipments(actor=request.user, shipment_ids=[int(pk) for pk in chosen],
                                                             data={"date": request.POST.get("date") or timezone.localdate().isoformat()})
        except DomainError as refused:
            error = _errors_text(refused)
        else:
            messages.success(request, _("Draft invoice created from the shipments."))
            return redirect(_invoice_url(invoice))
    rows = []
    for shipment in shipments:
        left = sum((line.quantity - line.invoiced_quantity for line in shipment.lines.all()), Decimal(0))
        rows.append({"shipment": shipment, "left": quantity(left), "total": money(shipment.total), "checked": str(shipment.pk) in chosen or (not chosen and left > 0),
                     "done": left <= 0})
    context = {"order": order, "rows": rows, "error": error, "date": request.POST.get("date") or timezone.localdate().isoformat()}
    return render(request, "finance/invoice_from_shipments.html", context)


# ----------------------------------------------------------------------------------------------- card


def _line_rows(invoice: Invoice) -> list[dict]:
    return [
        {"line": line, "quantity": quantity(line.quantity), "price": money(line.price), "discount": quantity(line.discount_percent),
         "tax_rate": quantity(line.tax_rate), "net": money(line.net_amount), "tax": money(line.tax_amount), "total": money(line.total),
         "source": str(line.shipment_line.shipment) if line.shipment_line_id else (str(invoice.order) if line.order_line_id else "")}
        for line in invoice.lines.all()
    ]


def _header_fields(invoice: Invoice) -> list[CardField]:
    fields = [
        CardField(_("Direction"), invoice.get_direction_display()),
        CardField(_("Status"), invoice.get_status_display()),
        CardField(_("Number"), display(invoice.number)),
        CardField(_("Date"), _date(invoice.date)),
        CardField(_("Due date"), display(_date(invoice.due_date)) + (f" · {_('overdue')}" if selectors.is_overdue(invoice) else "")),
        CardField(_("Counterparty"), invoice.counterparty.name, url=reverse("parties:counterparty_detail", args=[invoice.counterparty_id])),
    ]
    if invoice.order_id:
        fields.append(CardField(_("Sales order"), str(invoice.order), url=_order_url(invoice.order)))
    if invoice.direction == Direction.INCOMING:
        fields.append(CardField(_("Supplier's number"), display(invoice.supplier_reference)))
    fields += [
        CardField(_("Currency"), f"{invoice.currency} × {quantity(invoice.exchange_rate)}"),
        CardField(_("Prices include tax"), display(invoice.prices_include_tax)),
        CardField(_("Net"), money(invoice.net_total)),
        CardField(_("Tax"), money(invoice.tax_total)),
        CardField(_("Total"), money(invoice.total)),
        CardField(_("Paid"), money(invoice.paid_amount)),
        CardField(_("Credited"), money(invoice.credited_amount)),
        CardField(_("Open"), money(invoice.open_amount)),
        CardField(_("Responsible"), str(invoice.responsible)),
        CardField(_("Author"), str(invoice.author)),
        CardField(_("Notes"), display(invoice.notes)),
    ]
    if invoice.posted_at:
        fields.append(CardField(_("Posted"), formats.date_format(invoice.posted_at, "SHORT_DATETIME_FORMAT")))
    if invoice.cancelled_at:
        fields.append(CardField(_("Cancelled"), f"{formats.date_format(invoice.cancelled_at, 'SHORT_DATETIME_FORMAT')} · {_date(invoice.cancellation_date)}"))
    return fields


def _order_url(order: SalesOrder) -> str:
    try:
        return reverse("sales:order_detail", args=[order.pk])
    except NoReverseMatch:  # a build without the sales order pages
        return ""


def _credit_notes_list(invoice: Invoice) -> RelatedList:
    return RelatedList(
        title=_("Credit notes"),
        headers=[_("Number"), _("Date"), _("Status"), _("Reason"), _("Total")],
        rows=[RelatedRow([str(note), _date(note.date), note.get_status_display(), note.reason, money(note.total)],
                         url=reverse("finance:credit_note_detail", args=[note.pk]))
              for note in invoice.credit_notes.all()],
        empty_text=_("No credit notes."),
    )


def _lines_context(request, invoice: Invoice, **extra) -> dict:
    editable = invoice.status == DocumentStatus.DRAFT and can(request.user, Invoice, "change")
    return {"object": invoice, "line_rows": _line_rows(invoice), "editable": editable, "from_order": bool(invoice.order_id),
            "totals": {"net": money(invoice.net_total), "tax": money(invoice.tax_total), "total": money(invoice.total)}, **extra}


def _detail_context(request, invoice: Invoice, *, line_form: FreeLineForm | None = None) -> dict:
    invoice = selectors.invoice_detail(invoice)
    can_change = can(request.user, Invoice, "change")
    posted = invoice.status == DocumentStatus.POSTED
    return {
        "card_title": _invoice_title(invoice),
        "card_subtitle": invoice.get_status_display(),
        "card_fields": _header_fields(invoice),
        "related_lists": [_credit_notes_list(invoice)],
        "timeline": record_timeline(invoice, labels=field_labels(Invoice, INVOICE_ENTITY)),
        "back_url": reverse("finance:invoice_list"),
        "invoice": invoice,
        "can_post": invoice.status == DocumentStatus.DRAFT and can_change,
        "can_cancel": invoice.status != DocumentStatus.CANCELLED and can_change,
        "can_credit": posted and can(request.user, CreditNote, "add") and invoice.total > invoice.credited_amount,
        "can_schedule": invoice.status != DocumentStatus.CANCELLED and can_change,
        "print_invoice": INVOICE_FORM if posted and invoice.direction == Direction.OUTGOING else None,
        "print_act": ACT_OF_SERVICES if posted and invoice.direction == Direction.OUTGOING and has_service_lines(invoice) else None,
        "schedule": list(invoice.schedule.all()),
        "line_form": line_form or FreeLineForm(prefix="line"),
        "post_form": PostForm(prefix="post"),
        **_lines_context(request, invoice),
    }


@login_required
def invoice_detail(request, pk: int):
    _require(request, Invoice, "view")
    invoice = _invoice(request, pk)
    return render(request, "finance/invoice_detail.html", _detail_context(request, invoice))


def _draft_for_change(request, pk: int) -> Invoice:
    _require(request, Invoice, "change")
    invoice = _invoice(request, pk)
    if invoice.status != DocumentStatus.DRAFT:
        raise Http404
    return invoice


def _lines_response(request, invoice: Invoice, *, status: str = "", error: str = "", line_form=None):
    invoice = selectors.invoice_detail(_invoice(request, invoice.pk))
    context = _lines_context(request, invoice, line_status=status, line_error=error, line_form=line_form or FreeLineForm(prefix="line"), oob=True)
    return render(request, "finance/invoice_lines.html", context)


@login_required
def invoice_line_add(request, pk: int):
    invoice = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_invoice_url(invoice))
    form = FreeLineForm(request.POST, prefix="line")
    if invoice.order_id:
        form.add_error(None, _("Lines of an order's invoice come from the order; change their quantities instead."))
    elif form.is_valid():
        try:
            services.invoice_line_add(actor=request.user, invoice_id=invoice.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            if not request.htmx:
                messages.success(request, _("Line added."))
                return redirect(_invoice_url(invoice))
            return _lines_response(request, invoice, status=_("Line added."))
    if not request.htmx:
        return render(request, "finance/invoice_detail.html", _detail_context(request, invoice, line_form=form))
    return _lines_response(request, invoice, error=_("The line was not added: see the fields."), line_form=form)


@login_required
def invoice_product_search(request, pk: int):
    """htmx autocomplete for a manual invoice's line: products and services by SKU, name or barcode."""
    invoice = _draft_for_change(request, pk)
    query = (request.GET.get("q") or "").strip()
    products = list(catalog_selectors.product_list(search=query, active=True)[:10]) if query else []
    return render(request, "finance/invoice_product_hits.html", {"object": invoice, "products": products, "q": query})


@login_required
def invoice_line_form(request, pk: int):
    """htmx: the add-line form prefilled for the chosen product (its name as the description)."""
    invoice = _draft_for_change(request, pk)
    raw = request.GET.get("product") or ""
    product = Product.objects.filter(pk=raw, is_active=True).first() if raw.isdigit() else None
    if product is None:
        raise Http404
    return render(request, "finance/invoice_line_form.html", {"object": invoice, "line_form": FreeLineForm(prefix="line", product=product)})


@login_required
def invoice_line_quantity(request, pk: int, line_pk: int):
    """htmx: change a draft line's quantity (the part of an order line, or a free line)."""
    invoice = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_invoice_url(invoice))
    raw = (request.POST.get("quantity") or "").strip().replace(",", ".")
    status, error = "", ""
    try:
        services.invoice_line_update(actor=request.user, invoice_id=invoice.pk, line_id=line_pk, data={"quantity": raw})
    except NotFound:
        raise Http404
    except DomainError as refused:
        error = _errors_text(refused)
    else:
        status = _("Quantity changed.")
    if not request.htmx:
        (messages.error if error else messages.success)(request, error or status)
        return redirect(_invoice_url(invoice))
    return _lines_response(request, invoice, status=status, error=error)


@login_required
def invoice_line_remove(request, pk: int, line_pk: int):
    invoice = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_invoice_url(invoice))
    try:
        services.invoice_line_remove(actor=request.user, invoice_id=invoice.pk, line_id=line_pk)
    except NotFound:
        raise Http404
    if not request.htmx:
        return redirect(_invoice_url(invoice))
    return _lines_response(request, invoice, status=_("Line removed."))


@login_required
def invoice_post(request, pk: int):
    _require(request, Invoice, "change")
    invoice = _invoice(request, pk)
    if request.method != "POST":
        return redirect(_invoice_url(invoice))
    form = PostForm(request.POST, prefix="post")
    if not form.is_valid():
        messages.error(request, _("Not posted: %(error)s") % {"error": "; ".join(m for ms in form.errors.values() for m in ms)})
        return redirect(_invoice_url(invoice))
    try:
        posted = services.invoice_post(actor=request.user, invoice_id=invoice.pk, due_date=form.cleaned_data.get("due_date"))
    except DomainError as error:
        messages.error(request, _("Not posted: %(error)s") % {"error": _errors_text(error)})
    else:
        messages.success(request, _("Posted as %(number)s.") % {"number": posted.number})
    return redirect(_invoice_url(invoice))


@login_required
def invoice_cancel(request, pk: int):
    _require(request, Invoice, "change")
    invoice = _invoice(request, pk)
    form = CancelForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_cancel(actor=request.user, invoice_id=invoice.pk, on=form.cleaned_data.get("date"))
        except DomainError as refused:
            error = _errors_text(refused)
        else:
            messages.success(request, _("Invoice cancelled."))
            return redirect(_invoice_url(invoice))
    context = {"object": invoice, "title": _invoice_title(invoice), "form": form, "error": error, "posted": invoice.status == DocumentStatus.POSTED,
               "back_url": _invoice_url(invoice)}
    return render(request, "finance/invoice_cancel.html", context)


# ----------------------------------------------------------------------------------------------- schedules


def _schedule_page(request, *, document, owner: dict, back_url: str, title: str):
    generate_form = ScheduleGenerateForm(request.POST if request.POST.get("action") == "generate" else None)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "generate":
                if generate_form.is_valid():
                    services.schedule_generate(actor=request.user, **owner, **generate_form.cleaned_data)
                else:
                    raise _FormInvalid
            else:
                items = []
                for index in range(_row_count(request)):
                    row = {name: (request.POST.get(f"{name}_{index}") or "").strip().replace(",", ".") for name in ("kind", "due_date", "percent", "amount")}
                    if any(row[name] for name in ("due_date", "percent", "amount")):
                        items.append({key: value or None for key, value in row.items()})
                services.schedule_set(actor=request.user, **owner, items=items)
        except _FormInvalid:
            pass
        except DomainError as error:
            if request.POST.get("action") == "generate":
                apply_errors(generate_form, error)
            else:
                errors = error.field_errors() or {"__all__": [error.message]}
        else:
            messages.success(request, _("Payment schedule saved."))
            return redirect(back_url)
    items = selectors.schedule_for(**owner)
    rows = [{"index": index, "kind": item.kind, "due_date": item.due_date.isoformat(), "percent": quantity(item.percent) if item.percent is not None else "",
             "amount": str(item.amount), "paid": money(item.paid_amount), "state": item.state_label} for index, item in enumerate(items)]
    if request.method == "POST" and request.POST.get("action") != "generate":
        rows = [{"index": index, **{name: request.POST.get(f"{name}_{index}", "") for name in ("kind", "due_date", "percent", "amount")}, "paid": "", "state": ""}
                for index in range(_row_count(request))]
    while len(rows) < max(len(items), 1) + 3:
        rows.append({"index": len(rows), "kind": ScheduleKind.INSTALMENT, "due_date": "", "percent": "", "amount": "", "paid": "", "state": ""})
    for row in rows:
        row["errors"] = [m for key in ("kind", "due_date", "percent", "amount") for m in errors.get(f"items.{row['index']}.{key}", [])]
    context = {"document": document, "title": title, "back_url": back_url, "rows": rows, "row_count": len(rows),
               "kinds": ScheduleKind.choices, "generate_form": generate_form, "total": money(document.total),
               "errors": [m for key, ms in errors.items() if not key.startswith("items.") for m in ms]}
    return render(request, "finance/schedule_form.html", context)


class _FormInvalid(Exception):
    pass


def _row_count(request) -> int:
    raw = request.POST.get("rows") or "0"
    return min(int(raw), 200) if raw.isdigit() else 0


@login_required
def invoice_schedule(request, pk: int):
    _require(request, Invoice, "change")
    invoice = _invoice(request, pk)
    return _schedule_page(request, document=invoice, owner={"invoice_id": invoice.pk}, back_url=_invoice_url(invoice),
                          title=_("Payment schedule of %(document)s") % {"document": _invoice_title(invoice)})


@login_required
def order_schedule(request, order_pk: int):
    if not (can(request.user, SalesOrder, "change") or can(request.user, Invoice, "change")):
        raise DjangoPermissionDenied
    order = _order(request, order_pk)
    back = _order_url(order) or reverse("finance:invoice_list")
    return _schedule_page(request, document=order, owner={"order_id": order.pk}, back_url=back,
                          title=_("Payment schedule of order %(number)s") % {"number": order.number or order.pk})


# ----------------------------------------------------------------------------------------------- credit notes


def _credit_note_url(note: CreditNote) -> str:
    return reverse("finance:credit_note_detail", args=[note.pk])


CREDIT_NOTE_LIST = ListConfig(
    entity=CREDIT_NOTE_ENTITY,
    model=CreditNote,
    title=gettext_lazy("Credit notes"),
    queryset=selectors.credit_note_queryset_for_user,
    url_name="finance:credit_note_list",
    detail_url=_credit_note_url,
    columns=(
        Column("number", gettext_lazy("Number"), value=lambda n: n.number or _("(draft)"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda n: _date(n.date), export=lambda n: n.date, sort="date"),
        Column("status", gettext_lazy("Status"), value=lambda n: n.get_status_display(), sort="status"),
        Column("counterparty", gettext_lazy("Counterparty"), value=lambda n: n.counterparty.name, sort="counterparty__name"),
        Column("invoice", gettext_lazy("Invoice"), value=lambda n: str(n.invoice), sort="invoice__number"),
        Column("reason", gettext_lazy("Reason"), sort="reason"),
        Column("total", gettext_lazy("Total"), value=lambda n: money(n.total), export=lambda n: n.total, sort="total"),
    ),
    default_columns=("number", "date", "status", "counterparty", "invoice", "reason", "total"),
    default_sort="-date",
    search_fields=("number", "counterparty__name", "invoice__number", "reason"),
    filters=(
        Filter("status", gettext_lazy("Status"), lookup="status", choices=DocumentStatus.choices),
        Filter("direction", gettext_lazy("Direction"), lookup="invoice__direction", choices=Direction.choices),
        Filter("period", gettext_lazy("Period"), lookup="date", kind="date_range"),
    ),
)


@login_required
def credit_note_list(request):
    _require(request, Invoice, "view")
    return list_view(request, CREDIT_NOTE_LIST)


def _credit_note(request, pk) -> CreditNote:
    try:
        return selectors.credit_note_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


@login_required
def credit_note_detail(request, pk: int):
    _require(request, Invoice, "view")
    note = _credit_note(request, pk)
    fields = [
        CardField(_("Status"), note.get_status_display()),
        CardField(_("Number"), display(note.number)),
        CardField(_("Date"), _date(note.date)),
        CardField(_("Invoice"), str(note.invoice), url=_invoice_url(note.invoice)),
        CardField(_("Counterparty"), note.counterparty.name, url=reverse("parties:counterparty_detail", args=[note.counterparty_id])),
        CardField(_("Return"), display(str(note.sales_return) if note.sales_return_id else "")),
        CardField(_("Reason"), display(note.reason)),
        CardField(_("Net"), money(note.net_total)),
        CardField(_("Tax"), money(note.tax_total)),
        CardField(_("Total"), money(note.total)),
        CardField(_("Author"), str(note.author)),
    ]
    if note.exchange_rate != 1:  # a foreign-currency note: its rate and, once posted, what it came to in the base currency
        fields.insert(-1, CardField(_("Currency"), f"{note.currency} × {quantity(note.exchange_rate)}"))
        if note.base_total is not None:
            fields.insert(-1, CardField(_("Total in the base currency"), money(note.base_total)))
    lines = RelatedList(
        title=_("Lines"),
        headers=[_("Description"), _("Quantity"), _("Price"), _("Tax rate, %"), _("Net"), _("Tax"), _("Total")],
        rows=[RelatedRow([line.description, quantity(line.quantity), money(line.price), quantity(line.tax_rate), money(line.net_amount),
                          money(line.tax_amount), money(line.total)]) for line in note.lines.all()],
    )
    can_change = can(request.user, CreditNote, "change")
    context = {
        "object": note, "card_title": f"{_('Credit note')} {note.number or _('(draft)')}", "card_subtitle": note.get_status_display(),
        "card_fields": fields, "related_lists": [lines], "back_url": reverse("finance:credit_note_list"),
        "timeline": record_timeline(note, labels=field_labels(CreditNote, CREDIT_NOTE_ENTITY)),
        "can_post": note.status == DocumentStatus.DRAFT and can_change,
        "can_cancel": note.status != DocumentStatus.CANCELLED and can_change,
        "cancel_form": CancelForm(),
    }
    return render(request, "finance/credit_note_detail.html", context)


@login_required
def credit_note_create(request, invoice_pk: int):
    """A credit note of a posted invoice: quantities per line (empty lines are not credited) or the whole invoice."""
    _require(request, CreditNote, "add")
    invoice = _invoice(request, invoice_pk)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        lines = []
        for line in invoice.lines.all():
            raw = (request.POST.get(f"quantity_{line.pk}") or "").strip().replace(",", ".")
            if raw:
                lines.append({"invoice_line_id": line.pk, "quantity": raw})
        try:
            note = services.credit_note_create_from_invoice(
                actor=request.user, invoice_id=invoice.pk, lines=lines, full=request.POST.get("full") == "on",
                date=request.POST.get("date") or None, reason=request.POST.get("reason", ""),
            )
        except DomainError as error:
            errors = error.field_errors() or {"__all__": [error.message]}
        else:
            messages.success(request, _("Draft credit note created."))
            return redirect(_credit_note_url(note))
    credited = services.credited_on_lines(invoice) if invoice.status == DocumentStatus.POSTED else {}
    rows = []
    for line in invoice.lines.all():
        done = credited.get(line.pk, (Decimal(0), None))[0]
        rows.append({"line": line, "quantity": quantity(line.quantity), "credited": quantity(done), "left": quantity(max(line.quantity - done, Decimal(0))),
                     "value": request.POST.get(f"quantity_{line.pk}", ""), "total": money(line.total)})
    context = {"invoice": invoice, "rows": rows, "errors": [f"{key}: {m}" if key != "__all__" else m for key, ms in errors.items() for m in ms],
               "date": request.POST.get("date") or timezone.localdate().isoformat(), "reason": request.POST.get("reason", ""),
               "back_url": _invoice_url(invoice)}
    return render(request, "finance/credit_note_form.html", context)


@login_required
def credit_note_from_return(request, return_pk: int):
    _require(request, CreditNote, "add")
    sales_return = SalesReturn.objects.filter(pk=return_pk).select_related("order").first()
    if sales_return is None:
        raise Http404
    _order(request, sales_return.order_id)
    back = _order_url(sales_return.order) or reverse("finance:credit_note_list")
    if request.method != "POST":
        return redirect(back)
    try:
        note = services.credit_note_create_from_return(actor=request.user, sales_return_id=sales_return.pk)
    except DomainError as error:
        messages.error(request, _errors_text(error))
        return redirect(back)
    messages.success(request, _("Draft credit note created for return %(number)s.") % {"number": sales_return})
    return redirect(_credit_note_url(note))


@login_required
def credit_note_post(request, pk: int):
    _require(request, CreditNote, "change")
    note = _credit_note(request, pk)
    if request.method == "POST":
        try:
            posted = services.credit_note_post(actor=request.user, credit_note_id=note.pk)
        except DomainError as error:
            messages.error(request, _("Not posted: %(error)s") % {"error": _errors_text(error)})
        else:
            messages.success(request, _("Posted as %(number)s.") % {"number": posted.number})
    return redirect(_credit_note_url(note))


@login_required
def credit_note_cancel(request, pk: int):
    _require(request, CreditNote, "change")
    note = _credit_note(request, pk)
    if request.method == "POST":
        form = CancelForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainError("; ".join(m for ms in form.errors.values() for m in ms))
            services.credit_note_cancel(actor=request.user, credit_note_id=note.pk, on=form.cleaned_data.get("date"))
        except DomainError as error:
            messages.error(request, _("Not cancelled: %(error)s") % {"error": _errors_text(error)})
        else:
            messages.success(request, _("Credit note cancelled."))
    return redirect(_credit_note_url(note))
