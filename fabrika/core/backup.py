"""Back up and restore the whole database: `fabrika backup FILE` and `fabrika restore FILE`.

SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while the server
keeps running (WAL readers never block writers); a restore copies the backup back into the live database file
through the same API after closing Django's connections.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner --single-transaction`, so a
restore that fails half-way leaves the database as it was. Connection settings (and the password) reach the
programs through the PG* environment variables, never through the command line.

A backup file is what the database's own tool writes, so it can also be inspected with `sqlite3` or
`pg_restore --list`. Its kind is read from its first bytes ("SQLite format 3\\0" or pg_dump's "PGDMP"), and a
backup of one kind is never restored into a database of the other.

Uploaded files (`FABRIKA_VAR_DIR/media`) are not part of a database backup; copy that folder alongside.
"""

from __future__ import annotations

import enum
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from .errors import DomainError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(DomainError):
    status = 400
    code = "backup_error"


class DatabaseKind(enum.StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"

    @property
    def label(self) -> str:
        return {DatabaseKind.SQLITE: "SQLite", DatabaseKind.POSTGRESQL: "PostgreSQL"}[self]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: DatabaseKind
    database: str
    size: int


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    kind: DatabaseKind
    database: str
    unapplied_migrations: tuple[str, ...]


def database_kind(alias: str = DEFAULT_DB_ALIAS) -> DatabaseKind:
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return DatabaseKind.SQLITE
    if vendor == "postgresql":
        return DatabaseKind.POSTGRESQL
    raise BackupError(
        _("Backups support SQLite and PostgreSQL; this database is %(vendor)s.") % {"vendor": vendor}, vendor=vendor
    )


def backup_file_kind(path: Path) -> DatabaseKind:
    """The kind of database a backup file came from, read from its first bytes."""
    if not path.is_file():
        raise BackupError(_("Backup file %(path)s does not exist.") % {"path": path}, field="file", path=str(path))
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return DatabaseKind.SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return DatabaseKind.POSTGRESQL
    raise BackupError(
        _("%(path)s is not a Fabrika backup: it is neither an SQLite database nor a pg_dump custom-format archive.")
        % {"path": path},
        field="file",
        path=str(path),
    )


def ensure_restorable(*, path: Path, alias: str = DEFAULT_DB_ALIAS) -> DatabaseKind:
    """Refuse, before anything is touched, a missing or foreign file and a backup of the other database kind."""
    file_kind = backup_file_kind(path)
    target_kind = database_kind(alias)
    if file_kind != target_kind:
        raise BackupError(
            _(
                "%(path)s is a %(file_kind)s backup and the current database is %(target_kind)s: a backup can only be "
                "restored into the same kind of database. Point DATABASE_URL at a %(file_kind)s database to restore it."
            )
            % {"path": path, "file_kind": file_kind.label, "target_kind": target_kind.label},
            field="file",
            file_kind=str(file_kind),
            target_kind=str(target_kind),
        )
    if file_kind == DatabaseKind.SQLITE:
        _sqlite_check_backup(path)
    return file_kind


def database_backup(*, path: Path, alias: str = DEFAULT_DB_ALIAS) -> BackupResult:
    """Write a backup of the database to `path` (replaced atomically: a failed backup leaves no partial file)."""
    path = Path(path).resolve()
    kind = database_kind(alias)
    settings_dict = connections[alias].settings_dict
    if not path.parent.is_dir():
        raise BackupError(
            _("Folder %(folder)s does not exist.") % {"folder": path.parent}, field="file", path=str(path)
        )
    if kind == DatabaseKind.SQLITE and path == _sqlite_live_path(settings_dict["NAME"]).resolve():
        raise BackupError(
            _("%(path)s is the live database itself: write the backup to another file.") % {"path": path}, field="file"
        )
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        if kind == DatabaseKind.SQLITE:
            _sqlite_backup(source=Path(settings_dict["NAME"]), target=partial)
        else:
            _pg_dump(settings_dict, target=partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=path, kind=kind, database=str(settings_dict["NAME"]), size=path.stat().st_size)


def database_restore(*, path: Path, alias: str = DEFAULT_DB_ALIAS) -> RestoreResult:
    """Replace the database's content with the backup at `path`. Stop the web server and worker first."""
    path = Path(path).resolve()
    kind = ensure_restorable(path=path, alias=alias)
    connection = connections[alias]
    settings_dict = dict(connection.settings_dict)
    if connection.in_atomic_block:
        raise BackupError(_("A restore cannot run inside a transaction."))
    connection.close()
    if kind == DatabaseKind.SQLITE:
        _sqlite_restore(source=path, target=Path(settings_dict["NAME"]))
    else:
        _pg_restore(settings_dict, source=path)
    return RestoreResult(
        path=path, kind=kind, database=str(settings_dict["NAME"]), unapplied_migrations=unapplied_migrations(alias)
    )


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> tuple[str, ...]:
    """Migrations of this code that the database has not applied (a restored older backup needs `fabrika migrate`)."""
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return tuple(f"{migration.app_label}.{migration.name}" for migration, _backwards in plan)


# SQLite ---------------------------------------------------------------------------------------------------------


def _sqlite_live_path(name: Any) -> Path:
    text = str(name)
    if not text or text == ":memory:" or text.startswith("file::memory:") or "mode=memory" in text:
        raise BackupError(_("An in-memory SQLite database cannot be backed up or restored."))
    return Path(text)


def _sqlite_backup(*, source: Path, target: Path) -> None:
    source = _sqlite_live_path(source)
    if not source.is_file():
        raise BackupError(_("The SQLite database file %(path)s does not exist.") % {"path": source})
    try:
        source_connection = sqlite3.connect(source, timeout=30)
        try:
            target_connection = sqlite3.connect(target)
            try:
                source_connection.backup(target_connection)
                # A self-contained single file: no -wal/-shm companions next to the backup.
                target_connection.execute("PRAGMA journal_mode=DELETE")
                result = target_connection.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                target_connection.close()
        finally:
            source_connection.close()
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite backup failed: %(error)s") % {"error": error})
    if result != "ok":
        raise BackupError(_("The SQLite backup failed its integrity check: %(result)s") % {"result": result})


def _sqlite_check_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchone()[0]
            has_users = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (_user_table(),)
            ).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(
            _("%(path)s cannot be read as an SQLite database: %(error)s") % {"path": path, "error": error}, field="file"
        )
    if result != "ok":
        raise BackupError(
            _("%(path)s is damaged (SQLite integrity check: %(result)s).") % {"path": path, "result": result}, field="file"
        )
    if not has_users:
        raise BackupError(
            _("%(path)s is an SQLite database but not a Fabrika backup (it has no %(table)s table).")
            % {"path": path, "table": _user_table()},
            field="file",
        )


