"""Printed forms of the finance app (autodiscovered by fabrika.core.printing)."""

from . import printing_invoices, printing_payments  # noqa: F401
