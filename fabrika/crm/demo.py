"""Robokids' CRM for the demo: the sales and procurement pipelines with deals, leads and activities."""

from __future__ import annotations

from fabrika.core.demo import DemoContext


def load_crm(context: DemoContext) -> None:
    """Filled by the CRM demo work; loading twice must change nothing."""
