"""The one writer of the journal: `journal_post`, called by every document-posting service in its transaction.

    journal_post(actor=, date=, source=, lines=[EntryLine(...)], memo="") -> JournalEntry | None
    journal_reverse(actor=, source=, date=) -> list[JournalEntry]     # mirror entries dated on the cancellation
    accounts_ensure() -> dict[key, Account]                             # the standard chart (idempotent)

Amounts are base-currency Decimals; each line is rounded to kopecks (ROUND_HALF_UP) before the balance check, and an
entry whose debits and credits differ is refused — callers put any rounding difference on a line themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import models, transaction

from fabrika.core.errors import ValidationError

from .accounts import STANDARD_ACCOUNTS
from .models import Account, JournalEntry, JournalLine

ZERO = Decimal(0)
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class EntryLine:
    account: str  # an account key (accounts.py) or an account code
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    counterparty_id: int | None = None
    memo: str = ""


@dataclass(frozen=True)
class Source:
    """What caused an entry: `Source.of(document)` or Source("sales.shipment", 12, "SH-2026-00012")."""

    type: str
    id: int | None = None
    number: str = ""

    @classmethod
    def of(cls, document: models.Model) -> Source:
        return cls(document._meta.label_lower, document.pk, str(getattr(document, "number", "") or ""))


@transaction.atomic
def accounts_ensure() -> dict[str, Account]:
    existing = {account.key: account for account in Account.objects.filter(key__isnull=False)}
    taken_codes = set(Account.objects.values_list("code", flat=True))
    for standard in STANDARD_ACCOUNTS:
        if standard.key in existing:
            continue
        code = standard.code
        while code in taken_codes:
            code = f"{code}-1"
        existing[standard.key] = Account.objects.create(
            key=standard.key, code=code, name=str(standard.name), kind=standard.kind,
            tracks_counterparty=standard.tracks_counterparty,
        )
        taken_codes.add(code)
    return existing


def _accounts_for(names: set[str]) -> dict[str, Account]:
    found = {account.key: account for account in Account.objects.filter(key__in=names)}
    missing = names - set(found)
    if missing & {standard.key for standard in STANDARD_ACCOUNTS}:
        chart = accounts_ensure()
        found.update({key: chart[key] for key in missing if key in chart})
        missing = names - set(found)
    if missing:
        found.update({account.code: account for account in Account.objects.filter(code__in=missing)})
        missing = names - set(found)
    if missing:
        raise ValidationError({"account": [f"Unknown account: {', '.join(sorted(missing))}"]})
    return found


@transaction.atomic
def journal_post(
    *, actor, date: dt.date, source: Source, lines: list[EntryLine], memo: str = "", reverses: JournalEntry | None = None
) -> JournalEntry | None:
    """Write one balanced entry. Lines on the same account and counterparty are netted; an all-zero entry writes
    nothing and returns None."""
    netted: dict[tuple[str, int | None], Decimal] = defaultdict(lambda: ZERO)
    memos: dict[tuple[str, int | None], str] = {}
    for line in lines:
        if line.debit < 0 or line.credit < 0:
            raise ValidationError({"lines": [f"{line.account}: debit and credit must not be negative"]})
        key = (line.account, line.counterparty_id)
        netted[key] += money(line.debit) - money(line.credit)
        memos.setdefault(key, line.memo)
    debit_total = sum((amount for amount in netted.values() if amount > 0), ZERO)
    credit_total = -sum((amount for amount in netted.values() if amount < 0), ZERO)
    if debit_total != credit_total:
        raise ValidationError(
            {"lines": [f"Debits ({debit_total}) and credits ({credit_total}) of {source.number or source.type} differ"]},
            debit=str(debit_total), credit=str(credit_total),
        )
    if debit_total == 0:
        return None
    accounts = _accounts_for({account for account, _party in netted})
    for (name, party), _amount in netted.items():
        account = accounts[name]
        if account.tracks_counterparty and party is None:
            raise ValidationError({"lines": [f"Account {account.code} {account.name} needs a counterparty"]})
    entry = JournalEntry.objects.create(
        date=date, source_type=source.type, source_id=source.id, source_number=source.number[:60], memo=memo[:300],
        reverses=reverses, total=debit_total, author=actor,
    )
    JournalLine.objects.bulk_create(
        JournalLine(
            entry=entry, account=accounts[name], counterparty_id=party, date=date,
            debit=amount if amount > 0 else ZERO, credit=-amount if amount < 0 else ZERO, memo=memos[(name, party)][:300],
        )
        for (name, party), amount in netted.items()
        if amount != 0
    )
    return entry


@transaction.atomic
def journal_reverse(*, actor, source: Source, date: dt.date, memo: str = "") -> list[JournalEntry]:
    """Mirror every not yet reversed entry of `source`, dated `date` (a cancellation never rewrites history)."""
    originals = list(
        JournalEntry.objects.filter(source_type=source.type, source_id=source.id, reverses__isnull=True, reversals__isnull=True)
        .prefetch_related("lines__account")
        .order_by("id")
    )
    reversals = []
    for original in originals:
        reversal = journal_post(
            actor=actor, date=date, source=source, reverses=original, memo=memo or f"Reversal of {original.source_number}",
            lines=[
                EntryLine(account=line.account.key or line.account.code, debit=line.credit, credit=line.debit,
                          counterparty_id=line.counterparty_id, memo=line.memo)
                for line in original.lines.all()
            ],
        )
        if reversal is not None:
            reversals.append(reversal)
    return reversals
