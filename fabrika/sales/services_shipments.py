"""Shipments to clients and returns from clients (writes).

    shipment_create(*, actor, order_id, data) -> Shipment          draft from a confirmed order (default: what remains)
    shipment_update(*, actor, shipment_id, data) -> Shipment       header and lines of a draft (lines are replaced)
    shipment_post(*, actor, shipment_id, policy=None) -> Shipment  inventory issue, money, order progress, reminder
    shipment_cancel(*, actor, shipment_id, on=None) -> Shipment    a draft, or a posted one by reversing its issue
    sales_return_create / sales_return_update / sales_return_post / sales_return_cancel: the same for returns

Every function runs in one transaction and records an audit row. Quantities are in the order line's unit. Money of a
part of a line comes from `fabrika.sales.totals.part_amounts`, so the parts of a line add up to the line exactly
(rules in docs/design/sales-shipments.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.catalog.enums import Tracking
from fabrika.core import audit, events, numbering
from fabrika.core.db import update_many
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.core.models.statuses import RecordStatus, StatusDefinition, StatusKind
from fabrika.core.statuses import REMIND_TIMER, record_status_set, status_definition_create
from fabrika.core.timers import cancel_timers
from fabrika.inventory import services as inventory
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import VALUED_KINDS, DocumentType, LocationKind, ReservationStatus
from fabrika.inventory.models import Location, Lot, Reservation, SerialNumber, StockBalance, StockDocumentLine
from fabrika.inventory.selectors import stock_policy

from .deals import order_follow_progress
from .models import (
    OrderStatus,
    SalesOrder,
    SalesOrderLine,
    SalesReturn,
    SalesReturnLine,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from .progress import order_progress_refresh
from .services_orders import order_backorder_reserve
from .totals import Amounts, LineTerms, line_amounts, part_amounts

ZERO = Decimal(0)
MAX_QUANTITY = Decimal("99999999999")
MAX_REMIND_MONTHS = 120
NOTES_MAX = 10000
REASON_MAX = 300
SERIAL_MAX = 100
REMINDER_STATUS_NAME = "Maintenance due"  # the status definition (parties.counterparty, kind remind) after-sales reminders use
REMINDER_ENTITY = "parties.counterparty"


# ----------------------------------------------------------------------------------------------- helpers


def plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole months; the 31st of a shorter month becomes its last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(errors: dict, field: str, value: Any) -> dt.date | None:
    if value in (None, ""):
        errors.setdefault(field, []).append(_("This field is required"))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD"))
        return None


def _quantity(errors: dict, field: str, value: Any) -> Decimal | None:
    if value in (None, ""):
        errors.setdefault(field, []).append(_("This field is required"))
        return None
    if isinstance(value, bool) or isinstance(value, float):
        value = str(value) if isinstance(value, float) else "x"
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number"))
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append(_("Enter a number"))
    elif number <= 0:
        errors.setdefault(field, []).append(_("Must be greater than zero"))
    elif number.normalize().as_tuple().exponent < -4:  # type: ignore[operator]
        errors.setdefault(field, []).append(_("At most 4 decimal places"))
    elif number > MAX_QUANTITY:
        errors.setdefault(field, []).append(_("Too large: at most 11 digits before the decimal point"))
    else:
        return number
    return None


def _months(errors: dict, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        months = int(str(value).strip())
    except (TypeError, ValueError):
        errors.setdefault("remind_after_months", []).append(_("Enter a whole number of months"))
        return None
    if not 1 <= months <= MAX_REMIND_MONTHS:
        errors.setdefault("remind_after_months", []).append(_("Between 1 and %(max)d months, or empty for no reminder") % {"max": MAX_REMIND_MONTHS})
        return None
    return months


def _text(errors: dict, field: str, value: Any, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if len(text) > limit:
        errors.setdefault(field, []).append(_("At most %(limit)d characters") % {"limit": limit})
    return text


def line_label(order_line: SalesOrderLine) -> str:
    return f"{order_line.position or order_line.pk} ({order_line.product.sku})"


def line_terms(order: SalesOrder, order_line: SalesOrderLine) -> LineTerms:
    """The terms the order priced the line with (services_orders: the effective discount, kopecks)."""
    return LineTerms(
        price=order_line.price, discount_percent=order_line.discount_percent, tax_rate=order_line.tax_rate,
        prices_include_tax=order.prices_include_tax,
    )


def part_of_line(order: SalesOrder, order_line: SalesOrderLine, *, done: Decimal, quantity: Decimal) -> Amounts:
    """The money of `quantity` more units of an order line of which `done` are already counted (`part_amounts`).
    The part that completes the line is the line's stored amounts minus the amounts of what came before, so the
    parts add up to the order line to the kopeck even if the line was priced with a manual amount."""
    terms = line_terms(order, order_line)
    if done + quantity != order_line.quantity or not order_line.total:
        return part_amounts(terms, done=done, quantity=quantity)
    before = line_amounts(terms, done)
    whole = line_amounts(terms, order_line.quantity)
    stored = Amounts(
        gross=whole.gross, discount=whole.discount, amount=order_line.amount or order_line.total, net=order_line.net_amount,
        tax=order_line.tax_amount, total=order_line.total,
    )
    return stored - before


def _stock_location(order: SalesOrder) -> Location:
    return inventory.warehouse_root(order.warehouse)


def _warehouse_locations(order: SalesOrder) -> list[Location]:
    """The valued locations of the order's warehouse: its root first, then its zones and bins by id (one query)."""
    locations = list(Location.objects.filter(warehouse_id=order.warehouse_id, kind__in=list(VALUED_KINDS)).order_by("id"))
    return sorted(locations, key=lambda location: location.parent_id is not None)  # stable: the rest stay in id order


def _warehouse_location_ids(order: SalesOrder) -> list[int]:
    return [location.pk for location in _warehouse_locations(order)]


def _lock_order(order_id: int) -> SalesOrder:
    order = SalesOrder.objects.select_for_update().select_related("warehouse", "counterparty").filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("Sales order %(id)s not found") % {"id": order_id})
    return order


