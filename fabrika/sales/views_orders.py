"""Sales order pages: the list (filters, sort, export), the form (also from a deal: ?deal=<id>), the card with an htmx
line editor (product search, barcode, the price from the price list), discount approvals, confirm (with the credit
limit override for those allowed), cancel, reserve the backorder, print. Views are thin: the services write, the
selectors read."""

from __future__ import annotations

import dataclasses
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.catalog import selectors as catalog_selectors
from fabrika.catalog.models import Product
from fabrika.catalog.views import dry_run
from fabrika.core.errors import DomainError, NotFound, PermissionDenied
from fabrika.core.models import User
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import BulkAction, Column, Filter, ListConfig
from fabrika.core.ui.selectors import saved_views_for_user
from fabrika.core.ui.views import _active_view, list_view
from fabrika.crm.selectors_pipelines import deal_get_for_user
from fabrika.inventory.selectors import reservation_list
from fabrika.parties.selectors import counterparty_queryset_for_user

from . import services_orders as services
from .batch_orders import sales_orders_confirm
from .batch_shipments import shipments_post_wave
from .credit import credit_check
from .forms_orders import CancelForm, LineEditForm, LineForm, OrderForm
from .models import DiscountApproval, OrderStatus, SalesOrder, SalesOrderLine, Shipment
from .printing_orders import SALES_ORDER
from .selectors_orders import order_availability, sales_order_get_for_user, sales_order_queryset_for_user

ORDER_ENTITY = "sales.salesorder"
HUNDRED = Decimal(100)


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _perm(request, codename: str) -> bool:
    return request.user.is_authenticated and request.user.has_perm(codename)


def number(value, places: int | None = None) -> str:
    if value is None:
        return ""
    if places is None:
        value = Decimal(value).normalize()
        if value == value.to_integral():
            value = value.quantize(Decimal(1))
    return formats.number_format(value, places, use_l10n=True)


def _errors_text(error: DomainError) -> str:
    return "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message


def _order_url(order: SalesOrder) -> str:
    return reverse("sales:order_detail", args=[order.pk])


def _percent(done, whole) -> str:
    if not whole:
        return ""
    return f"{number(min(Decimal(done or 0) * HUNDRED / Decimal(whole), HUNDRED), 0)} %"


# ----------------------------------------------------------------------------------------------- list


def _client_choices(actor) -> list[tuple[int, str]]:
    ids = sales_order_queryset_for_user(actor).values_list("counterparty_id", flat=True).distinct()
    return list(counterparty_queryset_for_user(actor).filter(pk__in=ids).order_by("name").values_list("pk", "name")[:500])


def _responsible_choices(actor) -> list[tuple[int, str]]:
    ids = sales_order_queryset_for_user(actor).values_list("responsible_id", flat=True).distinct()
    return [(user.pk, str(user.get_full_name() or user.username)) for user in User.objects.filter(pk__in=ids).order_by("username")]


def _list_queryset(actor):
    return sales_order_queryset_for_user(actor).annotate(
        quantity_sum=Sum("lines__quantity"), shipped_sum=Sum("lines__shipped_quantity"), invoiced_sum=Sum("lines__invoiced_quantity"),
    )


def _skipped(rows: list[tuple[int, str, str]], wanted: str) -> tuple[list[int], str]:
    """The ticked orders in `wanted` status, and a note naming the others with their status."""
    others = [f"{number} ({OrderStatus(status).label.lower()})" for _pk, number, status in rows if status != wanted]
    note = _("Left alone, not %(status)s: %(orders)s.") % {"status": OrderStatus(wanted).label.lower(), "orders": ", ".join(others)} if others else ""
    return [pk for pk, _number, status in rows if status == wanted], note


