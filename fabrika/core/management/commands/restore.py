from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from fabrika.core.backup import BackupError, database_restore, ensure_restorable


class Command(BaseCommand):
    help = (
        "Replace the whole database with the backup in FILE (made by `fabrika backup`). Stop the web server and "
        "the worker first. Asks for confirmation unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a backup made by `fabrika backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: %(default)s)")

    def handle(self, *args, **options):
        path, alias = Path(options["file"]), options["database"]
        try:
            kind = ensure_restorable(path=path, alias=alias)
        except BackupError as error:
            raise CommandError(error.message)
        database = connections[alias].settings_dict["NAME"]
        if not options["yes"] and not self.confirm(
            f"Restoring {path} REPLACES everything in the {kind.label} database {database}. Type 'yes' to continue: "
        ):
            self.stdout.write("Restore cancelled; the database was not changed.")
            return
        try:
            result = database_restore(path=path, alias=alias)
        except BackupError as error:
            raise CommandError(error.message)
        self.stdout.write(
            self.style.SUCCESS(f"Restored the {result.kind.label} database {result.database} from {result.path}.")
        )
        if result.unapplied_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup is older than this code: {len(result.unapplied_migrations)} migration(s) are not "
                    "applied. Run `fabrika migrate` before starting the server."
                )
            )

    def confirm(self, prompt: str) -> bool:
        try:
            answer = input(prompt)
        except EOFError:
            raise CommandError("No answer on standard input: run `fabrika restore FILE --yes` to restore without asking.")
        return answer.strip().lower() in {"yes", "y"}