def _order_lines(order: SalesOrder) -> dict[int, SalesOrderLine]:
    return {
        line.pk: line
        for line in SalesOrderLine.objects.select_for_update().filter(order=order).select_related("product", "unit").order_by("position", "id")
    }


# ----------------------------------------------------------------------------------------------- lots and serials


def lot_suggestion(*, order: SalesOrder, order_line: SalesOrderLine, quantity: Decimal, location_ids: list[int]) -> list[tuple[Lot | None, Decimal]]:
    """First expiry, first out, where the lots this order reserved come first: [(lot, quantity in the line's unit)].

    What no lot covers comes back with lot None (the storekeeper picks one, or posting names the shortage)."""
    factor = order_line.stock_quantity / order_line.quantity if order_line.quantity else Decimal(1)
    need = quantity * factor
    plan: list[tuple[Lot | None, Decimal]] = []
    reservations = (
        Reservation.objects.filter(
            product_id=order_line.product_id, location_id__in=location_ids, reference=order.number, status=ReservationStatus.ACTIVE,
            lot__isnull=False,
        )
        .select_related("lot").order_by("lot__expiry_date", "lot__created_at", "lot_id")
        if order.number else []
    )
    for reservation in reservations:
        if need <= 0:
            break
        take = min(need, reservation.quantity)
        plan.append((reservation.lot, take))
        need -= take
    if need > 0:
        balances = StockBalance.objects.filter(product_id=order_line.product_id, location_id__in=location_ids, lot__isnull=False).select_related("lot")
        for balance in sorted(balances, key=lambda b: (b.lot.expiry_date is None, b.lot.expiry_date or dt.date.max, b.lot.created_at, b.lot_id)):
            if need <= 0:
                break
            free = balance.quantity - balance.reserved_quantity
            take = min(need, max(free, ZERO))
            if take > 0:
                plan.append((balance.lot, take))
                need -= take
    if need > 0:
        plan.append((None, need))
    merged: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for lot, amount in plan:
        merged[lot.pk if lot else None] += amount
    lots = {lot.pk: lot for lot, _amount in plan if lot is not None}
    return [(lots.get(key) if key else None, (amount / factor).quantize(Decimal("0.0001"))) for key, amount in merged.items()]


def serial_suggestion(*, order: SalesOrder, order_line: SalesOrderLine, count: int, location_ids: list[int], exclude: set[str]) -> list[str]:
    """Serial numbers at the warehouse for a serial-tracked line: the ones reserved for this order first."""
    serials = SerialNumber.objects.filter(product_id=order_line.product_id, location_id__in=location_ids).exclude(serial__in=exclude)
    reserved = list(serials.filter(reserved_reference=order.number).order_by("serial").values_list("serial", flat=True)) if order.number else []
    free = list(serials.filter(reserved_reference="").order_by("serial").values_list("serial", flat=True)[: max(count, 0)])
    return (reserved + free)[:count]


# ----------------------------------------------------------------------------------------------- lines


def _clean_lines(
    order: SalesOrder, order_lines: dict[int, SalesOrderLine], raw_lines: Any, *, limit_of, limit_message: str, suggest: bool,
) -> list[dict[str, Any]]:
    """Validate lines [{order_line, quantity, lot, serial}] against the order. `limit_of(order_line)` is the most a
    document may take of that line; the sum over the document's lines must stay within it."""
    errors: dict[str, list[str]] = {}
    if not isinstance(raw_lines, list | tuple):
        raise ValidationError({"lines": [_("A list of lines is required")]})
    if not raw_lines:
        raise ValidationError({"lines": [_("Add at least one line")]})
    cleaned: list[dict[str, Any]] = []
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    first_index: dict[int, int] = {}
    for index, raw in enumerate(raw_lines):
        prefix = f"lines.{index}"
        if not isinstance(raw, dict):
            errors.setdefault(prefix, []).append(_("Each line is an object"))
            continue
        raw_id = raw.get("order_line")
        order_line = order_lines.get(int(raw_id)) if str(raw_id or "").isdigit() else None
        if order_line is None:
            errors.setdefault(f"{prefix}.order_line", []).append(_("Unknown line %(id)s of order %(order)s") % {"id": raw_id, "order": order})
            continue
        quantity = _quantity(errors, f"{prefix}.quantity", raw.get("quantity"))
        if quantity is not None and quantity.normalize().as_tuple().exponent < -order_line.unit.decimal_places:  # type: ignore[operator]
            errors.setdefault(f"{prefix}.quantity", []).append(
                _("Line %(line)s: %(unit)s allows %(places)d decimal places") % {
                    "line": line_label(order_line), "unit": order_line.unit.code, "places": order_line.unit.decimal_places,
                }
            )
            quantity = None
        product = order_line.product
        lot = None
        raw_lot = raw.get("lot")
        if raw_lot not in (None, ""):
            if product.tracking != Tracking.LOT:
                errors.setdefault(f"{prefix}.lot", []).append(_("%(sku)s is not tracked by lot") % {"sku": product.sku})
            else:
                lot = Lot.objects.filter(pk=raw_lot, product=product).first() if str(raw_lot).isdigit() else None
                if lot is None:
                    errors.setdefault(f"{prefix}.lot", []).append(_("Lot %(lot)s is not a lot of %(sku)s") % {"lot": raw_lot, "sku": product.sku})
        serial = _text(errors, f"{prefix}.serial", raw.get("serial"), SERIAL_MAX)
        if serial and product.tracking != Tracking.SERIAL:
            errors.setdefault(f"{prefix}.serial", []).append(_("%(sku)s is not tracked by serial number") % {"sku": product.sku})
        if product.tracking == Tracking.SERIAL and quantity is not None and serial and quantity * (order_line.stock_quantity / order_line.quantity) != 1:
            errors.setdefault(f"{prefix}.quantity", []).append(_("A serial-tracked product goes one unit per line"))
        if quantity is None:
            continue
        totals[order_line.pk] += quantity
        first_index.setdefault(order_line.pk, index)
        cleaned.append({"order_line": order_line, "quantity": quantity, "lot": lot, "serial": serial, "index": index})
    for order_line_id, total in totals.items():
        order_line = order_lines[order_line_id]
        limit = limit_of(order_line)
        if total > limit:
            errors.setdefault(f"lines.{first_index[order_line_id]}.quantity", []).append(
                limit_message % {"line": line_label(order_line), "quantity": plain(total), "limit": plain(max(limit, ZERO))}
            )
    if errors:
        raise ValidationError(errors)
    if suggest and any(line["order_line"].product.tracking in (Tracking.LOT, Tracking.SERIAL) for line in cleaned):
        cleaned = _with_suggestions(order, cleaned, _warehouse_location_ids(order))
    return cleaned


