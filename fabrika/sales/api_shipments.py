"""Shipments and returns API, mounted at /api/v1/sales/. Parse → authorise → selector/service → schema; domain
errors map to problem+json in fabrika/api.py (bad input 422 naming the field, a stock shortage 409 with the
available quantity, records outside the reader's scope 404)."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Status

from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import can, require

from . import selectors_shipments as selectors
from . import services_shipments as services
from .batch_shipments import shipments_post_wave
from .models import SalesReturn, Shipment, ShipmentStatus
from .schemas_shipments import (
    SalesDocumentLineIn,
    SalesReturnDetailOut,
    SalesReturnIn,
    SalesReturnOut,
    SalesReturnPatch,
    ShipmentCancelIn,
    ShipmentDetailOut,
    ShipmentIn,
    ShipmentOut,
    ShipmentPatch,
    ShipmentWaveIn,
)

router = Router(tags=["sales"])


def _lines(lines: list[SalesDocumentLineIn] | None) -> list[dict] | None:
    if lines is None:
        return None
    return [{"order_line": line.order_line_id, "quantity": line.quantity, "lot": line.lot_id, "serial": line.serial} for line in lines]


def _require_draft_edit(user, model) -> None:
    """Whoever may create the document may edit its draft; the storekeeper (change) may too."""
    if not (can(user, model, "add") or can(user, model, "change")):
        require(user, model, "change")


def _data(payload, *, exclude_unset: bool) -> dict:
    data = payload.dict(exclude_unset=exclude_unset, exclude={"order_id", "lines"})
    lines = _lines(payload.lines)
    if lines is not None:
        data["lines"] = lines
    return data


# ----------------------------------------------------------------------------------------------- shipments


@router.get("/shipments", response=Page[ShipmentOut])
def shipment_list(
    request, status: str = "", counterparty_id: int | None = None, order_id: int | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, Shipment, "view")
    queryset = selectors.shipment_list_for_user(
        request.user, status=status, counterparty_id=counterparty_id, order_id=order_id, date_from=date_from, date_to=date_to, search=search
    )
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/shipments", response={201: ShipmentDetailOut})
@idempotent
def shipment_create(request, payload: ShipmentIn):
    require(request.user, Shipment, "add")
    order = selectors.order_get_for_user(request.user, payload.order_id)
    data = _data(payload, exclude_unset=True)
    if data.get("date") is None:
        data.pop("date", None)
    shipment = services.shipment_create(actor=request.user, order_id=order.pk, data=data)
    return Status(201, selectors.shipment_get_for_user(request.user, shipment.pk))


@router.post("/shipments/wave", response={201: list[ShipmentOut]})
@idempotent
def shipment_wave(request, payload: ShipmentWaveIn):
    """Ship everything left on each of the orders: one posted shipment per order, all in one transaction (a refused
    order refuses the wave, naming `orders.<index>`)."""
    require(request.user, Shipment, "add")
    require(request.user, Shipment, "change")
    order_ids = selectors.orders_in_scope(request.user, payload.order_ids)
    data = payload.dict(exclude_unset=True, exclude={"order_ids"})
    if data.get("date") is None:
        data.pop("date", None)
    shipments = shipments_post_wave(actor=request.user, order_ids=order_ids, data=data)
    return Status(201, list(selectors.shipment_list_for_user(request.user).filter(pk__in=[shipment.pk for shipment in shipments]).order_by("id")))


@router.get("/shipments/{shipment_id}", response=ShipmentDetailOut)
def shipment_detail(request, shipment_id: int):
    require(request.user, Shipment, "view")
    return selectors.shipment_get_for_user(request.user, shipment_id)


@router.patch("/shipments/{shipment_id}", response=ShipmentDetailOut)
def shipment_update(request, shipment_id: int, payload: ShipmentPatch):
    _require_draft_edit(request.user, Shipment)
    shipment = selectors.shipment_get_for_user(request.user, shipment_id)
    services.shipment_update(actor=request.user, shipment_id=shipment.pk, data=_data(payload, exclude_unset=True))
    return selectors.shipment_get_for_user(request.user, shipment.pk)


@router.post("/shipments/{shipment_id}/post", response=ShipmentDetailOut)
def shipment_post(request, shipment_id: int):
    require(request.user, Shipment, "change")
    shipment = selectors.shipment_get_for_user(request.user, shipment_id)
    services.shipment_post(actor=request.user, shipment_id=shipment.pk)
    return selectors.shipment_get_for_user(request.user, shipment.pk)


@router.post("/shipments/{shipment_id}/cancel", response=ShipmentDetailOut)
def shipment_cancel(request, shipment_id: int, payload: ShipmentCancelIn | None = None):
    _require_draft_edit(request.user, Shipment)
    shipment = selectors.shipment_get_for_user(request.user, shipment_id)
    if shipment.status != ShipmentStatus.DRAFT:  # a draft goes with whoever may edit it; a posted one with the storekeeper
        require(request.user, Shipment, "change")
    services.shipment_cancel(actor=request.user, shipment_id=shipment.pk, on=payload.date if payload else None)
    return selectors.shipment_get_for_user(request.user, shipment.pk)


# ----------------------------------------------------------------------------------------------- returns


@router.get("/returns", response=Page[SalesReturnOut])
def return_list(
    request, status: str = "", counterparty_id: int | None = None, order_id: int | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, SalesReturn, "view")
    queryset = selectors.sales_return_list_for_user(
        request.user, status=status, counterparty_id=counterparty_id, order_id=order_id, date_from=date_from, date_to=date_to, search=search
    )
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/returns", response={201: SalesReturnDetailOut})
@idempotent
def return_create(request, payload: SalesReturnIn):
    require(request.user, SalesReturn, "add")
    order = selectors.order_get_for_user(request.user, payload.order_id)
    data = _data(payload, exclude_unset=True)
    if data.get("date") is None:
        data.pop("date", None)
    sales_return = services.sales_return_create(actor=request.user, order_id=order.pk, data=data)
    return Status(201, selectors.sales_return_get_for_user(request.user, sales_return.pk))


@router.get("/returns/{return_id}", response=SalesReturnDetailOut)
def return_detail(request, return_id: int):
    require(request.user, SalesReturn, "view")
    return selectors.sales_return_get_for_user(request.user, return_id)


@router.patch("/returns/{return_id}", response=SalesReturnDetailOut)
def return_update(request, return_id: int, payload: SalesReturnPatch):
    _require_draft_edit(request.user, SalesReturn)
    sales_return = selectors.sales_return_get_for_user(request.user, return_id)
    services.sales_return_update(actor=request.user, return_id=sales_return.pk, data=_data(payload, exclude_unset=True))
    return selectors.sales_return_get_for_user(request.user, sales_return.pk)


@router.post("/returns/{return_id}/post", response=SalesReturnDetailOut)
def return_post(request, return_id: int):
    require(request.user, SalesReturn, "change")
    sales_return = selectors.sales_return_get_for_user(request.user, return_id)
    services.sales_return_post(actor=request.user, return_id=sales_return.pk)
    return selectors.sales_return_get_for_user(request.user, sales_return.pk)


@router.post("/returns/{return_id}/cancel", response=SalesReturnDetailOut)
def return_cancel(request, return_id: int, payload: ShipmentCancelIn | None = None):
    _require_draft_edit(request.user, SalesReturn)
    sales_return = selectors.sales_return_get_for_user(request.user, return_id)
    if sales_return.status != ShipmentStatus.DRAFT:
        require(request.user, SalesReturn, "change")
    services.sales_return_cancel(actor=request.user, return_id=sales_return.pk, on=payload.date if payload else None)
    return selectors.sales_return_get_for_user(request.user, sales_return.pk)
