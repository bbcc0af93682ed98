"""Backup → wipe → restore round-trips on the database the suite runs on (SQLite or PostgreSQL via DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from fabrika.core import audit, numbering
from fabrika.core.backup import BackupError, database_backup, database_restore, pg_environment, pg_program
from fabrika.core.models import AuditEntry, Department, User
from fabrika.core.models.audit import AuditAction
from fabrika.core.roles import standard_roles_ensure
from fabrika.core.tokens import api_token_create
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create, counterparty_update

pytestmark = pytest.mark.django_db(transaction=True)

ON_SQLITE = connection.vendor == "sqlite"
OTHER_KIND = "PostgreSQL" if ON_SQLITE else "SQLite"
THIS_KIND = "SQLite" if ON_SQLITE else "PostgreSQL"


def dump_everything() -> dict[str, list[dict]]:
    """Every row of every model, serialised in primary-key order (users with their password hashes and groups)."""
    dumped = {}
    for model in apps.get_models():
        rows = json.loads(serializers.serialize("json", model._default_manager.order_by("pk")))
        dumped[model._meta.label] = rows
    return dumped


def create_business_data() -> dict[str, int]:
    roles = standard_roles_ensure()
    sales = Department.objects.create(name="Sales")
    manager = User.objects.create_user(username="ivan", password="pass-Word-123", department=sales, first_name="Ivan")
    manager.groups.add(roles["Sales manager"])
    admin = User.objects.create_user(username="anna", password="pass-Word-123", is_superuser=True, is_staff=True)
    school = counterparty_create(actor=manager, data={"name": "School No. 57", "tax_id": "7707083893", "city": "Moscow"})
    club = counterparty_create(actor=manager, data={"name": "Robotics club", "phone": "+7 495 123-45-67"})
    counterparty_update(actor=admin, counterparty_id=club.pk, data={"city": "Kazan", "email": "club@example.com"})
    api_token_create(user=manager, name="1C exchange", actor=admin)
    audit.record(actor=admin, action=AuditAction.EXPORT, message="Counterparties exported: 2 rows")
    with transaction.atomic():
        number = numbering.next_number("sales_order", on=dt.date(2026, 11, 30))
    assert number == "SO-2026-00001"
    return {"manager": manager.pk, "school": school.pk, "club": club.pk, "number": number}


def test_backup_wipe_restore_gives_identical_data(tmp_path):
    # given users, roles, counterparties created and changed through services, a token, audit rows and a number
    created = create_business_data()
    before = dump_everything()
    assert len(before["parties.Counterparty"]) == 2
    assert AuditEntry.objects.filter(action__in=["create", "update", "token", "export"]).count() == 5
    # when the database is backed up
    backup_file = tmp_path / "fabrika.backup"
    call_command("backup", str(backup_file), stdout=open(tmp_path / "out.txt", "w"))
    # then the file is the database's own format, and the command said so
    head = backup_file.read_bytes()[:16]
    assert head == b"SQLite format 3\x00" if ON_SQLITE else head.startswith(b"PGDMP")
    assert f"Backed up the {THIS_KIND} database" in (tmp_path / "out.txt").read_text()
    # when everything is wiped
    call_command("flush", interactive=False, verbosity=0)
    assert Counterparty.objects.count() == 0 and User.objects.count() == 0 and AuditEntry.objects.count() == 0
    # and the backup is restored
    call_command("restore", str(backup_file), "--yes", stdout=open(tmp_path / "restore.txt", "w"))
    # then every row of every table is back, identical
    after = dump_everything()
    assert after == before
    assert f"Restored the {THIS_KIND} database" in (tmp_path / "restore.txt").read_text()
    # and the restored data works: the user logs in with the same password, ids and numbers continue
    assert User.objects.get(username="ivan").check_password("pass-Word-123")
    manager = User.objects.get(pk=created["manager"])
    third = counterparty_create(actor=manager, data={"name": "Lyceum 239"})
    assert third.pk == max(created["school"], created["club"]) + 1
    with transaction.atomic():
        assert numbering.next_number("sales_order", on=dt.date(2026, 11, 30)) == "SO-2026-00002"


def test_backup_is_consistent_while_data_keeps_changing(tmp_path):
    # given a counterparty
    created = create_business_data()
    # when a backup is taken and then a change is made
    backup_file = tmp_path / "before-rename.backup"
    database_backup(path=backup_file)
    manager = User.objects.get(pk=created["manager"])
    counterparty_update(actor=manager, counterparty_id=created["school"], data={"name": "School No. 57 (renamed)"})
    # then restoring brings back the state at backup time, without the later change
    result = database_restore(path=backup_file)
    assert Counterparty.objects.get(pk=created["school"]).name == "School No. 57"
    assert AuditEntry.objects.filter(object_id=str(created["school"]), action="update").count() == 0
    assert result.unapplied_migrations == ()


def test_restore_asks_for_confirmation_and_no_changes_nothing(tmp_path, monkeypatch):
    # given a backup and then a new counterparty
    created = create_business_data()
    backup_file = tmp_path / "fabrika.backup"
    database_backup(path=backup_file)
    counterparty_create(actor=User.objects.get(pk=created["manager"]), data={"name": "Made after the backup"})
    before = dump_everything()
    # when the operator answers "no" at the prompt
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "no")
    output = tmp_path / "out.txt"
    call_command("restore", str(backup_file), stdout=open(output, "w"))
    # then nothing was restored
    assert len(prompts) == 1 and "REPLACES everything" in prompts[0]
    assert "Restore cancelled; the database was not changed." in output.read_text()
    assert dump_everything() == before
    # when they answer "yes"
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    call_command("restore", str(backup_file), stdout=open(output, "w"))
    # then the backup's state is back
    assert not Counterparty.objects.filter(name="Made after the backup").exists()
    assert Counterparty.objects.count() == 2


def test_restore_without_a_terminal_requires_yes(tmp_path, monkeypatch):
    create_business_data()
    backup_file = tmp_path / "fabrika.backup"
    database_backup(path=backup_file)
    before = dump_everything()

    def no_terminal(prompt):
        raise EOFError

    monkeypatch.setattr("builtins.input", no_terminal)
    with pytest.raises(CommandError, match="run `fabrika restore FILE --yes`"):
        call_command("restore", str(backup_file))
    assert dump_everything() == before


def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path):
    # given data, and a backup file of the other kind of database
    create_business_data()
    before = dump_everything()
    foreign = tmp_path / "other.backup"
    if ON_SQLITE:
        foreign.write_bytes(b"PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01" + b"\x00" * 64)
    else:
        other = sqlite3.connect(foreign)
        other.execute("CREATE TABLE core_user (id integer primary key, username text)")
        other.commit()
        other.close()
    # when it is restored
    with pytest.raises(CommandError) as raised:
        call_command("restore", str(foreign), "--yes")
    # then it is refused with a message naming both kinds, and nothing changed
    assert str(raised.value) == (
        f"{foreign} is a {OTHER_KIND} backup and the current database is {THIS_KIND}: a backup can only be restored "
        f"into the same kind of database. Point DATABASE_URL at a {OTHER_KIND} database to restore it."
    )
    assert dump_everything() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist."),
        (b"name;inn\nSchool;7707083893\n", "is not a Fabrika backup: it is neither an SQLite database nor a pg_dump custom-format archive."),
    ],
)
def test_restore_refuses_a_missing_or_foreign_file(tmp_path, content, message):
    create_business_data()
    before = dump_everything()
    path = tmp_path / "clients.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BackupError) as raised:
        database_restore(path=path)
    assert raised.value.message == f"{'Backup file ' if content is None else ''}{path} {message}"
    assert raised.value.field == "file"
    assert dump_everything() == before


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite files are only checked as such on SQLite")
def test_restore_refuses_an_sqlite_file_that_is_not_fabrika_or_is_damaged(tmp_path):
    create_business_data()
    before = dump_everything()
    # given an SQLite database of another program
    foreign = tmp_path / "notes.sqlite3"
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE notes (id integer primary key, body text)")
    other.commit()
    other.close()
    with pytest.raises(BackupError) as raised:
        database_restore(path=foreign)
    assert raised.value.message == (
        f"{foreign} is an SQLite database but not a Fabrika backup (it has no core_user table)."
    )
    # given a truncated Fabrika backup
    backup_file = tmp_path / "fabrika.backup"
    database_backup(path=backup_file)
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(backup_file.read_bytes()[: 4096 * 3])
    with pytest.raises(BackupError) as raised:
        database_restore(path=damaged)
    assert str(damaged) in raised.value.message
    assert dump_everything() == before


def test_backup_into_a_missing_folder_is_refused_and_leaves_no_file(tmp_path):
    create_business_data()
    target = tmp_path / "no-such-folder" / "fabrika.backup"
    with pytest.raises(CommandError, match=f"Folder {target.parent} does not exist."):
        call_command("backup", str(target))
    assert not target.parent.exists()


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite's database is a file")
def test_backup_onto_the_live_database_file_is_refused():
    create_business_data()
    before = dump_everything()
    live = Path(connection.settings_dict["NAME"]).resolve()
    with pytest.raises(BackupError) as raised:
        database_backup(path=live)
    assert raised.value.message == f"{live} is the live database itself: write the backup to another file."
    assert dump_everything() == before


def test_backup_replaces_an_existing_file_and_leaves_no_partial_files(tmp_path):
    create_business_data()
    target = tmp_path / "fabrika.backup"
    target.write_bytes(b"old backup")
    database_backup(path=target)
    assert target.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fabrika.backup"]


def test_postgresql_tools_get_the_password_from_the_environment_and_missing_tools_are_named(monkeypatch, tmp_path):
    # given PostgreSQL settings with a password
    settings_dict = {"NAME": "fabrika", "USER": "erp", "PASSWORD": "s3cret", "HOST": "db.local", "PORT": 5433,
                     "OPTIONS": {"sslmode": "require"}}
    # then the connection reaches pg_dump only through PG* variables
    environment = pg_environment(settings_dict)
    assert {key: environment[key] for key in ("PGDATABASE", "PGUSER", "PGPASSWORD", "PGHOST", "PGPORT", "PGSSLMODE")} == {
        "PGDATABASE": "fabrika", "PGUSER": "erp", "PGPASSWORD": "s3cret", "PGHOST": "db.local", "PGPORT": "5433",
        "PGSSLMODE": "require",
    }
    # when the client programs are not installed
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError) as raised:
        pg_program("pg_dump")
    # then the error names the missing program and how to get it
    assert raised.value.message.startswith("pg_dump was not found on PATH.")
    assert "apt-get install postgresql-client" in raised.value.message


@pytest.mark.skipif(ON_SQLITE, reason="needs PostgreSQL (DATABASE_URL)")
def test_postgresql_backup_without_pg_dump_names_the_missing_program(tmp_path, monkeypatch):
    create_business_data()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="^pg_dump was not found on PATH"):
        call_command("backup", str(tmp_path / "fabrika.backup"))
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == []
