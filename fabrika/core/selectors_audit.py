from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditEntry, User


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def audit_entries_for_user(
    actor: User,
    *,
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    actor_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    text: str = "",
) -> QuerySet[AuditEntry]:
    """The global audit log, for users whose role grants viewing it, newest first.

    `object_type` is "app_label.model"; `date_from`/`date_to` are whole days in the current time zone (both
    included); `text` searches the user name, the record and the message.
    """
    queryset = AuditEntry.objects.select_related("content_type")
    if action:
        queryset = queryset.filter(action=action)
    if object_type and "." in object_type:
        app_label, model = object_type.split(".", 1)
        queryset = queryset.filter(content_type__app_label=app_label, content_type__model=model)
    if object_id:
        queryset = queryset.filter(object_id=object_id)
    if actor_id:
        queryset = queryset.filter(actor_id=actor_id)
    if date_from:
        queryset = queryset.filter(at__gte=_start_of(date_from))
    if date_to:
        queryset = queryset.filter(at__lt=_start_of(date_to + dt.timedelta(days=1)))
    text = (text or "").strip()
    if text:
        queryset = queryset.filter(Q(actor_name__icontains=text) | Q(object_repr__icontains=text) | Q(message__icontains=text))
    return queryset.order_by("-at", "-id")


def audit_entries_for_record(record) -> QuerySet[AuditEntry]:
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(record, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(record.pk)).order_by("-at", "-id")