def _confirm_selected(*, actor, ids, value) -> tuple[int, str]:
    """The list's bulk "Confirm": the ticked drafts in one batch (all or none; a refusal names the order); ticked
    orders that are not drafts are left alone and named."""
    drafts, note = _skipped(list(SalesOrder.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "number", "status")), OrderStatus.DRAFT)
    return (len(sales_orders_confirm(actor=actor, order_ids=drafts)) if drafts else 0), note


def _ship_selected(*, actor, ids, value) -> tuple[int, str]:
    """The list's bulk "Ship": a posted shipment of everything left on each ticked confirmed order, dated today, in
    one wave (all or none; a refusal names the order); other orders are left alone and named."""
    if not can(actor, Shipment, "add"):
        raise PermissionDenied(_("Your role does not allow creating shipments"))
    confirmed, note = _skipped(list(SalesOrder.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "number", "status")), OrderStatus.CONFIRMED)
    return (len(shipments_post_wave(actor=actor, order_ids=confirmed)) if confirmed else 0), note


ORDER_LIST = ListConfig(
    entity=ORDER_ENTITY,
    model=SalesOrder,
    title=gettext_lazy("Sales orders"),
    queryset=_list_queryset,
    url_name="sales:order_list",
    create_url_name="sales:order_create",
    detail_url=_order_url,
    columns=(
        Column("number", gettext_lazy("Number"), sort="number", link=True),
        Column("date", gettext_lazy("Date"), value=lambda o: formats.date_format(o.date, "SHORT_DATE_FORMAT"), export=lambda o: o.date, sort="date"),
        Column("counterparty", gettext_lazy("Client"), value=lambda o: o.counterparty.name, sort="counterparty__name"),
        Column("status", gettext_lazy("Status"), value=lambda o: o.get_status_display(), sort="status"),
        Column("total", gettext_lazy("Total"), value=lambda o: number(o.total, 2), export=lambda o: o.total, sort="total"),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("shipped", gettext_lazy("Shipped"), value=lambda o: _percent(o.shipped_sum, o.quantity_sum)),
        Column("invoiced", gettext_lazy("Invoiced"), value=lambda o: _percent(o.invoiced_sum, o.quantity_sum)),
        Column("responsible", gettext_lazy("Responsible"), value=lambda o: str(o.responsible), sort="responsible__username"),
        Column("expected_ship_date", gettext_lazy("Expected shipment"),
               value=lambda o: formats.date_format(o.expected_ship_date, "SHORT_DATE_FORMAT") if o.expected_ship_date else "",
               export=lambda o: o.expected_ship_date, sort="expected_ship_date"),
        Column("deal", gettext_lazy("Deal"), value=lambda o: o.deal.number if o.deal_id else ""),
        Column("discount_total", gettext_lazy("Discount from retail"), value=lambda o: number(o.discount_total, 2), export=lambda o: o.discount_total),
        Column("tax_total", gettext_lazy("Tax"), value=lambda o: number(o.tax_total, 2), export=lambda o: o.tax_total),
    ),
    default_columns=("number", "date", "counterparty", "status", "total", "currency", "shipped", "invoiced", "responsible"),
    default_sort="-date",
    search_fields=("number", "counterparty__name", "notes"),
    filters=(
        Filter("status", gettext_lazy("Status"), lookup="status", choices=OrderStatus.choices),
        Filter("client", gettext_lazy("Client"), lookup="counterparty_id", choices=_client_choices),
        Filter("responsible", gettext_lazy("Responsible"), lookup="responsible_id", choices=_responsible_choices),
        Filter("period", gettext_lazy("Period"), lookup="date", kind="date_range"),
    ),
    bulk_actions=(
        BulkAction("confirm", gettext_lazy("Confirm"), permission="confirm", run=_confirm_selected),
        BulkAction("ship", gettext_lazy("Ship"), permission="sales.change_shipment", run=_ship_selected,
                   confirm=gettext_lazy("Post a shipment of everything left on each ticked confirmed order?")),
    ),
)


