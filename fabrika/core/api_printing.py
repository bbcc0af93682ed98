"""API of printed forms (mounted under /api/v1/core): the registered document types, the templates an administrator
edits (a template that does not compile or render answers 422 naming `body`), their versions, and the PDF of a
record: GET /api/v1/core/print/{code}/{object_id}.pdf."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Router, Schema, Status

from . import printing
from .idempotency import idempotent
from .models.printing import PrintTemplate
from .permissions import require

router = Router(tags=["printing"])


class PrintableOut(Schema):
    code: str
    name: str
    entity: str


class PrintTemplateOut(Schema):
    id: int
    document_type: str
    name: str
    language: str
    body: str
    css: str
    paper_size: str
    orientation: str
    is_default: bool
    active: bool
    version: int
    updated_by_id: int | None
    updated_at: dt.datetime


class PrintTemplateIn(Schema):
    document_type: str
    name: str | None = None
    language: str | None = None
    body: str | None = None
    css: str | None = None
    paper_size: str | None = None
    orientation: str | None = None
    is_default: bool | None = None
    active: bool | None = None


class PrintTemplatePatch(Schema):
    name: str | None = None
    language: str | None = None
    body: str | None = None
    css: str | None = None
    paper_size: str | None = None
    orientation: str | None = None
    is_default: bool | None = None
    active: bool | None = None
    comment: str = ""


class PrintTemplateVersionOut(Schema):
    version: int
    name: str
    body: str
    css: str
    paper_size: str
    orientation: str
    comment: str
    created_by_id: int | None
    created_at: dt.datetime


class RestoreIn(Schema):
    version: int


@router.get("/print/types", response=list[PrintableOut])
def printable_list(request):
    require(request.user, PrintTemplate, "view")
    return [
        {"code": document.code, "name": str(document.name), "entity": f"{document.app_label}.{document.model._meta.model_name}"}
        for document in printing.printable_documents()
    ]


@router.get("/print/templates", response=list[PrintTemplateOut])
def print_template_list(request, document_type: str = ""):
    require(request.user, PrintTemplate, "view")
    return list(printing.print_template_list(document_type=document_type))


@router.post("/print/templates", response={201: PrintTemplateOut})
@idempotent
def print_template_create(request, payload: PrintTemplateIn):
    require(request.user, PrintTemplate, "add")
    data = payload.dict(exclude={"document_type"}, exclude_none=True)
    return Status(201, printing.print_template_create(actor=request.user, document_type=payload.document_type, data=data))


@router.get("/print/templates/{template_id}", response=PrintTemplateOut)
def print_template_detail(request, template_id: int):
    require(request.user, PrintTemplate, "view")
    return printing.print_template_get(template_id)


@router.patch("/print/templates/{template_id}", response=PrintTemplateOut)
def print_template_update(request, template_id: int, payload: PrintTemplatePatch):
    require(request.user, PrintTemplate, "change")
    data = payload.dict(exclude_unset=True, exclude_none=True)
    comment = data.pop("comment", "")
    return printing.print_template_update(actor=request.user, template_id=template_id, data=data, comment=comment)


@router.post("/print/templates/{template_id}/reset", response=PrintTemplateOut)
def print_template_reset(request, template_id: int):
    require(request.user, PrintTemplate, "change")
    return printing.print_template_reset(actor=request.user, template_id=printing.print_template_get(template_id).pk)


@router.post("/print/templates/{template_id}/restore", response=PrintTemplateOut)
def print_template_restore(request, template_id: int, payload: RestoreIn):
    require(request.user, PrintTemplate, "change")
    template = printing.print_template_get(template_id)
    return printing.print_template_restore(actor=request.user, template_id=template.pk, version=payload.version)


@router.get("/print/templates/{template_id}/versions", response=list[PrintTemplateVersionOut])
def print_template_versions(request, template_id: int):
    require(request.user, PrintTemplate, "view")
    return list(printing.print_template_versions(printing.print_template_get(template_id).pk))


@router.get("/print/{code}/{object_id}.pdf")
def print_document(request, code: str, object_id: int, language: str = ""):
    """The PDF of a record printed with the form `code` (the default template for `language` or the user's)."""
    printing.printable_document(code)
    obj = printing.printable_object_for_user(request.user, code, object_id)
    pdf = printing.render_pdf(code, obj, actor=request.user, language=language or None)
    response = HttpResponse(pdf, content_type=printing.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{code.replace(".", "-")}-{object_id}.pdf"'
    return response