def _with_suggestions(order: SalesOrder, lines: list[dict[str, Any]], location_ids: list[int]) -> list[dict[str, Any]]:
    """Tracked products without a lot or serial get the suggested ones: a lot line is split by FEFO, a serial line
    becomes one line per unit with the serials at the warehouse (reserved for the order first)."""
    result: list[dict[str, Any]] = []
    used_serials = {line["serial"] for line in lines if line["serial"]}
    for line in lines:
        order_line, product = line["order_line"], line["order_line"].product
        if product.tracking == Tracking.LOT and line["lot"] is None and product.is_stockable:
            for lot, amount in lot_suggestion(order=order, order_line=order_line, quantity=line["quantity"], location_ids=location_ids):
                if amount > 0:
                    result.append({**line, "lot": lot, "quantity": amount})
        elif product.tracking == Tracking.SERIAL and not line["serial"]:
            factor = order_line.stock_quantity / order_line.quantity if order_line.quantity else Decimal(1)
            units = line["quantity"] * factor
            if units != units.to_integral_value() or factor != 1:
                result.append(line)
                continue
            count = int(units)
            serials = serial_suggestion(order=order, order_line=order_line, count=count, location_ids=location_ids, exclude=used_serials)
            used_serials.update(serials)
            serials += [""] * (count - len(serials))
            result.extend({**line, "quantity": Decimal(1), "serial": serial} for serial in serials)
        else:
            result.append(line)
    return result


def _remaining_to_ship(order_line: SalesOrderLine) -> Decimal:
    return order_line.quantity - order_line.shipped_quantity


def _returnable(order_line: SalesOrderLine) -> Decimal:
    return order_line.shipped_quantity - order_line.returned_quantity


def _ship_limit_message() -> str:
    return _("Line %(line)s: %(quantity)s is more than the %(limit)s remaining to ship")


def _return_limit_message() -> str:
    return _("Line %(line)s: %(quantity)s is more than the %(limit)s shipped and not yet returned")


def _header(data: dict[str, Any], *, errors: dict, fields: tuple[str, ...]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "date" in data and "date" in fields:
        cleaned["date"] = _date(errors, "date", data["date"])
    if "remind_after_months" in data and "remind_after_months" in fields:
        cleaned["remind_after_months"] = _months(errors, data["remind_after_months"])
    if "notes" in data and "notes" in fields:
        cleaned["notes"] = _text(errors, "notes", data["notes"], NOTES_MAX)
    if "reason" in data and "reason" in fields:
        cleaned["reason"] = _text(errors, "reason", data["reason"], REASON_MAX)
    return cleaned


# ----------------------------------------------------------------------------------------------- shipments


def _shippable_order(order: SalesOrder) -> None:
    if order.status != OrderStatus.CONFIRMED:
        raise InvalidTransition(
            _("Order %(order)s is %(status)s: only a confirmed order is shipped") % {"order": order, "status": order.get_status_display().lower()},
            code="order_not_confirmed", field="order", status=order.status,
        )


def default_shipment_lines(order: SalesOrder, order_lines: dict[int, SalesOrderLine] | None = None) -> list[dict[str, Any]]:
    """Every line with something left to ship, at the quantity that remains (`order_lines`: the order's lines already
    read, in position order)."""
    lines = order_lines.values() if order_lines is not None else order.lines.order_by("position", "id")
    return [{"order_line": line.pk, "quantity": plain(_remaining_to_ship(line))} for line in lines if _remaining_to_ship(line) > 0]


def default_remind_after_months(order: SalesOrder) -> int | None:
    """The reminder period of the order's latest shipment that had one, else none."""
    return (
        Shipment.objects.filter(order=order, remind_after_months__isnull=False).exclude(status=ShipmentStatus.CANCELLED)
        .order_by("-date", "-id").values_list("remind_after_months", flat=True).first()
    )


def _write_shipment_lines(shipment: Shipment, lines: list[dict[str, Any]]) -> list[ShipmentLine]:
    return ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, order_line=line["order_line"], quantity=line["quantity"], lot=line["lot"], serial=line["serial"])
            for line in lines
        ]
    )


def _lines_text(lines) -> list[str]:
    return [
        f"{line.order_line.product.sku} × {plain(line.quantity)}" + (f" [{line.lot.code}]" if line.lot_id else "") + (f" [{line.serial}]" if line.serial else "")
        for line in lines
    ]


@transaction.atomic
def shipment_create(*, actor: User, order_id: int, data: dict[str, Any]) -> Shipment:
    """A draft shipment of a confirmed order. Without `lines`, every line with something left to ship at the
    quantity that remains; lots (FEFO, this order's reservations first) and serials are suggested where missing."""
    order = _lock_order(order_id)
    _shippable_order(order)
    errors: dict[str, list[str]] = {}
    data = {"date": timezone.localdate(), **data}
    header = _header(data, errors=errors, fields=("date", "remind_after_months", "notes"))
    if "remind_after_months" not in data:
        header["remind_after_months"] = default_remind_after_months(order)
    order_lines = _order_lines(order)
    raw_lines = data.get("lines")
    if raw_lines is None:
        raw_lines = default_shipment_lines(order, order_lines)
        if not raw_lines:
            errors.setdefault("lines", []).append(_("Everything on order %(order)s is already shipped") % {"order": order})
    lines: list[dict[str, Any]] = []
    if "lines" not in errors:
        try:
            lines = _clean_lines(order, order_lines, raw_lines, limit_of=_remaining_to_ship, limit_message=_ship_limit_message(), suggest=True)
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    shipment = Shipment.objects.create(order=order, author=actor, **header)
    written = _write_shipment_lines(shipment, lines)
    audit.record(actor=actor, action=AuditAction.CREATE, target=shipment, changes={**audit.snapshot(shipment), "lines": _lines_text(written)})
    return shipment


