"""CRM leads models."""

__all__: list[str] = []
