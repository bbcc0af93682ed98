"""The one writer of the journal: `journal_post`, called by every document-posting service in its transaction.

    journal_post(actor=, date=, source=, lines=[EntryLine(...)], memo="") -> JournalEntry | None
    journal_post_many(actor=, postings=[Posting(date, source, lines, memo)]) -> [JournalEntry | None]  # batches
    journal_reverse(actor=, source=, date=) -> list[JournalEntry]     # mirror entries dated on the cancellation
    accounts_ensure() -> dict[key, Account]                             # the standard chart (idempotent)

Amounts are base-currency Decimals; each line is rounded to kopecks (ROUND_HALF_UP) before the balance check, and an
entry whose debits and credits differ is refused — callers put any rounding difference on a line themselves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.db import models, transaction
from django.utils.translation import gettext as _

from fabrika.core import audit, numbering
from fabrika.core.db import insert_many
from fabrika.core.errors import Conflict, NotFound, ValidationError
from fabrika.core.models.audit import AuditAction

from .accounts import STANDARD_ACCOUNTS
from .models import Account, AccountKind, JournalEntry, JournalLine

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


class _AccountRef(NamedTuple):
    pk: int
    code: str
    name: str
    tracks_counterparty: bool


def _account_refs(field: str, values: set[str]) -> dict[str, _AccountRef]:
    rows = Account.objects.filter(**{f"{field}__in": values}).order_by().values_list(field, "pk", "code", "name", "tracks_counterparty")
    return {value: _AccountRef(pk, code, name, tracks) for value, pk, code, name, tracks in rows}


def _accounts_for(names: set[str]) -> dict[str, _AccountRef]:
    found = _account_refs("key", names)
    missing = names - set(found)
    if missing & {standard.key for standard in STANDARD_ACCOUNTS}:
        chart = accounts_ensure()
        found.update({
            key: _AccountRef(chart[key].pk, chart[key].code, chart[key].name, chart[key].tracks_counterparty) for key in missing if key in chart
        })
        missing = names - set(found)
    if missing:
        found.update(_account_refs("code", missing))
        missing = names - set(found)
    if missing:
        raise ValidationError({"account": [f"Unknown account: {', '.join(sorted(missing))}"]})
    return found


def journal_post(
    *, actor, date: dt.date, source: Source, lines: list[EntryLine], memo: str = "", reverses: JournalEntry | None = None
) -> JournalEntry | None:
    """Write one balanced entry. Lines on the same account and counterparty are netted; an all-zero entry writes
    nothing and returns None. Every refusal comes before the first write, so inside the caller's transaction the entry
    needs no savepoint; outside one, the entry and its lines get their own transaction."""
    if transaction.get_connection().in_atomic_block:
        return journal_post_in_transaction(actor=actor, date=date, source=source, lines=lines, memo=memo, reverses=reverses)
    with transaction.atomic():
        return journal_post_in_transaction(actor=actor, date=date, source=source, lines=lines, memo=memo, reverses=reverses)


def journal_post_in_transaction(
    *, actor, date: dt.date, source: Source, lines: list[EntryLine], memo: str = "", reverses: JournalEntry | None = None
) -> JournalEntry | None:
    """`journal_post` for a caller that already holds a transaction and refuses before writing anything (the stock
    posting hot path): no savepoint, so three queries at most — the account lookup, the entry and its lines."""
    return journal_post_many(actor=actor, postings=[Posting(date=date, source=source, lines=lines, memo=memo, reverses=reverses)])[0]


@dataclass(frozen=True)
class Posting:
    """One entry for `journal_post_many`: what `journal_post` takes, as a value."""

    date: dt.date
    source: Source
    lines: list[EntryLine]
    memo: str = ""
    reverses: JournalEntry | None = None


class _Netted(NamedTuple):
    posting: Posting
    amounts: dict[tuple[str, int | None], Decimal]
    memos: dict[tuple[str, int | None], str]
    total: Decimal


def _net(posting: Posting) -> _Netted:
    """Net the posting's lines per account and counterparty; refuse negative amounts and unbalanced entries."""
    netted: dict[tuple[str, int | None], Decimal] = defaultdict(lambda: ZERO)
    memos: dict[tuple[str, int | None], str] = {}
    for line in posting.lines:
        if line.debit < 0 or line.credit < 0:
            raise ValidationError({"lines": [f"{line.account}: debit and credit must not be negative"]})
        key = (line.account, line.counterparty_id)
        netted[key] += money(line.debit) - money(line.credit)
        memos.setdefault(key, line.memo)
    debit_total = sum((amount for amount in netted.values() if amount > 0), ZERO)
    credit_total = -sum((amount for amount in netted.values() if amount < 0), ZERO)
    if debit_total != credit_total:
        source = posting.source
        raise ValidationError(
            {"lines": [f"Debits ({debit_total}) and credits ({credit_total}) of {source.number or source.type} differ"]},
            debit=str(debit_total), credit=str(credit_total),
        )
    return _Netted(posting, netted, memos, debit_total)