def _lock_shipment(shipment_id: int) -> Shipment:
    shipment = Shipment.objects.select_for_update().filter(pk=shipment_id).first()
    if shipment is None:
        raise NotFound(_("Shipment %(id)s not found") % {"id": shipment_id})
    return shipment


def _draft_shipment(shipment_id: int) -> Shipment:
    shipment = _lock_shipment(shipment_id)
    if shipment.status != ShipmentStatus.DRAFT:
        raise InvalidTransition(_("Only a draft shipment can be edited; cancel a posted one instead"), status=shipment.status)
    return shipment


def _save_draft(*, actor: User, document, header: dict[str, Any], lines: list[dict[str, Any]] | None, write_lines):
    """Write a draft shipment's or return's header and, when given, replace its lines; one audit row with what changed."""
    before = audit.snapshot(document)
    before_lines = _lines_text(document.lines.select_related("order_line__product", "lot"))
    for field, value in header.items():
        setattr(document, field, value)
    document.save(update_fields=list(header) or None)
    if lines is not None:
        document.lines.all().delete()
        write_lines(document, lines)
    changes = audit.diff(before, audit.snapshot(document))
    after_lines = _lines_text(document.lines.select_related("order_line__product", "lot"))
    if after_lines != before_lines:
        changes["lines"] = [before_lines, after_lines]
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=document, changes=changes)
    return document


@transaction.atomic
def shipment_update(*, actor: User, shipment_id: int, data: dict[str, Any]) -> Shipment:
    """Change a draft's date, reminder, notes and, when `lines` is given, replace its lines."""
    shipment = _draft_shipment(shipment_id)
    order = _lock_order(shipment.order_id)
    errors: dict[str, list[str]] = {}
    header = _header(data, errors=errors, fields=("date", "remind_after_months", "notes"))
    lines: list[dict[str, Any]] | None = None
    if data.get("lines") is not None:
        try:
            lines = _clean_lines(
                order, _order_lines(order), data["lines"], limit_of=_remaining_to_ship, limit_message=_ship_limit_message(), suggest=True
            )
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return _save_draft(actor=actor, document=shipment, header=header, lines=lines, write_lines=_write_shipment_lines)


def issue_plans(
    *, order: SalesOrder, lines: list[ShipmentLine], location_ids: list[int], reservations: list[tuple[int, int | None, int, Decimal]] | None = None,
) -> dict[int, list[tuple[int, Decimal]]]:
    """Where in the warehouse each shipment line's goods are taken from: {line id: [(location id, quantity in the
    line's unit)]}.

    This order's reservations (same product and lot) first, then free stock, the warehouse root before its zones and
    bins; a serial number from where it is. What nothing covers is asked of the root, so posting names the shortage
    there. Earlier lines of the same shipment count against later ones. Reservations, balances and serials are each
    read once for the whole shipment; `reservations`: the order's active ones (product, lot, location, quantity by id),
    when the caller read them for many orders at once."""
    root = location_ids[0]
    product_ids = {line.order_line.product_id for line in lines}
    serials = {
        (product_id, serial): location_id
        for product_id, serial, location_id in SerialNumber.objects.filter(
            product_id__in=product_ids, serial__in=[line.serial for line in lines if line.serial], location_id__in=location_ids
        ).values_list("product_id", "serial", "location_id")
    } if any(line.serial for line in lines) else {}
    reserved: dict[tuple[int, int | None], list[tuple[int, Decimal]]] = defaultdict(list)
    if reservations is None and order.number:
        reservations = list(Reservation.objects.filter(
            product_id__in=product_ids, reference=order.number, status=ReservationStatus.ACTIVE, location_id__in=location_ids
        ).order_by("id").values_list("product_id", "lot_id", "location_id", "quantity"))
    for product_id, lot_id, location_id, quantity in reservations or []:
        if product_id in product_ids and location_id in location_ids:
            reserved[(product_id, lot_id)].append((location_id, quantity))
    free_stock: dict[tuple[int, int, int | None], Decimal] | None = None  # read when some line needs more than its reservations
    used: dict[tuple[int, int, int | None], Decimal] = defaultdict(lambda: ZERO)  # (product, location, lot) -> stock unit
    plans: dict[int, list[tuple[int, Decimal]]] = {}
    for line in lines:
        order_line = line.order_line
        product_id = order_line.product_id
        if line.serial:
            plans[line.pk] = [(serials.get((product_id, line.serial), root), line.quantity)]
            continue
        reservations = reserved.get((product_id, line.lot_id), [])
        factor = order_line.stock_quantity / order_line.quantity if order_line.quantity else Decimal(1)
        if factor != 1:  # a line in another unit is not split over locations: the first one reserved for it, else the root
            plans[line.pk] = [(reservations[0][0] if reservations else root, line.quantity)]
            continue
        plan: dict[int, Decimal] = defaultdict(lambda: ZERO)
        need = line.quantity
        for location_id, quantity in reservations:
            key = (product_id, location_id, line.lot_id)
            take = min(need, max(quantity - used[key], ZERO))
            if take > 0:
                plan[location_id] += take
                used[key] += take
                need -= take
        if need > 0:
            if free_stock is None:
                free_stock = {
                    (row_product, location_id, lot_id): quantity - reserved_quantity
                    for row_product, location_id, lot_id, quantity, reserved_quantity in StockBalance.objects.filter(
                        product_id__in=product_ids, location_id__in=location_ids
                    ).values_list("product_id", "location_id", "lot_id", "quantity", "reserved_quantity")
                }
            mine: dict[int, Decimal] = defaultdict(lambda: ZERO)
            for location_id, quantity in reservations:
                mine[location_id] += quantity
            for location_id in location_ids:
                if need <= 0:
                    break
                key = (product_id, location_id, line.lot_id)
                free = free_stock.get(key, ZERO) + mine[location_id] - used[key]
                take = min(need, max(free, ZERO))
                if take > 0:
                    plan[location_id] += take
                    used[key] += take
                    need -= take
        if need > 0:
            plan[root] += need
        plans[line.pk] = list(plan.items())
    return plans


