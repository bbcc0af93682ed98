"""Attachments on any record: upload (size and type limits from settings), list, download, delete.

Limits: settings.FABRIKA_ATTACHMENT_MAX_BYTES and settings.FABRIKA_ATTACHMENT_EXTENSIONS (lower-case, no dot).
Files are stored under a random name in the default storage; a refused upload stores nothing. A deleted
attachment's file is removed from storage after the transaction commits.
"""

from __future__ import annotations

import mimetypes
import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from . import audit
from .errors import NotFound, ValidationError
from .models import User
from .models.attachments import Attachment
from .models.audit import AuditAction
from .records import record_for_user

NAME_MAX = 255


def allowed_extensions() -> list[str]:
    return sorted(
        {
            extension.strip().lower().lstrip(".")
            for extension in settings.FABRIKA_ATTACHMENT_EXTENSIONS
            if extension.strip()
        }
    )


def max_bytes() -> int:
    return int(settings.FABRIKA_ATTACHMENT_MAX_BYTES)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}".replace(".0 ", " ")
        value /= 1024
    return f"{size} bytes"


def _clean_name(name: str) -> str:
    # Browsers may send a path; keep the last part, without control characters.
    base = PurePath((name or "").replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable()).strip()


def _extension(name: str) -> str:
    suffix = PurePath(name).suffix
    return suffix[1:].lower() if suffix else ""


def _target_filter(record: Model) -> dict:
    return {
        "content_type": ContentType.objects.get_for_model(record, for_concrete_model=False),
        "object_id": str(record.pk),
    }


def attachments_for_record(record: Model) -> QuerySet[Attachment]:
    return (
        Attachment.objects.filter(**_target_filter(record))
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


def attachment_get_for_user(user: User, attachment_id) -> tuple[Attachment, Model]:
    """The attachment and its record if the user may see the record; NotFound (404) otherwise."""
    try:
        attachment = Attachment.objects.select_related("content_type", "uploaded_by").get(
            pk=int(attachment_id)
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Attachment {attachment_id} not found")
    entity = f"{attachment.content_type.app_label}.{attachment.content_type.model}"
    try:
        record = record_for_user(user, entity, attachment.object_id)
    except (NotFound, ValidationError):
        raise NotFound(f"Attachment {attachment_id} not found")
    return attachment, record


def _validate(upload: UploadedFile | None) -> tuple[str, str]:
    if upload is None:
        raise ValidationError({"file": ["Choose a file to upload"]})
    name = _clean_name(upload.name or "")
    errors: list[str] = []
    if not name:
        errors.append("The file has no name")
    elif len(name) > NAME_MAX:
        errors.append(f"The file name is longer than {NAME_MAX} characters")
    extension = _extension(name)
    allowed = allowed_extensions()
    if name and extension not in allowed:
        shown = f".{extension}" if extension else "no extension"
        errors.append(f"Files of type {shown} are not accepted; allowed: {', '.join(allowed)}")
    size = upload.size or 0
    if size == 0:
        errors.append("The file is empty")
    elif size > max_bytes():
        errors.append(
            f"The file is {human_size(size)}; the limit is {human_size(max_bytes())} ({max_bytes()} bytes)"
        )
    if errors:
        raise ValidationError({"file": errors})
    # The type follows the (checked) extension; what the client claims is only a fallback.
    claimed = (upload.content_type or "").split(";")[0].strip()[:150]
    mime_type = mimetypes.guess_type(name)[0] or claimed or "application/octet-stream"
    return name, mime_type


@transaction.atomic
def attachment_upload(*, actor: User, record: Model, upload: UploadedFile | None) -> Attachment:
    """Store a file on a record. The caller has checked that the actor may see (and change) the record."""
    name, mime_type = _validate(upload)
    assert upload is not None
    attachment = Attachment(
        **_target_filter(record),
        original_name=name,
        size=upload.size,
        mime_type=mime_type,
        uploaded_by=actor,
        uploaded_at=timezone.now(),
    )
    extension = _extension(name)
    attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    stored_name = attachment.file.name
    try:
        attachment.save(force_insert=True)
        audit.record(
            actor=actor,
            action=AuditAction.ATTACH,
            target=record,
            changes={"file": name, "size": attachment.size},
            message=f"{name} ({human_size(attachment.size)})",
        )
    except BaseException:
        attachment.file.storage.delete(stored_name)  # the row was not written: leave no file behind
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: Attachment, record: Model) -> None:
    """Delete an attachment (audited on its record); the file leaves storage once the transaction commits."""
    locked = Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
    if locked is None:
        raise NotFound(f"Attachment {attachment.pk} not found")
    storage, stored_name, name = locked.file.storage, locked.file.name, locked.original_name
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        target=record,
        changes={"file": [name, None]},
        message=f"Attachment deleted: {name}",
    )
    locked.delete()
    transaction.on_commit(lambda: storage.delete(stored_name))