def _user_table() -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()._meta.db_table


def _sqlite_restore(*, source: Path, target: Path) -> None:
    target = _sqlite_live_path(target)
    try:
        source_connection = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        try:
            target_connection = sqlite3.connect(target, timeout=30)
            try:
                source_connection.backup(target_connection)
                target_connection.execute("PRAGMA journal_mode=WAL")
            finally:
                target_connection.close()
        finally:
            source_connection.close()
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite restore failed: %(error)s") % {"error": error})


# PostgreSQL -----------------------------------------------------------------------------------------------------

_PG_ENVIRONMENT = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "NAME": "PGDATABASE"}
_PG_OPTION_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
}


def pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: connection settings as PG* variables (the password too)."""
    environment = dict(os.environ)
    for setting, variable in _PG_ENVIRONMENT.items():
        value = settings_dict.get(setting)
        if value not in (None, ""):
            environment[variable] = str(value)
    for option, variable in _PG_OPTION_ENVIRONMENT.items():
        value = (settings_dict.get("OPTIONS") or {}).get(option)
        if value not in (None, ""):
            environment[variable] = str(value)
    return environment


def pg_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            _(
                "%(program)s was not found on PATH. Install the PostgreSQL client programs matching the server's "
                "version (on Debian: apt-get install postgresql-client) to back up or restore PostgreSQL."
            )
            % {"program": name},
            program=name,
        )
    return program


def _run(arguments: list[str], *, environment: dict[str, str], what: str) -> None:
    completed = subprocess.run(arguments, env=environment, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip()
        raise BackupError(
            _("%(program)s failed (exit status %(status)s): %(detail)s")
            % {"program": what, "status": completed.returncode, "detail": detail},
            program=what,
        )


def _pg_dump(settings_dict: dict[str, Any], *, target: Path) -> None:
    program = pg_program("pg_dump")
    _run(
        [program, "--format=custom", "--no-password", f"--file={target}"],
        environment=pg_environment(settings_dict),
        what="pg_dump",
    )


def _pg_restore(settings_dict: dict[str, Any], *, source: Path) -> None:
    program = pg_program("pg_restore")
    _run(
        [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings_dict['NAME']}",
            str(source),
        ],
        environment=pg_environment(settings_dict),
        what="pg_restore",
    )
