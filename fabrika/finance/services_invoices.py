"""Invoice writes: invoices to clients (from an order, from shipments, manual) and from suppliers, their posting and
cancellation with journal entries, payment schedules of orders and invoices, and credit notes.

Every function takes the acting user, runs in one transaction, records an audit row and refuses with a DomainError
(ValidationError naming the field, Conflict / InvalidTransition for states). Money comes from fabrika.sales.totals:
an invoice line for part of an order line is priced with `part_amounts(done=order_line.invoiced_quantity)` when the
invoice is posted, so the invoices of a line add up to the line to the kopeck (rules: docs/design/finance-invoices.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.catalog.enums import NON_STOCK_KINDS
from fabrika.catalog.models import Product, Unit
from fabrika.core import audit, events, numbering
from fabrika.core.db import update_many
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models import ExchangeRate
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings
from fabrika.ledger import accounts
from fabrika.ledger.services import EntryLine, Source, journal_post, journal_reverse
from fabrika.parties.models import Counterparty
from fabrika.sales.deals import order_follow_progress
from fabrika.sales.models import OrderStatus, SalesOrder, SalesOrderLine, SalesReturn, ShipmentLine
from fabrika.sales.models.shipments import Shipment, ShipmentStatus
from fabrika.sales.progress import order_progress_refresh
from fabrika.sales.totals import NO_AMOUNTS, Amounts, LineTerms, line_amounts, part_amounts, round_money

from .models import (
    CreditNote,
    CreditNoteLine,
    Direction,
    DocumentStatus,
    Invoice,
    InvoiceLine,
    PaymentAllocation,
    PaymentScheduleItem,
    ScheduleKind,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("99999999999")
INVOICE_NUMBERING = {Direction.OUTGOING: "invoice", Direction.INCOMING: "supplier_invoice"}
CREDIT_NOTE_NUMBERING = "credit_note"
HEADER_FIELDS = ("date", "due_date", "currency", "exchange_rate", "prices_include_tax", "supplier_reference", "notes", "contact")
TRANSITIONS = {
    DocumentStatus.DRAFT: {DocumentStatus.POSTED, DocumentStatus.CANCELLED},
    DocumentStatus.POSTED: {DocumentStatus.CANCELLED},
    DocumentStatus.CANCELLED: set(),
}


# ----------------------------------------------------------------------------------------------- input helpers


def _decimal(errors: dict, field: str, value: Any, *, places: int, allow_zero: bool = False, required: bool = True,
             maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors.setdefault(field, []).append(_("This field is required"))
        return None
    if isinstance(value, bool):
        value = "x"
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number"))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(_("Enter a number"))
    elif number < 0 or (number == 0 and not allow_zero):
        errors.setdefault(field, []).append(_("Must be zero or more") if allow_zero else _("Must be greater than zero"))
    elif number.normalize().as_tuple().exponent < -places:  # type: ignore[operator]
        errors.setdefault(field, []).append(_("At most %(places)d decimal places") % {"places": places})
    elif number > maximum:
        errors.setdefault(field, []).append(_("Too large: at most %(maximum)s") % {"maximum": maximum})
    else:
        return number
    return None


def _date(errors: dict, field: str, value: Any, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(_("This field is required"))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD"))
        return None


def _id(value: Any) -> Any:
    return getattr(value, "pk", value)


def _get(errors: dict, field: str, queryset, value: Any, *, required: bool, label: str):
    value = _id(value)
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(_("This field is required"))
        return None
    found = queryset.filter(pk=value).first() if str(value).isdigit() else None
    if found is None:
        errors.setdefault(field, []).append(_("Unknown %(what)s %(value)s") % {"what": label, "value": value})
    return found


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _ensure_transition(current: str, target: str, *, what: str) -> None:
    if target not in TRANSITIONS.get(current, set()):
        raise InvalidTransition(
            _("A %(current)s %(what)s cannot become %(target)s") % {
                "current": DocumentStatus(current).label.lower(), "what": what, "target": DocumentStatus(target).label.lower()
            },
            current=current, target=target,
        )


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def tax_rate_of(product: Product | None) -> Decimal:
    """The product's VAT rate, or the company default when the product has none."""
    if product is not None and product.vat_rate is not None:
        return product.vat_rate
    return company_settings().default_vat_rate


def _terms(line, prices_include_tax: bool) -> LineTerms:
    return LineTerms(price=line.price, discount_percent=line.discount_percent, tax_rate=line.tax_rate, prices_include_tax=prices_include_tax)


def _set_amounts(line, amounts: Amounts) -> None:
    line.net_amount, line.tax_amount, line.total = amounts.net, amounts.tax, amounts.total
    if hasattr(line, "amount"):
        line.amount = amounts.amount


def _recount(invoice: Invoice) -> None:
    lines = list(invoice.lines.all())
    invoice.net_total = sum((line.net_amount for line in lines), ZERO)
    invoice.tax_total = sum((line.tax_amount for line in lines), ZERO)
    invoice.total = sum((line.total for line in lines), ZERO)
    invoice.save(update_fields=["net_total", "tax_total", "total", "updated_at"])


def _lock_invoice(invoice_id: int) -> Invoice:
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    return invoice


def _draft(invoice_id: int) -> Invoice:
    invoice = _lock_invoice(invoice_id)
    if invoice.status != DocumentStatus.DRAFT:
        raise Conflict(_("Only a draft invoice can be changed; cancel the posted invoice instead."), field="status",
                       current_status=invoice.status)
    return invoice


def draft_quantities(order_line_ids, *, exclude_invoice_id: int | None = None, field: str = "order_line") -> dict[int, Decimal]:
    """Quantities of these order (or shipment) lines on other draft invoices."""
    rows = InvoiceLine.objects.filter(**{f"{field}_id__in": list(order_line_ids)}, invoice__status=DocumentStatus.DRAFT)
    if exclude_invoice_id is not None:
        rows = rows.exclude(invoice_id=exclude_invoice_id)
    found: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, quantity in rows.values_list(f"{field}_id", "quantity"):
        found[line_id] += quantity
    return found


def _line_label(order_line: SalesOrderLine) -> str:
    return f"{order_line.position or order_line.pk}. {order_line.product.sku}"


def _header(errors: dict, data: dict, *, invoice: Invoice | None = None) -> dict:
    """The header fields present in `data`, parsed."""
    values: dict[str, Any] = {}
    if "date" in data or invoice is None:
        values["date"] = _date(errors, "date", data.get("date") or (timezone.localdate() if invoice is None else None), required=True)
    if "due_date" in data:
        values["due_date"] = _date(errors, "due_date", data.get("due_date"), required=False)
    if "currency" in data:
        currency = str(data.get("currency") or "").strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            errors.setdefault("currency", []).append(_("Enter a three-letter currency code"))
        values["currency"] = currency or company_settings().base_currency
    if "exchange_rate" in data and data.get("exchange_rate") not in (None, ""):
        rate = _decimal(errors, "exchange_rate", data.get("exchange_rate"), places=6)
        if rate is not None:
            values["exchange_rate"] = rate
    if "prices_include_tax" in data and data.get("prices_include_tax") is not None:
        values["prices_include_tax"] = _bool(data.get("prices_include_tax"))
    for name, limit in (("supplier_reference", 60),):
        if name in data:
            value = str(data.get(name) or "").strip()
            if len(value) > limit:
                errors.setdefault(name, []).append(_("At most %(limit)d characters") % {"limit": limit})
            values[name] = value
    if "notes" in data:
        values["notes"] = str(data.get("notes") or "")
    due, date = values.get("due_date"), values.get("date") or (invoice.date if invoice else None)
    if due and date and due < date:
        errors.setdefault("due_date", []).append(_("The due date cannot be before the invoice date"))
    return values


