"""Pages of printed forms: the template list (admin), edit with validation and preview, reset to the shipped
default, versions; and the PDF of a record (`core:print_document`, linked from document cards)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import printing
from .errors import DomainError, NotFound, ValidationError
from .forms_printing import PrintTemplateForm
from .models.printing import PrintTemplate
from .permissions import can


def _require(request: HttpRequest, action: str) -> None:
    if not can(request.user, PrintTemplate, action):
        raise DjangoPermissionDenied


def _template(template_id: int) -> PrintTemplate:
    try:
        return printing.print_template_get(template_id)
    except NotFound:
        raise Http404


def _show_errors(form, error: DomainError) -> None:
    for field, field_messages in error.field_errors().items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type=printing.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def print_template_list(request: HttpRequest) -> HttpResponse:
    _require(request, "view")
    templates = list(printing.print_template_list())
    groups = [
        {"document": document, "templates": [template for template in templates if template.document_type == document.code]}
        for document in printing.printable_documents()
    ]
    return render(
        request,
        "core/printing/template_list.html",
        {"groups": groups, "can_add": can(request.user, PrintTemplate, "add"), "can_change": can(request.user, PrintTemplate, "change")},
    )


@login_required
@require_POST
def print_template_create(request: HttpRequest) -> HttpResponse:
    _require(request, "add")
    try:
        template = printing.print_template_create(actor=request.user, document_type=request.POST.get("document_type", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:print_template_list")
    messages.success(request, _("Template “%(name)s” created from the default.") % {"name": template.name})
    return redirect("core:print_template_edit", template_id=template.pk)


def _initial(template: PrintTemplate) -> dict:
    fields = ("name", "language", "paper_size", "orientation", "is_default", "active", "body", "css")
    return {name: getattr(template, name) for name in fields}


def _preview(request: HttpRequest, template: PrintTemplate, form: PrintTemplateForm, file_format: str) -> HttpResponse | None:
    """Render the form's (unsaved) source against the chosen record or the sample; None when it has errors."""
    data = form.template_data()
    source = {key: data[key] for key in ("body", "css", "paper_size", "orientation")}
    obj = None
    try:
        if form.cleaned_data.get("preview_object"):
            obj = printing.printable_object_for_user(request.user, template.document_type, form.cleaned_data["preview_object"])
        rendered = printing.render_html(template.document_type, obj, language=template.language or None, source=source)
        if file_format == "html":
            response = HttpResponse(rendered.html, content_type="text/html; charset=utf-8")
            response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
            return response
        pdf = printing.html_to_pdf(rendered.html)
    except DomainError as error:
        _show_errors(form, error)
        return None
    if obj is not None:
        from . import audit
        from .models.audit import AuditAction

        audit.record(
            actor=request.user, action=AuditAction.EXPORT, target=obj,
            changes={"print": template.document_type, "format": "pdf", "template": template.pk, "preview": True},
            message=f"{template.document_type}: preview printed to PDF",
        )
    return _pdf_response(pdf, f"{template.document_type.replace('.', '-')}-preview.pdf")


@login_required
def print_template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    _require(request, "change")
    template = _template(template_id)
    choices = printing.preview_choices(request.user, template.document_type)
    form = PrintTemplateForm(request.POST or None, initial=_initial(template), preview_choices=choices)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "save")
        if action in ("preview_pdf", "preview_html"):
            response = _preview(request, template, form, "html" if action == "preview_html" else "pdf")
            if response is not None:
                return response
        else:
            try:
                template = printing.print_template_update(
                    actor=request.user, template_id=template.pk, data=form.template_data(), comment=form.cleaned_data["comment"]
                )
            except DomainError as error:
                _show_errors(form, error)
            else:
                messages.success(request, _("Template “%(name)s” saved (version %(version)s).") % {"name": template.name, "version": template.version})
                return redirect("core:print_template_edit", template_id=template.pk)
    document = printing.printable_document(template.document_type)
    status = 422 if request.method == "POST" and form.errors else 200
    return render(
        request, "core/printing/template_form.html", {"form": form, "template": template, "document": document}, status=status
    )


@login_required
@require_POST
def print_template_reset(request: HttpRequest, template_id: int) -> HttpResponse:
    _require(request, "change")
    template = _template(template_id)
    try:
        template = printing.print_template_reset(actor=request.user, template_id=template.pk)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Template reset to the default (version %(version)s).") % {"version": template.version})
    return redirect("core:print_template_edit", template_id=template.pk)


@login_required
def print_template_versions(request: HttpRequest, template_id: int) -> HttpResponse:
    _require(request, "view")
    template = _template(template_id)
    return render(
        request,
        "core/printing/template_versions.html",
        {"template": template, "versions": printing.print_template_versions(template.pk), "can_change": can(request.user, PrintTemplate, "change")},
    )


@login_required
@require_POST
def print_template_restore(request: HttpRequest, template_id: int, version: int) -> HttpResponse:
    _require(request, "change")
    template = _template(template_id)
    try:
        template = printing.print_template_restore(actor=request.user, template_id=template.pk, version=version)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:print_template_versions", template_id=template.pk)
    messages.success(request, _("Version %(old)s restored as version %(new)s.") % {"old": version, "new": template.version})
    return redirect("core:print_template_edit", template_id=template.pk)


@login_required
def print_document(request: HttpRequest, code: str, object_id: int) -> HttpResponse:
    """The PDF of a record printed with form `code`, e.g. /print/inventory.delivery_note/42.pdf."""
    try:
        obj = printing.printable_object_for_user(request.user, code, object_id)
        pdf = printing.render_pdf(code, obj, actor=request.user, language=request.GET.get("language") or None)
    except (NotFound, ValidationError):
        raise Http404
    except DomainError as error:
        return render(request, "core/printing/cannot_print.html", {"message": error.message}, status=error.status)
    return _pdf_response(pdf, f"{code.replace('.', '-')}-{object_id}.pdf")
