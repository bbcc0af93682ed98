"""Reconciliation checks the ledger's reports show: a higher app that posts to an account registers a function that
returns the difference between the account and its own records (inventory: the stock valuation), so the ledger shows
a warning without importing upward.

    register_reconciliation(key="inventory", label=_("Inventory account − stock valuation"), difference=function)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Reconciliation:
    key: str
    label: Any
    difference: Callable[[], Decimal]


_checks: dict[str, Reconciliation] = {}


def register_reconciliation(*, key: str, label: Any, difference: Callable[[], Decimal]) -> None:
    _checks[key] = Reconciliation(key=key, label=label, difference=difference)


def reconciliation_differences() -> list[tuple[Reconciliation, Decimal]]:
    """Every registered check with its current difference (zero when the books agree)."""
    return [(check, check.difference()) for check in _checks.values()]
