"""Models of this sub-domain; list every public model in __all__ (models/__init__.py star-imports it)."""

from __future__ import annotations

__all__: list[str] = []
