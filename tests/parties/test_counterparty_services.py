from __future__ import annotations

import pytest

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create, counterparty_update


def test_create_normalises_and_audits(make_user):
    # given a sales manager
    manager = make_user()
    # when they create a client with a valid INN and a local phone
    party = counterparty_create(actor=manager, data={"name": " Robotics club ", "tax_id": "7707083893", "phone": "8 (495) 123-45-67"})
    # then the values are cleaned, the manager is responsible, and the audit and outbox have one row each
    assert party.name == "Robotics club"
    assert party.phone == "+74951234567"
    assert party.responsible == manager
    entry = AuditEntry.objects.get(object_id=str(party.pk), action="create")
    assert entry.actor == manager and entry.changes["name"] == "Robotics club"
    assert OutboxEvent.objects.filter(event_type="record.created", aggregate="parties.counterparty", aggregate_id=str(party.pk)).count() == 1


def test_bad_input_names_fields_and_changes_nothing(make_user):
    manager = make_user()
    with pytest.raises(ValidationError) as raised:
        counterparty_create(actor=manager, data={"name": "", "tax_id": "7707083894", "email": "not-mail"})
    assert set(raised.value.errors) == {"name", "tax_id", "email"}
    assert "checksum" in raised.value.errors["tax_id"][0]
    assert Counterparty.objects.count() == 0
    assert AuditEntry.objects.filter(action="create").count() == 0


def test_update_records_old_and_new_values(make_user):
    manager = make_user()
    party = counterparty_create(actor=manager, data={"name": "Old name"})
    counterparty_update(actor=manager, counterparty_id=party.pk, data={"name": "New name", "city": "Kazan"})
    entry = AuditEntry.objects.get(object_id=str(party.pk), action="update")
    assert entry.changes == {"city": ["", "Kazan"], "name": ["Old name", "New name"]}
