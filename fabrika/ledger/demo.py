"""Ledger part of the Robokids demo: the standard chart of accounts. Loading twice changes nothing."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_ledger(context: DemoContext) -> None:
    from .services import accounts_ensure

    accounts_ensure()
