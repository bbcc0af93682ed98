"""CRM activities models."""

__all__: list[str] = []