def _shipment_line_key(key: str, sources: list[tuple[int, ShipmentLine]]) -> str:
    """`lines.<stock line>.<field>` of the issue document → `lines.<shipment line>.<field>`."""
    parts = key.split(".", 2)
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(sources):
        return f"lines.{sources[int(parts[1])][0]}.{parts[2]}"
    return key


def _check_tracking(lines: list[ShipmentLine]) -> None:
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        product = line.order_line.product
        if not product.is_stockable:
            continue
        if product.tracking == Tracking.LOT and line.lot_id is None:
            errors.setdefault(f"lines.{index}.lot", []).append(
                _("Line %(line)s: choose the lot of %(sku)s") % {"line": line_label(line.order_line), "sku": product.sku}
            )
        if product.tracking == Tracking.SERIAL and not line.serial:
            errors.setdefault(f"lines.{index}.serial", []).append(
                _("Line %(line)s: enter the serial number of %(sku)s") % {"line": line_label(line.order_line), "sku": product.sku}
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def shipment_post(*, actor: User, shipment_id: int, policy: StockPolicy | None = None) -> Shipment:
    """Ship: an inventory issue from the order's warehouse to the customers' location (reference = the order number,
    so the order's reservations are used first), money of each line as a part of its order line, the order lines'
    shipped quantity, the order's progress and, with `remind_after_months`, a reminder on the client."""
    shipment = _lock_shipment(shipment_id)
    if shipment.status != ShipmentStatus.DRAFT:
        raise InvalidTransition(_("Shipment %(shipment)s is already %(status)s") % {"shipment": shipment, "status": shipment.get_status_display().lower()}, status=shipment.status)
    order = _lock_order(shipment.order_id)
    _shippable_order(order)
    order_lines = _order_lines(order)
    lines = list(shipment.lines.select_related("lot").order_by("id"))
    if not lines:
        raise ValidationError({"lines": [_("Add at least one line before posting")]})
    for line in lines:
        line.order_line = order_lines[line.order_line_id]
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        totals[line.order_line_id] += line.quantity
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        order_line = line.order_line
        if totals.get(order_line.pk) is not None and totals[order_line.pk] > _remaining_to_ship(order_line):
            errors.setdefault(f"lines.{index}.quantity", []).append(
                _ship_limit_message() % {"line": line_label(order_line), "quantity": plain(totals[order_line.pk]), "limit": plain(max(_remaining_to_ship(order_line), ZERO))}
            )
            totals.pop(order_line.pk)
    if errors:
        raise ValidationError(errors)
    _check_tracking(lines)
    policy = policy or stock_policy()
    locations = _warehouse_locations(order)
    location_ids = [location.pk for location in locations]
    stock_lines: dict[int, list[StockDocumentLine]] = {}
    stockable = [line for line in lines if line.order_line.product.is_stockable]
    document = None
    if stockable:
        document = inventory.stock_document_create(
            actor=actor, document_type=DocumentType.ISSUE,
            data={
                "date": shipment.date, "counterparty": order.counterparty, "from_location": locations[0],
                "to_location": inventory.virtual_location(LocationKind.CUSTOMER), "reference": order.number,
                "notes": _("Shipment for order %(order)s") % {"order": order},
            },
        )
        plans = issue_plans(order=order, lines=stockable, location_ids=location_ids)
        by_id = {location.pk: location for location in locations}
        sources = [(index, line) for index, line in enumerate(lines) if line.pk in plans for _part in plans[line.pk]]
        try:
            added = inventory.stock_document_add_lines(
                actor=actor, document_id=document.pk,
                lines=[
                    {  # the rows themselves (read above in this transaction), so the issue's lines need no lookups
                        "product": line.order_line.product, "unit": line.order_line.unit, "quantity": plain(quantity),
                        "lot": line.lot, "serial": line.serial, "from_location": by_id[location_id],
                    }
                    for line in stockable for location_id, quantity in plans[line.pk]
                ],
            )
        except ValidationError as error:  # the stock line's errors under the shipment line they came from
            raise ValidationError({_shipment_line_key(key, sources): messages for key, messages in error.errors.items()}) from error
        for (_index, line), made in zip(sources, added, strict=True):
            stock_lines.setdefault(line.pk, []).extend(made)
        document = inventory.stock_document_post(actor=actor, document_id=document.pk, policy=policy)
        costs = dict(document.lines.values_list("id", "cost"))
    else:
        costs = {}
    done: dict[int, Decimal] = {pk: order_line.shipped_quantity for pk, order_line in order_lines.items()}
    for line in lines:
        order_line = line.order_line
        amounts = part_of_line(order, order_line, done=done[order_line.pk], quantity=line.quantity)
        done[order_line.pk] += line.quantity
        line.net_amount, line.tax_amount, line.total = amounts.net, amounts.tax, amounts.total
        line.cost = sum((costs.get(stock_line.pk) or ZERO for stock_line in stock_lines[line.pk]), ZERO) if line.pk in stock_lines else None
    update_many(lines, ["net_amount", "tax_amount", "total", "cost"])
    changed = []
    for order_line_id, shipped in done.items():
        order_line = order_lines[order_line_id]
        if shipped != order_line.shipped_quantity:
            shipped_now = shipped - order_line.shipped_quantity
            order_line.shipped_quantity = shipped
            order_line.reserved_quantity = max(order_line.reserved_quantity - shipped_now, ZERO)
            changed.append(order_line)
    update_many(changed, ["shipped_quantity", "reserved_quantity"])
    shipment.net_total = sum((line.net_amount for line in lines), ZERO)
    shipment.tax_total = sum((line.tax_amount for line in lines), ZERO)
    shipment.total = sum((line.total for line in lines), ZERO)
    shipment.cost = sum((line.cost or ZERO for line in lines), ZERO)
    shipment.stock_document = document
    shipment.status = ShipmentStatus.POSTED
    shipment.number = numbering.next_number("sales_shipment", on=shipment.date)
    shipment.posted_at = timezone.now()
    shipment.save(update_fields=["net_total", "tax_total", "total", "cost", "stock_document", "status", "number", "posted_at"])
    order_progress_refresh(order_id=order.pk, order=order, lines=list(order_lines.values()))
    order_follow_progress(actor=actor, order_id=order.pk, event="order_shipped", order=order, lines=list(order_lines.values()))
    audit.record(
        actor=actor, action=AuditAction.POST, target=shipment,
        changes={"number": shipment.number, "total": shipment.total, "cost": shipment.cost, "stock_document": document.number if document else None},
        message=f"{shipment.number}: {shipment.total} {order.currency}, cost {shipment.cost}" + (f", stock document {document.number}" if document else ""),
    )
    events.record_event(
        "sales.shipment.posted", target=shipment,
        payload={"number": shipment.number, "order": order.number, "total": str(shipment.total), "cost": str(shipment.cost)},
    )
    if shipment.remind_after_months:
        _set_reminder(actor=actor, shipment=shipment, order=order, lines=lines)
    return shipment


def reminder_definition_ensure(*, actor: User) -> StatusDefinition:
    """The counterparty status after-sales reminders use: "Maintenance due", kind remind (created once)."""
    definition = StatusDefinition.objects.filter(entity=REMINDER_ENTITY, name__iexact=REMINDER_STATUS_NAME).first()
    if definition is None:
        definition = status_definition_create(
            actor=actor, data={"entity": REMINDER_ENTITY, "name": REMINDER_STATUS_NAME, "kind": StatusKind.REMIND, "colour": "#b45309"}
        )
    return definition


def _set_reminder(*, actor: User, shipment: Shipment, order: SalesOrder, lines: list[ShipmentLine]) -> RecordStatus | None:
    definition = reminder_definition_ensure(actor=actor)
    if not definition.active:  # the company switched these reminders off; say so in the shipment's history
        audit.record(actor=actor, action=AuditAction.OTHER, target=shipment,
                     message=f"no reminder: the status '{definition.name}' is inactive")
        return None
    products = ", ".join(dict.fromkeys(f"{line.order_line.product.sku} {line.order_line.product.name}" for line in lines))
    note = _("Shipment %(shipment)s of %(date)s: %(products)s") % {
        "shipment": shipment.number, "date": shipment.date.isoformat(), "products": products,
    }
    return record_status_set(
        actor=actor, record=order.counterparty, definition_id=definition.pk,
        effective_from=add_months(shipment.date, shipment.remind_after_months or 0), note=note[:2000],
    )


def shipment_reminders(shipment: Shipment) -> list[RecordStatus]:
    """The reminders a shipment set on its client (their note names the shipment number)."""
    if not shipment.number:
        return []
    return list(
        RecordStatus.objects.filter(
            content_type__app_label="parties", content_type__model="counterparty", object_id=str(shipment.order.counterparty_id),
            definition__kind=StatusKind.REMIND, note__contains=f"{shipment.number} ",
        ).select_related("definition").order_by("effective_from", "id")
    )


@transaction.atomic
def shipment_cancel(*, actor: User, shipment_id: int, on: dt.date | None = None) -> Shipment:
    """Cancel a draft, or a posted shipment: its issue is reversed by moves dated `on` (default today), the order
    lines get the quantity back as a backorder and reserve it again from the stock that came back (or whatever is
    free in the warehouse by then), and a reminder it set that has not fired yet will not fire.
    Refused while any of its lines is invoiced or when goods of the order were returned beyond what would remain."""
    shipment = _lock_shipment(shipment_id)
    if shipment.status == ShipmentStatus.CANCELLED:
        raise InvalidTransition(_("Shipment %(shipment)s is already cancelled") % {"shipment": shipment}, status=shipment.status)
    now = timezone.now()
    if shipment.status == ShipmentStatus.DRAFT:
        shipment.status, shipment.cancelled_at = ShipmentStatus.CANCELLED, now
        shipment.save(update_fields=["status", "cancelled_at"])
        audit.record(actor=actor, action=AuditAction.CANCEL, target=shipment, changes={"status": [ShipmentStatus.DRAFT, ShipmentStatus.CANCELLED]})
        return shipment
    order = _lock_order(shipment.order_id)
    order_lines = _order_lines(order)
    lines = list(shipment.lines.order_by("id"))
    invoiced = [line for line in lines if line.invoiced_quantity > 0]
    if invoiced:
        first = invoiced[0]
        raise Conflict(
            _("Shipment %(shipment)s is invoiced (line %(line)s: %(quantity)s invoiced): cancel the invoice first") % {
                "shipment": shipment, "line": line_label(order_lines[first.order_line_id]), "quantity": plain(first.invoiced_quantity),
            },
            code="shipment_invoiced", field="status",
        )
    back: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        back[line.order_line_id] += line.quantity
    for order_line_id, quantity in back.items():
        order_line = order_lines[order_line_id]
        if order_line.shipped_quantity - quantity < order_line.returned_quantity:
            raise Conflict(
                _("Line %(line)s: %(returned)s of it came back from the client; cancel the return first") % {
                    "line": line_label(order_line), "returned": plain(order_line.returned_quantity),
                },
                code="shipment_returned", field="status",
            )
    on = on or timezone.localdate()
    if on < shipment.date:
        raise ValidationError({"date": [_("A cancellation cannot be dated before the shipment")]})
    if shipment.stock_document_id:
        inventory.stock_document_cancel(actor=actor, document_id=shipment.stock_document_id, policy=stock_policy(), on=on)
    for order_line_id, quantity in back.items():
        order_lines[order_line_id].shipped_quantity -= quantity
    update_many([order_lines[pk] for pk in back], ["shipped_quantity"])
    for reminder in shipment_reminders(shipment):
        if reminder.notified_at is None:
            cancel_timers(kind=REMIND_TIMER, target=reminder)
    shipment.status, shipment.cancelled_at = ShipmentStatus.CANCELLED, now
    shipment.save(update_fields=["status", "cancelled_at"])
    order = order_progress_refresh(order_id=order.pk, order=order, lines=list(order_lines.values()))
    if order.status == OrderStatus.CONFIRMED:  # the goods are back on the shelf: the order holds them again
        order_backorder_reserve(
            actor=actor, order=order, lines=[order_lines[pk] for pk in back],
            message=f"reserved again: shipment {shipment.number} cancelled",
        )
    audit.record(actor=actor, action=AuditAction.CANCEL, target=shipment, changes={"status": [ShipmentStatus.POSTED, ShipmentStatus.CANCELLED], "date": on})
    events.record_event("sales.shipment.cancelled", target=shipment, payload={"number": shipment.number, "order": order.number})
    return shipment


# ----------------------------------------------------------------------------------------------- returns


def _returnable_order(order: SalesOrder) -> None:
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.DONE):
        raise InvalidTransition(
            _("Order %(order)s is %(status)s: goods come back only on a confirmed or done order") % {
                "order": order, "status": order.get_status_display().lower(),
            },
            code="order_not_confirmed", field="order", status=order.status,
        )


