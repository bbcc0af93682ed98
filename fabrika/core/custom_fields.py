"""Custom fields (interface; the full implementation lands with the custom-fields work)."""

from __future__ import annotations

from typing import Any


def clean_custom_values(entity: str, values: dict[str, Any], *, existing: dict[str, Any] | None) -> dict[str, Any]:
    return dict(existing or {})
