"""A shipment wave: ship everything left on many confirmed orders at once (docs/adr/0005-batch-document-services.md).

    shipments_post_wave(actor=, order_ids=[...], data={"date", "remind_after_months", "notes"}) -> [Shipment]

Each order gets what `shipment_create` (every line with something left, lots and serials suggested) followed by
`shipment_post` would give it — the same checks, the same issue document from the order's warehouse with the order's
reservations used first, the same money per line, costs, order progress, deal following, reminders, audit rows and
events — but in one transaction for the whole wave, with every table read and written once for all the orders. One
refused order refuses the wave; the errors name it as `orders.<index>` (its place in `order_ids`) and its number.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, events, numbering
from fabrika.core.audit import AuditAction
from fabrika.core.db import batch_gc, column_in, insert_many, update_many
from fabrika.core.errors import DomainError, NotFound, ValidationError
from fabrika.core.models import User
from fabrika.inventory import services as inventory
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import VALUED_KINDS, DocumentType, LocationKind, ReservationStatus
from fabrika.inventory.models import Location, Reservation, StockDocumentLine
from fabrika.inventory.posting import stock_documents_post_many
from fabrika.inventory.selectors import stock_policy

from .batch_orders import MAX_BATCH, clean_order_ids
from .deals import order_follow_progress
from .models import SalesOrder, SalesOrderLine, Shipment, ShipmentLine, ShipmentStatus
from .progress import order_progress_refresh
from .services_shipments import (
    _check_tracking,
    _clean_lines,
    _header,
    _lines_text,
    _remaining_to_ship,
    _set_reminder,
    _ship_limit_message,
    _shippable_order,
    default_shipment_lines,
    issue_plans,
    part_of_line,
    plain,
)
from .totals import ZERO

MAX_WAVE = MAX_BATCH


def _prefixed(errors: dict, prefix: str, error: DomainError) -> None:
    found = error.field_errors() if hasattr(error, "field_errors") else {}
    if not found:
        found = {"": [error.message]}
    for key, messages in found.items():
        errors.setdefault(f"{prefix}.{key}" if key else prefix, []).extend(messages)


def _warehouse_locations(warehouse_ids: set[int]) -> dict[int, list[Location]]:
    """Each warehouse's valued locations, its root first, then zones and bins by id (as a single shipment takes them)."""
    found: dict[int, list[Location]] = defaultdict(list)
    for location in Location.objects.filter(warehouse_id__in=warehouse_ids, kind__in=list(VALUED_KINDS)).order_by("id"):
        found[location.warehouse_id].append(location)
    return {key: sorted(rows, key=lambda location: location.parent_id is not None) for key, rows in found.items()}


def _default_reminders(order_ids: list[int]) -> dict[int, int]:
    """`default_remind_after_months` of every order at once: the period of its latest shipment that had one."""
    found: dict[int, int] = {}
    for order_id, months in (
        Shipment.objects.filter(column_in(Shipment, "order_id", order_ids), remind_after_months__isnull=False)
        .exclude(status=ShipmentStatus.CANCELLED).order_by("order_id", "-date", "-id").values_list("order_id", "remind_after_months")
    ):
        found.setdefault(order_id, months)
    return found