def _amount_param(params, name: str, errors: list[str]) -> Decimal | None:
    raw = (params.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors.append(_("Enter the amount as a number"))
        return None
    if not value.is_finite():
        errors.append(_("Enter the amount as a number"))
        return None
    return value


@login_required
def order_list(request):
    _require(request, SalesOrder, "view")
    errors: list[str] = []
    # the amount range lives in the query string next to the kit's filters, so saved views and exports keep it
    _view, params = _active_view(request, list(saved_views_for_user(request.user, entity=ORDER_ENTITY)))
    total_min, total_max = _amount_param(params, "total_min", errors), _amount_param(params, "total_max", errors)
    base = ORDER_LIST.queryset
    config = dataclasses.replace(
        ORDER_LIST,
        queryset=lambda actor: base(actor).filter(
            **({"total__gte": total_min} if total_min is not None else {}), **({"total__lte": total_max} if total_max is not None else {})
        ),
    )
    context = {
        "total_min": params.get("total_min", ""), "total_max": params.get("total_max", ""), "amount_errors": errors,
        "can_create": can(request.user, SalesOrder, "add"),
    }
    return list_view(request, config, template="sales/order_list.html", context=context)


# ----------------------------------------------------------------------------------------------- header form


def _order(request, pk) -> SalesOrder:
    try:
        return sales_order_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _form_page(request, form: OrderForm, order: SalesOrder | None, deal=None):
    context = {
        "form": form,
        "object": order,
        "deal": deal,
        "validate_url": reverse("sales:order_validate", args=[order.pk]) if order else reverse("sales:order_validate_new"),
        "form_title": _("Order %(number)s") % {"number": order.number} if order else _("New sales order"),
        "cancel_url": _order_url(order) if order else reverse("sales:order_list"),
    }
    return render(request, "sales/order_form.html", context)


@login_required
def order_create(request):
    """A new draft; with ?deal=<id> the client, contact and currency come from the deal and the order links to it;
    with ?counterparty=<id> the client is preselected (the form's field still checks the user's scope)."""
    _require(request, SalesOrder, "add")
    deal = None
    raw_deal = request.GET.get("deal") or request.POST.get("deal") or ""
    if raw_deal:
        try:
            deal = deal_get_for_user(request.user, raw_deal)
        except NotFound:
            raise Http404
    initial = {"date": timezone.localdate(), "responsible": request.user.pk}
    if deal is not None:
        initial.update(deal=deal.pk, counterparty=deal.counterparty_id, contact=deal.contact_id,
                       currency=deal.currency.code if deal.currency_id else "")
    elif request.GET.get("counterparty", "").isdigit():  # "New order" on a client's card
        initial["counterparty"] = request.GET["counterparty"]
    from fabrika.inventory.models import Warehouse

    warehouses = list(Warehouse.objects.filter(is_active=True)[:2])
    if len(warehouses) == 1:
        initial["warehouse"] = warehouses[0].pk
    form = OrderForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = services.sales_order_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Order %(number)s created: add the lines.") % {"number": order.number})
            return redirect(_order_url(order))
    return _form_page(request, form, None, deal)


@login_required
def order_edit(request, pk: int):
    _require(request, SalesOrder, "change")
    order = _order(request, pk)
    if order.status != OrderStatus.DRAFT:
        messages.error(request, _("Only a draft order can be edited."))
        return redirect(_order_url(order))
    form = OrderForm(request.POST or None, actor=request.user, instance=order)
    if request.method == "POST" and form.is_valid():
        try:
            services.sales_order_update(actor=request.user, order_id=order.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Order saved."))
            return redirect(_order_url(order))
    return _form_page(request, form, order)


@login_required
def order_validate(request, pk: int | None = None):
    """Inline validation of one header field (htmx): the service's checks run and are rolled back."""
    if request.method != "POST":
        return redirect("sales:order_list")
    _require(request, SalesOrder, "change" if pk else "add")
    order = _order(request, pk) if pk else None
    form = OrderForm(request.POST, actor=request.user, instance=order)

    def validate(valid_form):
        data = valid_form.service_data()
        if order is None:
            dry_run(lambda: services.sales_order_create(actor=request.user, data=data))
        elif order.status == OrderStatus.DRAFT:
            dry_run(lambda: services.sales_order_update(actor=request.user, order_id=order.pk, data=data))

    return validate_field_response(request, form, validate=validate)


# ----------------------------------------------------------------------------------------------- card


def _line_rows(order: SalesOrder, lines: list[SalesOrderLine]) -> list[dict]:
    availability = order_availability(order, lines) if order.status in (OrderStatus.DRAFT, OrderStatus.CONFIRMED) else {}
    rows = []
    for line in lines:
        retail_amount = line.quantity * line.retail_price
        stock = availability.get(line.pk)
        rows.append({
            "line": line,
            "quantity": number(line.quantity),
            "retail_price": number(line.retail_price, 2),
            "price": number(line.price, 2),
            "discount_percent": number(line.discount_percent) if line.discount_percent else "",
            "manual_discount_percent": number(line.manual_discount_percent) if line.manual_discount_percent else "",
            "below_retail": number(retail_amount - line.amount, 2) if retail_amount > line.amount else "",
            "tax_rate": number(line.tax_rate),
            "tax_amount": number(line.tax_amount, 2),
            "total": number(line.total, 2),
            "amount": number(line.amount, 2),
            "available": number(stock.available) if stock else "",
            "reserved": number(line.reserved_quantity),
            "backorder": number(stock.backorder) if stock and stock.backorder else "",
            "shipped": number(line.shipped_quantity),
            "invoiced": number(line.invoiced_quantity),
            "pending": line.approval == DiscountApproval.PENDING,
        })
    return rows


def _header_fields(order: SalesOrder) -> list[CardField]:
    fields = [
        CardField(_("Number"), order.number),
        CardField(_("Status"), order.get_status_display()),
        CardField(_("Date"), formats.date_format(order.date, "SHORT_DATE_FORMAT")),
        CardField(_("Client"), order.counterparty.name, url=reverse("parties:counterparty_detail", args=[order.counterparty_id])),
    ]
    if order.contact_id:
        fields.append(CardField(_("Contact"), str(order.contact)))
    if order.deal_id:
        fields.append(CardField(_("Deal"), f"{order.deal.number} {order.deal.title}", url=reverse("crm:deal_detail", args=[order.deal_id])))
    fields += [
        CardField(_("Warehouse"), str(order.warehouse)),
        CardField(_("Currency"), order.currency + (f" × {number(order.exchange_rate)}" if order.exchange_rate != 1 else "")),
        CardField(_("Price type"), display(order.price_type_code)),
        CardField(_("Prices"), _("include tax") if order.prices_include_tax else _("exclude tax")),
        CardField(_("Expected shipment"), formats.date_format(order.expected_ship_date, "SHORT_DATE_FORMAT") if order.expected_ship_date else "—"),
        CardField(_("Responsible"), str(order.responsible)),
        CardField(_("Author"), str(order.author)),
        CardField(_("Notes"), display(order.notes)),
    ]
    if order.confirmed_at:
        fields.append(CardField(_("Confirmed"), f"{formats.date_format(timezone.localtime(order.confirmed_at), 'SHORT_DATETIME_FORMAT')} · {order.confirmed_by}"))
    if order.credit_override_by_id:
        fields.append(CardField(_("Credit limit overridden by"), str(order.credit_override_by)))
    if order.cancelled_at:
        fields.append(CardField(_("Cancelled"), formats.date_format(timezone.localtime(order.cancelled_at), "SHORT_DATETIME_FORMAT")))
    return fields


def _reservations(order: SalesOrder) -> RelatedList:
    rows = reservation_list(reference=order.number, active_only=False)[:200]
    return RelatedList(
        title=_("Reservations"),
        headers=[_("Product"), _("Location"), _("Lot / serial"), _("Quantity"), _("Status")],
        rows=[RelatedRow([r.product.sku, str(r.location), str(r.lot or r.serial or ""), number(r.quantity), r.get_status_display()]) for r in rows],
        empty_text=_("Nothing reserved for this order."),
    )


def _lines_context(request, order: SalesOrder, **extra) -> dict:
    lines = list(order.lines.all())
    editable = order.status == OrderStatus.DRAFT and can(request.user, SalesOrder, "change")
    return {
        "object": order,
        "order": order,
        "line_rows": _line_rows(order, lines),
        "editable": editable,
        "can_approve": order.status == OrderStatus.DRAFT and _perm(request, "sales.approve_discount"),
        "shows_progress": order.status in (OrderStatus.CONFIRMED, OrderStatus.DONE),
        **extra,
    }


def _credit_context(request, order: SalesOrder) -> dict:
    """Whether confirming would pass the client's credit limit, and whether this user may override it."""
    if order.status != OrderStatus.DRAFT or order.counterparty.credit_limit is None:
        return {}
    check = credit_check(order=order)
    if not check.exceeded:
        return {"credit": check}
    return {"credit": check, "credit_blocked": True, "can_override": _perm(request, "sales.override_credit_limit")}


def _detail_context(request, order: SalesOrder, *, line_form: LineForm | None = None) -> dict:
    related = [_reservations(order)] if order.status != OrderStatus.DRAFT else []
    status = order.status
    credit = _credit_context(request, order)
    may_confirm = can(request.user, SalesOrder, "confirm") or bool(credit.get("credit_blocked") and credit.get("can_override"))
    return {
        "card_title": _("Sales order %(number)s") % {"number": order.number},
        "card_subtitle": f"{order.get_status_display()} · {order.counterparty.name}",
        "card_fields": _header_fields(order),
        "related_lists": related,
        "timeline": record_timeline(order, labels=field_labels(SalesOrder, ORDER_ENTITY)),
        "back_url": reverse("sales:order_list"),
        "can_confirm": status == OrderStatus.DRAFT and may_confirm,
        "can_cancel": status in (OrderStatus.DRAFT, OrderStatus.CONFIRMED) and can(request.user, SalesOrder, "change"),
        "can_reserve": status == OrderStatus.CONFIRMED and can(request.user, SalesOrder, "confirm")
        and any(line.reserved_quantity + line.shipped_quantity < line.quantity for line in order.lines.all()),
        "print_code": SALES_ORDER if status != OrderStatus.CANCELLED and order.lines.all() else None,
        "pending_lines": [line.position for line in order.lines.all() if line.approval == DiscountApproval.PENDING],
        "line_form": line_form or LineForm(product=None, prefix="line"),
        **credit,
        **_lines_context(request, order),
    }


@login_required
def order_detail(request, pk: int):
    _require(request, SalesOrder, "view")
    order = _order(request, pk)
    return render(request, "sales/order_detail.html", _detail_context(request, order))


# ----------------------------------------------------------------------------------------------- lines (htmx)


def _draft_for_change(request, pk: int) -> SalesOrder:
    _require(request, SalesOrder, "change")
    order = _order(request, pk)
    if order.status != OrderStatus.DRAFT:
        raise Http404
    return order


def _lines_response(request, order: SalesOrder, *, status: str = "", error: str = "", line_form: LineForm | None = None):
    order = _order(request, order.pk)  # fresh lines and totals
    context = _lines_context(request, order, scan_status=status, scan_error=error, line_form=line_form, oob=True)
    return render(request, "sales/_order_lines.html", context)


@login_required
def order_product_search(request, pk: int):
    """htmx autocomplete: products by SKU, name or barcode; each hit opens the line form for that product."""
    order = _draft_for_change(request, pk)
    query = (request.GET.get("q") or "").strip()
    products = list(catalog_selectors.product_list(search=query, active=True).select_related("stock_unit")[:10]) if query else []
    return render(request, "sales/_order_product_hits.html", {"object": order, "products": products, "q": query})


def _quote_text(order: SalesOrder, product: Product) -> str:
    """What the price list offers for one unit, shown in the line form before the line is added."""
    try:
        quote = services.quote_for_order(order, product, Decimal(1))
    except DomainError as error:
        return _errors_text(error)
    text = _("Price list: %(price)s %(currency)s") % {"price": number(quote.price, 2), "currency": order.currency}
    if quote.retail_price != quote.price:
        text += " · " + _("retail %(price)s") % {"price": number(quote.retail_price, 2)}
    if quote.discount_percent:
        text += " · " + _("discount %(percent)s %% (%(rule)s)") % {"percent": number(quote.discount_percent), "rule": quote.rule}
    return text


@login_required
def order_line_form(request, pk: int):
    """htmx: the add-line form for the chosen product, with the price the price list gives."""
    order = _draft_for_change(request, pk)
    raw = request.GET.get("product") or ""
    product = Product.objects.select_related("stock_unit").filter(pk=raw, is_active=True).first() if raw.isdigit() else None
    if product is None:
        raise Http404
    form = LineForm(product=product, prefix="line", initial={"quantity": "1"})
    return render(request, "sales/_order_line_form.html", {"object": order, "line_form": form, "quote_text": _quote_text(order, product)})


@login_required
def order_line_add(request, pk: int):
    order = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_order_url(order))
    raw = request.POST.get("line-product") or ""
    product = Product.objects.select_related("stock_unit").filter(pk=raw).first() if raw.isdigit() else None
    form = LineForm(request.POST, product=product, prefix="line")
    if product is None:
        form.add_error(None, _("Choose a product first: search by SKU, name or barcode."))
    elif form.is_valid():
        try:
            line = services.sales_order_add_line(actor=request.user, order_id=order.pk, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            status = _("Added: %(sku)s × %(quantity)s") % {"sku": product.sku, "quantity": number(line.quantity)}
            if line.approval == DiscountApproval.PENDING:
                status += " · " + _("the special discount awaits approval")
            if not request.htmx:
                messages.success(request, status)
                return redirect(_order_url(order))
            return _lines_response(request, order, status=status, line_form=LineForm(product=None, prefix="line"))
    if not request.htmx:
        return render(request, "sales/order_detail.html", _detail_context(request, order, line_form=form), status=422)
    return _lines_response(request, order, line_form=form, error=_("The line was not added: see the fields."))


@login_required
def order_scan(request, pk: int):
    """The barcode field: a scanned code adds one unit of the barcode's unit at the price list's price."""
    order = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_order_url(order))
    code = (request.POST.get("barcode") or request.POST.get("code") or "").strip()
    status = error = ""
    if not code:
        error = _("Scan or type a barcode.")
    else:
        try:
            line = services.sales_order_add_line(actor=request.user, order_id=order.pk, data={"barcode": code, "quantity": "1"})
        except DomainError as refused:
            error = _errors_text(refused)
        else:
            status = _("%(sku)s: %(quantity)s %(unit)s") % {"sku": line.product.sku, "quantity": number(line.quantity), "unit": line.unit.code}
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, status)
        return redirect(_order_url(order))
    return _lines_response(request, order, status=status, error=error)


