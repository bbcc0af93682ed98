from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture(scope="session", autouse=True)
def audit_purge_allowed_for_test_flushes(django_db_setup, django_db_blocker):
    """Transactional tests end by emptying every table; on SQLite that is a DELETE, which the audit log's
    append-only trigger refuses unless the maintenance flag is set. Set it for the test database (the app never does)."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if "core_audit_maintenance" in connection.introspection.table_names(cursor):
            cursor.execute("UPDATE core_audit_maintenance SET purge_allowed = 1")
