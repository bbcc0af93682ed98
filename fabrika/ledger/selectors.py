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


# ----------------------------------------------------------------------------------------------- pages and API

MONEY_STEP = Decimal("0.01")


def _exact(value) -> Decimal:
    """A SQL sum back to exact kopecks (SQLite adds decimals as REAL)."""
    return Decimal(str(value or 0)).quantize(MONEY_STEP) if value is not None else ZERO


def account_list(*, include_inactive: bool = True):
    from .models import Account

    accounts = Account.objects.all()
    return accounts if include_inactive else accounts.filter(is_active=True)


def account_get(account_id: int):
    from fabrika.core.errors import NotFound

    from .models import Account

    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    return account


def entry_list(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None, account_id: int | None = None,
    counterparty_id: int | None = None, source_type: str = "", search: str = "",
):
    """Journal entries, newest first, filtered; an entry matches an account or counterparty filter by any of its lines."""
    from django.db.models import Q

    from .models import JournalEntry

    entries = JournalEntry.objects.select_related("author", "reverses")
    if date_from:
        entries = entries.filter(date__gte=date_from)
    if date_to:
        entries = entries.filter(date__lte=date_to)
    if account_id:
        entries = entries.filter(pk__in=JournalLine.objects.filter(account_id=account_id).values("entry_id"))
    if counterparty_id:
        entries = entries.filter(pk__in=JournalLine.objects.filter(counterparty_id=counterparty_id).values("entry_id"))
    if source_type:
        entries = entries.filter(source_type=source_type)
    if search:
        entries = entries.filter(Q(source_number__icontains=search) | Q(memo__icontains=search))
    return entries.order_by("-date", "-id")


def entry_get(entry_id: int):
    from fabrika.core.errors import NotFound

    from .models import JournalEntry

    entry = (
        JournalEntry.objects.select_related("author", "reverses")
        .prefetch_related("lines__account", "lines__counterparty", "reversals")
        .filter(pk=entry_id).first()
    )
    if entry is None:
        raise NotFound(f"Journal entry {entry_id} not found")
    return entry


def source_types() -> list[str]:
    from .models import JournalEntry

    return sorted(set(JournalEntry.objects.values_list("source_type", flat=True).distinct()))


def source_document(entry) -> tuple[object | None, str]:
    """The document that caused an entry and its URL ("" when the model has no page), resolved by the source type."""
    from django.apps import apps

    if not entry.source_id or "." not in entry.source_type:
        return None, ""
    try:
        model = apps.get_model(entry.source_type)
    except (LookupError, ValueError):
        return None, ""
    document = model._default_manager.filter(pk=entry.source_id).first()
    if document is None or not hasattr(document, "get_absolute_url"):
        return document, ""
    try:
        return document, document.get_absolute_url()
    except Exception:  # noqa: BLE001 - a model whose URL needs more than its pk: show no link
        return document, ""


def account_statement(*, account_id: int, date_from: dt.date, date_to: dt.date, counterparty_id: int | None = None) -> dict:
    """Opening balance, the lines of the period with a running balance (debit − credit), turnovers and closing."""
    from django.db.models import Sum

    lines = JournalLine.objects.filter(account_id=account_id)
    if counterparty_id:
        lines = lines.filter(counterparty_id=counterparty_id)
    before = lines.filter(date__lt=date_from).aggregate(d=Sum("debit"), c=Sum("credit"))
    opening = _exact(before["d"]) - _exact(before["c"])
    rows = []
    running = opening
    debit_total = credit_total = ZERO
    for line in (
        lines.filter(date__gte=date_from, date__lte=date_to)
        .select_related("entry", "counterparty")
        .order_by("date", "entry_id", "id")
    ):
        running += line.debit - line.credit
        debit_total += line.debit
        credit_total += line.credit
        rows.append({"line": line, "entry": line.entry, "balance": running})
    return {
        "opening": opening, "rows": rows, "debit": debit_total, "credit": credit_total, "closing": running,
    }


def trial_balance(*, date_from: dt.date, date_to: dt.date) -> dict:
    """Per account: opening balance (end of the day before `date_from`), debit and credit turnover of the period and
    the closing balance, each balance split into a debit or a credit column; the totals of each pair are equal."""
    from django.db.models import Q, Sum

    from .models import Account

    sums = (
        JournalLine.objects.filter(date__lte=date_to)
        .values("account_id")
        .annotate(
            before_debit=Sum("debit", filter=Q(date__lt=date_from)),
            before_credit=Sum("credit", filter=Q(date__lt=date_from)),
            debit=Sum("debit", filter=Q(date__gte=date_from)),
            credit=Sum("credit", filter=Q(date__gte=date_from)),
        )
        .order_by()
    )
    by_account = {row["account_id"]: row for row in sums}
    rows = []
    totals = dict.fromkeys(
        ("opening_debit", "opening_credit", "debit", "credit", "closing_debit", "closing_credit"), ZERO
    )
    for account in Account.objects.filter(pk__in=list(by_account)).order_by("code"):
        row = by_account[account.pk]
        opening = _exact(row["before_debit"]) - _exact(row["before_credit"])
        debit, credit = _exact(row["debit"]), _exact(row["credit"])
        closing = opening + debit - credit
        item = {
            "account": account,
            "opening_debit": max(opening, ZERO), "opening_credit": max(-opening, ZERO),
            "debit": debit, "credit": credit,
            "closing_debit": max(closing, ZERO), "closing_credit": max(-closing, ZERO),
        }
        if not any(item[key] for key in totals):
            continue
        for key in totals:
            totals[key] += item[key]
        rows.append(item)
    return {"date_from": date_from, "date_to": date_to, "rows": rows, "totals": totals}
