from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from fabrika.core.models.timers import WorkerHeartbeat


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, *, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_the_worker_loops_with_a_heartbeat_and_stops_gracefully_on_sigterm():
    # given a worker process on the test database
    env = {**os.environ, "DATABASE_URL": database_url(), "FABRIKA_VAR_DIR": str(settings.VAR_DIR), "DJANGO_SETTINGS_MODULE": "fabrika.settings"}
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "run_worker", "--interval", "0.2", "--name", "sigterm-test"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # when it has run a few passes
        first_seen = wait_for(lambda: WorkerHeartbeat.objects.filter(name="sigterm-test").values_list("last_seen", flat=True).first())
        wait_for(lambda: WorkerHeartbeat.objects.filter(name="sigterm-test", last_seen__gt=first_seen).exists())
        # and receives SIGTERM
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # then it finished its pass and exited cleanly, and its heartbeat advanced while it ran
    assert process.returncode == 0, stderr
    assert "Worker sigterm-test started (interval 0.2 s)" in stdout
    assert "Worker sigterm-test stopped" in stdout
    assert "Received SIGTERM: stopping after the current pass" in stderr
    assert WorkerHeartbeat.objects.get(name="sigterm-test").pid == process.pid
