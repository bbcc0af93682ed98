"""Invoices, credit notes and payment schedules API, mounted at /api/v1/finance/.
Parse → authorise → selector/service → schema; DomainErrors map to problem+json in fabrika/api.py."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Router, Status

from fabrika.core.errors import PermissionDenied, ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import can, require, scoped
from fabrika.sales.models import SalesOrder, SalesReturn, Shipment

from . import batch_invoices
from . import selectors_invoices as selectors
from . import services_invoices as services
from .models import CreditNote, Invoice
from .schemas_invoices import (
    CreditNoteDetailOut,
    CreditNoteFromInvoiceIn,
    CreditNoteFromReturnIn,
    CreditNoteOut,
    FinanceDocumentCancelIn,
    InvoiceBatchFromShipmentsIn,
    InvoiceDetailOut,
    InvoiceFromOrderIn,
    InvoiceFromShipmentsIn,
    InvoiceIn,
    InvoiceLineIn,
    InvoiceLineOut,
    InvoiceOut,
    InvoicePatch,
    InvoicePostIn,
    ScheduleGenerateIn,
    ScheduleIn,
    ScheduleOut,
)

router = Router(tags=["finance"])


def _ids(data: dict) -> dict:
    for name in ("counterparty", "product", "unit", "order_line"):
        if f"{name}_id" in data:
            data[name] = data.pop(f"{name}_id")
    return data


def _detail(user, invoice_id: int):
    return selectors.invoice_detail(selectors.invoice_get_for_user(user, invoice_id))


# ----------------------------------------------------------------------------------------------- invoices


@router.get("/invoices", response=Page[InvoiceOut])
def invoice_list(
    request, direction: str = "", status: str = "", counterparty_id: int | None = None, order_id: int | None = None,
    date_from: dt.date | None = None, date_to: dt.date | None = None, overdue: bool = False, open_only: bool = False,
    search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, Invoice, "view")
    queryset = selectors.invoice_list_for_user(
        request.user, direction=direction, status=status, counterparty_id=counterparty_id, order_id=order_id,
        date_from=date_from, date_to=date_to, overdue=overdue, open_only=open_only, search=search,
    )
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/invoices", response={201: InvoiceDetailOut})
@idempotent
def invoice_create(request, payload: InvoiceIn):
    require(request.user, Invoice, "add")
    data = _ids(payload.dict())
    data["lines"] = [_ids(line) for line in data.get("lines") or []]
    invoice = services.invoice_create(actor=request.user, data=data)
    return Status(201, _detail(request.user, invoice.pk))


@router.post("/invoices/from-order", response={201: InvoiceDetailOut})
@idempotent
def invoice_from_order(request, payload: InvoiceFromOrderIn):
    require(request.user, Invoice, "add")
    order = selectors.order_get_for_user(request.user, payload.order_id)
    data = payload.dict(exclude={"order_id"}, exclude_none=True)
    invoice = services.invoice_create_from_order(actor=request.user, order_id=order.pk, data=data)
    return Status(201, _detail(request.user, invoice.pk))


@router.post("/invoices/from-shipments", response={201: InvoiceDetailOut})
@idempotent
def invoice_from_shipments(request, payload: InvoiceFromShipmentsIn):
    require(request.user, Invoice, "add")
    orders = set(Shipment.objects.filter(pk__in=payload.shipment_ids).values_list("order_id", flat=True))
    for order_id in orders:
        selectors.order_get_for_user(request.user, order_id)
    invoice = services.invoice_create_from_shipments(
        actor=request.user, shipment_ids=payload.shipment_ids, data=payload.dict(exclude={"shipment_ids"}, exclude_none=True)
    )
    return Status(201, _detail(request.user, invoice.pk))


@router.post("/invoices/batch/from-shipments", response={201: list[InvoiceOut]})
@idempotent
def invoice_batch_from_shipments(request, payload: InvoiceBatchFromShipmentsIn):
    """One posted invoice per posted shipment, all or nothing; a refusal names `shipment_ids.N`. Shipments outside the
    user's scope are unknown to them."""
    require(request.user, Invoice, "add")
    if len(payload.shipment_ids) > batch_invoices.MAX_SHIPMENTS:
        raise ValidationError({"shipment_ids": [_("At most %(limit)d shipments at once") % {"limit": batch_invoices.MAX_SHIPMENTS}]})
    visible = set(scoped(Shipment.objects.filter(pk__in=payload.shipment_ids), request.user, responsible_field="order__responsible")
                  .values_list("pk", flat=True))
    hidden = {f"shipment_ids.{index}": [_("Unknown shipment %(ids)s") % {"ids": pk}]
              for index, pk in enumerate(payload.shipment_ids) if pk not in visible}
    if hidden:
        raise ValidationError(hidden)
    invoices = batch_invoices.invoices_post_for_shipments(actor=request.user, shipment_ids=payload.shipment_ids, date=payload.date)
    return Status(201, list(selectors.invoice_queryset_for_user(request.user).filter(pk__in=[invoice.pk for invoice in invoices]).order_by("pk")))


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_detail(request, invoice_id: int):
    require(request.user, Invoice, "view")
    return _detail(request.user, invoice_id)


