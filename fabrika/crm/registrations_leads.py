"""Start-up registrations of the CRM leads sub-domain: the leads importer (source "import")."""

from __future__ import annotations


def register() -> None:
    from fabrika.core.importer import register_importer

    from .importers_leads import LeadImporter

    register_importer(LeadImporter)