# ----------------------------------------------------------------------------------------------- free lines


def _free_line(errors: dict, key: str, data: dict, *, direction: str, prices_include_tax: bool) -> InvoiceLine:
    """A line without an order: a product or a description, quantity, price, tax rate, discount."""
    product = _get(errors, f"{key}.product", Product.objects.select_related("stock_unit"), data.get("product") or data.get("product_id"),
                   required=False, label=_("product"))
    description = str(data.get("description") or "").strip()
    if product is None and not description and f"{key}.product" not in errors:
        errors.setdefault(f"{key}.description", []).append(_("Give a product or a description"))
    if len(description) > 300:
        errors.setdefault(f"{key}.description", []).append(_("At most %(limit)d characters") % {"limit": 300})
    quantity = _decimal(errors, f"{key}.quantity", data.get("quantity"), places=4)
    price = _decimal(errors, f"{key}.price", data.get("price"), places=2, allow_zero=True)
    discount = _decimal(errors, f"{key}.discount_percent", data.get("discount_percent") or "0", places=4, allow_zero=True, maximum=HUNDRED)
    raw_rate = data.get("tax_rate")
    rate = (_decimal(errors, f"{key}.tax_rate", raw_rate, places=2, allow_zero=True, maximum=HUNDRED) if raw_rate not in (None, "")
            else tax_rate_of(product))
    unit = None
    raw_unit = data.get("unit") or data.get("unit_id")
    if raw_unit not in (None, ""):
        unit = _get(errors, f"{key}.unit", Unit.objects.all(), raw_unit, required=False, label=_("unit"))
    elif product is not None:
        unit = product.stock_unit
    line = InvoiceLine(product=product, unit=unit, description=description or (product.name if product else ""),
                       quantity=quantity or ZERO, price=price or ZERO, discount_percent=discount or ZERO, tax_rate=rate or ZERO)
    if quantity is not None and price is not None and discount is not None and rate is not None:
        _set_amounts(line, line_amounts(_terms(line, prices_include_tax), quantity))
    return line


@transaction.atomic
def invoice_create(*, actor, data: dict) -> Invoice:
    """A manual invoice: to a client (direction "out") or from a supplier ("in"), with free lines
    (`lines`: [{product?, description?, quantity, price, tax_rate?, discount_percent?, unit?}])."""
    errors: dict[str, list[str]] = {}
    direction = str(data.get("direction") or Direction.OUTGOING)
    if direction not in Direction.values:
        errors.setdefault("direction", []).append(_("Choose one of: %(choices)s") % {"choices": ", ".join(Direction.values)})
        direction = Direction.OUTGOING
    counterparty = _get(errors, "counterparty", Counterparty.objects.filter(is_active=True), data.get("counterparty") or data.get("counterparty_id"),
                        required=True, label=_("counterparty"))
    header = _header(errors, {"currency": "", **data})
    header.setdefault("prices_include_tax", True)
    lines = [
        _free_line(errors, f"lines.{index}", line or {}, direction=direction, prices_include_tax=header["prices_include_tax"])
        for index, line in enumerate(data.get("lines") or [])
    ]
    _raise(errors)
    invoice = Invoice.objects.create(direction=direction, counterparty=counterparty, responsible=actor, author=actor, **header)
    for position, line in enumerate(lines, start=1):
        line.invoice, line.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)
    _recount(invoice)
    audit.record(actor=actor, action=AuditAction.CREATE, target=invoice, changes=audit.snapshot(invoice))
    return invoice


# ----------------------------------------------------------------------------------------------- from orders and shipments


ORDER_PARTIES = ("counterparty", "contact", "responsible")  # read with the order: the new invoice's audit snapshot names them


def _ensure_invoiceable(order: SalesOrder) -> SalesOrder:
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.DONE):
        raise Conflict(_("Only a confirmed order can be invoiced (this one is %(status)s)") % {"status": order.get_status_display().lower()},
                       field="order", current_status=order.status)
    return order


def _order_for_invoicing(order_id: int) -> SalesOrder:
    try:
        order = SalesOrder.objects.select_for_update(of=("self",)).select_related(*ORDER_PARTIES).get(pk=order_id)
    except SalesOrder.DoesNotExist:
        raise NotFound(_("Sales order %(id)s not found") % {"id": order_id})
    return _ensure_invoiceable(order)


def _order_invoice(actor, order: SalesOrder, header: dict, lines: list[InvoiceLine]) -> Invoice:
    """The invoice of these lines (positions set, saved with them), totals added up in memory."""
    invoice = Invoice.objects.create(
        direction=Direction.OUTGOING, counterparty=order.counterparty, contact=order.contact, order=order,
        currency=order.currency, exchange_rate=order.exchange_rate, prices_include_tax=order.prices_include_tax,
        responsible=order.responsible, author=actor, net_total=sum((line.net_amount for line in lines), ZERO),
        tax_total=sum((line.tax_amount for line in lines), ZERO), total=sum((line.total for line in lines), ZERO), **header,
    )
    for position, line in enumerate(lines, start=1):
        line.invoice, line.position = invoice, position
    InvoiceLine.objects.bulk_create(lines)
    return invoice


def _order_line_part(order_line: SalesOrderLine, quantity: Decimal, done: Decimal, prices_include_tax: bool) -> InvoiceLine:
    line = InvoiceLine(
        order_line=order_line, product_id=order_line.product_id, unit_id=order_line.unit_id,
        description=order_line.description or order_line.product.name, quantity=quantity, price=order_line.price,
        discount_percent=order_line.discount_percent, tax_rate=order_line.tax_rate,
    )
    _set_amounts(line, part_amounts(_terms(line, prices_include_tax), done=done, quantity=quantity))
    return line


def shipment_invoice_lines(shipment_lines: list[ShipmentLine], order_lines: dict[int, SalesOrderLine], *, shipment_drafts: dict[int, Decimal],
                           order_left: dict[int, Decimal], done: dict[int, Decimal], prices_include_tax: bool) -> list[InvoiceLine]:
    """The invoice lines of what is left of these shipment lines, in their order (unsaved): each takes what its shipment
    line has neither invoiced nor on drafts (`shipment_drafts`), at most what its order line has left (`order_left`:
    ordered − invoiced − on drafts), priced as the next part of the order line after `done`. `order_left` and `done`
    move on by what is taken, so the next call (the batch's next invoice) continues from there."""
    lines = []
    for shipment_line in shipment_lines:
        order_line = order_lines[shipment_line.order_line_id]
        quantity = min(shipment_line.quantity - shipment_line.invoiced_quantity - shipment_drafts.get(shipment_line.pk, ZERO),
                       order_left[order_line.pk])
        if quantity <= 0:
            continue
        line = _order_line_part(order_line, quantity, done[order_line.pk], prices_include_tax)
        line.shipment_line = shipment_line
        done[order_line.pk] += quantity
        order_left[order_line.pk] -= quantity
        lines.append(line)
    return lines