def journal_post_many(*, actor, postings: list[Posting]) -> list[JournalEntry | None]:
    """Write many balanced entries at once (batch document services): one account lookup, one insert of the entries,
    one of their lines. The rules are `journal_post`'s, checked for every posting before the first write; the result
    lists each posting's entry in order (None for an all-zero posting). Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("journal_post_many must run inside the documents' transaction")
    netted = [_net(posting) for posting in postings]
    accounts = _accounts_for({account for item in netted for account, _party in item.amounts})
    for item in netted:
        for name, party in item.amounts:
            account = accounts[name]
            if account.tracks_counterparty and party is None:
                raise ValidationError({"lines": [f"Account {account.code} {account.name} needs a counterparty"]})
    written = [item for item in netted if item.total != 0]
    entries = insert_many([
        JournalEntry(
            date=item.posting.date, source_type=item.posting.source.type, source_id=item.posting.source.id,
            source_number=item.posting.source.number[:60], memo=item.posting.memo[:300], reverses=item.posting.reverses,
            total=item.total, author=actor,
        )
        for item in written
    ])
    insert_many([
        JournalLine(
            entry=entry, account_id=accounts[name].pk, counterparty_id=party, date=entry.date,
            debit=amount if amount > 0 else ZERO, credit=-amount if amount < 0 else ZERO, memo=item.memos[(name, party)][:300],
        )
        for item, entry in zip(written, entries, strict=True)
        for (name, party), amount in item.amounts.items()
        if amount != 0
    ])
    by_posting = {id(item.posting): entry for item, entry in zip(written, entries, strict=True)}
    return [by_posting.get(id(posting)) for posting in postings]


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


# ----------------------------------------------------------------------------------------------- chart of accounts

MANUAL_SOURCE = "ledger.manual"  # source_type of entries an accountant writes by hand
MANUAL_NUMBERING = "journal_entry"
ACCOUNT_FIELDS = ("code", "name", "kind", "tracks_counterparty", "is_active")


def _clean_account(data: dict[str, Any], *, account: Account | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if account is None or "code" in data:
        code = str(data.get("code") or "").strip()
        if not code:
            errors["code"] = [_("Enter the account code")]
        elif len(code) > 20:
            errors["code"] = [_("The code is at most 20 characters")]
        elif Account.objects.filter(code=code).exclude(pk=account.pk if account else None).exists():
            errors["code"] = [_("Account code %(code)s is already used") % {"code": code}]
        cleaned["code"] = code
    if account is None or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Enter the account name")]
        elif len(name) > 200:
            errors["name"] = [_("The name is at most 200 characters")]
        cleaned["name"] = name
    if account is None or "kind" in data:
        kind = str(data.get("kind") or "")
        if kind not in AccountKind.values:
            errors["kind"] = [_("Choose one of: %(kinds)s") % {"kinds": ", ".join(AccountKind.values)}]
        cleaned["kind"] = kind
    for flag in ("tracks_counterparty", "is_active"):
        if flag in data and data[flag] is not None:
            cleaned[flag] = bool(data[flag])
    if account is not None:
        used = JournalLine.objects.filter(account=account).exists()
        if account.key and cleaned.get("is_active") is False:
            errors["is_active"] = [_("A standard account cannot be deactivated: the posting rules use it")]
        if account.key and "kind" in cleaned and cleaned["kind"] != account.kind:
            errors["kind"] = [_("The kind of a standard account is fixed")]
        if "tracks_counterparty" in cleaned and cleaned["tracks_counterparty"] != account.tracks_counterparty and (used or account.key):
            errors["tracks_counterparty"] = [_("This cannot change on a standard account or one that already has entries")]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def account_create(*, actor, data: dict[str, Any]) -> Account:
    cleaned = _clean_account(data, account=None)
    account = Account.objects.create(**cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=account, changes=audit.snapshot(account, ACCOUNT_FIELDS))
    return account


@transaction.atomic
def account_update(*, actor, account_id: int, data: dict[str, Any]) -> Account:
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    cleaned = _clean_account(data, account=account)
    before = audit.snapshot(account, ACCOUNT_FIELDS)
    for name, value in cleaned.items():
        setattr(account, name, value)
    changes = audit.diff(before, audit.snapshot(account, ACCOUNT_FIELDS))
    if changes:
        account.save(update_fields=list(cleaned))
        audit.record(actor=actor, action=AuditAction.UPDATE, target=account, changes=changes)
    return account


@transaction.atomic
def account_delete(*, actor, account_id: int) -> None:
    account = Account.objects.select_for_update().filter(pk=account_id).first()
    if account is None:
        raise NotFound(f"Account {account_id} not found")
    if account.key:
        raise Conflict(_("A standard account cannot be deleted: the posting rules use it"), code="standard_account")
    if JournalLine.objects.filter(account=account).exists():
        raise Conflict(_("The account has entries and cannot be deleted; deactivate it instead"), code="account_used")
    audit.record(actor=actor, action=AuditAction.DELETE, target=account, changes=audit.snapshot(account, ACCOUNT_FIELDS))
    account.delete()


# ----------------------------------------------------------------------------------------------- manual entries


def _money_field(errors: dict, field: str, value: Any) -> Decimal:
    if value in (None, ""):
        return ZERO
    try:
        amount = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Enter a number"))
        return ZERO
    if not amount.is_finite():
        errors.setdefault(field, []).append(_("Enter a number"))
        return ZERO
    if amount < 0:
        errors.setdefault(field, []).append(_("The amount must not be negative"))
    elif amount != amount.quantize(CENT):
        errors.setdefault(field, []).append(_("At most 2 decimal places"))
    elif amount >= Decimal("1e13"):
        errors.setdefault(field, []).append(_("The amount is too large"))
    return amount


def _clean_date(errors: dict, value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or ""))
    except ValueError:
        errors["date"] = [_("Enter a date as YYYY-MM-DD")]
        return None


def manual_entry_clean(*, date: Any, lines: list[dict[str, Any]], memo: str = "") -> tuple[dt.date, list[EntryLine]]:
    """Check a manual entry without writing: errors name the field, as `lines.<n>.<field>` for a line's field."""
    from fabrika.parties.models import Counterparty

    errors: dict[str, list[str]] = {}
    on = _clean_date(errors, date)
    if len(memo or "") > 300:
        errors["memo"] = [_("The memo is at most 300 characters")]
    filled = [(index, line) for index, line in enumerate(lines) if any(line.get(k) not in (None, "") for k in ("account", "debit", "credit"))]
    if len(filled) < 2:
        errors.setdefault("lines", []).append(_("An entry needs at least two lines"))
    account_refs = {str(line.get("account") or "") for _index, line in filled}
    by_id = {str(a.pk): a for a in Account.objects.filter(pk__in=[ref for ref in account_refs if ref.isdigit()])}
    by_code = {a.code: a for a in Account.objects.filter(code__in=account_refs)}
    party_ids = {line.get("counterparty") for _index, line in filled if line.get("counterparty") not in (None, "")}
    parties = set(Counterparty.objects.filter(pk__in=[p for p in party_ids if str(p).isdigit()]).values_list("pk", flat=True))
    result: list[EntryLine] = []
    debit_total = credit_total = ZERO
    for index, line in filled:
        prefix = f"lines.{index}"
        ref = str(line.get("account") or "")
        account = by_code.get(ref) or by_id.get(ref)  # a code first: "1200" is an account's code far more often than its id
        if account is None:
            errors[f"{prefix}.account"] = [_("Choose an account from the chart")]
        elif not account.is_active:
            errors[f"{prefix}.account"] = [_("Account %(code)s is inactive") % {"code": account.code}]
        debit = _money_field(errors, f"{prefix}.debit", line.get("debit"))
        credit = _money_field(errors, f"{prefix}.credit", line.get("credit"))
        if (debit > 0) == (credit > 0):
            errors.setdefault(f"{prefix}.debit", []).append(_("Enter either a debit or a credit amount"))
        party = line.get("counterparty")
        party_id = int(party) if party not in (None, "") and str(party).isdigit() else None
        if party not in (None, "") and party_id not in parties:
            errors[f"{prefix}.counterparty"] = [_("Unknown counterparty")]
        elif account is not None and account.tracks_counterparty and party_id is None:
            errors[f"{prefix}.counterparty"] = [_("Account %(code)s is kept per counterparty: choose one") % {"code": account.code}]
        elif account is not None and not account.tracks_counterparty and party_id is not None:
            errors[f"{prefix}.counterparty"] = [_("Account %(code)s is not kept per counterparty") % {"code": account.code}]
        debit_total += debit if debit > 0 else ZERO
        credit_total += credit if credit > 0 else ZERO
        if account is not None:
            result.append(EntryLine(
                account=account.key or account.code, debit=max(debit, ZERO), credit=max(credit, ZERO),
                counterparty_id=party_id, memo=str(line.get("memo") or "")[:300],
            ))
    if not errors and debit_total != credit_total:
        errors["lines"] = [
            _("Debits (%(debit)s) and credits (%(credit)s) must be equal") % {"debit": money(debit_total), "credit": money(credit_total)}
        ]
    if errors:
        raise ValidationError(errors)
    return on, result  # type: ignore[return-value]


