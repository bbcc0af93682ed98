"""`fabrika run_worker`: the background worker (`make worker`). Fires due timers, delivers domain events to
consumers and webhooks (with retries), runs queued django-tasks and writes a heartbeat, in a loop; on its first
pass and then every FABRIKA_HOUSEKEEPING_INTERVAL_SECONDS it purges expired rows (see tasks.housekeeping).

    fabrika run_worker                # loop until SIGTERM / Ctrl+C (finishes the current pass, then exits)
    fabrika run_worker --once         # one pass, then exit (tests, cron)
    fabrika run_worker --interval 2   # seconds to sleep when a pass found nothing to do (default 5)
"""

from __future__ import annotations

import signal
import threading
import time
from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from fabrika.core.tasks import housekeeping_interval, worker_name, worker_pass


def _interval(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError("--interval is a number of seconds, e.g. 5")
    if not 0 < number <= 3600:
        raise ArgumentTypeError("--interval must be more than 0 and at most 3600 seconds")
    return number


class Command(BaseCommand):
    help = "Run the background worker: timers, domain events, webhooks, queued tasks and the heartbeat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")
        parser.add_argument("--interval", type=_interval, default=5.0, help="Seconds to wait when idle (default 5).")
        parser.add_argument("--name", default="", help="Worker name shown in /healthz (default host:pid).")

    def handle(self, *args, once: bool, interval: float, name: str, verbosity: int, **options) -> None:
        name = name or worker_name()
        started_at = timezone.now()
        stop = threading.Event()

        def request_stop(signum, frame) -> None:
            if stop.is_set():
                raise SystemExit(1)  # a second signal: stop now
            self.stderr.write(f"Received {signal.Signals(signum).name}: stopping after the current pass")
            stop.set()

        if not once:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
            if verbosity:
                self.stdout.write(f"Worker {name} started (interval {interval:g} s)")
        next_housekeeping = time.monotonic()  # the first pass purges; then once per interval
        while True:
            if not once:
                close_old_connections()  # drop a connection the database closed while we slept
            with_housekeeping = time.monotonic() >= next_housekeeping
            if with_housekeeping:
                next_housekeeping = time.monotonic() + housekeeping_interval()
            result = worker_pass(name=name, started_at=started_at, with_housekeeping=with_housekeeping)
            if verbosity > 1 or (verbosity and (result.busy or result.errors)):
                self.stdout.write(
                    f"timers fired: {result.timers_fired}, deliveries: {result.deliveries}, tasks run: {result.tasks_run}"
                    + (f", errors: {'; '.join(result.errors)}" if result.errors else "")
                )
            purged = result.housekeeping
            if purged is not None and verbosity and (verbosity > 1 or any(vars(purged).values())):
                self.stdout.write(
                    f"purged: idempotency keys {purged.idempotency_keys}, events {purged.outbox_events}, "
                    f"webhook deliveries {purged.webhook_deliveries}, task results {purged.task_results}"
                )
            if once or stop.is_set():
                break
            if not result.busy:
                stop.wait(interval)
                if stop.is_set():
                    break
        if not once and verbosity:
            self.stdout.write(f"Worker {name} stopped")