@transaction.atomic
def invoice_create_from_order(*, actor, order_id: int, data: dict | None = None) -> Invoice:
    """A draft invoice of a confirmed order. `data["lines"]`: [{order_line_id, quantity}] for a partial invoice;
    without it every order line's uninvoiced quantity (ordered − invoiced − on other draft invoices)."""
    data = data or {}
    errors: dict[str, list[str]] = {}
    order = _order_for_invoicing(order_id)
    header = _header(errors, {key: value for key, value in data.items() if key in ("date", "due_date", "notes")})
    order_lines = {line.pk: line for line in order.lines.select_related("product").order_by("position", "id")}
    drafts = draft_quantities(order_lines)
    left = {pk: line.quantity - line.invoiced_quantity - drafts[pk] for pk, line in order_lines.items()}
    wanted: list[tuple[SalesOrderLine, Decimal]] = []
    if data.get("lines"):
        seen: set[int] = set()
        for index, item in enumerate(data["lines"]):
            key = f"lines.{index}"
            raw = _id((item or {}).get("order_line_id") or (item or {}).get("order_line"))
            order_line = order_lines.get(int(raw)) if str(raw).isdigit() else None
            if order_line is None:
                errors.setdefault(f"{key}.order_line_id", []).append(_("Not a line of order %(number)s") % {"number": order.number or order.pk})
                continue
            if order_line.pk in seen:
                errors.setdefault(f"{key}.order_line_id", []).append(_("Line %(line)s is given twice") % {"line": _line_label(order_line)})
                continue
            seen.add(order_line.pk)
            quantity = _decimal(errors, f"{key}.quantity", (item or {}).get("quantity"), places=4, allow_zero=True)
            if quantity is None or quantity == 0:
                continue
            if quantity > left[order_line.pk]:
                errors.setdefault(f"{key}.quantity", []).append(
                    _("Line %(line)s: at most %(left)s left to invoice") % {"line": _line_label(order_line), "left": _plain(max(left[order_line.pk], ZERO))}
                )
                continue
            wanted.append((order_line, quantity))
    else:
        wanted = [(line, left[pk]) for pk, line in order_lines.items() if left[pk] > 0]
    _raise(errors)
    if not wanted:
        raise ValidationError({"lines": [_("Nothing left to invoice on order %(number)s") % {"number": order.number or order.pk}]})
    lines = [_order_line_part(order_line, quantity, order_line.invoiced_quantity, order.prices_include_tax) for order_line, quantity in wanted]
    invoice = _order_invoice(actor, order, header, lines)
    audit.record(actor=actor, action=AuditAction.CREATE, target=invoice, changes=audit.snapshot(invoice),
                 message=_("From order %(number)s") % {"number": order.number})
    return invoice


@transaction.atomic
def invoice_create_from_shipments(*, actor, shipment_ids: list[int], data: dict | None = None) -> Invoice:
    """A draft invoice of posted shipments of one order: one line per shipment line not yet invoiced."""
    data = data or {}
    errors: dict[str, list[str]] = {}
    ids = sorted({int(_id(pk)) for pk in shipment_ids or [] if str(_id(pk)).isdigit()})
    if not ids:
        raise ValidationError({"shipment_ids": [_("Choose at least one shipment")]})
    # the order is locked here, before its lines and drafts are read (one query: the shipments with their order)
    shipments = list(
        Shipment.objects.filter(pk__in=ids).select_related(*(f"order__{name}" for name in ORDER_PARTIES))
        .select_for_update(of=("order",)).order_by("date", "id")
    )
    missing = set(ids) - {shipment.pk for shipment in shipments}
    if missing:
        raise ValidationError({"shipment_ids": [_("Unknown shipment %(ids)s") % {"ids": ", ".join(str(pk) for pk in sorted(missing))}]})
    not_posted = [shipment for shipment in shipments if shipment.status != ShipmentStatus.POSTED]
    if not_posted:
        raise ValidationError({"shipment_ids": [_("Shipment %(number)s is not posted") % {"number": not_posted[0]}]})
    if len({shipment.order_id for shipment in shipments}) > 1:
        raise ValidationError({"shipment_ids": [_("The shipments belong to different orders; invoice each order separately")]})
    order = _ensure_invoiceable(shipments[0].order)
    header = _header(errors, {key: value for key, value in data.items() if key in ("date", "due_date", "notes")})
    _raise(errors)
    on_drafts = InvoiceLine.objects.filter(Q(order_line_id=OuterRef("order_line_id")) | Q(shipment_line_id=OuterRef("pk")),
                                           invoice__status=DocumentStatus.DRAFT)
    rank = {shipment.pk: index for index, shipment in enumerate(shipments)}  # shipments by date, then id
    shipment_lines = sorted(
        ShipmentLine.objects.filter(shipment_id__in=ids).select_related("order_line__product")
        .annotate(on_drafts=Exists(on_drafts)),
        key=lambda line: (rank[line.shipment_id], line.pk),
    )
    order_lines = {line.order_line_id: line.order_line for line in shipment_lines}
    drafts_by_shipment_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
    drafts_by_order_line: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if any(line.on_drafts for line in shipment_lines):
        drafts_by_shipment_line = draft_quantities([line.pk for line in shipment_lines], field="shipment_line")
        drafts_by_order_line = draft_quantities(order_lines)
    order_left = {pk: line.quantity - line.invoiced_quantity - drafts_by_order_line[pk] for pk, line in order_lines.items()}
    done = {pk: line.invoiced_quantity for pk, line in order_lines.items()}
    invoice_lines = shipment_invoice_lines(shipment_lines, order_lines, shipment_drafts=drafts_by_shipment_line, order_left=order_left,
                                           done=done, prices_include_tax=order.prices_include_tax)
    if not invoice_lines:
        raise ValidationError({"shipment_ids": [_("Everything shipped by these shipments is already invoiced")]})
    invoice = _order_invoice(actor, order, header, invoice_lines)
    audit.record(actor=actor, action=AuditAction.CREATE, target=invoice, changes=audit.snapshot(invoice),
                 message=_("From shipments %(numbers)s") % {"numbers": ", ".join(str(shipment) for shipment in shipments)})
    return invoice


# ----------------------------------------------------------------------------------------------- drafts


@transaction.atomic
def invoice_update(*, actor, invoice_id: int, data: dict) -> Invoice:
    """Change a draft's header: date, due date, notes, supplier's number; currency, rate and tax mode of a manual invoice."""
    invoice = _draft(invoice_id)
    errors: dict[str, list[str]] = {}
    allowed = ("date", "due_date", "notes", "supplier_reference") + (() if invoice.order_id else ("currency", "exchange_rate", "prices_include_tax"))
    for key in data:
        if key in ("currency", "exchange_rate", "prices_include_tax") and invoice.order_id:
            errors.setdefault(key, []).append(_("Taken from the order; it cannot be changed on the invoice"))
    values = _header(errors, {key: value for key, value in data.items() if key in allowed}, invoice=invoice)
    if "counterparty" in data or "counterparty_id" in data:
        if invoice.order_id:
            errors.setdefault("counterparty", []).append(_("Taken from the order; it cannot be changed on the invoice"))
        else:
            values["counterparty"] = _get(errors, "counterparty", Counterparty.objects.filter(is_active=True),
                                          data.get("counterparty") or data.get("counterparty_id"), required=True, label=_("counterparty"))
    _raise(errors)
    before = audit.snapshot(invoice)
    for key, value in values.items():
        setattr(invoice, key, value)
    invoice.save()
    if "prices_include_tax" in values:
        for line in invoice.lines.all():
            _set_amounts(line, line_amounts(_terms(line, invoice.prices_include_tax), line.quantity))
            line.save(update_fields=["amount", "net_amount", "tax_amount", "total"])
        _recount(invoice)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice, changes=audit.diff(before, audit.snapshot(invoice)))
    return invoice


