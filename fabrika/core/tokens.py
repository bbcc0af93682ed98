"""Personal API tokens: `fk_<prefix>_<secret>`, shown once; only the SHA-256 of the whole string is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import NotFound, ValidationError
from .models import ApiToken, User
from .models.audit import AuditAction

LAST_USED_RESOLUTION_SECONDS = 60


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str, actor: User) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name, e.g. the integration that uses it"]})
    if len(name) > 100:
        raise ValidationError({"name": ["At most 100 characters"]})
    prefix = secrets.token_hex(4)
    raw = f"fk_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, token_hash=_hash(raw))
    audit.record(actor=actor, action=AuditAction.TOKEN, target=user, message=f"API token '{name}' ({prefix}) created")
    return token, raw


@transaction.atomic
def api_token_revoke(*, token_id: int, actor: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or (token.user_id != actor.pk and not actor.is_superuser):
        raise NotFound(f"API token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action=AuditAction.TOKEN, target=token.user, message=f"API token '{token.name}' ({token.prefix}) revoked")
    return token


def api_token_authenticate(raw: str) -> User | None:
    if not raw or not raw.startswith("fk_"):
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
