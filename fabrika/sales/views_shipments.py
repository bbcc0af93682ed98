"""Shipment and return pages: lists (filters, sort, export), cards, the create-from-order forms (prefilled with what
remains), draft editing with lots and serial numbers, post, cancel, and the order card's section. Views are thin:
the services write, the selectors read."""

from __future__ import annotations

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

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.lists import BulkAction, Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.models import Counterparty

from . import selectors_shipments as selectors
from . import services_shipments as services
from .forms_shipments import CancelForm, ReturnForm, ShipmentForm
from .models import OrderStatus, SalesReturn, Shipment, ShipmentStatus
from .printing_shipments import DELIVERY_NOTE

SHIPMENT_ENTITY = "sales.shipment"
RETURN_ENTITY = "sales.salesreturn"
ZERO = Decimal(0)


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _can_edit_draft(user, model) -> bool:
    return can(user, model, "add") or can(user, model, "change")


def number(value, places: int | None = None) -> str:
    if value is None:
        return ""
    if places is None:
        value = Decimal(value).normalize()
        if value == value.to_integral():
            value = value.quantize(Decimal(1))
    return formats.number_format(value, places, use_l10n=True)


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def _errors_text(error: DomainError) -> str:
    return "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message


def _order(request, order_id: int):
    try:
        return selectors.order_get_for_user(request.user, order_id)
    except NotFound:
        raise Http404


def _order_url(order) -> str:
    try:
        return reverse("sales:order_detail", args=[order.pk])
    except NoReverseMatch:  # the orders pages are another sub-domain's; without them the link is omitted
        return ""


def _counterparty_choices(queryset_of):
    def choices(actor):
        ids = queryset_of(actor).order_by().values("order__counterparty_id")
        return [(c.pk, c.name) for c in Counterparty.objects.filter(pk__in=ids).order_by("name")]

    return choices


# ----------------------------------------------------------------------------------------------- lists


def _shipment_url(shipment) -> str:
    return reverse("sales:shipment_detail", args=[shipment.pk])


def _return_url(sales_return) -> str:
    return reverse("sales:return_detail", args=[sales_return.pk])