@transaction.atomic
def invoice_line_add(*, actor, invoice_id: int, data: dict) -> InvoiceLine:
    """Add a line to a draft: a free line on a manual invoice, or {order_line_id, quantity} on an order's invoice."""
    invoice = _draft(invoice_id)
    errors: dict[str, list[str]] = {}
    if invoice.order_id:
        raw = _id(data.get("order_line_id") or data.get("order_line"))
        order_line = invoice.order.lines.select_related("product", "unit").filter(pk=raw).first() if str(raw).isdigit() else None
        if order_line is None:
            raise ValidationError({"order_line_id": [_("Choose a line of order %(number)s") % {"number": invoice.order.number}]})
        quantity = _decimal(errors, "quantity", data.get("quantity"), places=4)
        _raise(errors)
        left = order_line.quantity - order_line.invoiced_quantity - draft_quantities([order_line.pk])[order_line.pk]
        if quantity > left:
            raise ValidationError({"quantity": [_("Line %(line)s: at most %(left)s left to invoice") % {"line": _line_label(order_line), "left": _plain(max(left, ZERO))}]})
        line = _order_line_part(order_line, quantity, order_line.invoiced_quantity, invoice.prices_include_tax)
    else:
        line = _free_line(errors, "line", data, direction=invoice.direction, prices_include_tax=invoice.prices_include_tax)
        _raise({key.removeprefix("line."): value for key, value in errors.items()})
    line.invoice = invoice
    line.position = (invoice.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    line.save()
    _recount(invoice)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice, message=_("Line added: %(line)s × %(quantity)s") % {
        "line": line.description, "quantity": _plain(line.quantity)})
    return line


@transaction.atomic
def invoice_line_update(*, actor, invoice_id: int, line_id: int, data: dict) -> InvoiceLine:
    """Change a draft's line: the quantity of an order's line; every field of a free line."""
    invoice = _draft(invoice_id)
    line = invoice.lines.select_related("order_line__product").filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("Line %(id)s not found on this invoice") % {"id": line_id})
    errors: dict[str, list[str]] = {}
    if line.order_line_id:
        quantity = _decimal(errors, "quantity", data.get("quantity"), places=4)
        _raise(errors)
        order_line = line.order_line
        left = order_line.quantity - order_line.invoiced_quantity - draft_quantities([order_line.pk], exclude_invoice_id=invoice.pk)[order_line.pk]
        if line.shipment_line_id:
            shipment_line = line.shipment_line
            left = min(left, shipment_line.quantity - shipment_line.invoiced_quantity)
        if quantity > left:
            raise ValidationError({"quantity": [_("Line %(line)s: at most %(left)s left to invoice") % {"line": _line_label(order_line), "left": _plain(max(left, ZERO))}]})
        line.quantity = quantity
        _set_amounts(line, part_amounts(_terms(line, invoice.prices_include_tax), done=order_line.invoiced_quantity, quantity=quantity))
    else:
        merged = {"product": line.product_id, "description": line.description, "quantity": line.quantity, "price": line.price,
                  "tax_rate": line.tax_rate, "discount_percent": line.discount_percent, "unit": line.unit_id, **data}
        fresh = _free_line(errors, "line", merged, direction=invoice.direction, prices_include_tax=invoice.prices_include_tax)
        _raise({key.removeprefix("line."): value for key, value in errors.items()})
        for name in ("product", "unit", "description", "quantity", "price", "discount_percent", "tax_rate", "amount", "net_amount", "tax_amount", "total"):
            setattr(line, name, getattr(fresh, name))
    line.save()
    _recount(invoice)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice, message=_("Line changed: %(line)s × %(quantity)s") % {
        "line": line.description, "quantity": _plain(line.quantity)})
    return line


@transaction.atomic
def invoice_line_remove(*, actor, invoice_id: int, line_id: int) -> None:
    invoice = _draft(invoice_id)
    line = invoice.lines.filter(pk=line_id).first()
    if line is None:
        raise NotFound(_("Line %(id)s not found on this invoice") % {"id": line_id})
    description = line.description
    line.delete()
    _recount(invoice)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=invoice, message=_("Line removed: %(line)s") % {"line": description})


# ----------------------------------------------------------------------------------------------- posting


def _base(amount: Decimal, rate: Decimal) -> Decimal:
    return round_money(amount * rate)


def _invoice_entry_lines(invoice: Invoice, lines: list[InvoiceLine]) -> list[EntryLine]:
    rate = invoice.exchange_rate
    total, tax = _base(invoice.total, rate), _base(invoice.tax_total, rate)
    party = invoice.counterparty_id
    if invoice.direction == Direction.OUTGOING:
        return [
            EntryLine(accounts.RECEIVABLES, debit=total, counterparty_id=party),
            EntryLine(accounts.REVENUE, credit=total - tax, counterparty_id=party),  # the client as an analytic: sales per client
            EntryLine(accounts.VAT_OUTPUT, credit=tax),
        ]
    goods = sum((line.net_amount for line in lines if line.product_id and line.product.kind not in NON_STOCK_KINDS), ZERO)
    goods_base = _base(goods, rate)
    return [
        EntryLine(accounts.GOODS_RECEIVED_NOT_INVOICED, debit=goods_base),
        EntryLine(accounts.OTHER_EXPENSES, debit=total - tax - goods_base),
        EntryLine(accounts.VAT_INPUT, debit=tax),
        EntryLine(accounts.PAYABLES, credit=total, counterparty_id=party),
    ]


