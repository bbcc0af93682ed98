"""Reads of sales orders: scoped lists and cards, stock availability per line, the client's purchases for the pricing
engine. Sums are made in Python Decimal (SQLite keeps decimals as REAL)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped
from fabrika.inventory.enums import VALUED_KINDS, ReservationStatus
from fabrika.inventory.models import Location, Reservation, StockBalance

from .models import SalesOrder, SalesOrderLine, Shipment, ShipmentStatus
from .totals import ZERO, round_money

ORDER_RELATED = ("counterparty", "contact", "deal", "responsible", "author", "warehouse", "credit_override_by", "confirmed_by")


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    counterparty_id: int | None = None
    responsible_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    total_min: Decimal | None = None
    total_max: Decimal | None = None
    deal_id: int | None = None
    search: str = ""


def sales_order_queryset_for_user(user: User) -> QuerySet[SalesOrder]:
    return scoped(SalesOrder.objects.select_related(*ORDER_RELATED), user)


def sales_order_list_for_user(user: User, filters: OrderFilters | None = None) -> QuerySet[SalesOrder]:
    filters = filters or OrderFilters()
    queryset = sales_order_queryset_for_user(user)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.counterparty_id:
        queryset = queryset.filter(counterparty_id=filters.counterparty_id)
    if filters.responsible_id:
        queryset = queryset.filter(responsible_id=filters.responsible_id)
    if filters.deal_id:
        queryset = queryset.filter(deal_id=filters.deal_id)
    if filters.date_from:
        queryset = queryset.filter(date__gte=filters.date_from)
    if filters.date_to:
        queryset = queryset.filter(date__lte=filters.date_to)
    if filters.total_min is not None:
        queryset = queryset.filter(total__gte=filters.total_min)
    if filters.total_max is not None:
        queryset = queryset.filter(total__lte=filters.total_max)
    if filters.search:
        queryset = queryset.filter(Q(number__icontains=filters.search) | Q(counterparty__name__icontains=filters.search))
    return queryset.order_by("-date", "-id")


def sales_order_get_for_user(user: User, order_id) -> SalesOrder:
    """The order if the user's scope includes it (NotFound otherwise), with lines, products and units."""
    queryset = SalesOrder.objects.select_related(*ORDER_RELATED).prefetch_related("lines__product", "lines__unit", "lines__approved_by")
    return get_scoped(queryset, user, order_id)


def warehouse_location_ids(warehouse_id: int) -> list[int]:
    """The valued locations of a warehouse (its root and every sublocation), in id order."""
    return list(
        Location.objects.filter(warehouse_id=warehouse_id, kind__in=list(VALUED_KINDS)).order_by("id").values_list("id", flat=True)
    )


@dataclass(frozen=True)
class LineAvailability:
    line_id: int
    product_id: int
    needed: Decimal  # in the stock unit
    on_hand: Decimal  # in the order's warehouse
    reserved: Decimal  # by every document
    available: Decimal  # on hand − reserved
    reserved_for_order: Decimal  # by this order (its number), in the stock unit
    backorder: Decimal  # what this order still lacks: needed − reserved for it, or, on a draft, needed − available

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def order_availability(order: SalesOrder, lines: list[SalesOrderLine] | None = None) -> dict[int, LineAvailability]:
    """Per line: what the order's warehouse holds of the line's product (stock unit). Three queries for any order."""
    lines = list(order.lines.all()) if lines is None else lines
    product_ids = {line.product_id for line in lines}
    location_ids = warehouse_location_ids(order.warehouse_id)
    on_hand: dict[int, Decimal] = defaultdict(lambda: ZERO)
    reserved: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for product_id, quantity, reserved_quantity in StockBalance.objects.filter(
        product_id__in=product_ids, location_id__in=location_ids
    ).values_list("product_id", "quantity", "reserved_quantity"):
        on_hand[product_id] += quantity
        reserved[product_id] += reserved_quantity
    mine: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if order.number:
        for product_id, quantity in Reservation.objects.filter(
            reference=order.number, status=ReservationStatus.ACTIVE, location_id__in=location_ids
        ).values_list("product_id", "quantity"):
            mine[product_id] += quantity
    result: dict[int, LineAvailability] = {}
    left = dict(mine)  # one product on two lines: this order's reservation is shared out in line order
    for line in sorted(lines, key=lambda line: (line.position, line.pk)):
        product_id = line.product_id
        needed = line.stock_quantity
        for_line = min(left.get(product_id, ZERO), needed)
        left[product_id] = left.get(product_id, ZERO) - for_line
        available = on_hand[product_id] - reserved[product_id]
        if order.status == "draft":
            backorder = max(needed - max(available, ZERO), ZERO)
        elif order.status == "confirmed":
            backorder = max(needed - line_shipped_stock(line) - for_line, ZERO)
        else:
            backorder = ZERO
        result[line.pk] = LineAvailability(
            line_id=line.pk, product_id=product_id, needed=needed, on_hand=on_hand[product_id], reserved=reserved[product_id],
            available=available, reserved_for_order=for_line, backorder=backorder,
        )
    return result


def line_shipped_stock(line: SalesOrderLine) -> Decimal:
    """The shipped quantity of a line in the stock unit."""
    if not line.quantity:
        return ZERO
    return (line.shipped_quantity * line.stock_quantity / line.quantity).quantize(Decimal("0.0001"))


def client_purchases(*, counterparty_id: int):
    """The pricing engine's `purchases(date_from, date_to)`: the client's net shipped amounts in the base currency
    (posted shipments' net total × the order's exchange rate, by shipment date, both ends included)."""

    def purchases(date_from: dt.date, date_to: dt.date) -> Decimal:
        rows = Shipment.objects.filter(
            order__counterparty_id=counterparty_id, status=ShipmentStatus.POSTED, date__gte=date_from, date__lte=date_to
        ).values_list("net_total", "order__exchange_rate")
        return sum((round_money(net * rate) for net, rate in rows), ZERO)

    return purchases


def orders_of_deal(deal_id: int, user: User) -> QuerySet[SalesOrder]:
    return sales_order_queryset_for_user(user).filter(deal_id=deal_id).order_by("-date", "-id")