def _write_return_lines(sales_return: SalesReturn, lines: list[dict[str, Any]]) -> None:
    SalesReturnLine.objects.bulk_create(
        [
            SalesReturnLine(sales_return=sales_return, order_line=line["order_line"], quantity=line["quantity"], lot=line["lot"], serial=line["serial"])
            for line in lines
        ]
    )


@transaction.atomic
def sales_return_create(*, actor: User, order_id: int, data: dict[str, Any]) -> SalesReturn:
    """A draft return of shipped goods: each line at most what was shipped and not yet returned."""
    order = _lock_order(order_id)
    _returnable_order(order)
    errors: dict[str, list[str]] = {}
    data = {"date": timezone.localdate(), **data}
    header = _header(data, errors=errors, fields=("date", "reason"))
    lines: list[dict[str, Any]] = []
    try:
        lines = _clean_lines(order, _order_lines(order), data.get("lines"), limit_of=_returnable, limit_message=_return_limit_message(), suggest=False)
    except ValidationError as error:
        for key, messages in error.errors.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    sales_return = SalesReturn.objects.create(order=order, author=actor, **header)
    _write_return_lines(sales_return, lines)
    audit.record(
        actor=actor, action=AuditAction.CREATE, target=sales_return,
        changes={**audit.snapshot(sales_return), "lines": _lines_text(sales_return.lines.select_related("order_line__product", "lot"))},
    )
    return sales_return


