"""Benchmark workloads and the one JSON line format they print."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

from django.db import connection

# name -> function(scale) ; each workload module adds itself here
WORKLOADS: dict[str, Callable[[float], None]] = {}


def database_name() -> str:
    return "postgresql" if connection.vendor == "postgresql" else connection.vendor


_current_scale = 1.0


@contextmanager
def measure(workload: str, step: str, n: int):
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    line = {
        "workload": workload,
        "step": step,
        "database": database_name(),
        "scale": _current_scale,
        "n": n,
        "seconds": round(seconds, 4),
        "per_second": round(n / seconds, 1) if seconds > 0 else None,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def migrate_fresh() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def run_workload(name: str, *, scale: float) -> None:
    global _current_scale
    _current_scale = scale
    migrate_fresh()
    WORKLOADS[name](scale)
