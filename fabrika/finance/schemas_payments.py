"""API schemas of payments and settlements. Money travels as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class PaymentIn(Schema):
    direction: str = "out"
    method: str = "bank"
    date: dt.date | None = None
    counterparty_id: int
    order_id: int | None = None
    amount: str
    currency: str = ""
    exchange_rate: str | None = None
    reference: str = ""
    purpose: str = ""


class PaymentPatch(Schema):
    direction: str | None = None
    method: str | None = None
    date: dt.date | None = None
    counterparty_id: int | None = None
    order_id: int | None = None
    amount: str | None = None
    currency: str | None = None
    exchange_rate: str | None = None
    reference: str | None = None
    purpose: str | None = None


class AllocationIn(Schema):
    invoice_id: int
    amount: str


class PaymentPostIn(Schema):
    allocations: list[AllocationIn] | None = None
    auto_allocate: bool = True


class PaymentBatchRowIn(PaymentIn):
    """One row of POST /payments/batch: a payment to create and post, with its allocations (else, with auto_allocate,
    to the counterparty's open invoices, oldest due date first; the rest is an advance)."""

    allocations: list[AllocationIn] | None = None
    auto_allocate: bool = True


class PaymentBatchIn(Schema):
    rows: list[PaymentBatchRowIn] = Field(..., min_length=1, max_length=500)


class AllocateIn(Schema):
    invoice_id: int
    amount: str
    date: dt.date | None = None


class PaymentCancelIn(Schema):
    date: dt.date | None = None


class AllocationOut(Schema):
    id: int
    payment_id: int
    payment_number: str
    invoice_id: int
    invoice_number: str
    date: dt.date
    amount: Decimal
    settled_base: Decimal
    exchange_difference: Decimal
    is_active: bool

    @staticmethod
    def resolve_payment_number(obj) -> str:
        return obj.payment.number

    @staticmethod
    def resolve_invoice_number(obj) -> str:
        return obj.invoice.number


class PaymentOut(Schema):
    id: int
    number: str
    direction: str
    method: str
    status: str
    date: dt.date
    counterparty_id: int
    counterparty_name: str
    order_id: int | None
    currency: str
    exchange_rate: Decimal
    amount: Decimal
    allocated_amount: Decimal
    unallocated_amount: Decimal
    reference: str
    purpose: str
    posted_at: dt.datetime | None
    cancellation_date: dt.date | None

    @staticmethod
    def resolve_counterparty_name(obj) -> str:
        return obj.counterparty.name


class PaymentDetailOut(PaymentOut):
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj) -> list:
        return list(obj.allocations.select_related("payment", "invoice").order_by("date", "id"))


class PaymentBatchItemOut(PaymentOut):
    """A payment of a posted batch, its allocations read with the others' (`batch_allocations`, prefetched)."""

    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj) -> list:
        return obj.batch_allocations


class SettlementOut(Schema):
    counterparty_id: int
    name: str
    receivable: Decimal
    advances_received: Decimal
    payable: Decimal
    advances_paid: Decimal
    balance: Decimal
    overdue_receivable: Decimal
    overdue_payable: Decimal
    credit_limit: Decimal | None
    credit_headroom: Decimal | None


class AgeingInvoiceOut(Schema):
    invoice_id: int
    number: str
    date: dt.date
    due_date: dt.date
    days_overdue: int
    bucket: str
    open_amount: Decimal
    currency: str


class AgeingOut(Schema):
    direction: str
    not_due: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal
    total: Decimal
    overdue: Decimal
    invoices: list[AgeingInvoiceOut]


class DocumentsBalanceOut(Schema):
    invoices_out: Decimal
    payments_received: Decimal
    credit_notes_out: Decimal
    invoices_in: Decimal
    payments_made: Decimal
    credit_notes_in: Decimal
    exchange_differences: Decimal
    balance: Decimal


class SettlementDetailOut(SettlementOut):
    at: dt.date
    documents: DocumentsBalanceOut
    ageing: list[AgeingOut]


class OverdueOut(Schema):
    invoice_id: int
    number: str
    direction: str
    counterparty_id: int
    counterparty_name: str
    responsible_id: int
    date: dt.date
    due_date: dt.date
    days_overdue: int
    total: Decimal
    open_amount: Decimal
    currency: str


class ReconciliationRowOut(Schema):
    date: dt.date
    kind: str
    document: str
    source_type: str
    source_id: int | None
    debit: Decimal
    credit: Decimal
    is_cancellation: bool


class ReconciliationOut(Schema):
    counterparty_id: int
    counterparty_name: str
    date_from: dt.date
    date_to: dt.date
    opening_balance: Decimal
    debit_total: Decimal
    credit_total: Decimal
    closing_balance: Decimal
    rows: list[ReconciliationRowOut]
    pdf_url: str


class CreditLimitIn(Schema):
    credit_limit: str | None = None


class CreditLimitOut(Schema):
    counterparty_id: int
    credit_limit: Decimal | None
