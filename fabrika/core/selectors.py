from __future__ import annotations

from .models import CompanySettings


def company_settings() -> CompanySettings:
    settings, _ = CompanySettings.objects.get_or_create(pk=1)
    return settings
