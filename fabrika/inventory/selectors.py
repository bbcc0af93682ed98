"""Inventory reads: policy, availability, documents for a user, and the stock reports (on hand at a date,
turnover, valuation, expiring lots, serial whereabouts, FIFO origins).

Reports sum moves in SQL. On SQLite a SUM of decimals comes back as a float; every figure here is rounded back to
4 (quantity) or 2 (money) places, which is exact for the sizes a report sums. Posting never reads these sums:
posting decisions use the locked balances and layers in Python (engine.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from fabrika.catalog.models import Product
from fabrika.catalog.selectors import valuation_methods
from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped
from fabrika.core.selectors import company_settings

from .engine import StockPolicy
from .enums import VALUED_KINDS, LocationKind
from .models import (
    CostLayer,
    LayerConsumption,
    Location,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockDocument,
    StockMove,
    StockSnapshot,
    Warehouse,
)
from .valuation import ZERO, money, quantity

Key = tuple[int, int, int | None]


def stock_policy() -> StockPolicy:
    settings = company_settings()
    return StockPolicy(allow_negative_stock=settings.allow_negative_stock, default_valuation_method=settings.default_valuation_method)


def product_valuation_method(product_id: int) -> str:
    return valuation_methods([product_id], default=company_settings().default_valuation_method)[product_id]


# ----------------------------------------------------------------------------------------------- lists


def warehouse_list() -> QuerySet[Warehouse]:
    return Warehouse.objects.order_by("code")


def location_list(*, warehouse_id: int | None = None, kind: str = "", include_virtual: bool = True) -> QuerySet[Location]:
    queryset = Location.objects.select_related("warehouse", "parent")
    if warehouse_id:
        queryset = queryset.filter(warehouse_id=warehouse_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if not include_virtual:
        queryset = queryset.filter(kind=LocationKind.INTERNAL)
    return queryset.order_by("path", "id")


def location_subtree_ids(location_id: int) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Location.objects.values_list("id", "parent_id"):
        children[parent_id].append(pk)
    found, stack = set(), [location_id]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children[current])
    return found


def stock_document_list_for_user(
    user: User, *, document_type: str = "", status: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
    search: str = "",
) -> QuerySet[StockDocument]:
    queryset = scoped(StockDocument.objects.select_related("counterparty", "author"), user, responsible_field="author")
    if document_type:
        queryset = queryset.filter(document_type=document_type)
    if status:
        queryset = queryset.filter(status=status)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(reference__icontains=search) | Q(counterparty__name__icontains=search))
    return queryset.order_by("-date", "-id")


def stock_document_get_for_user(user: User, document_id: int) -> StockDocument:
    queryset = StockDocument.objects.select_related("counterparty", "author", "from_location", "to_location").prefetch_related(
        "lines__product", "lines__unit", "lines__lot", "lines__from_location", "lines__to_location"
    )
    return get_scoped(queryset, user, document_id, responsible_field="author")


def available_quantity(*, product_id: int, location_id: int, lot_id: int | None = None) -> Decimal:
    """On hand − reserved at one location (and lot)."""
    row = StockBalance.objects.filter(product_id=product_id, location_id=location_id, lot_id=lot_id).first()
    return (row.quantity - row.reserved_quantity) if row else ZERO


def reservation_list(*, reference: str = "", product_id: int | None = None, active_only: bool = True) -> QuerySet[Reservation]:
    queryset = Reservation.objects.select_related("product", "location", "lot", "serial")
    if reference:
        queryset = queryset.filter(reference=reference)
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    if active_only:
        queryset = queryset.filter(status="active")
    return queryset.order_by("-created_at", "-id")


# ----------------------------------------------------------------------------------------------- on hand at a date


def _valued_ids() -> set[int]:
    return set(Location.objects.filter(kind__in=list(VALUED_KINDS)).values_list("id", flat=True))


def _exact(value, step) -> Decimal:
    if value is None:
        return ZERO
    return quantity(Decimal(str(value))) if step == "q" else money(Decimal(str(value)))


def _move_sums(moves: QuerySet, *, product_ids, location_ids: set[int], per_product: bool = False) -> dict[tuple, list[Decimal]]:
    """Net (quantity, value) over these moves, for the given locations, per product × location × lot, or per product
    (keys `(product_id,)`) when `per_product`."""
    result: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    if product_ids is not None:
        moves = moves.filter(product_id__in=list(product_ids))
    incoming = (
        moves.filter(to_location_id__in=location_ids)
        .values_list(*(("product_id",) if per_product else ("product_id", "to_location_id", "lot_id")))
        .annotate(q=Sum("quantity"), v=Sum(F("value") + F("adjustment_value")))
        .order_by()
    )
    for *key, q, v in incoming:
        row = result[tuple(key)]
        row[0] += _exact(q, "q")
        row[1] += _exact(v, "m")
    outgoing = (
        moves.filter(from_location_id__in=location_ids)
        .values_list(*(("product_id",) if per_product else ("product_id", "from_location_id", "lot_id")))
        .annotate(q=Sum("quantity"), v=Sum("value"))
        .order_by()
    )
    for *key, q, v in outgoing:
        row = result[tuple(key)]
        row[0] -= _exact(q, "q")
        row[1] -= _exact(v, "m")
    return result


def _on_hand(*, at: dt.date, product_ids, locations: set[int], per_product: bool) -> dict[tuple, tuple[Decimal, Decimal]]:
    """(quantity, value) at the end of day `at` per product × location × lot, or per product (keys `(product_id,)`,
    summed by the database: a tenth of the rows to carry for 10,000 products in 5 warehouses).

    Starts from the nearest month-end snapshot on or before `at` and adds the moves since; without one, starts from
    today's balances and takes back the moves after `at`. Either way only a window of moves is summed."""
    snapshot_date = StockSnapshot.objects.filter(date__lte=at).order_by("-date").values_list("date", flat=True).first()
    if snapshot_date is not None:
        base = StockSnapshot.objects.filter(date=snapshot_date, location_id__in=locations)
        moves = StockMove.objects.filter(date__gt=snapshot_date, date__lte=at)
        sign = 1
    else:
        base = StockBalance.objects.filter(location_id__in=locations).exclude(quantity=0, value=0)
        moves = StockMove.objects.filter(date__gt=at)
        sign = -1
    if product_ids is not None:
        base = base.filter(product_id__in=list(product_ids))
    totals: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    if per_product:
        for product_id, q, v in base.values_list("product_id").annotate(q=Sum("quantity"), v=Sum("value")).order_by():
            totals[(product_id,)] = [_exact(q, "q"), _exact(v, "m")]
    else:
        for product_id, location_id, lot_id, q, v in base.values_list("product_id", "location_id", "lot_id", "quantity", "value"):
            totals[(product_id, location_id, lot_id)] = [q, v]
    window = _move_sums(moves, product_ids=product_ids, location_ids=locations, per_product=per_product)
    for key, (q, v) in window.items():
        row = totals[key]
        row[0] += sign * q
        row[1] += sign * v
    return {key: (q, v) for key, (q, v) in totals.items() if q or v}