def _lock_return(return_id: int) -> SalesReturn:
    sales_return = SalesReturn.objects.select_for_update().filter(pk=return_id).first()
    if sales_return is None:
        raise NotFound(_("Return %(id)s not found") % {"id": return_id})
    return sales_return


@transaction.atomic
def sales_return_update(*, actor: User, return_id: int, data: dict[str, Any]) -> SalesReturn:
    sales_return = _lock_return(return_id)
    if sales_return.status != ShipmentStatus.DRAFT:
        raise InvalidTransition(_("Only a draft return can be edited; cancel a posted one instead"), status=sales_return.status)
    order = _lock_order(sales_return.order_id)
    errors: dict[str, list[str]] = {}
    header = _header(data, errors=errors, fields=("date", "reason"))
    lines: list[dict[str, Any]] | None = None
    if data.get("lines") is not None:
        try:
            lines = _clean_lines(order, _order_lines(order), data["lines"], limit_of=_returnable, limit_message=_return_limit_message(), suggest=False)
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return _save_draft(actor=actor, document=sales_return, header=header, lines=lines, write_lines=_write_return_lines)


def shipped_unit_cost(order_line: SalesOrderLine, *, lot_id: int | None = None) -> Decimal | None:
    """The cost per unit (of the line's unit) the goods of this order line left with: the cost of its posted
    shipment lines (of that lot, when there are any of it) over their quantity. None when nothing was costed."""
    lines = ShipmentLine.objects.filter(order_line=order_line, shipment__status=ShipmentStatus.POSTED, cost__isnull=False)
    if lot_id is not None and lines.filter(lot_id=lot_id).exists():
        lines = lines.filter(lot_id=lot_id)
    quantity, cost = ZERO, ZERO
    for line_quantity, line_cost in lines.values_list("quantity", "cost"):
        quantity += line_quantity
        cost += line_cost
    if quantity <= 0:
        return None
    return (cost / quantity).quantize(Decimal("0.000001"))


