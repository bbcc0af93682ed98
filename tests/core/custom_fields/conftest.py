from __future__ import annotations

import pytest

from fabrika.core.services_custom_fields import custom_field_create

ENTITY = "parties.counterparty"


@pytest.fixture
def make_field(admin_user):
    """Create a custom field on counterparties through the service; keyword arguments override the defaults."""

    def make(code: str, field_type: str = "text", **extra):
        data = {"entity": ENTITY, "code": code, "label": code.replace("_", " ").capitalize(), "field_type": field_type, **extra}
        return custom_field_create(actor=admin_user, data=data)

    return make


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
