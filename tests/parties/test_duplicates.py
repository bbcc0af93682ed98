"""Duplicate detection on create and the merge of two counterparties."""

import datetime as dt

import pytest

from fabrika.core.models import AuditEntry, OutboxEvent, RecordStatus, StatusDefinition
from fabrika.parties.models import Contact, Counterparty, Segment
from fabrika.parties.services import (
    DuplicateFound,
    address_create,
    contact_create,
    counterparty_create,
    counterparty_merge,
    duplicates_find,
    name_similarity,
)

pytestmark = pytest.mark.django_db


def _found(candidates):
    return [(candidate.counterparty.name, candidate.reasons) for candidate in candidates]


def test_duplicates_by_tax_id_phone_email_and_similar_name(org):
    contact_create(actor=org.outsider, counterparty=org.outsiders, name="Vera", email="Buyer@Beta.example")
    assert _found(duplicates_find(tax_id="7707083893")) == [("Robo Alpha", ["tax_id"])]
    assert _found(duplicates_find(phone="8 495 123 45 67")) == [("Robo Gamma", ["phone"])]
    assert _found(duplicates_find(email="buyer@beta.example")) == [("Robo Beta", ["email"])]
    assert _found(duplicates_find(name='ООО "Робо Альфа"')) == []
    assert _found(duplicates_find(name="Robo Alpha LLC")) == [("Robo Alpha", ["name"])]
    assert _found(duplicates_find(name="Robbo Alpha")) == [("Robo Alpha", ["name"])]
    assert _found(duplicates_find(name="Robo Alpha", tax_id="7707083893", exclude_pk=org.mine.pk)) == []


def test_name_similarity_ignores_legal_forms():
    assert name_similarity("ООО «Ромашка»", "Ромашка ООО") == 1.0
    assert name_similarity("Toys Ltd", "Bricks Ltd") < 0.85


def test_create_with_duplicate_check_refuses_and_saves_nothing(org):
    before = Counterparty.objects.count()
    with pytest.raises(DuplicateFound) as error:
        counterparty_create(actor=org.manager, data={"name": "Robo Alpha Ltd", "tax_id": "7707083893"}, check_duplicates=True)
    assert error.value.status == 409
    assert error.value.values["candidates"] == [
        {"id": org.mine.pk, "name": "Robo Alpha", "tax_id": "7707083893", "reasons": ["tax_id", "name"], "similarity": 1.0}
    ]
    assert Counterparty.objects.count() == before
    created = counterparty_create(actor=org.manager, data={"name": "Robo Alpha Ltd", "tax_id": "7707083893"})
    assert created.name_key == "robo alpha"


def test_merge_moves_related_records_fills_gaps_and_leaves_a_trail(org):
    schools = Segment.objects.create(name="Schools")
    survivor = org.mine
    duplicate = counterparty_create(
        actor=org.manager,
        data={"name": "Robo Alpha (old)", "phone": "+7 495 111-22-33", "city": "Moscow", "is_supplier": True, "segments": [schools.pk]},
    )
    contact = contact_create(actor=org.manager, counterparty=duplicate, name="Ivan")
    own_contact = contact_create(actor=org.manager, counterparty=survivor, name="Anna")
    address = address_create(actor=org.manager, counterparty=duplicate, data={"raw": "г. Москва, ул. Тверская, д. 7"})
    branch = counterparty_create(actor=org.manager, data={"name": "Alpha branch", "parent": duplicate.pk})
    status = StatusDefinition.objects.create(entity="parties.counterparty", name="Key account")
    record_status = RecordStatus.objects.create(definition=status, content_type_id=_counterparty_type(), object_id=str(duplicate.pk), set_by=org.manager, effective_from=dt.date(2026, 1, 1), set_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    duplicate_id = duplicate.pk

    merged = counterparty_merge(actor=org.manager, survivor=survivor, duplicate=duplicate)

    assert not Counterparty.objects.filter(pk=duplicate_id).exists()
    assert (merged.phone, merged.city, merged.tax_id, merged.is_supplier) == ("+74951112233", "Moscow", "7707083893", True)
    assert list(merged.segments.all()) == [schools]
    assert set(Contact.objects.filter(counterparty=merged).values_list("name", "is_primary")) == {("Anna", True), ("Ivan", False)}
    address.refresh_from_db()
    branch.refresh_from_db()
    record_status.refresh_from_db()
    contact.refresh_from_db()
    assert (address.counterparty_id, branch.parent_id, record_status.object_id, own_contact.counterparty_id) == (merged.pk, merged.pk, str(merged.pk), merged.pk)
    survivor_entry = AuditEntry.objects.filter(object_id=str(merged.pk), content_type__model="counterparty").order_by("-at", "-pk").first()
    assert survivor_entry.changes["merged"]["moved"] == {
        "parties.address.counterparty": 1, "parties.contact.counterparty": 1, "parties.counterparty.parent": 1, "core.recordstatus": 1,
    }
    assert survivor_entry.message == f"Merged “Robo Alpha (old)” (#{duplicate_id}) into this counterparty"
    assert AuditEntry.objects.filter(object_id=str(duplicate_id), content_type__model="counterparty", action="delete").count() == 1
    event = OutboxEvent.objects.get(event_type="counterparty.merged")
    assert (event.payload["survivor_id"], event.payload["duplicate_id"]) == (merged.pk, duplicate_id)


def test_merge_into_itself_is_refused(org):
    from fabrika.core.errors import ValidationError

    with pytest.raises(ValidationError):
        counterparty_merge(actor=org.manager, survivor=org.mine, duplicate=org.mine)


def _counterparty_type():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Counterparty).pk
