"""Ledger API schemas. Amounts travel as strings (Decimal), never floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema


class AccountIn(Schema):
    code: str
    name: str
    kind: str
    tracks_counterparty: bool = False


class AccountPatch(Schema):
    code: str | None = None
    name: str | None = None
    kind: str | None = None
    tracks_counterparty: bool | None = None
    is_active: bool | None = None


class AccountOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    key: str | None
    tracks_counterparty: bool
    is_active: bool


class JournalLineOut(Schema):
    id: int
    account_id: int
    account_code: str
    account_name: str
    counterparty_id: int | None
    debit: Decimal
    credit: Decimal
    memo: str

    @staticmethod
    def resolve_account_code(obj) -> str:
        return obj.account.code

    @staticmethod
    def resolve_account_name(obj) -> str:
        return obj.account.name


class EntryOut(Schema):
    id: int
    date: dt.date
    source_type: str
    source_id: int | None
    source_number: str
    memo: str
    total: Decimal
    reverses_id: int | None
    author: str
    created_at: dt.datetime

    @staticmethod
    def resolve_author(obj) -> str:
        return obj.author.get_username()


class EntryDetailOut(EntryOut):
    lines: list[JournalLineOut]
    reversal_ids: list[int]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_reversal_ids(obj) -> list[int]:
        return [reversal.pk for reversal in obj.reversals.all()]


class ManualLineIn(Schema):
    account: str  # the account's code (or id)
    debit: Decimal | None = None
    credit: Decimal | None = None
    counterparty_id: int | None = None
    memo: str = ""


class ManualEntryIn(Schema):
    date: dt.date
    memo: str = ""
    lines: list[ManualLineIn]


class ReverseIn(Schema):
    date: dt.date | None = None


class TrialBalanceRow(Schema):
    account_id: int
    account_code: str
    account_name: str
    opening_debit: Decimal
    opening_credit: Decimal
    debit: Decimal
    credit: Decimal
    closing_debit: Decimal
    closing_credit: Decimal


class TrialBalanceTotals(Schema):
    opening_debit: Decimal
    opening_credit: Decimal
    debit: Decimal
    credit: Decimal
    closing_debit: Decimal
    closing_credit: Decimal


class TrialBalanceOut(Schema):
    date_from: dt.date
    date_to: dt.date
    rows: list[TrialBalanceRow]
    totals: TrialBalanceTotals
    differences: dict[str, Decimal]  # registered reconciliations (inventory: ledger − stock valuation); all zero when they agree


class CounterpartyBalanceOut(Schema):
    counterparty_id: int
    at: dt.date | None
    balance: Decimal
    receivables: Decimal
    advances_received: Decimal
    payables: Decimal
    advances_paid: Decimal
