"""Pricing part of the Robokids demo: price types, price lists and discount rules. Loading twice changes nothing."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_pricing(context: DemoContext) -> None:
    """Filled by the pricing work; until then the demo has no pricing records."""
    return None
