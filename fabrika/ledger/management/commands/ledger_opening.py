"""`fabrika ledger_opening [--date YYYY-MM-DD] [--user NAME]`: post the opening entries that bring the inventory
account (and any other reconciled account) in line with stock posted before the journal existed. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fabrika.core.models import User
from fabrika.ledger.services import accounts_ensure, reconciliation_opening_entries


class Command(BaseCommand):
    help = "Post opening entries so that the inventory account equals the stock valuation."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="entry date (default: today)")
        parser.add_argument("--user", help="author's username (default: the first superuser)")

    def handle(self, *args, **options):
        try:
            on = dt.date.fromisoformat(options["date"]) if options.get("date") else timezone.localdate()
        except ValueError:
            raise CommandError("--date: enter a date as YYYY-MM-DD") from None
        users = User.objects.filter(username=options["user"]) if options.get("user") else User.objects.filter(is_superuser=True).order_by("id")
        actor = users.first()
        if actor is None:
            raise CommandError("No such user: pass --user with an existing username")
        accounts_ensure()
        import fabrika.inventory.accounting  # noqa: F401 - registers the inventory reconciliation

        entries = reconciliation_opening_entries(actor=actor, date=on)
        for entry in entries:
            self.stdout.write(f"{entry.source_number}: {entry.memo} {entry.total}")
        if not entries:
            self.stdout.write("Nothing to post: the books agree.")
