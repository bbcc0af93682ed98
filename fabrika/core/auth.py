"""Login with throttling: too many failures for a username or from an address locks them out for a while.

A username is locked for FABRIKA_LOGIN_LOCKOUT_SECONDS once it has FABRIKA_LOGIN_MAX_FAILURES failures within that
window (a sliding window: the lock ends when the oldest counted failure is older than the window). An address gets
four times as many failures, since several people may share one office address. Attempts during a lockout are
refused without checking the password (and audited), but do not extend it. A successful login clears the
username's failures.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from . import audit
from .models import LoginFailure, User
from .models.audit import AuditAction

ADDRESS_ALLOWANCE = 4


class LockedOut(Exception):
    def __init__(self, seconds_left: int):
        self.seconds_left = seconds_left
        super().__init__(f"Too many failed attempts. Try again in {self.minutes} minute(s).")

    @property
    def minutes(self) -> int:
        """Whole minutes left, rounded up (never 0 while locked)."""
        return max(1, -(-self.seconds_left // 60))


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.FABRIKA_LOGIN_LOCKOUT_SECONDS)


def _seconds_left(failures: list[dt.datetime], limit: int) -> int:
    if len(failures) < limit:
        return 0
    oldest_counted = failures[-limit]
    unlock_at = oldest_counted + dt.timedelta(seconds=settings.FABRIKA_LOGIN_LOCKOUT_SECONDS)
    return max(0, int((unlock_at - timezone.now()).total_seconds()))


def lockout_seconds_left(*, username: str, ip_address: str | None) -> int:
    since = _window_start()
    limit = settings.FABRIKA_LOGIN_MAX_FAILURES
    by_user = list(LoginFailure.objects.filter(username__iexact=username, at__gte=since).order_by("at").values_list("at", flat=True))
    seconds = _seconds_left(by_user, limit)
    if ip_address:
        by_ip = list(LoginFailure.objects.filter(ip_address=ip_address, at__gte=since).order_by("at").values_list("at", flat=True))
        seconds = max(seconds, _seconds_left(by_ip, limit * ADDRESS_ALLOWANCE))
    return seconds


def _known_user(username: str) -> User | None:
    return User.objects.filter(username__iexact=username).first() if username else None


def login_attempt(request, *, username: str, password: str, ip_address: str | None) -> User | None:
    """Authenticate; None for a wrong username or password; raise LockedOut while locked (including right after
    the failure that reaches the limit). Every outcome is audited."""
    username = (username or "").strip()[:150]
    seconds = lockout_seconds_left(username=username, ip_address=ip_address)
    if seconds:
        with transaction.atomic():
            audit.record(
                actor=None, actor_name=username, action=AuditAction.LOGIN_FAILED, target=_known_user(username),
                message="Refused: locked out after too many failed attempts",
            )
        raise LockedOut(seconds)
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            LoginFailure.objects.create(username=username, ip_address=ip_address, at=timezone.now())
            audit.record(
                actor=None, actor_name=username, action=AuditAction.LOGIN_FAILED, target=_known_user(username),
                message="Wrong username or password",
            )
        seconds = lockout_seconds_left(username=username, ip_address=ip_address)
        if seconds:
            raise LockedOut(seconds)
        return None
    with transaction.atomic():
        LoginFailure.objects.filter(username__iexact=username).delete()
        audit.record(actor=user, action=AuditAction.LOGIN, target=user)
    return user
