"""Finance part of the Robokids demo: invoices and payments for the demo orders. Loading twice changes nothing."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_finance(context: DemoContext) -> None:
    """Filled by the finance work; until then the demo has no finance records."""
    return None
