from __future__ import annotations

import datetime as dt

import pytest

from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.core.models.statuses import RecordStatus, StatusDefinition
from fabrika.core.models.timers import Timer, TimerStatus
from fabrika.core.statuses import (
    company_today,
    current_status,
    record_status_history,
    record_status_set,
    status_definition_create,
    status_definition_delete,
    status_definition_update,
    status_definitions_for,
)

ENTITY = "parties.counterparty"


# --- catalogue ------------------------------------------------------------------------------------------------


def test_definitions_of_an_entity_in_order(definitions, admin_user):
    # given an inactive status besides the three active ones
    status_definition_create(
        actor=admin_user, data={"entity": ENTITY, "name": "Old", "active": False, "order": 0}
    )
    # then the form offers the active ones in their order, and the catalogue shows all
    assert [d.name for d in status_definitions_for(ENTITY)] == ["New", "Call back", "Won"]
    assert [d.name for d in status_definitions_for(ENTITY, include_inactive=True)] == [
        "Old",
        "New",
        "Call back",
        "Won",
    ]
    assert definitions["call"].colour == "#c81e1e"
    assert AuditEntry.objects.filter(action="create", object_repr="Call back").count() == 1


def test_definition_validation_names_each_field_and_stores_nothing(admin_user, definitions):
    # when a definition breaks every rule
    with pytest.raises(ValidationError) as error:
        status_definition_create(
            actor=admin_user,
            data={"entity": "parties.nothing", "name": "", "kind": "urgent", "colour": "red", "order": "-1"},
        )
    # then each field says what is wrong, and nothing is stored
    assert error.value.errors == {
        "entity": [
            "Unknown record type 'parties.nothing': use app_label.model_name, e.g. parties.counterparty"
        ],
        "name": ["Name is required"],
        "kind": ["Must be one of: info, remind, closed"],
        "colour": ["A colour is # and six hexadecimal digits, e.g. #2563eb"],
        "order": ["Order is between 0 and 1000000"],
    }
    assert StatusDefinition.objects.count() == 3


def test_definition_name_is_unique_per_entity(admin_user, definitions):
    with pytest.raises(ValidationError) as error:
        status_definition_create(actor=admin_user, data={"entity": ENTITY, "name": "call BACK"})
    assert error.value.errors == {"name": ["This record type already has a status named 'call BACK'"]}
    # the same name on another record type is fine
    other = status_definition_create(
        actor=admin_user, data={"entity": "core.department", "name": "Call back"}
    )
    assert other.entity == "core.department"


def test_definition_update_is_audited_with_old_and_new(admin_user, definitions):
    updated = status_definition_update(
        actor=admin_user, definition_id=definitions["new"].pk, data={"name": "Fresh", "active": False}
    )
    assert (updated.name, updated.active) == ("Fresh", False)
    entry = AuditEntry.objects.filter(action="update").get()
    assert entry.changes == {"active": [True, False], "name": ["New", "Fresh"]}


def test_definition_in_use_cannot_be_deleted_or_moved(admin_user, definitions, make_counterparty, manager):
    # given a status set on a record
    counterparty = make_counterparty(manager)
    record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["new"].pk, effective_from="2026-01-10"
    )
    # then it cannot be deleted nor moved to another record type
    with pytest.raises(Conflict) as error:
        status_definition_delete(actor=admin_user, definition_id=definitions["new"].pk)
    assert (
        error.value.message
        == "Status 'New' is set on 1 record(s) and stays in their history; deactivate it instead"
    )
    with pytest.raises(ValidationError) as invalid:
        status_definition_update(
            actor=admin_user, definition_id=definitions["new"].pk, data={"entity": "core.department"}
        )
    assert invalid.value.errors == {
        "entity": ["The record type of a status already set on records cannot change"]
    }
    assert StatusDefinition.objects.get(pk=definitions["new"].pk).entity == ENTITY
    # an unused one can be deleted (audited)
    status_definition_delete(actor=admin_user, definition_id=definitions["won"].pk)
    assert not StatusDefinition.objects.filter(pk=definitions["won"].pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_repr="Won").count() == 1


# --- setting statuses -----------------------------------------------------------------------------------------


def test_set_status_records_history_audit_and_event(definitions, make_counterparty, manager):
    # given a counterparty without a status
    counterparty = make_counterparty(manager)
    # when Anna sets "New" from 10 January and then "Won" from 20 January
    first = record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["new"].pk,
        effective_from="2026-01-10",
        note="First call",
    )
    second = record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=str(definitions["won"].pk),
        effective_from=dt.date(2026, 1, 20),
    )
    # then the history holds both, newest first, and the current status depends on the date
    assert [
        (s.definition.name, s.effective_from, s.note, s.set_by) for s in record_status_history(counterparty)
    ] == [
        ("Won", dt.date(2026, 1, 20), "", manager),
        ("New", dt.date(2026, 1, 10), "First call", manager),
    ]
    assert current_status(counterparty, on_date=dt.date(2026, 1, 9)) is None
    assert current_status(counterparty, on_date=dt.date(2026, 1, 19)) == first
    assert current_status(counterparty, on_date=dt.date(2026, 1, 20)) == second
    # and each change is audited ("status") and published ("status.set")
    entries = list(AuditEntry.objects.filter(action="status").order_by("id"))
    assert [e.changes for e in entries] == [
        {"status": [None, "New"], "effective_from": "2026-01-10", "note": "First call"},
        {"status": ["New", "Won"], "effective_from": "2026-01-20", "note": ""},
    ]
    assert [e.message for e in entries] == ["New from 2026-01-10: First call", "Won from 2026-01-20"]
    assert entries[0].object_id == str(counterparty.pk)
    event = OutboxEvent.objects.filter(event_type="status.set").order_by("id").last()
    assert (event.aggregate, event.aggregate_id) == ("parties.counterparty", str(counterparty.pk))
    assert event.payload == {
        "record_status_id": second.pk,
        "status_id": definitions["won"].pk,
        "status": "Won",
        "kind": "closed",
        "effective_from": "2026-01-20",
        "note": "",
        "previous_status": "New",
        "set_by": manager.pk,
    }


