"""Printed-form templates (filled by the printing work)."""

__all__: list[str] = []
