"""Sales part of the Robokids demo: a few sales orders in different states. Loading twice changes nothing."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_sales(context: DemoContext) -> None:
    """Filled by the sales work; until then the demo has no sales records."""
    return None