def test_same_date_status_replaces_the_earlier_one(definitions, make_counterparty, manager):
    counterparty = make_counterparty(manager)
    record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["new"].pk, effective_from="2026-02-01"
    )
    later = record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["won"].pk, effective_from="2026-02-01"
    )
    assert current_status(counterparty, on_date=dt.date(2026, 2, 1)) == later
    assert RecordStatus.objects.count() == 2  # the history keeps both


def test_backdated_status_takes_its_place_in_the_timeline(definitions, make_counterparty, manager):
    # given "Won" from 20 March, then "New" set afterwards from 1 March
    counterparty = make_counterparty(manager)
    won = record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["won"].pk, effective_from="2026-03-20"
    )
    new = record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["new"].pk, effective_from="2026-03-01"
    )
    # then "New" holds from 1 to 19 March and "Won" from the 20th
    assert current_status(counterparty, on_date=dt.date(2026, 3, 10)) == new
    assert current_status(counterparty, on_date=dt.date(2026, 3, 20)) == won
    assert [s.definition.name for s in record_status_history(counterparty)] == ["Won", "New"]


def _counts():
    return (
        RecordStatus.objects.count(),
        AuditEntry.objects.filter(action="status").count(),
        OutboxEvent.objects.filter(event_type="status.set").count(),
        Timer.objects.count(),
    )


@pytest.mark.parametrize(
    ("definition_key", "effective_from", "note", "errors"),
    [
        (None, "2026-01-01", "", {"definition_id": ["Choose a status"]}),
        ("missing", "2026-01-01", "", {"definition_id": ["Status 999999 does not exist"]}),
        ("new", None, "", {"effective_from": ["This date is required"]}),
        ("new", "31.01.2026", "", {"effective_from": ["Enter a date as YYYY-MM-DD, e.g. 2026-03-31"]}),
        ("new", "2026-01-01", "x" * 2001, {"note": ["At most 2000 characters (got 2001)"]}),
    ],
)
def test_invalid_status_is_refused_and_nothing_changes(
    definitions, make_counterparty, manager, definition_key, effective_from, note, errors
):
    counterparty = make_counterparty(manager)
    before = _counts()
    definition_id = {None: None, "missing": 999999}.get(
        definition_key, definitions.get(definition_key).pk if definition_key in definitions else None
    )
    with pytest.raises(ValidationError) as error:
        record_status_set(
            actor=manager,
            record=counterparty,
            definition_id=definition_id,
            effective_from=effective_from,
            note=note,
        )
    assert error.value.errors == errors
    assert _counts() == before


def test_status_of_another_record_type_or_inactive_is_refused(
    admin_user, definitions, make_counterparty, manager
):
    counterparty = make_counterparty(manager)
    foreign = status_definition_create(actor=admin_user, data={"entity": "core.department", "name": "Busy"})
    retired = status_definition_create(
        actor=admin_user, data={"entity": ENTITY, "name": "Retired", "active": False}
    )
    before = _counts()
    with pytest.raises(ValidationError) as error:
        record_status_set(
            actor=manager, record=counterparty, definition_id=foreign.pk, effective_from="2026-01-01"
        )
    assert error.value.errors == {"definition_id": ["Status 'Busy' is not a status of parties.counterparty"]}
    with pytest.raises(ValidationError) as error:
        record_status_set(
            actor=manager, record=counterparty, definition_id=retired.pk, effective_from="2026-01-01"
        )
    assert error.value.errors == {"definition_id": ["Status 'Retired' is inactive"]}
    assert _counts() == before


def test_remind_status_schedules_a_timer_at_the_start_of_its_date_in_company_time(
    definitions, make_counterparty, manager
):
    # given a reminder five days ahead (company time zone Europe/Moscow, UTC+3)
    counterparty = make_counterparty(manager)
    day = company_today() + dt.timedelta(days=5)
    reminder = record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["call"].pk, effective_from=day
    )
    # then one pending timer is due at 00:00 Moscow time that day (21:00 UTC the day before)
    timer = Timer.objects.get()
    assert (timer.kind, timer.status, timer.object_id) == (
        "status.remind",
        TimerStatus.PENDING,
        str(reminder.pk),
    )
    assert timer.due_at == dt.datetime.combine(day - dt.timedelta(days=1), dt.time(21, 0), tzinfo=dt.UTC)
    assert timer.payload == {
        "record_status_id": reminder.pk,
        "entity": ENTITY,
        "object_id": str(counterparty.pk),
    }
    # and an info status does not schedule anything
    record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["new"].pk,
        effective_from=day + dt.timedelta(days=1),
    )
    assert Timer.objects.count() == 1
