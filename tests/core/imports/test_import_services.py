"""The importer with the counterparty plug-in: mapping, preview (writes nothing), both commit modes, audit."""

from __future__ import annotations

import pytest

from fabrika.core.errors import Conflict, PermissionDenied, ValidationError
from fabrika.core.importer import (
    guess_mapping,
    import_job_commit,
    import_job_create,
    import_job_preview,
    importer_for,
)
from fabrika.core.models import AuditEntry, CustomFieldDefinition, ImportJob, OutboxEvent
from fabrika.core.models.imports import ImportMode, ImportStatus
from fabrika.parties.models import Counterparty

GOOD_AND_BAD = (
    "Name;Tax ID;E-mail;Client;Responsible\n"
    "Lyceum 239;;info@239.ru;yes;\n"
    ";;;maybe;\n"
    "Robokids Kazan;;kazan@robokids.ru;no;nobody\n"
    "School 42;;school42.example;1;\n"
    "Gymnasium 1;;;да;\n"
)


def _upload(user, text: str = GOOD_AND_BAD, name: str = "clients.csv", encoding: str = "utf-8") -> ImportJob:
    return import_job_create(actor=user, entity="parties.counterparty", file_name=name, content=text.encode(encoding))


def _changes_snapshot():
    return Counterparty.objects.count(), AuditEntry.objects.count(), OutboxEvent.objects.count()


def test_upload_detects_columns_and_guesses_the_mapping(make_user):
    job = _upload(make_user())
    assert job.status == ImportStatus.UPLOADED
    assert job.columns == ["Name", "Tax ID", "E-mail", "Client", "Responsible"]
    assert job.mapping == {"Name": "name", "Tax ID": "tax_id", "E-mail": "email", "Client": "is_client", "Responsible": "responsible"}
    assert job.total_rows == 5


def test_russian_headers_and_aliases_are_recognised(make_user):
    fields = importer_for("parties.counterparty").all_fields()
    mapping = guess_mapping(["Наименование", "ИНН", "Телефон", "Менеджер", "Поставщик", "Что-то ещё"], fields)
    assert mapping == {"Наименование": "name", "ИНН": "tax_id", "Телефон": "phone", "Менеджер": "responsible", "Поставщик": "is_supplier", "Что-то ещё": ""}


def test_preview_names_row_column_and_rule_and_writes_nothing(make_user):
    # given an uploaded file with three bad rows out of five
    user = make_user()
    job = _upload(user)
    before = _changes_snapshot()
    # when previewed
    job = import_job_preview(actor=user, job_id=job.pk)
    # then every problem is reported with the row number of the file, the column and the rule
    assert (job.status, job.total_rows, job.valid_rows, job.invalid_rows) == (ImportStatus.PREVIEWED, 5, 2, 3)
    assert [(e["row"], e["column"], e["message"]) for e in job.errors] == [
        (3, "Name", "Required"),
        (3, "Client", "Enter yes or no (also accepted: 1/0, true/false, да/нет)"),
        (4, "Responsible", "No active user with the username or e-mail “nobody”"),
        (5, "E-mail", "Enter a valid e-mail address, e.g. name@example.com"),
    ]
    assert job.preview[0] == {
        "row": 2,
        "values": {"name": "Lyceum 239", "tax_id": "", "email": "info@239.ru", "is_client": "yes", "responsible": ""},
        "errors": [],
    }
    # and nothing was written: no records, no audit entries, no events
    assert _changes_snapshot() == before


def test_all_or_nothing_with_a_bad_row_writes_nothing(make_user):
    user = make_user()
    job = _upload(user)
    before = _changes_snapshot()
    job = import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.created_count, job.invalid_rows) == (ImportStatus.FAILED, 0, 3)
    assert job.finished_at is not None
    counterparties, audit_entries, events = _changes_snapshot()
    assert (counterparties, events) == (before[0], before[2])
    # the only new audit entry is the import's own, saying nothing was created
    entry = AuditEntry.objects.filter(action="import").get()
    assert audit_entries == before[1] + 1
    assert entry.changes == {"entity": "parties.counterparty", "file": "clients.csv", "mode": "all_or_nothing", "rows": 5, "created": 0, "rejected": 3}


