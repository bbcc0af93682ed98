"""The current request's address, kept in a context variable so services can audit it without a request object."""

from __future__ import annotations

import contextvars

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("fabrika_current_ip", default=None)


def client_ip(request) -> str | None:
    """The client's address. REMOTE_ADDR only: a proxy must be configured to set it (X-Forwarded-For is forgeable)."""
    return request.META.get("REMOTE_ADDR") or None
