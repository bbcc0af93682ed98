"""Login with throttling: too many failures for a username or from an address locks them out for a while."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from . import audit
from .models import LoginFailure, User
from .models.audit import AuditAction


class LockedOut(Exception):
    def __init__(self, seconds_left: int):
        super().__init__(f"Too many failed attempts. Try again in {max(1, seconds_left // 60)} minute(s).")
        self.seconds_left = seconds_left


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.FABRIKA_LOGIN_LOCKOUT_SECONDS)


def lockout_seconds_left(*, username: str, ip_address: str | None) -> int:
    since = _window_start()
    by_user = LoginFailure.objects.filter(username__iexact=username, at__gte=since).order_by("at")
    failures = list(by_user.values_list("at", flat=True))
    if ip_address:
        by_ip = list(LoginFailure.objects.filter(ip_address=ip_address, at__gte=since).order_by("at").values_list("at", flat=True))
        # An address gets more room than a username: several people may share one office address.
        if len(by_ip) >= settings.FABRIKA_LOGIN_MAX_FAILURES * 4:
            failures = by_ip[-settings.FABRIKA_LOGIN_MAX_FAILURES :]
    if len(failures) < settings.FABRIKA_LOGIN_MAX_FAILURES:
        return 0
    oldest_counted = failures[-settings.FABRIKA_LOGIN_MAX_FAILURES]
    unlock_at = oldest_counted + dt.timedelta(seconds=settings.FABRIKA_LOGIN_LOCKOUT_SECONDS)
    return max(0, int((unlock_at - timezone.now()).total_seconds()))


def login_attempt(request, *, username: str, password: str, ip_address: str | None) -> User | None:
    """Authenticate; raise LockedOut while locked; audit both outcomes."""
    username = (username or "").strip()
    seconds = lockout_seconds_left(username=username, ip_address=ip_address)
    if seconds:
        raise LockedOut(seconds)
    user = authenticate(request, username=username, password=password)
    with transaction.atomic():
        if user is None:
            LoginFailure.objects.create(username=username[:150], ip_address=ip_address, at=timezone.now())
            known = User.objects.filter(username__iexact=username).first()
            audit.record(actor=None, actor_name=username, action=AuditAction.LOGIN_FAILED, target=known, message="Wrong username or password")
            return None
        LoginFailure.objects.filter(username__iexact=username).delete()
        audit.record(actor=user, action=AuditAction.LOGIN, target=user)
    return user
