"""The standard chart of accounts: the roles posting rules look accounts up by, and their defaults.

Administrators may rename an account or change its code; the `key` stays and the posting rules keep finding it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import AccountKind


@dataclass(frozen=True)
class StandardAccount:
    key: str
    code: str
    name: str
    kind: str
    tracks_counterparty: bool = False


CASH = "cash"
BANK = "bank"
RECEIVABLES = "receivables"
ADVANCES_PAID = "advances_paid"
VAT_INPUT = "vat_input"
INVENTORY = "inventory"
PAYABLES = "payables"
ADVANCES_RECEIVED = "advances_received"
VAT_OUTPUT = "vat_output"
GOODS_RECEIVED_NOT_INVOICED = "grni"
OPENING_EQUITY = "opening_equity"
REVENUE = "revenue"
COST_OF_GOODS_SOLD = "cogs"
INVENTORY_DIFFERENCES = "inventory_differences"
PRODUCTION_CONSUMPTION = "production_consumption"
SCRAP = "scrap"
OTHER_EXPENSES = "other_expenses"
EXCHANGE_GAINS = "exchange_gains"
EXCHANGE_LOSSES = "exchange_losses"

STANDARD_ACCOUNTS: tuple[StandardAccount, ...] = (
    StandardAccount(CASH, "1010", _("Cash"), AccountKind.ASSET),
    StandardAccount(BANK, "1020", _("Bank"), AccountKind.ASSET),
    StandardAccount(RECEIVABLES, "1200", _("Accounts receivable"), AccountKind.ASSET, tracks_counterparty=True),
    StandardAccount(ADVANCES_PAID, "1250", _("Advances paid to suppliers"), AccountKind.ASSET, tracks_counterparty=True),
    StandardAccount(INVENTORY, "1300", _("Inventory"), AccountKind.ASSET),
    StandardAccount(VAT_INPUT, "1400", _("VAT receivable"), AccountKind.ASSET),
    StandardAccount(PAYABLES, "2100", _("Accounts payable"), AccountKind.LIABILITY, tracks_counterparty=True),
    StandardAccount(GOODS_RECEIVED_NOT_INVOICED, "2150", _("Goods received, not invoiced"), AccountKind.LIABILITY),
    StandardAccount(ADVANCES_RECEIVED, "2200", _("Advances received from customers"), AccountKind.LIABILITY, tracks_counterparty=True),
    StandardAccount(VAT_OUTPUT, "2300", _("VAT payable"), AccountKind.LIABILITY),
    StandardAccount(OPENING_EQUITY, "3000", _("Opening balance equity"), AccountKind.EQUITY),
    StandardAccount(REVENUE, "4000", _("Sales revenue"), AccountKind.REVENUE),
    StandardAccount(EXCHANGE_GAINS, "4900", _("Exchange rate gains"), AccountKind.REVENUE),
    StandardAccount(COST_OF_GOODS_SOLD, "5000", _("Cost of goods sold"), AccountKind.EXPENSE),
    StandardAccount(INVENTORY_DIFFERENCES, "5100", _("Inventory losses and surpluses"), AccountKind.EXPENSE),
    StandardAccount(PRODUCTION_CONSUMPTION, "5200", _("Materials used in production"), AccountKind.EXPENSE),
    StandardAccount(SCRAP, "5300", _("Scrap"), AccountKind.EXPENSE),
    StandardAccount(EXCHANGE_LOSSES, "5800", _("Exchange rate losses"), AccountKind.EXPENSE),
    StandardAccount(OTHER_EXPENSES, "5900", _("Other expenses"), AccountKind.EXPENSE),
)

# The accounts whose lines make up what a counterparty owes us (positive) or we owe it (negative).
SETTLEMENT_KEYS = (RECEIVABLES, ADVANCES_RECEIVED, PAYABLES, ADVANCES_PAID)
