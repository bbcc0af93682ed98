"""CRM pipelines models."""

__all__: list[str] = []
