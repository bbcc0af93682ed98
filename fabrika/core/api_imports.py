"""Import API: upload a file → preview with a mapping → commit. Same services as the web pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status, UploadedFile

from . import importer
from .idempotency import idempotent
from .pagination import Page, paginate

router = Router(tags=["imports"])


class ImportFieldOut(Schema):
    name: str
    label: str
    required: bool
    help_text: str


class ImportEntityOut(Schema):
    entity: str
    label: str
    fields: list[ImportFieldOut]


class ImportErrorOut(Schema):
    row: int
    column: str
    field: str
    value: str = ""
    message: str


class ImportRowOut(Schema):
    row: int
    values: dict[str, str]
    errors: list[ImportErrorOut]


def _fields_out(entity: str) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "label": str(f.label), "required": f.required, "help_text": str(f.help_text)}
        for f in importer.importer_for(entity).all_fields()
    ]


class ImportJobOut(Schema):
    id: int
    entity: str
    status: str
    file_name: str
    file_format: str
    encoding: str
    delimiter: str
    columns: list[str]
    mapping: dict[str, str]
    fields: list[ImportFieldOut]
    mode: str
    total_rows: int
    valid_rows: int
    invalid_rows: int
    created_count: int
    errors: list[ImportErrorOut]
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_fields(obj) -> list[dict[str, Any]]:
        return _fields_out(obj.entity)


class ImportPreviewOut(ImportJobOut):
    rows: list[ImportRowOut]

    @staticmethod
    def resolve_rows(obj) -> list[dict[str, Any]]:
        return obj.preview


class ImportPreviewIn(Schema):
    mapping: dict[str, str] | None = None


class ImportCommitIn(Schema):
    mode: str
    mapping: dict[str, str] | None = None


@router.get("/imports/entities", response=list[ImportEntityOut])
def import_entity_list(request):
    return [
        {"entity": entity, "label": entity_importer.verbose_name(), "fields": _fields_out(entity)}
        for entity, entity_importer in importer.importers_for_user(request.user)
    ]


@router.get("/imports", response=Page[ImportJobOut])
def import_list(request, cursor: str | None = None, limit: int = 50):
    return paginate(importer.import_jobs_for_user(request.user), cursor=cursor, limit=limit)


@router.post("/imports", response={201: ImportJobOut})
@idempotent
def import_create(request, entity: Form[str], file: File[UploadedFile]):
    content = file.read(importer.MAX_FILE_BYTES + 1)
    job = importer.import_job_create(actor=request.user, entity=entity, file_name=file.name or "", content=content)
    return Status(201, job)


@router.get("/imports/{job_id}", response=ImportJobOut)
def import_detail(request, job_id: int):
    return importer.import_job_get_for_user(request.user, job_id)


@router.post("/imports/{job_id}/preview", response=ImportPreviewOut)
def import_preview(request, job_id: int, payload: ImportPreviewIn):
    return importer.import_job_preview(actor=request.user, job_id=job_id, mapping=payload.mapping)


@router.post("/imports/{job_id}/commit", response=ImportJobOut)
def import_commit(request, job_id: int, payload: ImportCommitIn):
    return importer.import_job_commit(actor=request.user, job_id=job_id, mode=payload.mode, mapping=payload.mapping)


@router.get(
    "/imports/{job_id}/errors.csv",
    openapi_extra={
        "responses": {"200": {"description": "CSV of the rejected rows with their errors", "content": {"text/csv": {"schema": {"type": "string"}}}}}
    },
)
def import_error_report(request, job_id: int):
    job = importer.import_job_get_for_user(request.user, job_id)
    response = HttpResponse(importer.import_error_report(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
