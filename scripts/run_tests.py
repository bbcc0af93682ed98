"""Run the whole suite on SQLite, then again on PostgreSQL when one is reachable (never skipped silently)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_reachable(url: str) -> tuple[bool, str]:
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - psycopg is a dependency
        return False, f"psycopg is not installed ({error})"
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            version = connection.execute("select current_setting('server_version')").fetchone()[0]
        return True, version
    except Exception as error:  # any connection failure means "not reachable"
        return False, str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def run_pytest(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    env = {**os.environ, **extra_env}
    print(f"\n===== Fabrika test suite on {label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite-only", action="store_true")
    options, pytest_args = parser.parse_known_args()
    workers = os.environ.get("FABRIKA_TEST_WORKERS", "2")
    base_args = ["-q", "-n", workers, "--dist", "loadfile", *pytest_args]
    env_sqlite = {"DATABASE_URL": ""} if "DATABASE_URL" in os.environ else {}
    os.environ.pop("DATABASE_URL", None)
    status = run_pytest("SQLite", env_sqlite, base_args)
    if options.sqlite_only:
        return status
    pg_url = os.environ.get("FABRIKA_TEST_PG_URL", DEFAULT_PG_URL)
    reachable, detail = postgres_reachable(pg_url)
    if not reachable:
        print(f"\n***** PostgreSQL is NOT reachable at {pg_url}: {detail}", flush=True)
        print("***** The PostgreSQL run is skipped. Start PostgreSQL or set FABRIKA_TEST_PG_URL to run it.", flush=True)
        return status
    print(f"PostgreSQL {detail} reachable at {pg_url}", flush=True)
    pg_status = run_pytest(f"PostgreSQL {detail}", {"DATABASE_URL": pg_url}, base_args)
    return status or pg_status


if __name__ == "__main__":
    sys.exit(main())