@transaction.atomic
def manual_entry_create(*, actor, date: Any, lines: list[dict[str, Any]], memo: str = "") -> JournalEntry:
    """An accountant's entry (opening balances, corrections): numbered, balanced, audited."""
    on, entry_lines = manual_entry_clean(date=date, lines=lines, memo=memo)
    number = numbering.next_number(MANUAL_NUMBERING, on=on)
    entry = journal_post(actor=actor, date=on, source=Source(MANUAL_SOURCE, None, number), lines=entry_lines, memo=memo or "")
    if entry is None:  # lines that net to nothing (the same account debited and credited alike)
        raise ValidationError({"lines": [_("The lines cancel each other out: nothing to post")]})
    audit.record(actor=actor, action=AuditAction.CREATE, target=entry, changes={"number": number, "total": entry.total})
    return entry


@transaction.atomic
def manual_entry_reverse(*, actor, entry_id: int, date: Any = None) -> JournalEntry:
    """Mirror a manual entry, dated `date` (today by default); an entry is reversed once, a reversal never."""
    from django.utils import timezone

    entry = JournalEntry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"Journal entry {entry_id} not found")
    errors: dict[str, list[str]] = {}
    on = _clean_date(errors, date) if date not in (None, "") else timezone.localdate()
    if errors:
        raise ValidationError(errors)
    if entry.source_type != MANUAL_SOURCE:
        raise Conflict(_("Only manual entries are reversed here; cancel the source document instead"), code="not_manual")
    if entry.reverses_id is not None:
        raise Conflict(_("This entry is itself a reversal"), code="is_reversal")
    if entry.reversals.exists():
        raise Conflict(_("This entry has already been reversed"), code="already_reversed")
    if on < entry.date:
        raise ValidationError({"date": [_("A reversal cannot be dated before the entry (%(date)s)") % {"date": entry.date.isoformat()}]})
    reversal = journal_post(
        actor=actor, date=on, source=Source(MANUAL_SOURCE, None, entry.source_number), reverses=entry,
        memo=(_("Reversal of %(number)s") % {"number": entry.source_number})[:300],
        lines=[
            EntryLine(account=line.account.key or line.account.code, debit=line.credit, credit=line.debit,
                      counterparty_id=line.counterparty_id, memo=line.memo)
            for line in entry.lines.select_related("account")
        ],
    )
    audit.record(actor=actor, action=AuditAction.CANCEL,
                 target=entry, changes={"reversal": reversal.pk if reversal else None, "date": on})
    return reversal  # type: ignore[return-value]


@transaction.atomic
def reconciliation_opening_entries(*, actor, date: dt.date) -> list[JournalEntry]:
    """Bring accounts that a registered reconciliation watches (inventory) in line with their records, against opening
    balance equity — for a database whose documents were posted before the journal existed. Run once; afterwards every
    posting keeps them equal, and running again writes nothing."""
    from .accounts import OPENING_EQUITY
    from .checks import reconciliation_differences

    entries = []
    for check, difference in reconciliation_differences():
        if not difference:
            continue
        number = numbering.next_number(MANUAL_NUMBERING, on=date)
        entry = journal_post(
            actor=actor, date=date, source=Source(MANUAL_SOURCE, None, number),
            memo=(_("Opening balance: %(label)s") % {"label": check.label})[:300],
            lines=[
                EntryLine(account=check.key, debit=max(-difference, ZERO), credit=max(difference, ZERO)),
                EntryLine(account=OPENING_EQUITY, debit=max(difference, ZERO), credit=max(-difference, ZERO)),
            ],
        )
        if entry is not None:
            audit.record(actor=actor, action=AuditAction.CREATE, target=entry, changes={"number": number, "total": entry.total})
            entries.append(entry)
    return entries
