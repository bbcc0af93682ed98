"""Reads of the journal. Sums are made in Python Decimal (SQLite keeps decimals as REAL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .accounts import SETTLEMENT_KEYS
from .models import JournalLine

ZERO = Decimal(0)


def _net(rows) -> Decimal:
    return sum((debit - credit for debit, credit in rows), ZERO)


def account_balance(*, key: str, at: dt.date | None = None, counterparty_id: int | None = None) -> Decimal:
    """Debit minus credit of the account with this key (or code) up to and including `at`."""
    lines = JournalLine.objects.filter(account__key=key) if not key[:1].isdigit() else JournalLine.objects.filter(account__code=key)
    if at is not None:
        lines = lines.filter(date__lte=at)
    if counterparty_id is not None:
        lines = lines.filter(counterparty_id=counterparty_id)
    return _net(lines.values_list("debit", "credit"))


def counterparty_balance(*, counterparty_id: int, at: dt.date | None = None) -> Decimal:
    """What the counterparty owes us (positive) or we owe it (negative): receivables, advances and payables together.

    For a client this is invoices − payments − credit notes; for a supplier the same with the opposite sign."""
    lines = JournalLine.objects.filter(counterparty_id=counterparty_id, account__key__in=SETTLEMENT_KEYS)
    if at is not None:
        lines = lines.filter(date__lte=at)
    return _net(lines.values_list("debit", "credit"))
