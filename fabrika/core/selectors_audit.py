from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEntry, User


def audit_entries_for_user(
    actor: User, *, action: str = "", object_type: str = "", object_id: str = "", actor_id: int | None = None
) -> QuerySet[AuditEntry]:
    """The global audit log, for users whose role grants viewing it."""
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
    return queryset.order_by("-at", "-id")


def audit_entries_for_record(record) -> QuerySet[AuditEntry]:
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(record, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=content_type, object_id=str(record.pk)).order_by("-at", "-id")
