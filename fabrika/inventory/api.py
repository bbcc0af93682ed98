"""Inventory API: warehouses, locations, stock documents (draft → post → cancel), reservations, periods, reports.
Mounted at /api/v1/inventory/. Parse → authorise → service/selector → schema; errors map in fabrika/api.py."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Status

from fabrika.core.errors import NotFound
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import selectors, services
from .models import Location, PeriodClose, Reservation, StockDocument, StockMove, Warehouse
from .schemas import (
    CancelIn,
    DocumentDetailOut,
    DocumentIn,
    DocumentOut,
    DocumentPatch,
    ExpiringLotRow,
    LineIn,
    LineOut,
    LinePatch,
    LocationIn,
    LocationOut,
    OnHandRow,
    OriginRow,
    PeriodIn,
    PeriodOut,
    ReservationIn,
    ReservationOut,
    SerialOut,
    TurnoverRow,
    ValuationOut,
    WarehouseIn,
    WarehouseOut,
)

router = Router(tags=["inventory"])

LOCATION_FIELDS = ("counterparty", "from_location", "to_location", "product", "unit", "lot")


def _fields(data: dict) -> dict:
    for name in LOCATION_FIELDS:
        if f"{name}_id" in data:
            data[name] = data.pop(f"{name}_id")
    return {key: value for key, value in data.items() if value is not None or key in ("counterparty",)}


# ----------------------------------------------------------------------------------------------- places


@router.get("/warehouses", response=list[WarehouseOut])
def warehouse_list(request):
    require(request.user, Warehouse, "view")
    return list(selectors.warehouse_list().prefetch_related("locations"))


@router.post("/warehouses", response={201: WarehouseOut})
@idempotent
def warehouse_create(request, payload: WarehouseIn):
    require(request.user, Warehouse, "add")
    warehouse = services.warehouse_create(actor=request.user, **payload.dict())
    return Status(201, selectors.warehouse_list().prefetch_related("locations").get(pk=warehouse.pk))


@router.get("/locations", response=list[LocationOut])
def location_list(request, warehouse_id: int | None = None, kind: str = ""):
    require(request.user, Location, "view")
    return list(selectors.location_list(warehouse_id=warehouse_id, kind=kind))


@router.post("/locations", response={201: LocationOut})
@idempotent
def location_create(request, payload: LocationIn):
    require(request.user, Location, "add")
    return Status(201, services.location_create(actor=request.user, **payload.dict()))


# ----------------------------------------------------------------------------------------------- documents


@router.get("/documents", response=Page[DocumentOut])
def document_list(
    request, document_type: str = "", status: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
    search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, StockDocument, "view")
    queryset = selectors.stock_document_list_for_user(
        request.user, document_type=document_type, status=status, date_from=date_from, date_to=date_to, search=search
    )
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/documents", response={201: DocumentDetailOut})
@idempotent
def document_create(request, payload: DocumentIn):
    require(request.user, StockDocument, "add")
    data = _fields(payload.dict(exclude={"document_type"}))
    document = services.stock_document_create(actor=request.user, document_type=payload.document_type, data=data)
    return Status(201, selectors.stock_document_get_for_user(request.user, document.pk))


@router.get("/documents/{document_id}", response=DocumentDetailOut)
def document_detail(request, document_id: int):
    require(request.user, StockDocument, "view")
    return selectors.stock_document_get_for_user(request.user, document_id)


@router.patch("/documents/{document_id}", response=DocumentDetailOut)
def document_update(request, document_id: int, payload: DocumentPatch):
    require(request.user, StockDocument, "change")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    services.stock_document_update(actor=request.user, document_id=document.pk, data=_fields(payload.dict(exclude_unset=True)))
    return selectors.stock_document_get_for_user(request.user, document.pk)


@router.post("/documents/{document_id}/lines", response={201: list[LineOut]})
@idempotent
def document_add_line(request, document_id: int, payload: LineIn):
    require(request.user, StockDocument, "change")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    return Status(201, services.stock_document_add_line(actor=request.user, document_id=document.pk, data=_fields(payload.dict())))


@router.patch("/documents/{document_id}/lines/{line_id}", response=LineOut)
def document_update_line(request, document_id: int, line_id: int, payload: LinePatch):
    require(request.user, StockDocument, "change")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    data = payload.dict(exclude_unset=True)
    for name in ("unit", "lot", "from_location", "to_location"):
        if f"{name}_id" in data:
            data[name] = data.pop(f"{name}_id")
    return services.stock_document_update_line(actor=request.user, document_id=document.pk, line_id=line_id, data=data)


@router.delete("/documents/{document_id}/lines/{line_id}", response={204: None})
def document_remove_line(request, document_id: int, line_id: int):
    require(request.user, StockDocument, "change")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    services.stock_document_remove_line(actor=request.user, document_id=document.pk, line_id=line_id)
    return Status(204, None)


@router.post("/documents/{document_id}/post", response=DocumentDetailOut)
def document_post(request, document_id: int):
    require(request.user, StockDocument, "post")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    services.stock_document_post(actor=request.user, document_id=document.pk, policy=selectors.stock_policy())
    return selectors.stock_document_get_for_user(request.user, document.pk)


@router.post("/documents/{document_id}/cancel", response=DocumentDetailOut)
def document_cancel(request, document_id: int, payload: CancelIn | None = None):
    require(request.user, StockDocument, "cancel")
    document = selectors.stock_document_get_for_user(request.user, document_id)
    on = payload.date if payload else None
    services.stock_document_cancel(actor=request.user, document_id=document.pk, policy=selectors.stock_policy(), on=on)
    return selectors.stock_document_get_for_user(request.user, document.pk)


# ----------------------------------------------------------------------------------------------- reservations, periods


@router.get("/reservations", response=list[ReservationOut])
def reservation_list(request, reference: str = "", product_id: int | None = None, active_only: bool = True):
    require(request.user, Reservation, "view")
    return list(selectors.reservation_list(reference=reference, product_id=product_id, active_only=active_only)[:500])


@router.post("/reservations", response={201: list[ReservationOut]})
@idempotent
def reservation_create(request, payload: ReservationIn):
    require(request.user, Reservation, "add")
    return Status(201, services.reservation_create(actor=request.user, **payload.dict()))


@router.post("/reservations/{reservation_id}/release", response=ReservationOut)
def reservation_release(request, reservation_id: int):
    require(request.user, Reservation, "change")
    return services.reservation_release(actor=request.user, reservation_id=reservation_id)


@router.post("/periods/close", response={201: PeriodOut})
def period_close(request, payload: PeriodIn):
    require(request.user, PeriodClose, "add")
    return Status(201, services.period_close(actor=request.user, month=payload.month))


@router.post("/periods/reopen", response={204: None})
def period_reopen(request, payload: PeriodIn):
    require(request.user, PeriodClose, "delete")
    services.period_reopen(actor=request.user, month=payload.month)
    return Status(204, None)


# ----------------------------------------------------------------------------------------------- reports


@router.get("/reports/on-hand", response=list[OnHandRow])
def report_on_hand(
    request, at: dt.date | None = None, warehouse_id: int | None = None, location_id: int | None = None,
    product_id: int | None = None, group_by: str = "location",
):
    require(request.user, StockMove, "view")
    return selectors.stock_on_hand(
        at=at, warehouse_id=warehouse_id, location_id=location_id, product_ids=[product_id] if product_id else None,
        group_by=selectors.report_grouping(group_by),
    )


@router.get("/reports/turnover", response=list[TurnoverRow])
def report_turnover(
    request, date_from: dt.date, date_to: dt.date, warehouse_id: int | None = None, location_id: int | None = None,
    product_id: int | None = None,
):
    require(request.user, StockMove, "view")
    selectors.ensure_period(date_from=date_from, date_to=date_to)
    return selectors.turnover(
        date_from=date_from, date_to=date_to, warehouse_id=warehouse_id, location_id=location_id,
        product_ids=[product_id] if product_id else None,
    )


@router.get("/reports/valuation", response=ValuationOut)
def report_valuation(request, at: dt.date | None = None, warehouse_id: int | None = None):
    require(request.user, StockMove, "view")
    return selectors.valuation_report(at=at, warehouse_id=warehouse_id)


@router.get("/reports/expiring-lots", response=list[ExpiringLotRow])
def report_expiring_lots(request, within_days: int = 30, warehouse_id: int | None = None):
    require(request.user, StockMove, "view")
    return selectors.expiring_lots(within_days=within_days, warehouse_id=warehouse_id)


@router.get("/moves/{move_id}/origins", response=list[OriginRow])
def move_origins(request, move_id: int):
    require(request.user, StockMove, "view")
    return selectors.move_origins(move_id=move_id)


@router.get("/serials/{product_id}/{serial}", response=SerialOut)
def serial_detail(request, product_id: int, serial: str):
    require(request.user, StockMove, "view")
    found = selectors.serial_history(product_id=product_id, serial=serial)
    if found is None:
        raise NotFound(f"Serial number {serial} not found")
    return found