@login_required
def order_line_edit(request, pk: int, line_pk: int):
    """Change a draft's line (quantity, price, special discount); a full page, so it works without JavaScript."""
    order = _draft_for_change(request, pk)
    line = order.lines.filter(pk=line_pk).first()
    if line is None:
        raise Http404
    initial = {
        "quantity": f"{line.quantity.normalize():f}", "price": "",
        "manual_discount_percent": f"{line.manual_discount_percent.normalize():f}" if line.manual_discount_percent else "",
        "description": line.description,
    }
    form = LineEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sales_order_update_line(actor=request.user, order_id=order.pk, line_id=line.pk, data=form.service_data(line))
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Line saved."))
            return redirect(_order_url(order))
    context = {
        "form": form, "object": order, "line": line,
        "form_title": _("Line %(position)s of order %(number)s: %(sku)s") % {"position": line.position, "number": order.number, "sku": line.product.sku},
        "cancel_url": _order_url(order),
    }
    return render(request, "sales/order_line_form.html", context, status=422 if form.errors else 200)


@login_required
def order_line_remove(request, pk: int, line_pk: int):
    order = _draft_for_change(request, pk)
    if request.method != "POST":
        return redirect(_order_url(order))
    try:
        services.sales_order_remove_line(actor=request.user, order_id=order.pk, line_id=line_pk)
    except NotFound:
        raise Http404
    if not request.htmx:
        return redirect(_order_url(order))
    return _lines_response(request, order, status=_("Line removed."))