def stock_on_hand_rows(*, at: dt.date, product_ids=None, location_ids: set[int] | None = None) -> dict[Key, tuple[Decimal, Decimal]]:
    """(quantity, value) per product × location × lot at the end of day `at` (see _on_hand)."""
    locations = location_ids if location_ids is not None else _valued_ids()
    return _on_hand(at=at, product_ids=product_ids, locations=locations, per_product=False)  # type: ignore[return-value]


def stock_on_hand(
    *, at: dt.date | None = None, warehouse_id: int | None = None, location_id: int | None = None, product_ids=None,
    group_by: str = "location",
) -> list[dict]:
    """Stock on hand with value at the end of a day, grouped by "product", "warehouse", "location" or "lot"."""
    at = at or timezone.localdate()
    locations = _valued_ids()
    if warehouse_id:
        locations &= set(Location.objects.filter(warehouse_id=warehouse_id).values_list("id", flat=True))
    if location_id:
        locations &= location_subtree_ids(location_id)
    if group_by == "product":
        return [
            {"product_id": product_id, "warehouse_id": None, "location_id": None, "lot_id": None, "quantity": q, "value": v}
            for (product_id,), (q, v) in sorted(_on_hand(at=at, product_ids=product_ids, locations=locations, per_product=True).items())
        ]
    rows = stock_on_hand_rows(at=at, product_ids=product_ids, location_ids=locations)
    warehouse_of = dict(Location.objects.filter(pk__in={key[1] for key in rows}).values_list("id", "warehouse_id"))
    grouped: dict[tuple, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for (product_id, location, lot_id), (q, v) in rows.items():
        if group_by == "warehouse":
            group = (product_id, warehouse_of.get(location), None, None)
        elif group_by == "lot":
            group = (product_id, warehouse_of.get(location), location, lot_id)
        else:
            group = (product_id, warehouse_of.get(location), location, None)
        grouped[group][0] += q
        grouped[group][1] += v
    result = [
        {"product_id": g[0], "warehouse_id": g[1], "location_id": g[2], "lot_id": g[3], "quantity": q, "value": v}
        for g, (q, v) in grouped.items()
        if q or v
    ]
    result.sort(key=lambda row: (row["product_id"], row["warehouse_id"] or 0, row["location_id"] or 0, row["lot_id"] or 0))
    return result


# ----------------------------------------------------------------------------------------------- turnover, valuation


def turnover(
    *, date_from: dt.date, date_to: dt.date, warehouse_id: int | None = None, location_id: int | None = None, product_ids=None,
) -> list[dict]:
    """Per product: opening (end of the day before `date_from`), in, out, closing (end of `date_to`) in quantity and
    value, for the chosen warehouse/location (all own locations by default). Moves inside the scope (a transfer
    between two of its locations) are neither in nor out; a revaluation counts as value in."""
    locations = _valued_ids()
    if warehouse_id:
        locations &= set(Location.objects.filter(warehouse_id=warehouse_id).values_list("id", flat=True))
    if location_id:
        locations &= location_subtree_ids(location_id)
    opening = stock_on_hand_rows(at=date_from - dt.timedelta(days=1), product_ids=product_ids, location_ids=locations)
    closing = stock_on_hand_rows(at=date_to, product_ids=product_ids, location_ids=locations)
    moves = StockMove.objects.filter(date__gte=date_from, date__lte=date_to)
    if product_ids is not None:
        moves = moves.filter(product_id__in=list(product_ids))
    rows: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for source, key in ((opening, "opening"), (closing, "closing")):
        for (product_id, _location, _lot), (q, v) in source.items():
            rows[product_id][f"{key}_quantity"] += q
            rows[product_id][f"{key}_value"] += v
    incoming = (
        moves.filter(to_location_id__in=locations).exclude(from_location_id__in=locations)
        .values_list("product_id").annotate(q=Sum("quantity"), v=Sum("value")).order_by()
    )
    for product_id, q, v in incoming:
        rows[product_id]["in_quantity"] += _exact(q, "q")
        rows[product_id]["in_value"] += _exact(v, "m")
    adjustments = (
        moves.filter(to_location_id__in=locations).exclude(adjustment_value=0)
        .values_list("product_id").annotate(v=Sum("adjustment_value")).order_by()
    )
    for product_id, v in adjustments:
        rows[product_id]["in_value"] += _exact(v, "m")
    outgoing = (
        moves.filter(from_location_id__in=locations).exclude(to_location_id__in=locations)
        .values_list("product_id").annotate(q=Sum("quantity"), v=Sum("value")).order_by()
    )
    for product_id, q, v in outgoing:
        rows[product_id]["out_quantity"] += _exact(q, "q")
        rows[product_id]["out_value"] += _exact(v, "m")
    fields = [f"{part}_{measure}" for part in ("opening", "in", "out", "closing") for measure in ("quantity", "value")]
    return [
        {"product_id": product_id, **{name: values[name] for name in fields}}
        for product_id, values in sorted(rows.items())
        if any(values[name] for name in fields)
    ]


def valuation_report(*, at: dt.date | None = None, warehouse_id: int | None = None) -> dict:
    """Quantity, value and unit cost per product (per warehouse when one is chosen), its valuation method, and the total."""
    rows = stock_on_hand(at=at, warehouse_id=warehouse_id, group_by="product")
    methods = valuation_methods({row["product_id"] for row in rows}, default=company_settings().default_valuation_method)
    items = []
    total = ZERO
    for row in rows:
        unit_cost = (row["value"] / row["quantity"]).quantize(Decimal("0.000001")) if row["quantity"] > 0 else ZERO
        items.append({**row, "method": methods.get(row["product_id"], ""), "unit_cost": unit_cost})
        total += row["value"]
    return {"items": items, "total_value": total}


def fifo_layers(*, product_id: int, location_id: int | None = None, open_only: bool = True) -> QuerySet[CostLayer]:
    queryset = CostLayer.objects.filter(product_id=product_id).select_related("origin__move__document", "move__document", "lot")
    if location_id:
        queryset = queryset.filter(location_id=location_id)
    if open_only:
        queryset = queryset.filter(remaining_quantity__gt=0)
    return queryset.order_by("fifo_date", "fifo_sequence", "id")


def move_origins(*, move_id: int) -> list[dict]:
    """Which receipts the units of an outgoing move came from (through transfers): the FIFO traceability."""
    result = []
    for consumption in LayerConsumption.objects.filter(move_id=move_id).select_related(
        "layer__origin__move__document", "layer__move__document"
    ).order_by("id"):
        root = consumption.layer.origin or consumption.layer
        document = root.move.document
        result.append({
            "quantity": consumption.quantity, "value": consumption.value, "unit_cost": consumption.layer.unit_cost,
            "receipt_move_id": root.move_id, "receipt_date": root.fifo_date,
            "receipt_document_id": document.pk if document else None, "receipt_number": document.number if document else "",
        })
    return result


# ----------------------------------------------------------------------------------------------- lots and serials


def expiring_lots(*, within_days: int = 30, on: dt.date | None = None, warehouse_id: int | None = None) -> list[dict]:
    """Lots in stock whose expiry date is on or before `on` + `within_days` (expired ones included), soonest first."""
    on = on or timezone.localdate()
    horizon = on + dt.timedelta(days=within_days)
    balances = StockBalance.objects.filter(
        lot__isnull=False, quantity__gt=0, lot__expiry_date__isnull=False, lot__expiry_date__lte=horizon,
        location__kind__in=list(VALUED_KINDS),
    ).select_related("lot", "product", "location")
    if warehouse_id:
        balances = balances.filter(location__warehouse_id=warehouse_id)
    return [
        {
            "product_id": balance.product_id, "sku": balance.product.sku, "lot_id": balance.lot_id, "lot": balance.lot.code,
            "expiry_date": balance.lot.expiry_date, "days_left": (balance.lot.expiry_date - on).days,
            "location_id": balance.location_id, "location": str(balance.location), "quantity": balance.quantity,
            "reserved_quantity": balance.reserved_quantity, "value": balance.value,
        }
        for balance in balances.order_by("lot__expiry_date", "product__sku", "lot__code", "location_id")
    ]


def lots_fefo(*, product_id: int, location_id: int) -> QuerySet[StockBalance]:
    """Lots at a location in first-expiry-first-out order with what is free in each."""
    return (
        StockBalance.objects.filter(product_id=product_id, location_id=location_id, lot__isnull=False, quantity__gt=F("reserved_quantity"))
        .select_related("lot")
        .order_by(F("lot__expiry_date").asc(nulls_last=True), "lot__created_at", "lot_id")
    )


def serial_history(*, product_id: int, serial: str) -> dict | None:
    """Where a serial number is now and every move it made, oldest first."""
    found = SerialNumber.objects.select_related("location", "product").filter(product_id=product_id, serial=serial).first()
    if found is None:
        return None
    moves = StockMove.objects.filter(serial=found).select_related("from_location", "to_location", "document").order_by("date", "id")
    return {
        "serial": found.serial, "product_id": found.product_id, "sku": found.product.sku,
        "location_id": found.location_id, "location": str(found.location), "in_stock": found.location.is_valued,
        "reserved_for": found.reserved_reference,
        "history": [
            {
                "date": move.date, "from_location": str(move.from_location), "to_location": str(move.to_location),
                "document_id": move.document_id, "document_number": move.document.number if move.document else "",
                "document_type": move.document.document_type if move.document else "", "is_reversal": move.reverses_id is not None,
            }
            for move in moves
        ],
    }


def lot_list(*, product_id: int | None = None) -> QuerySet[Lot]:
    queryset = Lot.objects.select_related("product")
    if product_id:
        queryset = queryset.filter(product_id=product_id)
    return queryset.order_by("product_id", F("expiry_date").asc(nulls_last=True), "code")


def products_by_id(ids) -> dict[int, Product]:
    return {product.pk: product for product in Product.objects.filter(pk__in=list(ids)).select_related("stock_unit")}


REPORT_GROUPINGS = ("product", "warehouse", "location", "lot")


def report_grouping(value: str) -> str:
    from fabrika.core.errors import ValidationError

    if value not in REPORT_GROUPINGS:
        raise ValidationError({"group_by": [f"Must be one of: {', '.join(REPORT_GROUPINGS)}"]})
    return value


def ensure_period(*, date_from: dt.date, date_to: dt.date) -> None:
    from fabrika.core.errors import ValidationError

    if date_to < date_from:
        raise ValidationError({"date_to": ["Must be on or after date_from"]})