def _columns(extra: tuple[Column, ...]) -> tuple[Column, ...]:
    return (
        Column("number", gettext_lazy("Number"), value=lambda d: d.number or _("(draft)"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda d: _date(d.date), export=lambda d: d.date, sort="date"),
        Column("status", gettext_lazy("Status"), value=lambda d: d.get_status_display(), sort="status"),
        Column("order", gettext_lazy("Order"), value=lambda d: str(d.order), sort="order__number"),
        Column("counterparty", gettext_lazy("Client"), value=lambda d: d.order.counterparty.name, sort="order__counterparty__name"),
        Column("total", gettext_lazy("Total"), value=lambda d: number(d.total, 2), export=lambda d: d.total, sort="total"),
        Column("currency", gettext_lazy("Currency"), value=lambda d: d.order.currency),
        *extra,
        Column("author", gettext_lazy("Author"), value=lambda d: str(d.author), sort="author__username"),
    )


def _invoice_selected(*, actor, ids, value):
    """The shipment list's bulk "Invoice" (finance makes the invoices: imported when used, as sales does not depend on
    finance)."""
    from fabrika.finance.batch_invoices import shipments_invoice_bulk

    return shipments_invoice_bulk(actor=actor, ids=ids, value=value)


SHIPMENT_LIST = ListConfig(
    entity=SHIPMENT_ENTITY,
    model=Shipment,
    title=gettext_lazy("Shipments"),
    queryset=selectors.shipment_queryset_for_user,
    url_name="sales:shipment_list",
    detail_url=_shipment_url,
    columns=_columns((
        Column("cost", gettext_lazy("Cost"), value=lambda d: number(d.cost, 2), export=lambda d: d.cost, sort="cost"),
        Column("net_total", gettext_lazy("Net"), value=lambda d: number(d.net_total, 2), export=lambda d: d.net_total, sort="net_total"),
        Column("remind_after_months", gettext_lazy("Remind after, months"), value=lambda d: d.remind_after_months or ""),
    )),
    default_columns=("number", "date", "status", "order", "counterparty", "total", "cost"),
    default_sort="-date",
    search_fields=("number", "order__number", "order__counterparty__name", "notes"),
    filters=(
        Filter("status", gettext_lazy("Status"), lookup="status", choices=ShipmentStatus.choices),
        Filter("client", gettext_lazy("Client"), lookup="order__counterparty_id", choices=_counterparty_choices(selectors.shipment_queryset_for_user)),
        Filter("period", gettext_lazy("Period"), lookup="date", kind="date_range"),
    ),
    bulk_actions=(
        BulkAction(
            "invoice",
            gettext_lazy("Invoice"),
            permission="finance.add_invoice",
            run=lambda **kwargs: _invoice_selected(**kwargs),
            confirm=gettext_lazy("Post one invoice per ticked shipment, dated today? Drafts and shipments already invoiced are skipped."),
        ),
    ),
)

RETURN_LIST = ListConfig(
    entity=RETURN_ENTITY,
    model=SalesReturn,
    title=gettext_lazy("Returns from clients"),
    queryset=selectors.sales_return_queryset_for_user,
    url_name="sales:return_list",
    detail_url=_return_url,
    columns=_columns((Column("reason", gettext_lazy("Reason"), sort="reason"),)),
    default_columns=("number", "date", "status", "order", "counterparty", "total", "reason"),
    default_sort="-date",
    search_fields=("number", "order__number", "order__counterparty__name", "reason"),
    filters=(
        Filter("status", gettext_lazy("Status"), lookup="status", choices=ShipmentStatus.choices),
        Filter("client", gettext_lazy("Client"), lookup="order__counterparty_id", choices=_counterparty_choices(selectors.sales_return_queryset_for_user)),
        Filter("period", gettext_lazy("Period"), lookup="date", kind="date_range"),
    ),
)


@login_required
def shipment_list(request):
    _require(request, Shipment, "view")
    return list_view(request, SHIPMENT_LIST, template="sales/shipment_list.html")


@login_required
def return_list(request):
    _require(request, SalesReturn, "view")
    return list_view(request, RETURN_LIST, template="sales/return_list.html")


# ----------------------------------------------------------------------------------------------- cards


def _shipment(request, pk: int) -> Shipment:
    try:
        return selectors.shipment_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _sales_return(request, pk: int) -> SalesReturn:
    try:
        return selectors.sales_return_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _header_fields(document, extra: list[CardField]) -> list[CardField]:
    order = document.order
    fields = [
        CardField(_("Status"), document.get_status_display()),
        CardField(_("Number"), display(document.number)),
        CardField(_("Date"), _date(document.date)),
        CardField(_("Order"), str(order), url=_order_url(order)),
        CardField(_("Client"), order.counterparty.name, url=reverse("parties:counterparty_detail", args=[order.counterparty_id])),
        CardField(_("Warehouse"), str(order.warehouse)),
    ]
    if document.stock_document_id:
        fields.append(CardField(_("Stock document"), str(document.stock_document), url=reverse("inventory:document_detail", args=[document.stock_document_id])))
    fields += [
        CardField(_("Net"), f"{number(document.net_total, 2)} {order.currency}"),
        CardField(_("Tax"), f"{number(document.tax_total, 2)} {order.currency}"),
        CardField(_("Total"), f"{number(document.total, 2)} {order.currency}"),
        *extra,
        CardField(_("Author"), str(document.author)),
    ]
    if document.posted_at:
        fields.append(CardField(_("Posted"), formats.date_format(timezone.localtime(document.posted_at), "SHORT_DATETIME_FORMAT")))
    return fields


def _line_rows(document, *, with_cost: bool) -> list[RelatedRow]:
    rows = []
    for line in document.lines.all():
        order_line = line.order_line
        tracking = " · ".join(part for part in (line.lot.code if line.lot_id else "", line.serial) if part)
        cells = [
            f"{order_line.product.sku} {order_line.product.name}", tracking or "—", f"{number(line.quantity)} {order_line.unit.code}",
            number(line.net_amount, 2), number(line.tax_amount, 2), number(line.total, 2),
        ]
        if with_cost:
            cells += [number(line.cost, 2) if line.cost is not None else "—", number(line.invoiced_quantity)]
        rows.append(RelatedRow(cells))
    return rows


@login_required
def shipment_detail(request, pk: int):
    _require(request, Shipment, "view")
    shipment = _shipment(request, pk)
    draft, posted = shipment.status == ShipmentStatus.DRAFT, shipment.status == ShipmentStatus.POSTED
    extra = [
        CardField(_("Cost"), number(shipment.cost, 2)),
        CardField(_("Remind after, months"), display(shipment.remind_after_months)),
        CardField(_("Notes"), display(shipment.notes)),
    ]
    if shipment.cancelled_at:
        extra.append(CardField(_("Cancelled"), formats.date_format(timezone.localtime(shipment.cancelled_at), "SHORT_DATETIME_FORMAT")))
    related = [RelatedList(
        title=_("Lines"),
        headers=[_("Product"), _("Lot / serial"), _("Quantity"), _("Net"), _("Tax"), _("Total"), _("Cost"), _("Invoiced")],
        rows=_line_rows(shipment, with_cost=True),
        empty_text=_("No lines."),
    )]
    reminders = services.shipment_reminders(shipment) if posted or shipment.status == ShipmentStatus.CANCELLED else []
    if reminders:
        related.append(RelatedList(
            title=_("Reminders"), headers=[_("Status"), _("From"), _("Note")],
            rows=[RelatedRow([r.definition.name, _date(r.effective_from), r.note]) for r in reminders],
        ))
    context = {
        "object": shipment,
        "card_title": _("Shipment %(number)s") % {"number": shipment.number or _("(draft)")},
        "card_subtitle": shipment.get_status_display(),
        "card_fields": _header_fields(shipment, extra),
        "related_lists": related,
        "timeline": record_timeline(shipment, labels={**field_labels(Shipment, SHIPMENT_ENTITY), "lines": _("Lines")}),
        "back_url": reverse("sales:shipment_list"),
        "can_edit": draft and _can_edit_draft(request.user, Shipment),
        "can_post": draft and can(request.user, Shipment, "change"),
        "can_cancel": (draft and _can_edit_draft(request.user, Shipment)) or (posted and can(request.user, Shipment, "change")),
        "print_code": DELIVERY_NOTE if posted else None,
    }
    return render(request, "sales/shipment_detail.html", context)


@login_required
def return_detail(request, pk: int):
    _require(request, SalesReturn, "view")
    sales_return = _sales_return(request, pk)
    draft = sales_return.status == ShipmentStatus.DRAFT
    context = {
        "object": sales_return,
        "card_title": _("Return %(number)s") % {"number": sales_return.number or _("(draft)")},
        "card_subtitle": sales_return.get_status_display(),
        "card_fields": _header_fields(sales_return, [CardField(_("Reason"), display(sales_return.reason))]),
        "related_lists": [RelatedList(
            title=_("Lines"), headers=[_("Product"), _("Lot / serial"), _("Quantity"), _("Net"), _("Tax"), _("Total")],
            rows=_line_rows(sales_return, with_cost=False), empty_text=_("No lines."),
        )],
        "timeline": record_timeline(sales_return, labels={**field_labels(SalesReturn, RETURN_ENTITY), "lines": _("Lines")}),
        "back_url": reverse("sales:return_list"),
        "can_edit": draft and _can_edit_draft(request.user, SalesReturn),
        "can_post": draft and can(request.user, SalesReturn, "change"),
        "can_cancel": (draft and _can_edit_draft(request.user, SalesReturn))
        or (sales_return.status == ShipmentStatus.POSTED and can(request.user, SalesReturn, "change")),
    }
    return render(request, "sales/return_detail.html", context)


# ----------------------------------------------------------------------------------------------- forms


def _form_page(request, template: str, form, *, title: str, cancel_url: str, order):
    return render(request, template, {"form": form, "form_title": title, "cancel_url": cancel_url, "order": order})


def _initial(header: dict) -> dict:
    return {key: value for key, value in header.items() if value is not None}


@login_required
def shipment_create(request, order_id: int):
    _require(request, Shipment, "add")
    order = _order(request, order_id)
    if order.status != OrderStatus.CONFIRMED:
        messages.error(request, _("Only a confirmed order is shipped."))
        return redirect(_order_url(order) or reverse("sales:shipment_list"))
    rows = [
        {"order_line": row["line"], "quantity": row["remaining"], "limit": row["remaining"]}
        for row in selectors.order_line_progress(order) if row["remaining"] > 0
    ]
    initial = _initial({"date": timezone.localdate(), "remind_after_months": services.default_remind_after_months(order)})
    form = ShipmentForm(request.POST or None, rows=rows, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {key: form.cleaned_data[key] for key in ("date", "remind_after_months", "notes")}
        data["lines"] = form.service_lines()
        if not data["lines"]:
            form.add_error(None, _("Enter a quantity on at least one line."))
        else:
            try:
                shipment = services.shipment_create(actor=request.user, order_id=order.pk, data=data)
            except DomainError as error:
                form.apply_service_errors(error.field_errors() or {"__all__": [error.message]})
            else:
                messages.success(request, _("Draft shipment created: check the lots and serial numbers, then post it."))
                return redirect(_shipment_url(shipment))
    title = _("Ship order %(order)s") % {"order": order}
    return _form_page(request, "sales/shipment_form.html", form, title=title, cancel_url=_order_url(order) or reverse("sales:shipment_list"), order=order)


@login_required
def shipment_edit(request, pk: int):
    if not _can_edit_draft(request.user, Shipment):
        raise DjangoPermissionDenied
    shipment = _shipment(request, pk)
    if shipment.status != ShipmentStatus.DRAFT:
        messages.error(request, _("Only a draft shipment can be edited; cancel a posted one instead."))
        return redirect(_shipment_url(shipment))
    progress = {row["line"].pk: row for row in selectors.order_line_progress(shipment.order)}
    rows = [
        {"order_line": line.order_line, "quantity": line.quantity, "lot": line.lot_id, "serial": line.serial,
         "limit": progress[line.order_line_id]["remaining"]}
        for line in shipment.lines.all()
    ]
    initial = {"date": shipment.date, "remind_after_months": shipment.remind_after_months, "notes": shipment.notes}
    form = ShipmentForm(request.POST or None, rows=rows, tracking=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {key: form.cleaned_data[key] for key in ("date", "remind_after_months", "notes")}
        data["lines"] = form.service_lines()
        if not data["lines"]:
            form.add_error(None, _("Enter a quantity on at least one line."))
        else:
            try:
                services.shipment_update(actor=request.user, shipment_id=shipment.pk, data=data)
            except DomainError as error:
                form.apply_service_errors(error.field_errors() or {"__all__": [error.message]})
            else:
                messages.success(request, _("Shipment saved."))
                return redirect(_shipment_url(shipment))
    title = _("Edit shipment %(number)s") % {"number": shipment.number or _("(draft)")}
    return _form_page(request, "sales/shipment_form.html", form, title=title, cancel_url=_shipment_url(shipment), order=shipment.order)


@login_required
def return_create(request, order_id: int):
    _require(request, SalesReturn, "add")
    order = _order(request, order_id)
    rows = [
        {"order_line": row["line"], "quantity": None, "limit": row["returnable"], "lot": selectors.single_shipped_lot(row["line"].pk)}
        for row in selectors.order_line_progress(order) if row["returnable"] > 0
    ]
    if not rows:
        messages.error(request, _("Nothing of this order was shipped, so nothing can come back."))
        return redirect(_order_url(order) or reverse("sales:return_list"))
    form = ReturnForm(request.POST or None, rows=rows, tracking=True, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = {"date": form.cleaned_data["date"], "reason": form.cleaned_data["reason"], "lines": form.service_lines()}
        if not data["lines"]:
            form.add_error(None, _("Enter a quantity on at least one line."))
        else:
            try:
                sales_return = services.sales_return_create(actor=request.user, order_id=order.pk, data=data)
            except DomainError as error:
                form.apply_service_errors(error.field_errors() or {"__all__": [error.message]})
            else:
                messages.success(request, _("Draft return created: post it when the goods are back in the warehouse."))
                return redirect(_return_url(sales_return))
    title = _("Return from the client on order %(order)s") % {"order": order}
    return _form_page(request, "sales/return_form.html", form, title=title, cancel_url=_order_url(order) or reverse("sales:return_list"), order=order)


@login_required
def return_edit(request, pk: int):
    if not _can_edit_draft(request.user, SalesReturn):
        raise DjangoPermissionDenied
    sales_return = _sales_return(request, pk)
    if sales_return.status != ShipmentStatus.DRAFT:
        messages.error(request, _("Only a draft return can be edited; cancel a posted one instead."))
        return redirect(_return_url(sales_return))
    progress = {row["line"].pk: row for row in selectors.order_line_progress(sales_return.order)}
    rows = [
        {"order_line": line.order_line, "quantity": line.quantity, "lot": line.lot_id, "serial": line.serial,
         "limit": progress[line.order_line_id]["returnable"]}
        for line in sales_return.lines.all()
    ]
    form = ReturnForm(request.POST or None, rows=rows, tracking=True, initial={"date": sales_return.date, "reason": sales_return.reason})
    if request.method == "POST" and form.is_valid():
        data = {"date": form.cleaned_data["date"], "reason": form.cleaned_data["reason"], "lines": form.service_lines()}
        if not data["lines"]:
            form.add_error(None, _("Enter a quantity on at least one line."))
        else:
            try:
                services.sales_return_update(actor=request.user, return_id=sales_return.pk, data=data)
            except DomainError as error:
                form.apply_service_errors(error.field_errors() or {"__all__": [error.message]})
            else:
                messages.success(request, _("Return saved."))
                return redirect(_return_url(sales_return))
    title = _("Edit return %(number)s") % {"number": sales_return.number or _("(draft)")}
    return _form_page(request, "sales/return_form.html", form, title=title, cancel_url=_return_url(sales_return), order=sales_return.order)


# ----------------------------------------------------------------------------------------------- post and cancel


@login_required
def shipment_post(request, pk: int):
    _require(request, Shipment, "change")
    shipment = _shipment(request, pk)
    if request.method == "POST":
        try:
            posted = services.shipment_post(actor=request.user, shipment_id=shipment.pk)
        except DomainError as error:
            messages.error(request, _("Not shipped: %(error)s") % {"error": _errors_text(error)})
        else:
            messages.success(request, _("Shipped as %(number)s.") % {"number": posted.number})
    return redirect(_shipment_url(shipment))


@login_required
def return_post(request, pk: int):
    _require(request, SalesReturn, "change")
    sales_return = _sales_return(request, pk)
    if request.method == "POST":
        try:
            posted = services.sales_return_post(actor=request.user, return_id=sales_return.pk)
        except DomainError as error:
            messages.error(request, _("Not posted: %(error)s") % {"error": _errors_text(error)})
        else:
            messages.success(request, _("Return posted as %(number)s.") % {"number": posted.number})
    return redirect(_return_url(sales_return))


def _cancel_page(request, document, *, cancel, detail_url: str, title: str):
    form = CancelForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            cancel(form.cleaned_data["date"])
        except DomainError as refused:
            error = _errors_text(refused)
        else:
            messages.success(request, _("Cancelled."))
            return redirect(detail_url)
    context = {"object": document, "title": title, "form": form, "error": error, "posted": document.status == ShipmentStatus.POSTED, "detail_url": detail_url}
    return render(request, "sales/shipment_cancel.html", context)


@login_required
def shipment_cancel(request, pk: int):
    if not _can_edit_draft(request.user, Shipment):
        raise DjangoPermissionDenied
    shipment = _shipment(request, pk)
    if shipment.status != ShipmentStatus.DRAFT:  # a draft goes with whoever may edit it; a posted one with the storekeeper
        _require(request, Shipment, "change")
    return _cancel_page(
        request, shipment, cancel=lambda on: services.shipment_cancel(actor=request.user, shipment_id=shipment.pk, on=on),
        detail_url=_shipment_url(shipment), title=_("Shipment %(number)s") % {"number": shipment.number or _("(draft)")},
    )


@login_required
def return_cancel(request, pk: int):
    if not _can_edit_draft(request.user, SalesReturn):
        raise DjangoPermissionDenied
    sales_return = _sales_return(request, pk)
    if sales_return.status != ShipmentStatus.DRAFT:
        _require(request, SalesReturn, "change")
    return _cancel_page(
        request, sales_return, cancel=lambda on: services.sales_return_cancel(actor=request.user, return_id=sales_return.pk, on=on),
        detail_url=_return_url(sales_return), title=_("Return %(number)s") % {"number": sales_return.number or _("(draft)")},
    )


# ----------------------------------------------------------------------------------------------- the order card's section


@login_required
def order_shipments(request, order_id: int):
    """Shipments and returns of an order with ordered / shipped / remaining per line (loaded into the order card)."""
    _require(request, Shipment, "view")
    order = _order(request, order_id)
    progress = [
        {**row, **{key: number(row[key]) for key in ("ordered", "shipped", "remaining", "returned", "returnable")}}
        for row in selectors.order_line_progress(order)
    ]
    context = {
        "order": order,
        "progress": progress,
        "shipments": [{"document": s, "total": number(s.total, 2)} for s in selectors.order_shipments(order)],
        "returns": [{"document": r, "total": number(r.total, 2)} for r in selectors.order_returns(order)],
        "can_ship": order.status == OrderStatus.CONFIRMED and can(request.user, Shipment, "add") and any(row["line"].quantity > row["line"].shipped_quantity for row in progress),
        "can_return": order.status in (OrderStatus.CONFIRMED, OrderStatus.DONE) and can(request.user, SalesReturn, "add")
        and any(row["line"].shipped_quantity > row["line"].returned_quantity for row in progress),
    }
    if not request.htmx:  # the link of the order card's section without JavaScript: a page of its own
        return render(request, "sales/shipment_order_page.html", context)
    return render(request, "sales/shipment_order_section.html", context)