@batch_gc()
@transaction.atomic
def shipments_post_wave(
    *, actor: User, order_ids: list[int], data: dict[str, Any] | None = None, policy: StockPolicy | None = None
) -> list[Shipment]:
    """Ship everything left on each order (see the module docstring); returns the posted shipments in order id order."""
    data = {"date": timezone.localdate(), **(data or {})}
    errors: dict[str, list[str]] = {}
    ids = clean_order_ids(order_ids)
    header = _header(data, errors=errors, fields=("date", "remind_after_months", "notes"))
    if errors:
        raise ValidationError(errors)
    place = {order_id: index for index, order_id in enumerate(ids)}
    orders = list(
        SalesOrder.objects.select_for_update().select_related("warehouse", "counterparty").filter(column_in(SalesOrder, "id", ids)).order_by("id")
    )
    missing = set(ids) - {order.pk for order in orders}
    if missing:
        raise NotFound(_("Sales order %(id)s not found") % {"id": min(missing)}, field=f"order_ids.{place[min(missing)]}")
    order_lines: dict[int, dict[int, SalesOrderLine]] = defaultdict(dict)
    for line in (
        SalesOrderLine.objects.select_for_update().filter(column_in(SalesOrderLine, "order_id", ids))
        .select_related("product", "unit").order_by("order_id", "position", "id")
    ):
        order_lines[line.order_id][line.pk] = line
    reminders = _default_reminders(ids) if "remind_after_months" not in data else {}

    # 1. what each shipment takes: the single path's checks, per order, without a query for untracked products
    planned: list[tuple[SalesOrder, list[ShipmentLine]]] = []
    for order in orders:
        prefix = f"orders.{place[order.pk]}"
        try:
            _shippable_order(order)
            raw = default_shipment_lines(order, order_lines[order.pk])
            if not raw:
                raise ValidationError({"lines": [_("Everything on order %(order)s is already shipped") % {"order": order}]})
            cleaned = _clean_lines(
                order, order_lines[order.pk], raw, limit_of=_remaining_to_ship, limit_message=_ship_limit_message(), suggest=True,
            )
            lines = [
                ShipmentLine(order_line=line["order_line"], quantity=line["quantity"], lot=line["lot"], serial=line["serial"])
                for line in cleaned
            ]
            _check_tracking(lines)
        except DomainError as error:
            _prefixed(errors, prefix, error)
            errors.setdefault(prefix, []).insert(0, _("Order %(order)s cannot ship") % {"order": order})
            continue
        planned.append((order, lines))
    if errors:
        raise ValidationError(errors)

    # 2. the draft shipments and their lines
    shipments = insert_many([
        Shipment(
            order=order, author=actor, date=header["date"], notes=header.get("notes", ""),
            remind_after_months=header["remind_after_months"] if "remind_after_months" in header else reminders.get(order.pk),
        )
        for order, _lines in planned
    ])
    for shipment, (_order, lines) in zip(shipments, planned, strict=True):
        for line in lines:
            line.shipment = shipment
    insert_many([line for _order, lines in planned for line in lines])

    # 3. one issue per shipment from its warehouse (this order's reservations first), created and posted together
    policy = policy or stock_policy()
    locations = _warehouse_locations({order.warehouse_id for order, _lines in planned})
    customer = inventory.virtual_location(LocationKind.CUSTOMER)
    reserved: dict[str, list[tuple[int, int | None, int, Decimal]]] = defaultdict(list)
    for reference, product_id, lot_id, location_id, quantity in (
        Reservation.objects.filter(column_in(Reservation, "reference", [order.number for order, _lines in planned]), status=ReservationStatus.ACTIVE)
        .order_by("id").values_list("reference", "product_id", "lot_id", "location_id", "quantity")
    ):
        reserved[reference].append((product_id, lot_id, location_id, quantity))
    issues: list[dict[str, Any]] = []
    issued: list[tuple[int, list[tuple[int, ShipmentLine]]]] = []  # (planned index, [(shipment line index, line)] per stock line)
    for position, (order, lines) in enumerate(planned):
        stockable = [line for line in lines if line.order_line.product.is_stockable]
        if not stockable:
            continue
        where = locations.get(order.warehouse_id) or [inventory.warehouse_root(order.warehouse)]
        by_id = {location.pk: location for location in where}
        plans = issue_plans(order=order, lines=stockable, location_ids=list(by_id), reservations=reserved.get(order.number, []))
        sources = [(index, line) for index, line in enumerate(lines) if line.pk in plans for _part in plans[line.pk]]
        issues.append({
            "data": {
                "date": header["date"], "counterparty": order.counterparty, "from_location": where[0], "to_location": customer,
                "reference": order.number, "notes": _("Shipment for order %(order)s") % {"order": order},
            },
            "lines": [
                {
                    "product": line.order_line.product, "unit": line.order_line.unit, "quantity": plain(quantity),
                    "lot": line.lot, "serial": line.serial, "from_location": by_id[location_id],
                }
                for line in stockable for location_id, quantity in plans[line.pk]
            ],
        })
        issued.append((position, sources))
    made: list = []
    if issues:
        try:
            made = inventory.stock_documents_create_many(actor=actor, document_type=DocumentType.ISSUE, documents=issues, record=False)
            stock_documents_post_many(actor=actor, documents=[document for document, _groups in made], policy=policy)
        except ValidationError as error:
            raise ValidationError(_wave_errors(error.errors, planned, issued, place)) from error
    stock_lines: dict[int, list[StockDocumentLine]] = defaultdict(list)  # shipment line id -> its issue lines
    documents: dict[int, Any] = {}
    for (position, sources), (document, groups) in zip(issued, made, strict=True):
        documents[position] = document
        for (_index, line), group in zip(sources, groups, strict=True):
            stock_lines[line.pk].extend(group)
    costs = dict(
        StockDocumentLine.objects.filter(column_in(StockDocumentLine, "document_id", [document.pk for document in documents.values()]))
        .values_list("id", "cost")
    ) if documents else {}

    # 4. money per line as a part of its order line, the order lines' shipped quantity, the shipments posted
    numbers = numbering.next_numbers("sales_shipment", len(planned), on=header["date"])
    posted_at = timezone.now()
    changed_lines: list[SalesOrderLine] = []
    for position, (shipment, (order, lines)) in enumerate(zip(shipments, planned, strict=True)):
        mine = order_lines[order.pk]
        done: dict[int, Decimal] = {pk: order_line.shipped_quantity for pk, order_line in mine.items()}
        for line in lines:
            order_line = mine[line.order_line_id]
            amounts = part_of_line(order, order_line, done=done[order_line.pk], quantity=line.quantity)
            done[order_line.pk] += line.quantity
            line.net_amount, line.tax_amount, line.total = amounts.net, amounts.tax, amounts.total
            line.cost = sum((costs.get(stock_line.pk) or ZERO for stock_line in stock_lines[line.pk]), ZERO) if line.pk in stock_lines else None
        for order_line_id, shipped in done.items():
            order_line = mine[order_line_id]
            if shipped != order_line.shipped_quantity:
                order_line.reserved_quantity = max(order_line.reserved_quantity - (shipped - order_line.shipped_quantity), ZERO)
                order_line.shipped_quantity = shipped
                changed_lines.append(order_line)
        shipment.net_total = sum((line.net_amount for line in lines), ZERO)
        shipment.tax_total = sum((line.tax_amount for line in lines), ZERO)
        shipment.total = sum((line.total for line in lines), ZERO)
        shipment.cost = sum((line.cost or ZERO for line in lines), ZERO)
        shipment.stock_document = documents.get(position)
        shipment.status, shipment.number, shipment.posted_at = ShipmentStatus.POSTED, numbers[position], posted_at
    update_many([line for _order, lines in planned for line in lines], ["net_amount", "tax_amount", "total", "cost"])
    update_many(changed_lines, ["shipped_quantity", "reserved_quantity"])
    update_many(shipments, ["net_total", "tax_total", "total", "cost", "stock_document", "status", "number", "posted_at"])

    # 5. what follows each shipment: order progress, the deal, history, events, reminders
    for order, _lines in planned:
        lines_now = list(order_lines[order.pk].values())
        order_progress_refresh(order_id=order.pk, order=order, lines=lines_now)
        order_follow_progress(actor=actor, order_id=order.pk, event="order_shipped", order=order, lines=lines_now)
    audit.record_many(actor=actor, action=AuditAction.POST, entries=[  # created and posted at once: one row says both
        (
            shipment,
            {"number": shipment.number, "date": shipment.date, "remind_after_months": shipment.remind_after_months, "lines": _lines_text(lines),
             "total": shipment.total, "cost": shipment.cost, "stock_document": shipment.stock_document.number if shipment.stock_document else None},
            f"{shipment.number} (shipment wave): {shipment.total} {order.currency}, cost {shipment.cost}"
            + (f", stock document {shipment.stock_document.number}" if shipment.stock_document else ""),
        )
        for shipment, (order, lines) in zip(shipments, planned, strict=True)
    ])
    events.record_events([
        ("sales.shipment.posted", shipment,
         {"number": shipment.number, "order": order.number, "total": str(shipment.total), "cost": str(shipment.cost)})
        for shipment, (order, _lines) in zip(shipments, planned, strict=True)
    ])
    for shipment, (order, lines) in zip(shipments, planned, strict=True):
        if shipment.remind_after_months:
            _set_reminder(actor=actor, shipment=shipment, order=order, lines=lines)
    return shipments


def _wave_errors(
    errors: dict[str, list[str]], planned: list[tuple[SalesOrder, list[ShipmentLine]]],
    issued: list[tuple[int, list[tuple[int, ShipmentLine]]]], place: dict[int, int],
) -> dict[str, list[str]]:
    """The issues' errors (`documents.<issue>.lines.<stock line>.<field>`) under the order and shipment line they came
    from (`orders.<index>.lines.<shipment line>.<field>`)."""
    mapped: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "documents" and parts[1].isdigit() and int(parts[1]) < len(issued):
            position, sources = issued[int(parts[1])]
            order = planned[position][0]
            target = f"orders.{place[order.pk]}"
            rest = parts[2:]
            if len(rest) >= 2 and rest[0] == "lines" and rest[1].isdigit() and int(rest[1]) < len(sources):
                rest = ["lines", str(sources[int(rest[1])][0]), *rest[2:]]
            key = ".".join([target, *rest])
            messages = [f"{order}: {message}" for message in messages]
        mapped.setdefault(key, []).extend(messages)
    return mapped


__all__ = ["MAX_WAVE", "shipments_post_wave"]