def test_all_or_nothing_with_only_good_rows_creates_them_all(make_user):
    user = make_user()
    job = _upload(user, "Name,City\nAlpha,Kazan\nBeta,Perm\n")
    job = import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.created_count) == (ImportStatus.COMPLETED, 2)
    assert sorted(Counterparty.objects.values_list("name", "city", "responsible_id")) == [("Alpha", "Kazan", user.pk), ("Beta", "Perm", user.pk)]


def test_valid_only_writes_exactly_the_valid_rows_with_audit(make_user):
    # given the mixed file
    user = make_user()
    job = _upload(user)
    # when only the valid rows are imported
    job = import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    # then exactly rows 2 and 6 exist, parsed (yes → client, да → client)
    assert (job.status, job.total_rows, job.valid_rows, job.invalid_rows, job.created_count) == (ImportStatus.COMPLETED, 5, 2, 3, 2)
    assert sorted(Counterparty.objects.values_list("name", "email", "is_client")) == [
        ("Gymnasium 1", "", True),
        ("Lyceum 239", "info@239.ru", True),
    ]
    # and each record has its create entry, plus one import entry with the counts
    assert AuditEntry.objects.filter(action="create").count() == 2
    entry = AuditEntry.objects.get(action="import")
    assert entry.actor == user
    assert entry.object_id == str(job.pk)
    assert entry.changes == {"entity": "parties.counterparty", "file": "clients.csv", "mode": "valid_only", "rows": 5, "created": 2, "rejected": 3}
    assert entry.message == "parties.counterparty: 2 of 5 rows imported from clients.csv (valid_only)"
    assert OutboxEvent.objects.filter(event_type="record.created").count() == 2


def test_a_completed_import_cannot_be_committed_twice(make_user):
    user = make_user()
    job = _upload(user, "Name\nOnce\n")
    import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    with pytest.raises(Conflict):
        import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["Once"]


def test_a_failed_all_or_nothing_can_then_import_the_valid_rows(make_user):
    user = make_user()
    job = _upload(user)
    import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.ALL_OR_NOTHING)
    job = import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    assert job.created_count == 2
    assert Counterparty.objects.count() == 2


def test_mapping_errors_name_the_column_or_the_required_field(make_user):
    user = make_user()
    job = _upload(user)
    with pytest.raises(ValidationError) as refused:
        import_job_preview(actor=user, job_id=job.pk, mapping={"Name": "", "Tax ID": "email", "E-mail": "email", "Nope": "city", "Client": "colour"})
    assert refused.value.errors == {
        "mapping.Nope": ["The file has no column “Nope”"],
        "mapping.E-mail": ["Field “email” is already mapped from column “Tax ID”"],
        "mapping.Client": ["Unknown field “colour”"],
        "mapping.name": ["Map a column to the required field “Name”"],
    }
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.UPLOADED


def test_an_unknown_mode_is_refused(make_user):
    user = make_user()
    job = _upload(user, "Name\nA\n")
    with pytest.raises(ValidationError) as refused:
        import_job_commit(actor=user, job_id=job.pk, mode="some")
    assert refused.value.errors == {"mode": ["Must be one of: all_or_nothing, valid_only"]}
    assert Counterparty.objects.count() == 0


def test_a_user_without_add_permission_cannot_upload(make_user):
    with pytest.raises(PermissionDenied):
        _upload(make_user("Storekeeper"))
    assert ImportJob.objects.count() == 0


def test_an_unknown_entity_is_refused(make_user):
    with pytest.raises(ValidationError) as refused:
        import_job_create(actor=make_user(), entity="nope.thing", file_name="x.csv", content=b"a\n1\n")
    assert refused.value.errors == {"entity": ["Records of type “nope.thing” cannot be imported"]}


def test_custom_fields_are_importable_columns(make_user):
    # given an integer custom field on counterparties
    CustomFieldDefinition.objects.create(entity="parties.counterparty", code="pupils", label="Pupils", field_type="integer")
    user = make_user()
    job = _upload(user, "Name,Pupils\nLyceum,1200\nSchool,many\n")
    # then its column is mapped automatically, parsed by the field's type, and errors name the column
    assert job.mapping == {"Name": "name", "Pupils": "custom.pupils"}
    job = import_job_commit(actor=user, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    assert list(Counterparty.objects.values_list("name", "custom")) == [("Lyceum", {"pupils": 1200})]
    assert [(e["row"], e["column"], e["field"]) for e in job.errors] == [(3, "Pupils", "custom.pupils")]
