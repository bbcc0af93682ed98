"""Sales orders API, mounted at /api/v1/sales/. Parse → authorise → service/selector → schema; errors map once in
fabrika/api.py. Orders outside the user's scope answer 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from ninja import Router, Status

from fabrika.core.db import column_in
from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import services_orders as services
from .batch_orders import clean_order_ids, sales_orders_confirm
from .models import SalesOrder, SalesOrderLine
from .schemas_orders import (
    AvailabilityOut,
    ConfirmIn,
    OrderCancelIn,
    OrderDetailOut,
    OrderIn,
    OrderLineIn,
    OrderLineOut,
    OrderLinePatch,
    OrderOut,
    OrderPatch,
    OrdersConfirmIn,
)
from .selectors_orders import (
    OrderFilters,
    order_availability,
    sales_order_get_for_user,
    sales_order_list_for_user,
    sales_order_queryset_for_user,
)

router = Router(tags=["sales"])

ID_FIELDS = ("counterparty", "deal", "contact", "responsible", "warehouse", "product", "unit")


def _data(payload: dict, *, partial: bool) -> dict:
    data = {}
    for key, value in payload.items():
        name = key[:-3] if key.endswith("_id") and key[:-3] in ID_FIELDS else key
        if partial or value is not None:
            data[name] = value
    return data


def _amount(value: str | None, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValidationError({field: [_("Enter a number")]})


@router.get("/orders", response=Page[OrderOut])
def order_list(
    request, status: str = "", counterparty_id: int | None = None, responsible_id: int | None = None, deal_id: int | None = None,
    date_from: dt.date | None = None, date_to: dt.date | None = None, total_min: str | None = None, total_max: str | None = None,
    search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, SalesOrder, "view")
    filters = OrderFilters(
        status=status, counterparty_id=counterparty_id, responsible_id=responsible_id, deal_id=deal_id, date_from=date_from,
        date_to=date_to, total_min=_amount(total_min, "total_min"), total_max=_amount(total_max, "total_max"), search=search,
    )
    return paginate(sales_order_list_for_user(request.user, filters), cursor=cursor, limit=limit)


@router.post("/orders", response={201: OrderDetailOut})
@idempotent
def order_create(request, payload: OrderIn):
    require(request.user, SalesOrder, "add")
    order = services.sales_order_create(actor=request.user, data=_data(payload.dict(), partial=False))
    return Status(201, sales_order_get_for_user(request.user, order.pk))


@router.post("/orders/batch/confirm", response=list[OrderDetailOut])
@idempotent
def orders_batch_confirm(request, payload: OrdersConfirmIn):
    """Confirm up to 500 drafts in one transaction (all or none; an error names `orders.<index>.<field>`); returns
    them in the order given. Declared before /orders/{order_id} so that "batch" is never taken for an id."""
    override = payload.override_credit_limit
    if not (override and request.user.has_perm("sales.override_credit_limit")):  # who may override may confirm with it
        require(request.user, SalesOrder, "confirm")
    ids = clean_order_ids(payload.order_ids)
    visible = set(sales_order_queryset_for_user(request.user).filter(column_in(SalesOrder, "id", ids)).values_list("pk", flat=True))
    for index, order_id in enumerate(ids):
        if order_id not in visible:
            raise NotFound(_("Sales order %(id)s not found") % {"id": order_id}, field=f"order_ids.{index}")
    sales_orders_confirm(actor=request.user, order_ids=ids, override_credit_limit=override)
    confirmed = sales_order_queryset_for_user(request.user).filter(column_in(SalesOrder, "id", ids)).prefetch_related(
        "lines__product", "lines__unit", "lines__approved_by"
    )
    by_id = {order.pk: order for order in confirmed}
    return [by_id[order_id] for order_id in ids]


@router.get("/orders/{order_id}", response=OrderDetailOut)
def order_detail(request, order_id: int):
    require(request.user, SalesOrder, "view")
    return sales_order_get_for_user(request.user, order_id)


@router.patch("/orders/{order_id}", response=OrderDetailOut)
def order_update(request, order_id: int, payload: OrderPatch):
    require(request.user, SalesOrder, "change")
    order = sales_order_get_for_user(request.user, order_id)
    services.sales_order_update(actor=request.user, order_id=order.pk, data=_data(payload.dict(exclude_unset=True), partial=True))
    return sales_order_get_for_user(request.user, order.pk)


@router.post("/orders/{order_id}/lines", response={201: OrderLineOut})
@idempotent
def order_line_add(request, order_id: int, payload: OrderLineIn):
    require(request.user, SalesOrderLine, "add")
    order = sales_order_get_for_user(request.user, order_id)
    data = _data(payload.dict(), partial=False)
    if not data.get("barcode"):
        data.pop("barcode", None)
    if not data.get("description"):
        data.pop("description", None)
    return Status(201, services.sales_order_add_line(actor=request.user, order_id=order.pk, data=data))


@router.patch("/orders/{order_id}/lines/{line_id}", response=OrderLineOut)
def order_line_update(request, order_id: int, line_id: int, payload: OrderLinePatch):
    require(request.user, SalesOrderLine, "change")
    order = sales_order_get_for_user(request.user, order_id)
    data = _data(payload.dict(exclude_unset=True), partial=True)
    return services.sales_order_update_line(actor=request.user, order_id=order.pk, line_id=line_id, data=data)


@router.delete("/orders/{order_id}/lines/{line_id}", response={204: None})
def order_line_remove(request, order_id: int, line_id: int):
    require(request.user, SalesOrderLine, "delete")
    order = sales_order_get_for_user(request.user, order_id)
    services.sales_order_remove_line(actor=request.user, order_id=order.pk, line_id=line_id)
    return Status(204, None)


@router.post("/orders/{order_id}/lines/{line_id}/approve", response=OrderLineOut)
def order_line_approve(request, order_id: int, line_id: int):
    require(request.user, SalesOrder, "view")
    order = sales_order_get_for_user(request.user, order_id)
    return services.sales_order_line_approve(actor=request.user, order_id=order.pk, line_id=line_id)


@router.post("/orders/{order_id}/lines/{line_id}/reject", response=OrderLineOut)
def order_line_reject(request, order_id: int, line_id: int):
    require(request.user, SalesOrder, "view")
    order = sales_order_get_for_user(request.user, order_id)
    return services.sales_order_line_reject(actor=request.user, order_id=order.pk, line_id=line_id)


@router.post("/orders/{order_id}/confirm", response=OrderDetailOut)
def order_confirm(request, order_id: int, payload: ConfirmIn | None = None):
    override = bool(payload and payload.override_credit_limit)
    if not (override and request.user.has_perm("sales.override_credit_limit")):  # who may override may confirm with it
        require(request.user, SalesOrder, "confirm")
    order = sales_order_get_for_user(request.user, order_id)
    services.sales_order_confirm(actor=request.user, order_id=order.pk, override_credit_limit=override)
    return sales_order_get_for_user(request.user, order.pk)


@router.post("/orders/{order_id}/cancel", response=OrderDetailOut)
def order_cancel(request, order_id: int, payload: OrderCancelIn | None = None):
    require(request.user, SalesOrder, "change")
    order = sales_order_get_for_user(request.user, order_id)
    services.sales_order_cancel(actor=request.user, order_id=order.pk, reason=payload.reason if payload else "")
    return sales_order_get_for_user(request.user, order.pk)


@router.post("/orders/{order_id}/reserve", response=OrderDetailOut)
def order_reserve(request, order_id: int):
    require(request.user, SalesOrder, "confirm")
    order = sales_order_get_for_user(request.user, order_id)
    services.sales_order_reserve_more(actor=request.user, order_id=order.pk)
    return sales_order_get_for_user(request.user, order.pk)


@router.get("/orders/{order_id}/availability", response=list[AvailabilityOut])
def order_availability_view(request, order_id: int):
    require(request.user, SalesOrder, "view")
    order = sales_order_get_for_user(request.user, order_id)
    lines = list(order.lines.all())
    availability = order_availability(order, lines)
    return [availability[line.pk].as_dict() for line in lines]
