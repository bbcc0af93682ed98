"""Robokids' catalog and warehouse for the demo: units, groups, products, warehouses and posted stock documents."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_catalog_and_stock(context: DemoContext) -> None:
    """Filled by the inventory demo work; loading twice must change nothing."""
