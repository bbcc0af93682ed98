"""Printed forms registered by this sub-domain (see fabrika/core/printing.py)."""
