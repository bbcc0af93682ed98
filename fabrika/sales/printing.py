"""Printed forms of the sales app (autodiscovered by fabrika.core.printing)."""

from . import printing_orders, printing_shipments  # noqa: F401
