from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def audit_purge_allowed_for_flushes(django_db_setup, django_db_blocker):
    """These tests wipe the database (`flush`) and pytest-django empties it after each one; on SQLite that is a
    DELETE, which the audit log's append-only trigger (migration core 0002) refuses unless the maintenance flag is
    set. Set it for the test database when the trigger exists (the app itself never does)."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if "core_audit_maintenance" in connection.introspection.table_names(cursor):
            cursor.execute("UPDATE core_audit_maintenance SET purge_allowed = 1")
    yield
