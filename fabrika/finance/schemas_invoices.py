"""API schemas of invoices, credit notes and payment schedules. Money and quantities travel as strings (Decimal)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class InvoiceFreeLineIn(Schema):
    product_id: int | None = None
    description: str = ""
    quantity: str | None = None
    price: str | None = None
    tax_rate: str | None = None
    discount_percent: str | None = None
    unit_id: int | None = None


class InvoiceIn(Schema):
    direction: str = "out"
    counterparty_id: int | None = None
    date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str = ""
    exchange_rate: str | None = None
    prices_include_tax: bool = True
    supplier_reference: str = ""
    notes: str = ""
    lines: list[InvoiceFreeLineIn] = []


class InvoiceOrderLinePartIn(Schema):
    order_line_id: int
    quantity: str


class InvoiceFromOrderIn(Schema):
    order_id: int
    date: dt.date | None = None
    due_date: dt.date | None = None
    notes: str = ""
    lines: list[InvoiceOrderLinePartIn] | None = None


class InvoiceFromShipmentsIn(Schema):
    shipment_ids: list[int]
    date: dt.date | None = None
    due_date: dt.date | None = None
    notes: str = ""


class InvoiceBatchFromShipmentsIn(Schema):
    """One posted invoice per shipment (at most 500), dated `date` (default today)."""

    shipment_ids: list[int]
    date: dt.date | None = None


class InvoicePatch(Schema):
    counterparty_id: int | None = None
    date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str | None = None
    exchange_rate: str | None = None
    prices_include_tax: bool | None = None
    supplier_reference: str | None = None
    notes: str | None = None


class InvoiceLineIn(Schema):
    order_line_id: int | None = None
    product_id: int | None = None
    description: str | None = None
    quantity: str | None = None
    price: str | None = None
    tax_rate: str | None = None
    discount_percent: str | None = None
    unit_id: int | None = None


class InvoicePostIn(Schema):
    due_date: dt.date | None = None


class FinanceDocumentCancelIn(Schema):
    date: dt.date | None = None


class InvoiceLineOut(Schema):
    id: int
    position: int
    order_line_id: int | None
    shipment_line_id: int | None
    product_id: int | None
    sku: str | None
    unit_id: int | None
    description: str
    quantity: Decimal
    price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total: Decimal

    @staticmethod
    def resolve_sku(obj) -> str | None:
        return obj.product.sku if obj.product_id else None


class ScheduleItemOut(Schema):
    id: int
    position: int
    kind: str
    due_date: dt.date
    percent: Decimal | None
    amount: Decimal
    paid_amount: Decimal
    state: str = ""


class InvoiceOut(Schema):
    id: int
    number: str
    direction: str
    status: str
    date: dt.date
    due_date: dt.date | None
    counterparty_id: int
    counterparty: str
    order_id: int | None
    supplier_reference: str
    currency: str
    exchange_rate: Decimal
    prices_include_tax: bool
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    paid_amount: Decimal
    credited_amount: Decimal
    open_amount: Decimal
    responsible_id: int
    author_id: int
    notes: str
    posted_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancellation_date: dt.date | None

    @staticmethod
    def resolve_counterparty(obj) -> str:
        return obj.counterparty.name


class InvoiceCreditNoteRef(Schema):
    id: int
    number: str
    status: str
    date: dt.date
    total: Decimal


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]
    schedule: list[ScheduleItemOut]
    credit_notes: list[InvoiceCreditNoteRef]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_schedule(obj) -> list:
        from .selectors_invoices import schedule_rows

        return [{**{f: getattr(row.item, f) for f in ("id", "position", "kind", "due_date", "percent", "amount", "paid_amount")}, "state": row.state}
                for row in schedule_rows(obj.schedule.all())]

    @staticmethod
    def resolve_credit_notes(obj) -> list:
        return list(obj.credit_notes.all())


class CreditNoteLinePartIn(Schema):
    invoice_line_id: int
    quantity: str


class CreditNoteFromInvoiceIn(Schema):
    invoice_id: int
    full: bool = False
    lines: list[CreditNoteLinePartIn] = []
    date: dt.date | None = None
    reason: str = ""


class CreditNoteFromReturnIn(Schema):
    sales_return_id: int
    date: dt.date | None = None


class CreditNoteLineOut(Schema):
    id: int
    invoice_line_id: int | None
    description: str
    quantity: Decimal
    price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total: Decimal


class CreditNoteOut(Schema):
    id: int
    number: str
    status: str
    date: dt.date
    invoice_id: int
    invoice_number: str
    counterparty_id: int
    sales_return_id: int | None
    reason: str
    currency: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    posted_at: dt.datetime | None
    cancelled_at: dt.datetime | None

    @staticmethod
    def resolve_invoice_number(obj) -> str:
        return obj.invoice.number


class CreditNoteDetailOut(CreditNoteOut):
    lines: list[CreditNoteLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class ScheduleItemIn(Schema):
    kind: str = "instalment"
    due_date: dt.date | str | None = None
    percent: str | None = None
    amount: str | None = None


class ScheduleIn(Schema):
    order_id: int | None = None
    invoice_id: int | None = None
    items: list[ScheduleItemIn] = []


class ScheduleGenerateIn(Schema):
    order_id: int | None = None
    invoice_id: int | None = None
    prepayment_percent: str = "0"
    instalments: int = 1
    first_due_date: dt.date | None = None


class ScheduleOut(Schema):
    order_id: int | None = None
    invoice_id: int | None = None
    total: Decimal
    items: list[ScheduleItemOut]
