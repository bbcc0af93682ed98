"""CSV and XLSX export of a list's filtered rows; every export is written to the audit log with its row count."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from fabrika.core import audit
from fabrika.core.errors import ValidationError
from fabrika.core.models.audit import AuditAction

from .lists import ListState

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); a phone number is safe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_OR_NUMBER = re.compile(r"^[+\-]?[\d\s().,]+$")


def plain(value) -> object:
    """A value a spreadsheet understands: text, number, date; booleans and empty values as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_yes_no(value))
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, int | decimal.Decimal | dt.date):
        return value
    if isinstance(value, float):
        return decimal.Decimal(str(value))
    return str(value)


def _yes_no(value: bool):
    from django.utils.translation import gettext

    return gettext("Yes") if value else gettext("No")


def safe_text(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _PHONE_OR_NUMBER.match(value):
        return "'" + value
    return value


def _rows(state: ListState) -> list[list]:
    limit = state.config.max_export_rows
    objects = list(state.queryset()[: limit + 1])
    if state.errors:
        raise ValidationError(state.errors)
    if len(objects) > limit:
        raise ValidationError({"export": [f"At most {limit} rows can be exported at once: narrow the filters"]})
    state.prepare_rows(objects)
    return [[plain(column.export_value(row)) for column in state.columns] for row in objects]


def _csv(headers: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(
            [
                safe_text(value) if isinstance(value, str) else (value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value)
                for value in row
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def _xlsx(title: str, headers: list[str], rows: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export")
    sheet.append(headers)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(state: ListState, *, file_format: str) -> HttpResponse:
    """The filtered rows of `state` (every page, the visible columns) as a download; audited as "export"."""
    if file_format not in state.config.export_formats:
        raise ValidationError({"export": [f"Choose one of: {', '.join(state.config.export_formats)}"]})
    headers = [str(column.label) for column in state.columns]
    rows = _rows(state)
    title = str(state.config.title)
    body = _csv(headers, rows) if file_format == "csv" else _xlsx(title, headers, rows)
    audit.record(
        actor=state.actor,
        action=AuditAction.EXPORT,
        changes={
            "entity": state.config.entity,
            "format": file_format,
            "rows": len(rows),
            "columns": state.visible_keys,
            "query": state.saved_query(),
        },
        message=f"{state.config.entity}: {len(rows)} rows to {file_format.upper()}",
    )
    filename = f"{slugify(state.config.entity.replace('.', '-'))}-{timezone.localtime():%Y%m%d-%H%M}.{file_format}"
    response = HttpResponse(body, content_type=FORMATS[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