@router.patch("/invoices/{invoice_id}", response=InvoiceDetailOut)
def invoice_update(request, invoice_id: int, payload: InvoicePatch):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    services.invoice_update(actor=request.user, invoice_id=invoice.pk, data=_ids(payload.dict(exclude_unset=True)))
    return _detail(request.user, invoice.pk)


@router.post("/invoices/{invoice_id}/lines", response={201: InvoiceLineOut})
@idempotent
def invoice_line_add(request, invoice_id: int, payload: InvoiceLineIn):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    return Status(201, services.invoice_line_add(actor=request.user, invoice_id=invoice.pk, data=_ids(payload.dict(exclude_none=True))))


@router.patch("/invoices/{invoice_id}/lines/{line_id}", response=InvoiceLineOut)
def invoice_line_update(request, invoice_id: int, line_id: int, payload: InvoiceLineIn):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    return services.invoice_line_update(actor=request.user, invoice_id=invoice.pk, line_id=line_id, data=_ids(payload.dict(exclude_unset=True)))


@router.delete("/invoices/{invoice_id}/lines/{line_id}", response={204: None})
def invoice_line_remove(request, invoice_id: int, line_id: int):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    services.invoice_line_remove(actor=request.user, invoice_id=invoice.pk, line_id=line_id)
    return Status(204, None)


@router.post("/invoices/{invoice_id}/post", response=InvoiceDetailOut)
def invoice_post(request, invoice_id: int, payload: InvoicePostIn | None = None):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    services.invoice_post(actor=request.user, invoice_id=invoice.pk, due_date=payload.due_date if payload else None)
    return _detail(request.user, invoice.pk)


@router.post("/invoices/{invoice_id}/cancel", response=InvoiceDetailOut)
def invoice_cancel(request, invoice_id: int, payload: FinanceDocumentCancelIn | None = None):
    require(request.user, Invoice, "change")
    invoice = selectors.invoice_get_for_user(request.user, invoice_id)
    services.invoice_cancel(actor=request.user, invoice_id=invoice.pk, on=payload.date if payload else None)
    return _detail(request.user, invoice.pk)


# ----------------------------------------------------------------------------------------------- credit notes


@router.get("/credit-notes", response=Page[CreditNoteOut])
def credit_note_list(request, status: str = "", invoice_id: int | None = None, counterparty_id: int | None = None, direction: str = "",
                     search: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Invoice, "view")
    queryset = selectors.credit_note_list_for_user(request.user, status=status, invoice_id=invoice_id, counterparty_id=counterparty_id,
                                                   direction=direction, search=search)
    return paginate(queryset, cursor=cursor, limit=limit)


@router.post("/credit-notes/from-invoice", response={201: CreditNoteDetailOut})
@idempotent
def credit_note_from_invoice(request, payload: CreditNoteFromInvoiceIn):
    require(request.user, CreditNote, "add")
    invoice = selectors.invoice_get_for_user(request.user, payload.invoice_id)
    note = services.credit_note_create_from_invoice(
        actor=request.user, invoice_id=invoice.pk, lines=[line.dict() for line in payload.lines], full=payload.full,
        date=payload.date, reason=payload.reason,
    )
    return Status(201, selectors.credit_note_get_for_user(request.user, note.pk))


@router.post("/credit-notes/from-return", response={201: CreditNoteDetailOut})
@idempotent
def credit_note_from_return(request, payload: CreditNoteFromReturnIn):
    require(request.user, CreditNote, "add")
    order_id = SalesReturn.objects.filter(pk=payload.sales_return_id).values_list("order_id", flat=True).first()
    if order_id is not None:
        selectors.order_get_for_user(request.user, order_id)
    note = services.credit_note_create_from_return(actor=request.user, sales_return_id=payload.sales_return_id, date=payload.date)
    return Status(201, selectors.credit_note_get_for_user(request.user, note.pk))