@login_required
def order_line_decide(request, pk: int, line_pk: int, decision: str):
    """Approve or reject a line's special discount (POST)."""
    _require(request, SalesOrder, "view")
    order = _order(request, pk)
    if request.method != "POST" or decision not in ("approve", "reject"):
        return redirect(_order_url(order))
    if not _perm(request, "sales.approve_discount"):
        raise DjangoPermissionDenied
    service = services.sales_order_line_approve if decision == "approve" else services.sales_order_line_reject
    try:
        service(actor=request.user, order_id=order.pk, line_id=line_pk)
    except DomainError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, _("Special discount approved.") if decision == "approve" else _("Special discount rejected."))
    if request.htmx:
        return _lines_response(request, order)
    return redirect(_order_url(order))


# ----------------------------------------------------------------------------------------------- confirm, cancel, reserve


@login_required
def order_confirm(request, pk: int):
    override = request.POST.get("override_credit_limit") in ("on", "1", "true")
    if not (override and _perm(request, "sales.override_credit_limit")):  # who may override may confirm with it
        _require(request, SalesOrder, "confirm")
    order = _order(request, pk)
    if request.method != "POST":
        return redirect(_order_url(order))
    try:
        services.sales_order_confirm(actor=request.user, order_id=order.pk, override_credit_limit=override)
    except DomainError as error:
        messages.error(request, _("Not confirmed: %(error)s") % {"error": error.message})
    else:
        order.refresh_from_db()
        short = [line.product.sku for line in order.lines.select_related("product") if line.reserved_quantity < line.quantity and line.product.is_stockable]
        if short:
            messages.warning(request, _("Confirmed. Not enough stock to reserve in full: %(skus)s (backorder).") % {"skus": ", ".join(short)})
        else:
            messages.success(request, _("Confirmed; the goods are reserved."))
    return redirect(_order_url(order))


@login_required
def order_reserve(request, pk: int):
    _require(request, SalesOrder, "confirm")
    order = _order(request, pk)
    if request.method == "POST":
        try:
            services.sales_order_reserve_more(actor=request.user, order_id=order.pk)
        except DomainError as error:
            messages.error(request, _errors_text(error))
        else:
            messages.success(request, _("Reserved what the warehouse has now."))
    return redirect(_order_url(order))


@login_required
def order_cancel(request, pk: int):
    """Asks for confirmation (GET), then cancels (POST) and releases the reservations."""
    _require(request, SalesOrder, "change")
    order = _order(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sales_order_cancel(actor=request.user, order_id=order.pk, reason=form.cleaned_data["reason"])
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Order cancelled."))
            return redirect(_order_url(order))
    context = {
        "form": form, "object": order, "cancel_url": _order_url(order),
        "form_title": _("Cancel order %(number)s") % {"number": order.number},
    }
    return render(request, "sales/order_cancel.html", context, status=422 if form.errors else 200)
