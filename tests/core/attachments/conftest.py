from __future__ import annotations

import pytest

from fabrika.parties.services import counterparty_create


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FABRIKA_ATTACHMENT_MAX_BYTES = 1000
    settings.FABRIKA_ATTACHMENT_EXTENSIONS = ["pdf", "png", "txt"]
    return settings.MEDIA_ROOT


@pytest.fixture
def manager(make_user):
    return make_user("Sales manager", username="anna")


@pytest.fixture
def other_manager(make_user):
    return make_user("Sales manager", username="boris")


@pytest.fixture
def counterparty(manager):
    return counterparty_create(actor=manager, data={"name": "Robotics Club", "responsible": manager})
