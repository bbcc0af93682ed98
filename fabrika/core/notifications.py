"""In-app notifications (the bell in the top bar): services and selectors.

Read marks are the recipient's own inbox state, not business data, so marking read writes no audit row.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .errors import NotFound, ValidationError
from .models import User
from .models.statuses import Notification, RecordStatus

TITLE_MAX = 300


def notification_create(
    *,
    recipient: User,
    title: str,
    body: str = "",
    url: str = "",
    target: models.Model | None = None,
    kind: str = "reminder",
    record_status: RecordStatus | None = None,
) -> Notification:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": ["A notification needs a title"]})
    notification = Notification(
        recipient=recipient,
        kind=kind,
        title=title[:TITLE_MAX],
        body=body,
        url=url[:500],
        record_status=record_status,
        created_at=timezone.now(),
    )
    if target is not None:
        notification.content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        notification.object_id = str(target.pk)
    notification.save(force_insert=True)
    return notification


def notifications_for_user(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get_for_user(user: User, notification_id) -> Notification:
    """A notification of this user; NotFound for anyone else's."""
    try:
        return Notification.objects.get(pk=int(notification_id), recipient=user)
    except (Notification.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Notification {notification_id} not found")


@transaction.atomic
def notification_mark_read(*, actor: User, notification_id: int) -> Notification:
    notification = notification_get_for_user(actor, notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())
