"""The installed `fabrika` console script wraps Django's management commands with Fabrika's settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _script() -> str:
    # the script pip installed next to the interpreter running the tests (the project's virtual environment)
    candidate = Path(sys.executable).with_name("fabrika")
    found = str(candidate) if candidate.exists() else shutil.which("fabrika")
    if not found:
        pytest.fail("the `fabrika` console script is not installed: run `pip install -e .` (make test does)")
    return found


def test_the_console_script_lists_fabrikas_own_commands(tmp_path):
    env = {**os.environ, "FABRIKA_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([_script(), "help"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    # Fabrika's commands are listed under its app, next to Django's
    for command in ("backup", "restore", "demo_load", "run_worker", "roles_sync", "migrate"):
        assert command in result.stdout.split(), command


def test_the_console_script_reports_an_unknown_command_as_an_error(tmp_path):
    env = {**os.environ, "FABRIKA_VAR_DIR": str(tmp_path)}
    result = subprocess.run([_script(), "no_such_command"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "Unknown command: 'no_such_command'" in result.stderr
