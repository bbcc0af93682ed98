"""Stock documents in the journal: one balanced entry per posting and per cancellation.

The inventory account (1300) follows the value of stock in valued locations (VALUED_KINDS) exactly: each entry books
the change in that value that the document's moves cause, plus the change in value of later moves that a back-dated
posting (or a cancellation dated before later moves) revalues. The counter-account is chosen by the kind of the
other, non-valued location of each move:

    supplier -> grni (goods received, not invoiced)     customer -> cogs
    production -> production_consumption               scrap -> scrap
    inventory_loss -> inventory_differences

A move between two valued locations (a transfer, goods in transit) changes nothing in total, except the revaluation
a moving-average receipt into negative stock books (`adjustment_value`): that corrects the cost of what was issued
short and goes to cogs. So at any moment the inventory account balance equals Σ StockBalance.value over valued
locations, which `inventory_account_difference()` checks.

Cost: amounts are aggregated per account in Python from the engine's in-memory moves; the journal gets one account
lookup, one location-kind lookup, one entry insert and one multi-row insert of lines per document.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from fabrika.ledger import accounts
from fabrika.ledger.checks import register_reconciliation
from fabrika.ledger.models import JournalEntry
from fabrika.ledger.selectors import account_balance
from fabrika.ledger.services import EntryLine, Source, journal_post_in_transaction

from .engine import Move
from .enums import VALUED_KINDS, LocationKind
from .models import Location, StockBalance, StockDocument

ZERO = Decimal(0)

COUNTER_ACCOUNTS: dict[str, str] = {
    LocationKind.SUPPLIER: accounts.GOODS_RECEIVED_NOT_INVOICED,
    LocationKind.CUSTOMER: accounts.COST_OF_GOODS_SOLD,
    LocationKind.PRODUCTION: accounts.PRODUCTION_CONSUMPTION,
    LocationKind.SCRAP: accounts.SCRAP,
    LocationKind.INVENTORY_LOSS: accounts.INVENTORY_DIFFERENCES,
}
# A moving-average receipt into negative stock corrects the cost of the units issued short.
ADJUSTMENT_ACCOUNT = accounts.COST_OF_GOODS_SOLD


def _effects(
    *, from_id: int, to_id: int, value: Decimal, adjustment: Decimal, valued: set[int]
) -> tuple[Decimal, Decimal, int | None]:
    """(change of valued stock from the transfer of value, change from the average adjustment, the other location)."""
    from_valued, to_valued = from_id in valued, to_id in valued
    if from_valued and to_valued:
        return ZERO, adjustment if adjustment else ZERO, None
    if to_valued:
        return value, adjustment, from_id
    if from_valued:
        return -value, ZERO, to_id
    return ZERO, ZERO, None


def stock_entry_amounts(
    *, moves: list[Move], revalued: list[Move], valued: set[int], kinds: dict[int, str] | None = None
) -> dict[str, Decimal]:
    """Debit (positive) or credit (negative) per account key for these new moves and these revalued later moves.

    New moves count with their value; revalued ones with the difference between their replayed and stored values.
    `kinds`: location id → kind, when the caller has read them (a batch of documents reads them once)."""
    by_location: dict[int, Decimal] = defaultdict(lambda: ZERO)
    adjustments = ZERO
    for move in moves:
        value, adjustment, other = _effects(
            from_id=move.from_location_id, to_id=move.to_location_id, value=move.value, adjustment=move.adjustment_value,
            valued=valued,
        )
        if other is not None and value:
            by_location[other] += value
        adjustments += adjustment
    for move in revalued:
        _unit_cost, old_value, old_adjustment = move.stored
        value, adjustment, other = _effects(
            from_id=move.from_location_id, to_id=move.to_location_id, value=move.value - old_value,
            adjustment=move.adjustment_value - old_adjustment, valued=valued,
        )
        if other is not None and value:
            by_location[other] += value
        adjustments += adjustment
    amounts: dict[str, Decimal] = defaultdict(lambda: ZERO)
    if by_location:
        if kinds is None or not set(by_location) <= set(kinds):
            kinds = dict(Location.objects.filter(pk__in=list(by_location)).values_list("id", "kind"))
        for location_id, change in by_location.items():
            amounts[accounts.INVENTORY] += change
            amounts[COUNTER_ACCOUNTS.get(kinds.get(location_id, ""), accounts.INVENTORY_DIFFERENCES)] -= change
    if adjustments:
        amounts[accounts.INVENTORY] += adjustments
        amounts[ADJUSTMENT_ACCOUNT] -= adjustments
    return {key: amount for key, amount in amounts.items() if amount}


def stock_document_journal(
    *, actor, document: StockDocument, moves: list[Move], revalued: list[Move], valued: set[int], on: dt.date,
    cancellation: bool = False,
) -> JournalEntry | None:
    """Write the one journal entry of a stock document's posting (dated the document date) or cancellation (dated the
    cancellation day). Returns None when the value of stock did not change (a transfer, a count without differences)."""
    amounts = stock_entry_amounts(moves=moves, revalued=revalued, valued=valued)
    if not amounts:
        return None
    reverses = None
    if cancellation:
        reverses = (
            JournalEntry.objects.filter(source_type=Source.of(document).type, source_id=document.pk, reverses__isnull=True)
            .order_by("id").first()
        )
    label = document.get_document_type_display()
    memo = f"{'Cancellation: ' if cancellation else ''}{label} {document.number}".strip()
    return journal_post_in_transaction(actor=actor, date=on, source=Source.of(document), memo=memo, reverses=reverses, lines=entry_lines(amounts))


def entry_lines(amounts: dict[str, Decimal]) -> list[EntryLine]:
    """The entry lines of `stock_entry_amounts`: the inventory account first."""
    return [
        EntryLine(account=key, debit=amount if amount > 0 else ZERO, credit=-amount if amount < 0 else ZERO)
        for key, amount in sorted(amounts.items(), key=lambda item: item[0] != accounts.INVENTORY)
    ]


def stock_valuation_total() -> Decimal:
    """Σ StockBalance.value over valued locations, added in Python Decimal."""
    values = StockBalance.objects.filter(location__kind__in=list(VALUED_KINDS)).values_list("value", flat=True)
    return sum(values, ZERO)


def inventory_account_difference() -> Decimal:
    """The ledger's inventory balance minus the value of stock on hand: zero unless something bypassed the postings."""
    return account_balance(key=accounts.INVENTORY) - stock_valuation_total()


register_reconciliation(
    key=accounts.INVENTORY, label=_("Inventory account minus the value of stock on hand"), difference=inventory_account_difference
)
