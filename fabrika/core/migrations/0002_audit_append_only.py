"""Database-level protection of the audit log: triggers refuse UPDATE and DELETE on core_auditentry.

The model and its queryset already refuse both; these triggers also stop raw SQL and other programs. A database
administrator who must purge the log (a wiped test database, a legal retention limit) sets
`core_audit_maintenance.purge_allowed = 1` first: DELETE is then let through, UPDATE never is. On PostgreSQL,
TRUNCATE (a table-owner operation, used to empty whole databases) is not a row operation and is not refused.
"""

from django.db import migrations

MESSAGE = "audit log is append-only"

SQLITE_FORWARD = [
    "CREATE TABLE IF NOT EXISTS core_audit_maintenance ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), purge_allowed INTEGER NOT NULL DEFAULT 0)",
    "INSERT OR IGNORE INTO core_audit_maintenance (id, purge_allowed) VALUES (1, 0)",
    "CREATE TRIGGER IF NOT EXISTS core_auditentry_no_update BEFORE UPDATE ON core_auditentry"
    f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    "CREATE TRIGGER IF NOT EXISTS core_auditentry_no_delete BEFORE DELETE ON core_auditentry"
    " WHEN (SELECT purge_allowed FROM core_audit_maintenance WHERE id = 1) IS NOT 1"
    f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update",
    "DROP TRIGGER IF EXISTS core_auditentry_no_delete",
    "DROP TABLE IF EXISTS core_audit_maintenance",
]

POSTGRESQL_FORWARD = [
    "CREATE TABLE IF NOT EXISTS core_audit_maintenance ("
    " id integer PRIMARY KEY CHECK (id = 1), purge_allowed integer NOT NULL DEFAULT 0)",
    "INSERT INTO core_audit_maintenance (id, purge_allowed) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    "CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM core_audit_maintenance WHERE id = 1 AND purge_allowed = 1) THEN\n"
    "    RETURN OLD;\n"
    "  END IF;\n"
    f"  RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';\n"
    "END;\n"
    "$$",
    "DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry",
    "CREATE TRIGGER core_auditentry_no_update BEFORE UPDATE ON core_auditentry"
    " FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()",
    "DROP TRIGGER IF EXISTS core_auditentry_no_delete ON core_auditentry",
    "CREATE TRIGGER core_auditentry_no_delete BEFORE DELETE ON core_auditentry"
    " FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_update ON core_auditentry",
    "DROP TRIGGER IF EXISTS core_auditentry_no_delete ON core_auditentry",
    "DROP FUNCTION IF EXISTS core_auditentry_append_only()",
    "DROP TABLE IF EXISTS core_audit_maintenance",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_REVERSE),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_REVERSE),
}


def statements(vendor: str, *, forward: bool) -> list[str]:
    """The SQL for a database vendor (none for vendors without triggers support here)."""
    pair = STATEMENTS.get(vendor)
    if pair is None:
        return []
    return pair[0] if forward else pair[1]


def add_triggers(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, forward=True):
        schema_editor.execute(sql, params=None)


def remove_triggers(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor, forward=False):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(add_triggers, remove_triggers, elidable=False)]
