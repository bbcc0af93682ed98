"""Shared test helpers for leads and activities (no tests here): CRM permissions for the sales roles, a sales org."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.parties.factories import sales_org

SALES_ROLES = ("Sales manager", "Head of sales", "Director")


def grant_crm(roles) -> None:
    """Until the standard roles grant crm.*, give the sales roles every CRM permission."""
    permissions = list(Permission.objects.filter(content_type__app_label="crm"))
    for name in SALES_ROLES:
        roles[name].permissions.add(*permissions)


@pytest.fixture
def crm_org(make_user, roles):
    grant_crm(roles)
    return sales_org(make_user)
