"""GET /healthz: is this installation able to serve? For load balancers and monitoring; no authentication and no
internal details (no error texts, no versions).

    200 {"status": "ok", "database": "ok", "migrations": "applied", "worker": {"last_seen": "...", "age_seconds": 3}}
    200 {"status": "degraded", ...}  the worker's heartbeat is missing or older than FABRIKA_WORKER_STALE_SECONDS
    503 {"status": "error", "database": "unreachable", ...} or "migrations": ["core.0007_..."] (not applied yet)
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_WORKER_STALE_SECONDS = 120
# Once every migration was seen applied, this process does not look again: new migrations come with a new release,
# which restarts the process.
_migrations_confirmed: set[str] = set()


def worker_stale_seconds() -> int:
    return int(getattr(settings, "FABRIKA_WORKER_STALE_SECONDS", DEFAULT_WORKER_STALE_SECONDS))


def database_ok(alias: str = DEFAULT_DB_ALIAS) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as error:
        logger.error("Health check: database %s unreachable: %s", alias, error)
        return False


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    """`app.migration` names that exist in the code but are not applied to the database, in plan order."""
    if alias in _migrations_confirmed:
        return []
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    if not names:
        _migrations_confirmed.add(alias)
    return names


def worker_status() -> dict[str, Any]:
    from .models.timers import WorkerHeartbeat

    last_seen = WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
    if last_seen is None:
        return {"last_seen": None, "age_seconds": None, "stale": True}
    age = max(0, int((timezone.now() - last_seen).total_seconds()))
    return {"last_seen": last_seen.isoformat(), "age_seconds": age, "stale": age > worker_stale_seconds()}


def health_report(alias: str = DEFAULT_DB_ALIAS) -> tuple[dict[str, Any], int]:
    """The /healthz body and its HTTP status."""
    if not database_ok(alias):
        return {"status": "error", "database": "unreachable", "migrations": "unknown", "worker": None}, 503
    try:
        pending = unapplied_migrations(alias)
        worker = worker_status() if not pending else None
    except DatabaseError as error:
        logger.error("Health check: database %s failed: %s", alias, error)
        return {"status": "error", "database": "unreachable", "migrations": "unknown", "worker": None}, 503
    if pending:
        return {"status": "error", "database": "ok", "migrations": pending, "worker": None}, 503
    status = "degraded" if worker["stale"] else "ok"
    return {"status": status, "database": "ok", "migrations": "applied", "worker": worker}, 200