@router.get("/credit-notes/{credit_note_id}", response=CreditNoteDetailOut)
def credit_note_detail(request, credit_note_id: int):
    require(request.user, Invoice, "view")
    return selectors.credit_note_get_for_user(request.user, credit_note_id)


@router.post("/credit-notes/{credit_note_id}/post", response=CreditNoteDetailOut)
def credit_note_post(request, credit_note_id: int):
    require(request.user, CreditNote, "change")
    note = selectors.credit_note_get_for_user(request.user, credit_note_id)
    services.credit_note_post(actor=request.user, credit_note_id=note.pk)
    return selectors.credit_note_get_for_user(request.user, note.pk)


@router.post("/credit-notes/{credit_note_id}/cancel", response=CreditNoteDetailOut)
def credit_note_cancel(request, credit_note_id: int, payload: FinanceDocumentCancelIn | None = None):
    require(request.user, CreditNote, "change")
    note = selectors.credit_note_get_for_user(request.user, credit_note_id)
    services.credit_note_cancel(actor=request.user, credit_note_id=note.pk, on=payload.date if payload else None)
    return selectors.credit_note_get_for_user(request.user, note.pk)


# ----------------------------------------------------------------------------------------------- schedules


def _schedule_owner(request, order_id: int | None, invoice_id: int | None, *, change: bool):
    """The document whose schedule is read or set, in the user's scope. Changing an order's schedule takes the right
    to change orders or invoices; an invoice's, the right to change invoices."""
    if invoice_id is not None:
        require(request.user, Invoice, "change" if change else "view")
        return selectors.invoice_get_for_user(request.user, invoice_id)
    if order_id is None:
        raise ValidationError({"order_id": [_("Give an order or an invoice")]})
    if change and not (can(request.user, SalesOrder, "change") or can(request.user, Invoice, "change")):
        raise PermissionDenied(_("Your role does not allow changing payment schedules"), code="permission_denied")
    if not change and not (can(request.user, SalesOrder, "view") or can(request.user, Invoice, "view")):
        raise PermissionDenied(_("Your role does not allow viewing payment schedules"), code="permission_denied")
    return selectors.order_get_for_user(request.user, order_id)


def _schedule_out(document, *, order_id: int | None, invoice_id: int | None) -> dict:
    items = selectors.schedule_for(order_id=order_id, invoice_id=invoice_id)
    rows = selectors.schedule_rows(items)
    return {
        "order_id": order_id, "invoice_id": invoice_id, "total": document.total,
        "items": [{**{f: getattr(row.item, f) for f in ("id", "position", "kind", "due_date", "percent", "amount", "paid_amount")}, "state": row.state}
                  for row in rows],
    }


@router.get("/schedules", response=ScheduleOut)
def schedule_get(request, order_id: int | None = None, invoice_id: int | None = None):
    document = _schedule_owner(request, order_id, invoice_id, change=False)
    return _schedule_out(document, order_id=order_id if invoice_id is None else None, invoice_id=invoice_id)


@router.put("/schedules", response=ScheduleOut)
def schedule_set(request, payload: ScheduleIn):
    document = _schedule_owner(request, payload.order_id, payload.invoice_id, change=True)
    order_id = payload.order_id if payload.invoice_id is None else None
    services.schedule_set(actor=request.user, order_id=order_id, invoice_id=payload.invoice_id,
                          items=[item.dict() for item in payload.items])
    document.refresh_from_db()
    return _schedule_out(document, order_id=order_id, invoice_id=payload.invoice_id)


@router.post("/schedules/generate", response=ScheduleOut)
def schedule_generate(request, payload: ScheduleGenerateIn):
    document = _schedule_owner(request, payload.order_id, payload.invoice_id, change=True)
    order_id = payload.order_id if payload.invoice_id is None else None
    services.schedule_generate(actor=request.user, order_id=order_id, invoice_id=payload.invoice_id,
                               prepayment_percent=payload.prepayment_percent, instalments=payload.instalments,
                               first_due_date=payload.first_due_date)
    document.refresh_from_db()
    return _schedule_out(document, order_id=order_id, invoice_id=payload.invoice_id)
