"""Import pages: upload → mapping → preview → commit → result. Thin: every step is a service in core.importer."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import importer
from .errors import DomainError, NotFound
from .models.imports import ImportMode, ImportStatus


class ImportUploadForm(forms.Form):
    entity = forms.ChoiceField(label=_("Records to import"))
    file = forms.FileField(label=_("File"), help_text=_(".xlsx or .csv (UTF-8 or Windows-1251; comma, semicolon or tab separated); the first row names the columns"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [(entity, found.verbose_name()) for entity, found in importer.importers_for_user(user)]


class ImportMappingForm(forms.Form):
    """One choice per column of the file: the field it fills, or nothing."""

    def __init__(self, *args, columns: list[str], fields: list[importer.ImportField], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— skip this column —"))] + [
            (field.name, f"{field.label} *" if field.required else str(field.label)) for field in fields
        ]
        self.columns = columns
        for index, column in enumerate(columns):
            self.fields[f"column_{index}"] = forms.ChoiceField(label=column, choices=choices, required=False, initial=mapping.get(column, ""))

    def mapping(self) -> dict[str, str]:
        return {column: self.cleaned_data.get(f"column_{index}") or "" for index, column in enumerate(self.columns)}

    def add_service_errors(self, error: DomainError) -> None:
        index_by_column = {column: index for index, column in enumerate(self.columns)}
        for key, messages in error.field_errors().items():
            column = key.removeprefix("mapping.")
            target = f"column_{index_by_column[column]}" if column in index_by_column else None
            for message in messages:
                self.add_error(target, message)
        if not error.field_errors():
            self.add_error(None, error.message)


class ImportCommitForm(forms.Form):
    mode = forms.ChoiceField(label=_("How to import"), choices=ImportMode.choices, initial=ImportMode.ALL_OR_NOTHING, widget=forms.RadioSelect)


def _job(request, pk: int):
    try:
        return importer.import_job_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _show_errors(form: forms.Form, error: DomainError) -> None:
    for key, messages in error.field_errors().items():
        for message in messages:
            form.add_error(key if key in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = ImportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = importer.import_job_create(
                actor=request.user, entity=form.cleaned_data["entity"], file_name=upload.name, content=upload.read(importer.MAX_FILE_BYTES + 1)
            )
        except DomainError as error:
            _show_errors(form, error)
        else:
            return redirect("core:import_mapping", pk=job.pk)
    jobs = importer.import_jobs_for_user(request.user)[:20]
    can_import = bool(form.fields["entity"].choices)
    return render(request, "core/imports/start.html", {"form": form, "jobs": jobs, "can_import": can_import})


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = _job(request, pk)
    if job.status == ImportStatus.COMPLETED:
        return redirect("core:import_result", pk=job.pk)
    try:
        fields = importer.importer_for(job.entity).all_fields()
    except DomainError:
        raise Http404
    form = ImportMappingForm(request.POST or None, columns=job.columns, fields=fields, mapping=job.mapping)
    if request.method == "POST" and form.is_valid():
        try:
            importer.import_job_preview(actor=request.user, job_id=job.pk, mapping=form.mapping())
        except DomainError as error:
            form.add_service_errors(error)
        else:
            return redirect("core:import_preview", pk=job.pk)
    table = importer.import_job_table(job)
    samples = [[cells[index] for _number, cells in table.rows[:3]] for index in range(len(job.columns))]
    rows = [(form[f"column_{index}"], samples[index]) for index in range(len(job.columns))]
    return render(request, "core/imports/mapping.html", {"job": job, "form": form, "rows": rows, "fields": fields})


@login_required
@require_http_methods(["GET", "POST"])
def import_preview(request, pk: int):
    job = _job(request, pk)
    if job.status == ImportStatus.COMPLETED:
        return redirect("core:import_result", pk=job.pk)
    if job.status == ImportStatus.UPLOADED:
        return redirect("core:import_mapping", pk=job.pk)
    form = ImportCommitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            importer.import_job_commit(actor=request.user, job_id=job.pk, mode=form.cleaned_data["mode"])
        except DomainError as error:
            _show_errors(form, error)
        else:
            return redirect("core:import_result", pk=job.pk)
    fields = importer.importer_for(job.entity).all_fields()
    mapped = [field for field in fields if field.name in set(job.mapping.values())]
    rows = [
        {
            "row": row["row"],
            "cells": [(row["values"].get(field.name, ""), field.name in {e["field"] for e in row["errors"]}) for field in mapped],
            "errors": row["errors"],
        }
        for row in job.preview
    ]
    return render(
        request,
        "core/imports/preview.html",
        {"job": job, "form": form, "mapped": mapped, "rows": rows, "shown": len(rows), "preview_limit": importer.PREVIEW_ROWS},
    )


@login_required
def import_result(request, pk: int):
    job = _job(request, pk)
    if job.status in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED):
        return redirect("core:import_preview" if job.status == ImportStatus.PREVIEWED else "core:import_mapping", pk=job.pk)
    return render(request, "core/imports/result.html", {"job": job, "errors": job.errors[:500]})


@login_required
def import_errors(request, pk: int):
    job = _job(request, pk)
    response = HttpResponse(importer.import_error_report(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
