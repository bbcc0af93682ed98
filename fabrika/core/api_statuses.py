"""API of statuses, reminders, notifications and attachments on any record (mounted under /api/v1/core).

A record is named by `entity` ("app_label.model_name", e.g. parties.counterparty) and `object_id`; every endpoint
fetches it through `records.record_for_user`, so a record outside the user's role or scope answers 404.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Model
from django.http import FileResponse
from ninja import File, Router, Schema, Status, UploadedFile

from . import attachments, notifications, statuses
from .models.attachments import Attachment
from .models.statuses import Notification, RecordStatus, StatusDefinition
from .permissions import can, require
from .records import record_for_user

router = Router(tags=["statuses and attachments"])


class StatusDefinitionOut(Schema):
    id: int
    entity: str
    name: str
    kind: str
    colour: str
    order: int
    active: bool


class StatusDefinitionIn(Schema):
    entity: str
    name: str
    kind: str = "info"
    colour: str = statuses.DEFAULT_COLOUR
    order: int = 0
    active: bool = True


class StatusDefinitionPatch(Schema):
    entity: str | None = None
    name: str | None = None
    kind: str | None = None
    colour: str | None = None
    order: int | None = None
    active: bool | None = None


class RecordStatusOut(Schema):
    id: int
    status_id: int
    status: str
    kind: str
    colour: str
    effective_from: dt.date
    note: str
    set_by_id: int | None
    set_by: str
    set_at: dt.datetime
    notified_at: dt.datetime | None

    @staticmethod
    def resolve_status_id(obj: RecordStatus) -> int:
        return obj.definition_id

    @staticmethod
    def resolve_status(obj: RecordStatus) -> str:
        return obj.definition.name

    @staticmethod
    def resolve_kind(obj: RecordStatus) -> str:
        return obj.definition.kind

    @staticmethod
    def resolve_colour(obj: RecordStatus) -> str:
        return obj.definition.colour

    @staticmethod
    def resolve_set_by(obj: RecordStatus) -> str:
        return str(obj.set_by) if obj.set_by_id else ""


class RecordStatusesOut(Schema):
    entity: str
    object_id: str
    current: RecordStatusOut | None
    history: list[RecordStatusOut]


class RecordStatusIn(Schema):
    definition_id: int | None = None
    effective_from: str | None = None
    note: str = ""


class ReminderOut(Schema):
    entity: str
    object_id: str
    record: str
    url: str
    responsible_id: int
    responsible: str
    status: RecordStatusOut


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    entity: str | None
    object_id: str
    created_at: dt.datetime
    read_at: dt.datetime | None

    @staticmethod
    def resolve_entity(obj: Notification) -> str | None:
        return f"{obj.content_type.app_label}.{obj.content_type.model}" if obj.content_type_id else None


class UnreadCountOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    uploaded_by_id: int | None
    uploaded_by: str
    uploaded_at: dt.datetime
    download_url: str

    @staticmethod
    def resolve_name(obj: Attachment) -> str:
        return obj.original_name

    @staticmethod
    def resolve_content_type(obj: Attachment) -> str:
        return obj.mime_type

    @staticmethod
    def resolve_uploaded_by(obj: Attachment) -> str:
        return str(obj.uploaded_by) if obj.uploaded_by_id else ""

    @staticmethod
    def resolve_download_url(obj: Attachment) -> str:
        return f"/api/v1/core/attachments/{obj.pk}/download"


def _reminder_out(reminder: statuses.Reminder) -> dict:
    return {
        "entity": f"{reminder.record._meta.app_label}.{reminder.record._meta.model_name}",
        "object_id": str(reminder.record.pk),
        "record": str(reminder.record),
        "url": reminder.url,
        "responsible_id": reminder.responsible.pk,
        "responsible": str(reminder.responsible),
        "status": reminder.status,
    }


def _require_attachment_write(user, record: Model, action: str) -> None:
    """Attaching and removing files is changing the record: the role's "change" on its model, or the explicit
    add/delete permission on attachments."""
    if not can(user, type(record), "change"):
        require(user, Attachment, action)


# --- status catalogue -----------------------------------------------------------------------------------------


@router.get("/status-definitions", response=list[StatusDefinitionOut])
def status_definition_list(request, entity: str = "", include_inactive: bool = False):
    """The statuses offered for a record type (every authenticated user: forms need them)."""
    if entity and not include_inactive:
        return list(statuses.status_definitions_for(entity))
    queryset = statuses.status_definition_list(entity=entity)
    return list(queryset if include_inactive else queryset.filter(active=True))


@router.post("/status-definitions", response={201: StatusDefinitionOut})
def status_definition_create(request, payload: StatusDefinitionIn):
    require(request.user, StatusDefinition, "add")
    return Status(201, statuses.status_definition_create(actor=request.user, data=payload.dict()))


@router.get("/status-definitions/{definition_id}", response=StatusDefinitionOut)
def status_definition_detail(request, definition_id: int):
    return statuses.status_definition_get(definition_id)


@router.patch("/status-definitions/{definition_id}", response=StatusDefinitionOut)
def status_definition_update(request, definition_id: int, payload: StatusDefinitionPatch):
    require(request.user, StatusDefinition, "change")
    data = payload.dict(exclude_unset=True)
    return statuses.status_definition_update(actor=request.user, definition_id=definition_id, data=data)


@router.delete("/status-definitions/{definition_id}", response={204: None})
def status_definition_delete(request, definition_id: int):
    require(request.user, StatusDefinition, "delete")
    statuses.status_definition_delete(actor=request.user, definition_id=definition_id)
    return Status(204, None)


# --- statuses of a record -------------------------------------------------------------------------------------


@router.get("/statuses", response=RecordStatusesOut)
def record_statuses(request, entity: str, object_id: str):
    record = record_for_user(request.user, entity, object_id)
    history = list(statuses.record_status_history(record))
    current = statuses.current_status(record)
    return {"entity": entity, "object_id": str(record.pk), "current": current, "history": history}


@router.post("/statuses", response={201: RecordStatusOut})
def record_status_set(request, entity: str, object_id: str, payload: RecordStatusIn):
    record = record_for_user(request.user, entity, object_id)
    require(request.user, RecordStatus, "add")
    record_status = statuses.record_status_set(
        actor=request.user,
        record=record,
        definition_id=payload.definition_id,
        effective_from=payload.effective_from,
        note=payload.note,
    )
    return Status(201, record_status)


@router.get("/reminders", response=list[ReminderOut])
def reminders_mine(request):
    return [_reminder_out(reminder) for reminder in statuses.reminders_for_user(request.user)]


@router.get("/reminders/department", response=list[ReminderOut])
def reminders_department(request):
    return [_reminder_out(reminder) for reminder in statuses.reminders_for_department(request.user)]


# --- notifications --------------------------------------------------------------------------------------------


@router.get("/notifications", response=list[NotificationOut])
def notification_list(request, unread: bool = False, limit: int = 50):
    limit = max(1, min(limit, 200))
    return list(
        notifications.notifications_for_user(request.user, unread_only=unread).select_related("content_type")[
            :limit
        ]
    )


@router.get("/notifications/unread-count", response=UnreadCountOut)
def notification_unread_count(request):
    return {"unread": notifications.unread_count(request.user)}


@router.post("/notifications/read-all", response=MarkedOut)
def notification_read_all(request):
    return {"marked": notifications.notification_mark_all_read(actor=request.user)}


@router.post("/notifications/{notification_id}/read", response=NotificationOut)
def notification_read(request, notification_id: int):
    return notifications.notification_mark_read(actor=request.user, notification_id=notification_id)


# --- attachments ----------------------------------------------------------------------------------------------


@router.get("/attachments", response=list[AttachmentOut])
def attachment_list(request, entity: str, object_id: str):
    record = record_for_user(request.user, entity, object_id)
    return list(attachments.attachments_for_record(record))


@router.post("/attachments", response={201: AttachmentOut})
def attachment_upload(request, entity: str, object_id: str, file: File[UploadedFile]):
    record = record_for_user(request.user, entity, object_id)
    _require_attachment_write(request.user, record, "add")
    return Status(201, attachments.attachment_upload(actor=request.user, record=record, upload=file))


@router.get("/attachments/{attachment_id}/download")
def attachment_download(request, attachment_id: int):
    attachment, _record = attachments.attachment_get_for_user(request.user, attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.mime_type or None,
    )


@router.delete("/attachments/{attachment_id}", response={204: None})
def attachment_delete(request, attachment_id: int):
    attachment, record = attachments.attachment_get_for_user(request.user, attachment_id)
    _require_attachment_write(request.user, record, "delete")
    attachments.attachment_delete(actor=request.user, attachment=attachment, record=record)
    return Status(204, None)