def _posting_rate(invoice: Invoice) -> Decimal:
    """The rate to the base currency: 1 for the base currency, the invoice's own when entered, else the latest
    exchange rate on or before the invoice date."""
    if not invoice.currency or invoice.currency == company_settings().base_currency:
        return Decimal(1)
    if invoice.exchange_rate and invoice.exchange_rate != 1:
        return invoice.exchange_rate
    rate = ExchangeRate.objects.filter(currency__code=invoice.currency, date__lte=invoice.date).order_by("-date").first()
    if rate is None:
        raise ValidationError({"currency": [_("No exchange rate of %(currency)s on or before %(date)s: enter one") % {
            "currency": invoice.currency, "date": invoice.date.isoformat()}]})
    return (rate.rate / rate.nominal).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def add_up(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    """The invoice's totals: the sums of its lines."""
    invoice.net_total = sum((line.net_amount for line in lines), ZERO)
    invoice.tax_total = sum((line.tax_amount for line in lines), ZERO)
    invoice.total = sum((line.total for line in lines), ZERO)


def _amounts_of(line: InvoiceLine) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return line.amount, line.net_amount, line.tax_amount, line.total


@transaction.atomic
def invoice_post(*, actor, invoice_id: int, due_date: dt.date | str | None = None) -> Invoice:
    """Post a draft: amounts of order lines re-priced as the next part of each line, quantities checked against what is
    left and added to the order (and shipment) lines, totals, number, due date and the journal entry."""
    from .services_payments import invoice_apply_advances, unallocated_payments  # payments build on invoices

    advances = unallocated_payments(counterparty_id=OuterRef("counterparty_id"), direction=OuterRef("direction"), currency=OuterRef("currency"))
    try:
        invoice = (
            Invoice.objects.select_for_update()
            .annotate(has_schedule=Exists(PaymentScheduleItem.objects.filter(invoice_id=OuterRef("pk"))), has_advances=Exists(advances))
            .get(pk=invoice_id)
        )
    except Invoice.DoesNotExist:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    _ensure_transition(invoice.status, DocumentStatus.POSTED, what=_("invoice"))
    errors: dict[str, list[str]] = {}
    due = _date(errors, "due_date", due_date, required=False) if due_date not in (None, "") else None
    _raise(errors)
    lines_query = invoice.lines.order_by("position", "id")
    lines = list(lines_query.select_related("product") if invoice.direction == Direction.INCOMING else lines_query)  # goods: by the product's kind
    if not lines:
        raise ValidationError({"lines": [_("Add at least one line before posting")]})
    # locks in the order: invoice, order lines (all of the order's, by id), shipment lines (by id), order
    order_line_ids = sorted({line.order_line_id for line in lines if line.order_line_id})
    order_lines = {line.pk: line for line in (
        SalesOrderLine.objects.select_for_update().filter(order_id=invoice.order_id) if invoice.order_id
        else SalesOrderLine.objects.select_for_update().filter(pk__in=order_line_ids)
    ).order_by("pk")} if order_line_ids else {}
    shipment_line_ids = sorted({line.shipment_line_id for line in lines if line.shipment_line_id})
    shipment_lines = {line.pk: line for line in ShipmentLine.objects.select_for_update().filter(pk__in=shipment_line_ids).order_by("pk")}
    order = None
    if invoice.order_id:
        order = SalesOrder.objects.select_for_update().get(pk=invoice.order_id)
        if order.status not in (OrderStatus.CONFIRMED, OrderStatus.DONE):
            raise Conflict(_("Order %(number)s is %(status)s; it cannot be invoiced") % {"number": order.number, "status": order.get_status_display().lower()},
                           field="order")
    priced_before = {line.pk: _amounts_of(line) for line in lines}
    for index, line in enumerate(lines):
        if line.order_line_id:
            order_line = order_lines[line.order_line_id]
            left = order_line.quantity - order_line.invoiced_quantity
            if line.quantity > left:
                errors.setdefault(f"lines.{index}.quantity", []).append(
                    _("Line %(line)s: at most %(left)s left to invoice") % {"line": _line_label(order_line), "left": _plain(max(left, ZERO))})
                continue
            _set_amounts(line, part_amounts(_terms(line, invoice.prices_include_tax), done=order_line.invoiced_quantity, quantity=line.quantity))
            order_line.invoiced_quantity += line.quantity
        if line.shipment_line_id:
            shipment_line = shipment_lines[line.shipment_line_id]
            left = shipment_line.quantity - shipment_line.invoiced_quantity
            if line.quantity > left:
                errors.setdefault(f"lines.{index}.quantity", []).append(
                    _("Shipment line %(line)s: at most %(left)s left to invoice") % {"line": shipment_line.pk, "left": _plain(max(left, ZERO))})
                continue
            shipment_line.invoiced_quantity += line.quantity
    _raise(errors)
    update_many([line for line in lines if _amounts_of(line) != priced_before[line.pk]], ["amount", "net_amount", "tax_amount", "total"])
    update_many([order_lines[pk] for pk in order_line_ids], ["invoiced_quantity"])
    update_many(shipment_lines.values(), ["invoiced_quantity"])
    add_up(invoice, lines)
    if invoice.total <= 0:
        raise ValidationError({"lines": [_("The invoice total must be greater than zero")]})
    scheduled = list(invoice.schedule.all()) if invoice.has_schedule else []
    if scheduled and sum((item.amount for item in scheduled), ZERO) != invoice.total:
        raise ValidationError({"schedule": [_("The payment schedule adds up to %(sum)s, the invoice total is %(total)s; set the schedule again") % {
            "sum": sum((item.amount for item in scheduled), ZERO), "total": invoice.total}]})
    invoice.due_date = due or max((item.due_date for item in scheduled), default=None) or invoice.due_date or invoice.date
    if invoice.due_date < invoice.date:
        raise ValidationError({"due_date": [_("The due date cannot be before the invoice date")]})
    invoice.exchange_rate = _posting_rate(invoice)
    invoice.number = numbering.next_number(INVOICE_NUMBERING[invoice.direction], on=invoice.date)
    invoice.status = DocumentStatus.POSTED
    invoice.posted_at = timezone.now()
    invoice.save(update_fields=["net_total", "tax_total", "total", "due_date", "exchange_rate", "number", "status", "posted_at", "updated_at"])
    journal_post(actor=actor, date=invoice.date, source=Source.of(invoice), lines=_invoice_entry_lines(invoice, lines),
                 memo=_("Invoice %(number)s") % {"number": invoice.number})
    if order is not None:
        order_lines_now = list(order_lines.values()) if order_lines else None  # every line of the order, locked and updated
        order_progress_refresh(order_id=order.pk, order=order, lines=order_lines_now)
        if invoice.direction == Direction.OUTGOING:
            order_follow_progress(actor=actor, order_id=order.pk, event="order_invoiced", order=order, lines=order_lines_now)
    audit.record(actor=actor, action=AuditAction.POST, target=invoice, message=_("Posted as %(number)s, total %(total)s") % {
        "number": invoice.number, "total": invoice.total})
    events.record_event("finance.invoice.posted", target=invoice, payload={"number": invoice.number, "total": str(invoice.total)})
    if invoice.total > 0 and invoice.has_advances:
        invoice_apply_advances(actor=actor, invoice_id=invoice.pk)  # prepayments received before the invoice pay it
        invoice.refresh_from_db()
    return invoice


@transaction.atomic
def invoice_cancel(*, actor, invoice_id: int, on: dt.date | str | None = None) -> Invoice:
    """Cancel a draft, or a posted invoice with a reversing entry dated `on` (default today); refused while payments
    are allocated to it or posted credit notes exist. Quantities go back to the order (and shipment) lines."""
    invoice = _lock_invoice(invoice_id)
    _ensure_transition(invoice.status, DocumentStatus.CANCELLED, what=_("invoice"))
    errors: dict[str, list[str]] = {}
    day = _date(errors, "date", on, required=False) or timezone.localdate()
    _raise(errors)
    if invoice.status == DocumentStatus.POSTED:
        if day < invoice.date:
            raise ValidationError({"date": [_("The cancellation cannot be dated before the invoice (%(date)s)") % {"date": invoice.date.isoformat()}]})
        allocations = PaymentAllocation.objects.filter(invoice=invoice, is_active=True).select_related("payment")
        if allocations.exists():
            numbers = ", ".join(sorted({str(allocation.payment) for allocation in allocations}))
            raise Conflict(_("Payments are allocated to this invoice (%(payments)s): remove those allocations first") % {"payments": numbers},
                           field="status")
        credit_notes = list(invoice.credit_notes.filter(status=DocumentStatus.POSTED))
        if credit_notes:
            raise Conflict(_("Posted credit notes exist (%(numbers)s): cancel them first") % {"numbers": ", ".join(str(note) for note in credit_notes)},
                           field="status")
        lines = list(invoice.lines.all())
        order_lines = {line.pk: line for line in SalesOrderLine.objects.select_for_update().filter(
            pk__in=sorted({line.order_line_id for line in lines if line.order_line_id})).order_by("pk")}
        shipment_lines = {line.pk: line for line in ShipmentLine.objects.select_for_update().filter(
            pk__in=sorted({line.shipment_line_id for line in lines if line.shipment_line_id})).order_by("pk")}
        for line in lines:
            if line.order_line_id:
                order_lines[line.order_line_id].invoiced_quantity -= line.quantity
            if line.shipment_line_id:
                shipment_lines[line.shipment_line_id].invoiced_quantity -= line.quantity
        update_many(order_lines.values(), ["invoiced_quantity"])
        update_many(shipment_lines.values(), ["invoiced_quantity"])
        journal_reverse(actor=actor, source=Source.of(invoice), date=day, memo=_("Cancellation of invoice %(number)s") % {"number": invoice.number})
        invoice.cancellation_date = day
    for note in invoice.credit_notes.filter(status=DocumentStatus.DRAFT):
        note.status, note.cancelled_at = DocumentStatus.CANCELLED, timezone.now()
        note.save(update_fields=["status", "cancelled_at"])
    was_posted = invoice.status == DocumentStatus.POSTED
    invoice.status = DocumentStatus.CANCELLED
    invoice.cancelled_at = timezone.now()
    invoice.save()
    if was_posted and invoice.order_id:
        order_progress_refresh(order_id=invoice.order_id)
    audit.record(actor=actor, action=AuditAction.CANCEL, target=invoice, message=_("Cancelled on %(date)s") % {"date": day.isoformat()} if was_posted else "")
    events.record_event("finance.invoice.cancelled", target=invoice, payload={"number": invoice.number})
    return invoice


# ----------------------------------------------------------------------------------------------- payment schedules


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _schedule_document(*, order_id: int | None, invoice_id: int | None):
    if (order_id is None) == (invoice_id is None):
        raise ValidationError({"document": [_("Give either an order or an invoice")]})
    if order_id is not None:
        document = SalesOrder.objects.select_for_update().filter(pk=order_id).first()
        if document is None:
            raise NotFound(_("Sales order %(id)s not found") % {"id": order_id})
        if document.status == OrderStatus.CANCELLED:
            raise Conflict(_("The order is cancelled"), field="status")
        return document, {"order": document}
    document = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if document is None:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    if document.status == DocumentStatus.CANCELLED:
        raise Conflict(_("The invoice is cancelled"), field="status")
    return document, {"invoice": document}


def percent_amount(total: Decimal, percent: Decimal) -> Decimal:
    return (total * percent / HUNDRED).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def schedule_set(*, actor, order_id: int | None = None, invoice_id: int | None = None, items: list[dict]) -> list[PaymentScheduleItem]:
    """Replace the payment schedule of an order or an invoice.

    Each item: {kind: "prepayment"|"instalment", due_date, percent?, amount?}. A percent gives
    amount = round(total × percent / 100); an item with neither (only the last may) takes what is left. When every item
    is a percent and the percents add up to 100, the last item takes the rounding remainder. The amounts must add up
    to the document total exactly; due dates may not be before the document date. Amounts already paid are laid over
    the new items again in due-date order. An empty list removes the schedule."""
    document, owner = _schedule_document(order_id=order_id, invoice_id=invoice_id)
    total = document.total
    errors: dict[str, list[str]] = {}
    parsed: list[dict] = []
    items = list(items or [])
    for index, item in enumerate(items):
        key = f"items.{index}"
        item = item or {}
        kind = str(item.get("kind") or ScheduleKind.INSTALMENT)
        if kind not in ScheduleKind.values:
            errors.setdefault(f"{key}.kind", []).append(_("Choose one of: %(choices)s") % {"choices": ", ".join(ScheduleKind.values)})
        due = _date(errors, f"{key}.due_date", item.get("due_date"), required=True)
        if due and due < document.date:
            errors.setdefault(f"{key}.due_date", []).append(_("Not before the document date %(date)s") % {"date": document.date.isoformat()})
        percent = _decimal(errors, f"{key}.percent", item.get("percent"), places=4, required=False, maximum=HUNDRED)
        amount = _decimal(errors, f"{key}.amount", item.get("amount"), places=2, required=False)
        if percent is not None and amount is not None and percent_amount(total, percent) != amount:
            errors.setdefault(f"{key}.amount", []).append(_("Give a percent or an amount, not both"))
        if percent is None and amount is None and index != len(items) - 1 and f"{key}.percent" not in errors and f"{key}.amount" not in errors:
            errors.setdefault(f"{key}.amount", []).append(_("Give a percent or an amount (only the last item may take the remainder)"))
        parsed.append({"kind": kind, "due_date": due, "percent": percent, "amount": percent_amount(total, percent) if percent is not None else amount})
    _raise(errors)
    if parsed:
        percents = [item["percent"] for item in parsed]
        if all(p is not None for p in percents) and sum(percents, ZERO) == HUNDRED:
            parsed[-1]["amount"] = total - sum((item["amount"] for item in parsed[:-1]), ZERO)
        elif parsed[-1]["amount"] is None:
            parsed[-1]["amount"] = total - sum((item["amount"] for item in parsed[:-1]), ZERO)
        for index, item in enumerate(parsed):
            if item["amount"] <= 0:
                errors.setdefault(f"items.{index}.amount", []).append(_("Must be greater than zero"))
        scheduled = sum((item["amount"] for item in parsed), ZERO)
        if not errors and scheduled != total:
            errors["items"] = [_("The items add up to %(sum)s; the document total is %(total)s") % {"sum": scheduled, "total": total}]
    _raise(errors)
    existing = list(PaymentScheduleItem.objects.filter(**owner))
    paid = sum((item.paid_amount for item in existing), ZERO)
    PaymentScheduleItem.objects.filter(**owner).delete()
    created = []
    ordered = sorted(range(len(parsed)), key=lambda i: (parsed[i]["due_date"], i))
    paid_left = paid
    paid_of: dict[int, Decimal] = {}
    for i in ordered:
        paid_of[i] = min(paid_left, parsed[i]["amount"])
        paid_left -= paid_of[i]
    if paid_left > 0 and parsed:
        paid_of[ordered[-1]] += paid_left  # overpaid: the last item shows it
    for position, item in enumerate(parsed, start=1):
        created.append(PaymentScheduleItem(position=position, kind=item["kind"], due_date=item["due_date"], percent=item["percent"],
                                           amount=item["amount"], paid_amount=paid_of.get(position - 1, ZERO), **owner))
    PaymentScheduleItem.objects.bulk_create(created)
    if isinstance(document, Invoice) and created and document.status == DocumentStatus.POSTED:
        document.due_date = max(item.due_date for item in created)
        document.save(update_fields=["due_date", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=document, message=_("Payment schedule: %(items)s") % {
        "items": "; ".join(f"{item.due_date.isoformat()} {item.amount}" for item in created) or _("removed")})
    return created


def schedule_generate(*, actor, order_id: int | None = None, invoice_id: int | None = None, prepayment_percent: Any = "0",
                      instalments: Any = 1, first_due_date: Any = None) -> list[PaymentScheduleItem]:
    """"Prepayment % + N monthly instalments": the prepayment is due on the document date, the instalments monthly from
    `first_due_date` (default: a month after the document date); the instalments share the rest equally and the last
    takes the rounding remainder."""
    errors: dict[str, list[str]] = {}
    percent = _decimal(errors, "prepayment_percent", prepayment_percent or "0", places=4, allow_zero=True, maximum=HUNDRED)
    try:
        count = int(str(instalments))
    except ValueError:
        count = -1
    if not 0 <= count <= 120:
        errors.setdefault("instalments", []).append(_("Enter a whole number from 0 to 120"))
    first = _date(errors, "first_due_date", first_due_date, required=False)
    _raise(errors)
    with transaction.atomic():
        document, _owner = _schedule_document(order_id=order_id, invoice_id=invoice_id)
        if percent == 0 and count == 0:
            raise ValidationError({"instalments": [_("Give a prepayment or at least one instalment")]})
        if percent == HUNDRED and count:
            raise ValidationError({"instalments": [_("A 100 % prepayment leaves nothing for instalments")]})
        if percent < HUNDRED and count == 0:
            raise ValidationError({"instalments": [_("Without instalments the prepayment must be 100 %")]})
        items: list[dict] = []
        prepaid = ZERO
        if percent > 0:
            prepaid = percent_amount(document.total, percent)
            items.append({"kind": ScheduleKind.PREPAYMENT, "due_date": document.date, "percent": str(percent)})
        start = first or add_months(document.date, 1)
        share = ((document.total - prepaid) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if count else ZERO
        for number in range(count):
            item = {"kind": ScheduleKind.INSTALMENT, "due_date": add_months(start, number)}
            if number < count - 1:
                item["amount"] = str(share)
            items.append(item)
        return schedule_set(actor=actor, order_id=order_id, invoice_id=invoice_id, items=items)


# ----------------------------------------------------------------------------------------------- credit notes


def credited_on_lines(invoice: Invoice, *, exclude_note_id: int | None = None) -> dict[int, tuple[Decimal, Amounts]]:
    """Per invoice line: quantity and money on credit notes that are not cancelled."""
    rows = CreditNoteLine.objects.filter(credit_note__invoice=invoice, invoice_line__isnull=False).exclude(credit_note__status=DocumentStatus.CANCELLED)
    if exclude_note_id is not None:
        rows = rows.exclude(credit_note_id=exclude_note_id)
    found: dict[int, tuple[Decimal, Amounts]] = {}
    for row in rows:
        quantity, amounts = found.get(row.invoice_line_id, (ZERO, NO_AMOUNTS))
        found[row.invoice_line_id] = (quantity + row.quantity,
                                      amounts + Amounts(ZERO, ZERO, row.total, row.net_amount, row.tax_amount, row.total))
    return found


def _posted_invoice(invoice_id: int) -> Invoice:
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("Invoice %(id)s not found") % {"id": invoice_id})
    if invoice.status != DocumentStatus.POSTED:
        raise Conflict(_("Only a posted invoice can be credited"), field="invoice", current_status=invoice.status)
    return invoice


def _open_for_credit(invoice: Invoice, *, exclude_note_id: int | None = None) -> Decimal:
    drafts = CreditNote.objects.filter(invoice=invoice, status=DocumentStatus.DRAFT)
    if exclude_note_id is not None:
        drafts = drafts.exclude(pk=exclude_note_id)
    return invoice.total - invoice.credited_amount - sum(drafts.values_list("total", flat=True), ZERO)


def _note_header(actor, invoice: Invoice, *, date: Any, reason: str, errors: dict) -> dict:
    day = _date(errors, "date", date, required=False) or timezone.localdate()
    if day < invoice.date:
        errors.setdefault("date", []).append(_("Not before the invoice date %(date)s") % {"date": invoice.date.isoformat()})
    reason = str(reason or "").strip()
    if len(reason) > 300:
        errors.setdefault("reason", []).append(_("At most %(limit)d characters") % {"limit": 300})
    return {"date": day, "invoice": invoice, "counterparty_id": invoice.counterparty_id, "currency": invoice.currency,
            "exchange_rate": invoice.exchange_rate, "reason": reason, "author": actor}


def _save_note(actor, header: dict, lines: list[CreditNoteLine], *, message: str) -> CreditNote:
    invoice = header["invoice"]
    total = sum((line.total for line in lines), ZERO)
    available = _open_for_credit(invoice)
    if total > available:
        raise ValidationError({"total": [_("At most %(available)s of invoice %(number)s is left to credit; this credit note is %(total)s") % {
            "available": max(available, ZERO), "number": invoice.number, "total": total}]})
    note = CreditNote.objects.create(**header, net_total=sum((line.net_amount for line in lines), ZERO),
                                     tax_total=sum((line.tax_amount for line in lines), ZERO), total=total)
    for line in lines:
        line.credit_note = note
    CreditNoteLine.objects.bulk_create(lines)
    audit.record(actor=actor, action=AuditAction.CREATE, target=note, changes=audit.snapshot(note), message=message)
    return note


@transaction.atomic
def credit_note_create_from_invoice(*, actor, invoice_id: int, lines: list[dict] | None = None, full: bool = False,
                                    date: Any = None, reason: str = "") -> CreditNote:
    """A draft credit note of a posted invoice: `lines` [{invoice_line_id, quantity}] or `full` (everything not yet
    credited). A part of a line is priced like a part of an order line; the rest of a line gets exactly what is left."""
    invoice = _posted_invoice(invoice_id)
    errors: dict[str, list[str]] = {}
    header = _note_header(actor, invoice, date=date, reason=reason, errors=errors)
    invoice_lines = {line.pk: line for line in invoice.lines.order_by("position", "id")}
    credited = credited_on_lines(invoice)
    wanted: list[tuple[InvoiceLine, Decimal]] = []
    if full or not lines:
        if not full:
            errors.setdefault("lines", []).append(_("Choose the lines to credit, or credit the whole invoice"))
        wanted = [(line, line.quantity - credited.get(pk, (ZERO, NO_AMOUNTS))[0]) for pk, line in invoice_lines.items()]
        wanted = [(line, quantity) for line, quantity in wanted if quantity > 0]
    else:
        seen: set[int] = set()
        for index, item in enumerate(lines):
            key = f"lines.{index}"
            raw = _id((item or {}).get("invoice_line_id") or (item or {}).get("invoice_line"))
            line = invoice_lines.get(int(raw)) if str(raw).isdigit() else None
            if line is None or line.pk in seen:
                errors.setdefault(f"{key}.invoice_line_id", []).append(_("Not a line of invoice %(number)s") % {"number": invoice.number} if line is None
                                                                      else _("This line is given twice"))
                continue
            seen.add(line.pk)
            quantity = _decimal(errors, f"{key}.quantity", (item or {}).get("quantity"), places=4, allow_zero=True)
            if not quantity:
                continue
            left = line.quantity - credited.get(line.pk, (ZERO, NO_AMOUNTS))[0]
            if quantity > left:
                errors.setdefault(f"{key}.quantity", []).append(_("Line %(position)s: at most %(left)s left to credit") % {
                    "position": line.position, "left": _plain(max(left, ZERO))})
                continue
            wanted.append((line, quantity))
    _raise(errors)
    if not wanted:
        raise ValidationError({"lines": [_("Nothing left to credit on invoice %(number)s") % {"number": invoice.number}]})
    note_lines = []
    for line, quantity in wanted:
        done, before = credited.get(line.pk, (ZERO, NO_AMOUNTS))
        if done + quantity == line.quantity:  # the rest of the line: exactly what is left of its money
            net, tax, total = line.net_amount - before.net, line.tax_amount - before.tax, line.total - before.total
        else:
            amounts = part_amounts(_terms(line, invoice.prices_include_tax), done=done, quantity=quantity)
            net, tax, total = amounts.net, amounts.tax, amounts.total
        note_lines.append(CreditNoteLine(invoice_line=line, description=line.description, quantity=quantity, price=line.price,
                                         tax_rate=line.tax_rate, net_amount=net, tax_amount=tax, total=total))
    return _save_note(actor, header, note_lines, message=_("From invoice %(number)s") % {"number": invoice.number})


@transaction.atomic
def credit_note_create_from_return(*, actor, sales_return_id: int, date: Any = None) -> CreditNote:
    """A draft credit note for a posted return from a client: the return lines' money, against the latest posted
    invoice of the order that invoiced the returned lines."""
    sales_return = SalesReturn.objects.select_related("order").filter(pk=sales_return_id).first()
    if sales_return is None:
        raise NotFound(_("Return %(id)s not found") % {"id": sales_return_id})
    if sales_return.status != ShipmentStatus.POSTED:
        raise Conflict(_("Only a posted return can be credited"), field="sales_return", current_status=sales_return.status)
    if sales_return.credit_notes.exclude(status=DocumentStatus.CANCELLED).exists():
        raise Conflict(_("This return already has a credit note"), field="sales_return")
    return_lines = list(sales_return.lines.select_related("order_line__product").order_by("id"))
    order_line_ids = {line.order_line_id for line in return_lines}
    invoice = (
        Invoice.objects.filter(order_id=sales_return.order_id, direction=Direction.OUTGOING, status=DocumentStatus.POSTED,
                               lines__order_line_id__in=order_line_ids)
        .order_by("-date", "-id").first()
    )
    if invoice is None:
        raise Conflict(_("No posted invoice of order %(number)s invoices the returned goods: nothing to credit") % {"number": sales_return.order.number},
                       field="sales_return")
    invoice = _posted_invoice(invoice.pk)
    errors: dict[str, list[str]] = {}
    header = _note_header(actor, invoice, date=date or max(sales_return.date, invoice.date), reason=sales_return.reason, errors=errors)
    header["sales_return"] = sales_return
    _raise(errors)
    by_order_line = {line.order_line_id: line for line in invoice.lines.all() if line.order_line_id}
    note_lines = [
        CreditNoteLine(
            invoice_line=by_order_line.get(line.order_line_id), description=line.order_line.description or line.order_line.product.name,
            quantity=line.quantity, price=line.order_line.price, tax_rate=line.order_line.tax_rate,
            net_amount=line.net_amount, tax_amount=line.tax_amount, total=line.total,
        )
        for line in return_lines
    ]
    return _save_note(actor, header, note_lines, message=_("From return %(number)s") % {"number": sales_return})


def _note_entry_lines(note: CreditNote, invoice: Invoice) -> list[EntryLine]:
    rate = note.exchange_rate
    total = note.base_total  # set when posted (credit_note_post)
    tax = _base(note.tax_total, rate)
    party = note.counterparty_id
    if invoice.direction == Direction.OUTGOING:
        return [
            EntryLine(accounts.REVENUE, debit=total - tax, counterparty_id=party),
            EntryLine(accounts.VAT_OUTPUT, debit=tax),
            EntryLine(accounts.RECEIVABLES, credit=total, counterparty_id=party),
        ]
    goods = sum((line.net_amount for line in note.lines.select_related("invoice_line__product")
                 if line.invoice_line_id and line.invoice_line.product_id and line.invoice_line.product.kind not in NON_STOCK_KINDS), ZERO)
    goods_base = _base(goods, rate)
    return [
        EntryLine(accounts.PAYABLES, debit=total, counterparty_id=party),
        EntryLine(accounts.GOODS_RECEIVED_NOT_INVOICED, credit=goods_base),
        EntryLine(accounts.OTHER_EXPENSES, credit=total - tax - goods_base),
        EntryLine(accounts.VAT_INPUT, credit=tax),
    ]


def _note_takes_what_is_left(note: CreditNote, invoice_id: int) -> None:
    """After a credit note and the trim of its invoice's payments: when the invoice has nothing open in its currency,
    the note is what closed it (an allocation that closes an invoice takes what is left of its base itself), so the
    note's base total takes the kopecks of rounding left on the invoice's base total and the invoice's receivable or
    payable ends at exactly zero. Before the note's journal entry is posted."""
    from .services_payments import invoice_base_left_now  # payments build on invoices: imported when used

    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.exchange_rate == 1 or invoice.open_amount != 0:
        return
    left = invoice_base_left_now(invoice)
    if left:
        note.base_total += left
        note.save(update_fields=["base_total"])


def _lock_note(credit_note_id: int) -> CreditNote:
    note = CreditNote.objects.select_for_update().filter(pk=credit_note_id).first()
    if note is None:
        raise NotFound(_("Credit note %(id)s not found") % {"id": credit_note_id})
    return note


@transaction.atomic
def credit_note_post(*, actor, credit_note_id: int) -> CreditNote:
    note = _lock_note(credit_note_id)
    _ensure_transition(note.status, DocumentStatus.POSTED, what=_("credit note"))
    invoice = _posted_invoice(note.invoice_id)
    available = invoice.total - invoice.credited_amount
    if note.total > available:
        raise ValidationError({"total": [_("At most %(available)s of invoice %(number)s is left to credit; this credit note is %(total)s") % {
            "available": max(available, ZERO), "number": invoice.number, "total": note.total}]})
    if note.total <= 0:
        raise ValidationError({"lines": [_("The credit note total must be greater than zero")]})
    note.number = numbering.next_number(CREDIT_NOTE_NUMBERING, on=note.date)
    note.status = DocumentStatus.POSTED
    note.posted_at = timezone.now()
    note.base_total = _base(note.total, note.exchange_rate)
    note.save()
    invoice.credited_amount += note.total
    invoice.save(update_fields=["credited_amount", "updated_at"])
    from .services_payments import invoice_allocations_trim  # payments build on invoices: imported when used

    invoice_allocations_trim(actor=actor, invoice_id=invoice.pk, date=note.date)  # an over-paid invoice's excess becomes an advance
    _note_takes_what_is_left(note, invoice.pk)
    journal_post(actor=actor, date=note.date, source=Source.of(note), lines=_note_entry_lines(note, invoice),
                 memo=_("Credit note %(number)s to invoice %(invoice)s") % {"number": note.number, "invoice": invoice.number})
    audit.record(actor=actor, action=AuditAction.POST, target=note, message=_("Posted as %(number)s, total %(total)s") % {
        "number": note.number, "total": note.total})
    events.record_event("finance.credit_note.posted", target=note, payload={"number": note.number, "invoice": invoice.number, "total": str(note.total)})
    return note


@transaction.atomic
def credit_note_cancel(*, actor, credit_note_id: int, on: dt.date | str | None = None) -> CreditNote:
    note = _lock_note(credit_note_id)
    _ensure_transition(note.status, DocumentStatus.CANCELLED, what=_("credit note"))
    errors: dict[str, list[str]] = {}
    day = _date(errors, "date", on, required=False) or timezone.localdate()
    _raise(errors)
    if note.status == DocumentStatus.POSTED:
        if day < note.date:
            raise ValidationError({"date": [_("The cancellation cannot be dated before the credit note (%(date)s)") % {"date": note.date.isoformat()}]})
        invoice = Invoice.objects.select_for_update().get(pk=note.invoice_id)
        invoice.credited_amount -= note.total
        invoice.save(update_fields=["credited_amount", "updated_at"])
        journal_reverse(actor=actor, source=Source.of(note), date=day, memo=_("Cancellation of credit note %(number)s") % {"number": note.number})
    note.status = DocumentStatus.CANCELLED
    note.cancelled_at = timezone.now()
    note.save(update_fields=["status", "cancelled_at"])
    audit.record(actor=actor, action=AuditAction.CANCEL, target=note)
    return note
