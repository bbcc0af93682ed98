"""The audit log is append-only: the model, the queryset and (with migrations applied) the database refuse changes.

The database-level tests need the test database built by migrations, as `make test` builds it; with --nomigrations
there are no triggers and they are skipped with that reason.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, connection, transaction

from fabrika.core import audit
from fabrika.core.models import AuditEntry
from fabrika.core.models.audit import AuditAction

migration = importlib.import_module("fabrika.core.migrations.0002_audit_append_only")


@pytest.fixture
def entry(admin_user) -> AuditEntry:
    return audit.record(actor=admin_user, action=AuditAction.UPDATE, target=admin_user, changes={"email": ["", "a@b.c"]})


@pytest.fixture
def enforced(db):
    """The database triggers, with the maintenance flag cleared (inside this test's transaction)."""
    with connection.cursor() as cursor:
        if "core_audit_maintenance" not in connection.introspection.table_names(cursor):
            pytest.skip("needs the test database built by migrations: run this file without --nomigrations")
        cursor.execute("UPDATE core_audit_maintenance SET purge_allowed = 0")


def _row(entry_id: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT message, action FROM core_auditentry WHERE id = %s", [entry_id])
        return cursor.fetchone()


def _refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as raised:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(raised.value)


def test_the_model_and_queryset_refuse_update_and_delete(entry):
    # when code tries to change or remove an entry in every way the ORM offers
    entry.message = "forged"
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).update(message="forged")
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["message"])
    # then the stored entry is as it was written
    assert AuditEntry.objects.count() == 1
    assert _row(entry.pk) == ("", "update")
    assert AuditEntry.objects.get().changes == {"email": ["", "a@b.c"]}


def test_the_database_refuses_raw_update_and_delete(enforced, entry):
    # when raw SQL tries to change or remove the entry
    update_error = _refused("UPDATE core_auditentry SET message = %s WHERE id = %s", ["forged", entry.pk])
    delete_error = _refused("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    # then the database refuses both with the append-only message and the row is unchanged
    assert "audit log is append-only" in update_error
    assert "audit log is append-only" in delete_error
    assert _row(entry.pk) == ("", "update")


def test_the_maintenance_flag_lets_a_purge_through_but_never_an_update(enforced, entry):
    # given a database administrator set the purge flag
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_audit_maintenance SET purge_allowed = 1")
    # then an update is still refused
    assert "audit log is append-only" in _refused("UPDATE core_auditentry SET message = %s WHERE id = %s", ["forged", entry.pk])
    assert _row(entry.pk) == ("", "update")
    # and a delete goes through
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert _row(entry.pk) is None


def test_the_migration_reverses_and_reapplies(enforced, entry):
    # when the migration's reverse SQL runs, the triggers and the flag table are gone
    with connection.cursor() as cursor:
        for sql in migration.statements(connection.vendor, forward=False):
            cursor.execute(sql)
        assert "core_audit_maintenance" not in connection.introspection.table_names(cursor)
        cursor.execute("UPDATE core_auditentry SET message = %s WHERE id = %s", ["changed while unprotected", entry.pk])
    assert _row(entry.pk) == ("changed while unprotected", "update")
    # and when its forward SQL runs again, updates are refused again
    with connection.cursor() as cursor:
        for sql in migration.statements(connection.vendor, forward=True):
            cursor.execute(sql)
    assert "audit log is append-only" in _refused("UPDATE core_auditentry SET message = %s WHERE id = %s", ["again", entry.pk])
    assert _row(entry.pk) == ("changed while unprotected", "update")


def test_the_migration_has_sql_for_both_supported_databases():
    assert len(migration.statements("sqlite", forward=True)) == 4
    assert len(migration.statements("postgresql", forward=True)) == 7
    assert migration.statements("mysql", forward=True) == []
    assert migration.Migration.dependencies == [("core", "0001_initial")]