@transaction.atomic
def sales_return_post(*, actor: User, return_id: int, policy: StockPolicy | None = None) -> SalesReturn:
    """Take goods back: an inventory return from customers into the order's warehouse at the cost they left with,
    money of each line as a part of its order line, the order lines' returned quantity and the order's progress."""
    sales_return = _lock_return(return_id)
    if sales_return.status != ShipmentStatus.DRAFT:
        raise InvalidTransition(_("Return %(document)s is already %(status)s") % {"document": sales_return, "status": sales_return.get_status_display().lower()}, status=sales_return.status)
    order = _lock_order(sales_return.order_id)
    _returnable_order(order)
    order_lines = _order_lines(order)
    lines = list(sales_return.lines.select_related("lot").order_by("id"))
    if not lines:
        raise ValidationError({"lines": [_("Add at least one line before posting")]})
    for line in lines:
        line.order_line = order_lines[line.order_line_id]
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        totals[line.order_line_id] += line.quantity
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        order_line = line.order_line
        if order_line.pk in totals and totals[order_line.pk] > _returnable(order_line):
            errors.setdefault(f"lines.{index}.quantity", []).append(
                _return_limit_message() % {"line": line_label(order_line), "quantity": plain(totals.pop(order_line.pk)), "limit": plain(max(_returnable(order_line), ZERO))}
            )
    if errors:
        raise ValidationError(errors)
    _check_tracking(lines)  # type: ignore[arg-type]
    policy = policy or stock_policy()
    stockable = [line for line in lines if line.order_line.product.is_stockable]
    document = None
    if stockable:
        document = inventory.stock_document_create(
            actor=actor, document_type=DocumentType.CUSTOMER_RETURN,
            data={
                "date": sales_return.date, "counterparty": order.counterparty_id, "to_location": _stock_location(order).pk,
                "reference": order.number, "notes": _("Return from the client on order %(order)s") % {"order": order},
            },
        )
        for line in stockable:
            data: dict[str, Any] = {
                "product": line.order_line.product_id, "unit": line.order_line.unit_id, "quantity": plain(line.quantity),
                "lot": line.lot_id, "serial": line.serial,
            }
            unit_cost = shipped_unit_cost(line.order_line, lot_id=line.lot_id)
            if unit_cost is not None:
                data["unit_cost"] = plain(unit_cost)
            inventory.stock_document_add_line(actor=actor, document_id=document.pk, data=data)
        document = inventory.stock_document_post(actor=actor, document_id=document.pk, policy=policy)
    done: dict[int, Decimal] = {pk: order_line.returned_quantity for pk, order_line in order_lines.items()}
    for line in lines:
        order_line = line.order_line
        amounts = part_of_line(order, order_line, done=done[order_line.pk], quantity=line.quantity)
        done[order_line.pk] += line.quantity
        line.net_amount, line.tax_amount, line.total = amounts.net, amounts.tax, amounts.total
    update_many(lines, ["net_amount", "tax_amount", "total"])
    for order_line_id, returned in done.items():
        order_line = order_lines[order_line_id]
        if returned != order_line.returned_quantity:
            order_line.returned_quantity = returned
            order_line.save(update_fields=["returned_quantity"])
    sales_return.net_total = sum((line.net_amount for line in lines), ZERO)
    sales_return.tax_total = sum((line.tax_amount for line in lines), ZERO)
    sales_return.total = sum((line.total for line in lines), ZERO)
    sales_return.stock_document = document
    sales_return.status = ShipmentStatus.POSTED
    sales_return.number = numbering.next_number("sales_return", on=sales_return.date)
    sales_return.posted_at = timezone.now()
    sales_return.save(update_fields=["net_total", "tax_total", "total", "stock_document", "status", "number", "posted_at"])
    order_progress_refresh(order_id=order.pk)
    audit.record(
        actor=actor, action=AuditAction.POST, target=sales_return,
        changes={"number": sales_return.number, "total": sales_return.total, "stock_document": document.number if document else None,
                 "value": document.total_value if document else None},
        message=f"{sales_return.number}: {sales_return.total} {order.currency}" + (f", stock document {document.number}, value {document.total_value}" if document else ""),
    )
    events.record_event(
        "sales.return.posted", target=sales_return,
        payload={"number": sales_return.number, "order": order.number, "total": str(sales_return.total)},
    )
    return sales_return


@transaction.atomic
def sales_return_cancel(*, actor: User, return_id: int, on: dt.date | None = None) -> SalesReturn:
    """Cancel a draft, or a posted return (its stock document is reversed on `on`, default today). Refused while a
    credit note that is not cancelled refers to it."""
    sales_return = _lock_return(return_id)
    if sales_return.status == ShipmentStatus.CANCELLED:
        raise InvalidTransition(_("Return %(document)s is already cancelled") % {"document": sales_return}, status=sales_return.status)
    if sales_return.status == ShipmentStatus.DRAFT:
        sales_return.status = ShipmentStatus.CANCELLED
        sales_return.save(update_fields=["status"])
        audit.record(actor=actor, action=AuditAction.CANCEL, target=sales_return, changes={"status": [ShipmentStatus.DRAFT, ShipmentStatus.CANCELLED]})
        return sales_return
    credit_note = sales_return.credit_notes.exclude(status="cancelled").first()
    if credit_note is not None:
        raise Conflict(
            _("Return %(document)s has credit note %(note)s: cancel the credit note first") % {"document": sales_return, "note": credit_note.number or credit_note.pk},
            code="return_credited", field="status",
        )
    order = _lock_order(sales_return.order_id)
    order_lines = _order_lines(order)
    on = on or timezone.localdate()
    if on < sales_return.date:
        raise ValidationError({"date": [_("A cancellation cannot be dated before the return")]})
    if sales_return.stock_document_id:
        inventory.stock_document_cancel(actor=actor, document_id=sales_return.stock_document_id, policy=stock_policy(), on=on)
    for line in sales_return.lines.all():
        order_line = order_lines[line.order_line_id]
        order_line.returned_quantity -= line.quantity
        order_line.save(update_fields=["returned_quantity"])
    sales_return.status = ShipmentStatus.CANCELLED
    sales_return.save(update_fields=["status"])
    order_progress_refresh(order_id=order.pk)
    audit.record(actor=actor, action=AuditAction.CANCEL, target=sales_return, changes={"status": [ShipmentStatus.POSTED, ShipmentStatus.CANCELLED], "date": on})
    events.record_event("sales.return.cancelled", target=sales_return, payload={"number": sales_return.number, "order": order.number})
    return sales_return


__all__ = [
    "add_months", "default_remind_after_months", "default_shipment_lines", "lot_suggestion", "part_of_line", "reminder_definition_ensure",
    "sales_return_cancel", "sales_return_create", "sales_return_post", "sales_return_update", "serial_suggestion", "shipment_cancel",
    "shipment_create", "shipment_post", "shipment_reminders", "shipment_update", "shipped_unit_cost",
]
