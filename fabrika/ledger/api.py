"""Ledger API at /api/v1/ledger/: chart of accounts, journal entries (list, detail, manual create, reverse),
trial balance and counterparty balances. Parse → authorise → service/selector → schema; errors map in fabrika/api.py."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Status

from fabrika.core.errors import ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require
from fabrika.parties.selectors import counterparty_get_for_user

from . import accounts, selectors, services
from .checks import reconciliation_differences
from .models import Account, JournalEntry
from .schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    CounterpartyBalanceOut,
    EntryDetailOut,
    EntryOut,
    ManualEntryIn,
    ReverseIn,
    TrialBalanceOut,
)

router = Router(tags=["ledger"])


@router.get("/accounts", response=list[AccountOut])
def account_list(request, include_inactive: bool = True):
    require(request.user, Account, "view")
    return list(selectors.account_list(include_inactive=include_inactive))


@router.post("/accounts", response={201: AccountOut})
@idempotent
def account_create(request, payload: AccountIn):
    require(request.user, Account, "add")
    return Status(201, services.account_create(actor=request.user, data=payload.dict()))


@router.get("/accounts/{account_id}", response=AccountOut)
def account_detail(request, account_id: int):
    require(request.user, Account, "view")
    return selectors.account_get(account_id)


@router.patch("/accounts/{account_id}", response=AccountOut)
def account_update(request, account_id: int, payload: AccountPatch):
    require(request.user, Account, "change")
    account = selectors.account_get(account_id)
    return services.account_update(actor=request.user, account_id=account.pk, data=payload.dict(exclude_unset=True))


@router.delete("/accounts/{account_id}", response={204: None})
def account_delete(request, account_id: int):
    require(request.user, Account, "delete")
    account = selectors.account_get(account_id)
    services.account_delete(actor=request.user, account_id=account.pk)
    return Status(204, None)


@router.get("/entries", response=Page[EntryOut])
def entry_list(
    request, date_from: dt.date | None = None, date_to: dt.date | None = None, account_id: int | None = None,
    counterparty_id: int | None = None, source_type: str = "", search: str = "", cursor: str | None = None, limit: int = 50,
):
    require(request.user, JournalEntry, "view")
    entries = selectors.entry_list(
        date_from=date_from, date_to=date_to, account_id=account_id, counterparty_id=counterparty_id,
        source_type=source_type, search=search,
    )
    return paginate(entries, cursor=cursor, limit=limit)


@router.post("/entries", response={201: EntryDetailOut})
@idempotent
def entry_create(request, payload: ManualEntryIn):
    require(request.user, JournalEntry, "add")
    entry = services.manual_entry_create(
        actor=request.user, date=payload.date, memo=payload.memo,
        lines=[
            {"account": line.account, "debit": line.debit, "credit": line.credit, "counterparty": line.counterparty_id, "memo": line.memo}
            for line in payload.lines
        ],
    )
    return Status(201, selectors.entry_get(entry.pk))


@router.get("/entries/{entry_id}", response=EntryDetailOut)
def entry_detail(request, entry_id: int):
    require(request.user, JournalEntry, "view")
    return selectors.entry_get(entry_id)


@router.post("/entries/{entry_id}/reverse", response={201: EntryDetailOut})
@idempotent
def entry_reverse(request, entry_id: int, payload: ReverseIn):
    require(request.user, JournalEntry, "add")
    entry = selectors.entry_get(entry_id)
    reversal = services.manual_entry_reverse(actor=request.user, entry_id=entry.pk, date=payload.date)
    return Status(201, selectors.entry_get(reversal.pk))


@router.get("/trial-balance", response=TrialBalanceOut)
def trial_balance(request, date_from: dt.date, date_to: dt.date):
    require(request.user, Account, "view")
    if date_to < date_from:
        raise ValidationError({"date_to": ["The end of the period is before its start"]})
    report = selectors.trial_balance(date_from=date_from, date_to=date_to)
    return {
        "date_from": date_from, "date_to": date_to, "totals": report["totals"],
        "rows": [
            {"account_id": row["account"].pk, "account_code": row["account"].code, "account_name": row["account"].name,
             **{key: value for key, value in row.items() if key != "account"}}
            for row in report["rows"]
        ],
        "differences": {check.key: difference for check, difference in reconciliation_differences()},
    }


@router.get("/counterparties/{counterparty_id}/balance", response=CounterpartyBalanceOut)
def counterparty_balance(request, counterparty_id: int, at: dt.date | None = None):
    require(request.user, JournalEntry, "view")
    counterparty = counterparty_get_for_user(request.user, counterparty_id)
    by_key = {
        key: selectors.account_balance(key=key, at=at, counterparty_id=counterparty.pk) for key in accounts.SETTLEMENT_KEYS
    }
    return {
        "counterparty_id": counterparty.pk, "at": at,
        "balance": selectors.counterparty_balance(counterparty_id=counterparty.pk, at=at),
        **by_key,
    }
