"""Start-up registrations of the CRM pipelines sub-domain (timer handlers, event consumers, importers)."""

from __future__ import annotations


def register() -> None:
    return None
