from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from fabrika.core.backup import BackupError, database_backup


class Command(BaseCommand):
    help = (
        "Back up the database to FILE while the server keeps running: SQLite through its online backup API, "
        "PostgreSQL through pg_dump (custom format). Uploaded files in FABRIKA_VAR_DIR/media are not included."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write the backup (replaced if it exists)")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: %(default)s)")

    def handle(self, *args, **options):
        try:
            result = database_backup(path=Path(options["file"]), alias=options["database"])
        except BackupError as error:
            raise CommandError(error.message)
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up the {result.kind.label} database {result.database} to {result.path} ({result.size} bytes)."
            )
        )
