"""`fabrika send_reminder_digest [--date YYYY-MM-DD]`: e-mail each user their due reminders (once per user per day).

Run it daily (cron or a scheduler), e.g. at 08:00; running it again the same day sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand

from fabrika.core.statuses import company_today, reminder_digest_send


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError("--date is a date as YYYY-MM-DD, e.g. 2026-03-31")


class Command(BaseCommand):
    help = "E-mail each user the digest of their due reminders (at most once per user per day)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date", type=_date, default=None, help="The day (default: today in the company's time zone)."
        )

    def handle(self, *args, date: dt.date | None, verbosity: int, **options) -> None:
        on_date = date or company_today()
        sent = reminder_digest_send(on_date=on_date)
        if verbosity:
            self.stdout.write(f"Reminder digests sent for {on_date.isoformat()}: {sent}")
