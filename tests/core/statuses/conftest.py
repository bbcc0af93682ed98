from __future__ import annotations

import datetime as dt

import pytest

from fabrika.core import timers
from fabrika.core.models import CompanySettings
from fabrika.core.statuses import (
    DIGEST_TIMER,
    REMIND_TIMER,
    reminder_digest_fire,
    status_definition_create,
    status_remind_fire,
)
from fabrika.parties.services import counterparty_create

TIME_ZONE = "Europe/Moscow"  # UTC+3 all year


@pytest.fixture(autouse=True)
def company(db):
    settings_row, _ = CompanySettings.objects.get_or_create(pk=1)
    settings_row.time_zone = TIME_ZONE
    settings_row.save()
    return settings_row


@pytest.fixture(autouse=True)
def no_automatic_digest(settings):
    """Most tests count timers: the daily digest timer is switched on only where a test wants it."""
    settings.FABRIKA_REMINDER_DIGEST_HOUR = None


@pytest.fixture(autouse=True)
def remind_handler():
    """The handlers CoreConfig.ready() registers in production; restored after each test."""
    saved = dict(timers._handlers)
    timers.register_timer_handler(REMIND_TIMER, status_remind_fire)
    timers.register_timer_handler(DIGEST_TIMER, reminder_digest_fire)
    yield
    timers._handlers.clear()
    timers._handlers.update(saved)


@pytest.fixture
def manager(make_user):
    return make_user(
        "Sales manager", username="anna", first_name="Anna", last_name="Petrova", email="anna@example.com"
    )


@pytest.fixture
def other_manager(make_user):
    return make_user(
        "Sales manager", username="boris", first_name="Boris", last_name="Orlov", email="boris@example.com"
    )


@pytest.fixture
def make_counterparty():
    def make(responsible, name: str = "Robotics Club"):
        return counterparty_create(
            actor=responsible, data={"name": name, "responsible": responsible, "is_client": True}
        )

    return make


@pytest.fixture
def definitions(admin_user) -> dict:
    entity = "parties.counterparty"
    return {
        "new": status_definition_create(
            actor=admin_user, data={"entity": entity, "name": "New", "kind": "info", "order": 1}
        ),
        "call": status_definition_create(
            actor=admin_user,
            data={"entity": entity, "name": "Call back", "kind": "remind", "colour": "#C81E1E", "order": 2},
        ),
        "won": status_definition_create(
            actor=admin_user, data={"entity": entity, "name": "Won", "kind": "closed", "order": 3}
        ),
    }


def at_moscow(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    """An aware datetime at `hour:minute` Moscow time on `day`."""
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(TIME_ZONE))
