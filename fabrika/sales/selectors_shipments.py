"""Reads of shipments and returns. A shipment or return is visible to whoever may see its order (the order's
responsible within the reader's scope: own, department, all)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models import (
    SalesOrder,
    SalesOrderLine,
    SalesReturn,
    SalesReturnLine,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)

ORDER_SCOPE = "order__responsible"
HEADER_RELATED = ("order", "order__counterparty", "order__warehouse", "order__responsible", "author", "stock_document")
LINE_RELATED = ("order_line", "order_line__product", "order_line__unit", "lot")


def _filtered(queryset: QuerySet, *, status: str = "", counterparty_id: int | None = None, order_id: int | None = None,
              date_from: dt.date | None = None, date_to: dt.date | None = None, search: str = "") -> QuerySet:
    if status:
        queryset = queryset.filter(status=status)
    if counterparty_id:
        queryset = queryset.filter(order__counterparty_id=counterparty_id)
    if order_id:
        queryset = queryset.filter(order_id=order_id)
    if date_from:
        queryset = queryset.filter(date__gte=date_from)
    if date_to:
        queryset = queryset.filter(date__lte=date_to)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(order__number__icontains=search) | Q(order__counterparty__name__icontains=search))
    return queryset


def shipment_queryset_for_user(user: User) -> QuerySet[Shipment]:
    return scoped(Shipment.objects.select_related(*HEADER_RELATED), user, responsible_field=ORDER_SCOPE)


def shipment_list_for_user(user: User, **filters) -> QuerySet[Shipment]:
    return _filtered(shipment_queryset_for_user(user), **filters).order_by("-date", "-id")


def shipment_get_for_user(user: User, shipment_id) -> Shipment:
    queryset = Shipment.objects.select_related(*HEADER_RELATED).prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related(*LINE_RELATED).order_by("id"))
    )
    return get_scoped(queryset, user, shipment_id, responsible_field=ORDER_SCOPE)


def sales_return_queryset_for_user(user: User) -> QuerySet[SalesReturn]:
    return scoped(SalesReturn.objects.select_related(*HEADER_RELATED), user, responsible_field=ORDER_SCOPE)


def sales_return_list_for_user(user: User, **filters) -> QuerySet[SalesReturn]:
    return _filtered(sales_return_queryset_for_user(user), **filters).order_by("-date", "-id")


def sales_return_get_for_user(user: User, return_id) -> SalesReturn:
    queryset = SalesReturn.objects.select_related(*HEADER_RELATED).prefetch_related(
        Prefetch("lines", queryset=SalesReturnLine.objects.select_related(*LINE_RELATED).order_by("id"))
    )
    return get_scoped(queryset, user, return_id, responsible_field=ORDER_SCOPE)


def order_get_for_user(user: User, order_id) -> SalesOrder:
    """The order if the user's scope includes it (NotFound otherwise)."""
    return get_scoped(SalesOrder.objects.select_related("counterparty", "warehouse", "responsible"), user, order_id)


def orders_in_scope(user: User, order_ids: list[int]) -> list[int]:
    """The ids among `order_ids` the user's scope includes, in the order given; NotFound naming the first other one
    (`order_ids.<index>`), as one order outside the scope would answer."""
    from fabrika.core.errors import NotFound

    wanted = [order_id for order_id in order_ids if isinstance(order_id, int)]
    visible = set(scoped(SalesOrder.objects.filter(pk__in=wanted), user).values_list("pk", flat=True))
    for index, order_id in enumerate(order_ids):
        if isinstance(order_id, int) and order_id not in visible:
            raise NotFound(f"Sales order {order_id} not found", field=f"order_ids.{index}")
    return order_ids


def order_line_progress(order: SalesOrder) -> list[dict]:
    """Per line: ordered, shipped, remaining to ship, returned and what may still come back."""
    rows = []
    for line in SalesOrderLine.objects.filter(order=order).select_related("product", "unit").order_by("position", "id"):
        rows.append({
            "line": line,
            "ordered": line.quantity,
            "shipped": line.shipped_quantity,
            "remaining": max(line.quantity - line.shipped_quantity, Decimal(0)),
            "returned": line.returned_quantity,
            "returnable": max(line.shipped_quantity - line.returned_quantity, Decimal(0)),
        })
    return rows


def order_shipments(order: SalesOrder) -> QuerySet[Shipment]:
    return Shipment.objects.filter(order=order).select_related("author").order_by("date", "id")


def order_returns(order: SalesOrder) -> QuerySet[SalesReturn]:
    return SalesReturn.objects.filter(order=order).select_related("author").order_by("date", "id")


def posted_shipment_lines(order_line_id: int) -> QuerySet[ShipmentLine]:
    return ShipmentLine.objects.filter(order_line_id=order_line_id, shipment__status=ShipmentStatus.POSTED)


def single_shipped_lot(order_line_id: int) -> int | None:
    """The lot an order line was shipped from, when its posted shipments used exactly one (a return's default)."""
    lots = set(posted_shipment_lines(order_line_id).exclude(lot__isnull=True).order_by().values_list("lot_id", flat=True).distinct()[:2])
    return lots.pop() if len(lots) == 1 else None
