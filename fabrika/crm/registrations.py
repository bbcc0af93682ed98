"""Timer handlers, event consumers and importers of the CRM app, registered once at start-up."""

from __future__ import annotations


def register() -> None:
    from . import registrations_activities, registrations_leads, registrations_pipelines

    registrations_pipelines.register()
    registrations_leads.register()
    registrations_activities.register()
