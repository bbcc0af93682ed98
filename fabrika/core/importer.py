"""Generic XLSX/CSV import: upload → map columns to fields → preview with per-row errors → commit.

An entity becomes importable by subclassing `Importer` and registering it from its app's `AppConfig.ready()`:

    register_importer(CounterpartyImporter)          # CounterpartyImporter.entity == "parties.counterparty"

(core sits below the apps, so it cannot import their importers: a registry is the one upward link; see
docs/adr/0003-importer-plugins.md). Each row goes through the importer: `validate_row` parses the cells
(column rules: required, yes/no, a known user, custom-field types...) and `create_row` calls the entity's own create
service, which applies every business rule and writes the audit log. The preview runs exactly that inside a
transaction it rolls back, so it reports what the commit would do and writes nothing.

Commit modes: all-or-nothing (one transaction: a single bad row and nothing is written) or only the valid rows (each
row in its own savepoint; the bad ones are reported and skipped). Either way the job keeps its counts and errors, an
"import" audit entry records the outcome, and the error report (CSV: the rejected rows with their errors, ready to
fix and upload again) can be downloaded.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext

from . import audit
from .errors import Conflict, DomainError, NotFound, ValidationError
from .models import ImportJob, User
from .models.audit import AuditAction
from .models.imports import ImportMode, ImportStatus
from .permissions import require

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
PREVIEW_ROWS = 200
CSV_DELIMITERS = ",;\t|"


# ---------------------------------------------------------------------------------------------------------------
# Cell parsers: text in, value out, ValueError with a message naming the rule.


def parse_text(text: str) -> str:
    return text.strip()


_TRUE = {"1", "yes", "y", "true", "t", "x", "+", "да", "д", "истина"}
_FALSE = {"0", "no", "n", "false", "f", "-", "нет", "н", "ложь"}


def parse_bool(text: str) -> bool:
    value = text.strip().casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(gettext("Enter yes or no (also accepted: 1/0, true/false, да/нет)"))


def parse_choice(choices: type[models.TextChoices]) -> Callable[[str], str]:
    """A parser accepting a choice's value or its label in any of the site's languages."""

    def parse(text: str) -> str:
        wanted = normalise_header(text)
        for value, label in choices.choices:
            names = {normalise_header(value)}
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    names.add(normalise_header(str(label)))
            if wanted in names:
                return value
        raise ValueError(gettext("Must be one of: %(choices)s") % {"choices": ", ".join(str(label) for label in choices.labels)})

    return parse


def parse_user(text: str) -> User:
    value = text.strip()
    user = User.objects.filter(is_active=True).filter(models.Q(username__iexact=value) | models.Q(email__iexact=value)).first()
    if user is None:
        raise ValueError(gettext("No active user with the username or e-mail “%(value)s”") % {"value": value})
    return user


# ---------------------------------------------------------------------------------------------------------------
# The plug-in interface.


@dataclass(frozen=True)
class ImportField:
    """One importable field. `name` is the key in the data given to `create_row`; `custom.<code>` for custom fields."""

    name: str
    label: Any
    required: bool = False
    parser: Callable[[str], Any] = parse_text
    aliases: tuple[str, ...] = ()
    help_text: Any = ""


class Importer:
    """Subclass per entity: set `entity`, `model`, `fields`, implement `create_row` (calling the entity's service)."""

    entity: ClassVar[str]
    model: ClassVar[type[models.Model]]
    fields: ClassVar[tuple[ImportField, ...]] = ()
    label: ClassVar[Any] = ""

    def verbose_name(self) -> str:
        return str(self.label or self.model._meta.verbose_name_plural).capitalize()

    def all_fields(self) -> list[ImportField]:
        """The declared fields followed by the entity's custom fields (each a column of its own)."""
        return [*self.fields, *custom_import_fields(self.entity)]

    def validate_row(self, row: dict[str, str]) -> dict[str, Any]:
        """Parse one row ({field name: cell text} for the mapped fields) into the data for `create_row`.

        Empty cells are left out (the service's defaults apply), unless the field is required. Raises ValidationError
        with every bad cell keyed by field name."""
        errors: dict[str, list[str]] = {}
        data: dict[str, Any] = {}
        for import_field in self.all_fields():
            text = (row.get(import_field.name) or "").strip()
            if not text:
                if import_field.required:
                    errors[import_field.name] = [gettext("Required")]
                continue
            try:
                value = import_field.parser(text)
            except ValueError as error:
                errors[import_field.name] = [str(error)]
                continue
            if import_field.name.startswith("custom."):
                data.setdefault("custom", {})[import_field.name.removeprefix("custom.")] = value
            else:
                data[import_field.name] = value
        if errors:
            raise ValidationError(errors)
        return data

    def create_row(self, *, actor: User, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} must implement create_row")


def custom_import_fields(entity: str) -> list[ImportField]:
    """Columns for the entity's active custom fields (fabrika.core.custom_fields), parsed by its `import_value`."""
    from . import custom_fields

    definitions_for = getattr(custom_fields, "definitions_for", None)
    import_value = getattr(custom_fields, "import_value", None)
    if definitions_for is None or import_value is None:
        return []

    def parser_for(definition) -> Callable[[str], Any]:
        return lambda text: import_value(definition, text)

    return [
        ImportField(
            name=f"custom.{definition.code}",
            label=definition.label,
            required=bool(getattr(definition, "required", False)),
            parser=parser_for(definition),
            aliases=(definition.code,),
        )
        for definition in definitions_for(entity)
    ]


_REGISTRY: dict[str, type[Importer]] = {}


def register_importer(importer: type[Importer], entity: str | None = None) -> None:
    """Called from the owning app's AppConfig.ready(). Registering the same class twice is harmless."""
    name = entity or importer.entity
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not importer:
        raise RuntimeError(f"An importer for {name} is already registered: {existing.__name__}")
    _REGISTRY[name] = importer


def importer_for(entity: str) -> Importer:
    importer = _REGISTRY.get(entity)
    if importer is None:
        raise ValidationError({"entity": [gettext("Records of type “%(entity)s” cannot be imported") % {"entity": entity}]})
    return importer()


def importers_for_user(user: User) -> list[tuple[str, Importer]]:
    """(entity, importer) for each entity the user may create, sorted by the entity's name."""
    result = []
    for entity, importer_class in _REGISTRY.items():
        importer = importer_class()
        if user.is_authenticated and user.has_perm(f"{importer.model._meta.app_label}.add_{importer.model._meta.model_name}"):
            result.append((entity, importer))
    return sorted(result, key=lambda item: item[1].verbose_name())


# ---------------------------------------------------------------------------------------------------------------
# Reading files.


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the spreadsheet shows it, cells in column order)
    file_format: str
    encoding: str = ""
    delimiter: str = ""


def normalise_header(text: Any) -> str:
    return re.sub(r"[\W_]+", "", str(text).casefold().replace("ё", "е"))


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _table(raw_rows: Iterable[list[str]], *, first_row_number: int = 1) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(raw_rows, start=first_row_number):
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = cells
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationError({"file": [gettext("At most %(max)s rows per import: split the file") % {"max": MAX_ROWS}]})
        rows.append((number, cells))
    if header is None:
        raise ValidationError({"file": [gettext("The file is empty: the first row must name the columns")]})
    while header and not header[-1].strip():
        header.pop()
    columns: list[str] = []
    for index, cell in enumerate(header):
        name = cell.strip() or gettext("Column %(letter)s") % {"letter": _column_letter(index)}
        candidate, copy = name, 2
        while candidate in columns:
            candidate, copy = f"{name} ({copy})", copy + 1
        columns.append(candidate)
    width = len(columns)
    rows = [(number, (cells + [""] * width)[:width]) for number, cells in rows]
    return columns, rows


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), "utf-16"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return content.decode("cp1251", errors="replace"), "cp1251"


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        first_line = sample.split("\n", 1)[0]
        counts = {delimiter: first_line.count(delimiter) for delimiter in CSV_DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


def read_table(content: bytes, file_name: str) -> Table:
    """The columns and non-empty rows of an .xlsx (first sheet) or .csv file; ValidationError on `file` if unreadable."""
    if not content:
        raise ValidationError({"file": [gettext("The file is empty")]})
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError({"file": [gettext("The file is larger than %(size)s MB") % {"size": MAX_FILE_BYTES // (1024 * 1024)}]})
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if content.startswith(b"PK\x03\x04") or extension in {"xlsx", "xlsm"}:
        return _read_xlsx(content)
    if extension in {"csv", "txt", "tsv", ""}:
        text, encoding = _decode(content)
        delimiter = "\t" if extension == "tsv" else _sniff_delimiter(text)
        try:
            raw_rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
        except csv.Error as error:
            raise ValidationError({"file": [gettext("Not a readable CSV file: %(error)s") % {"error": error}]})
        columns, rows = _table(raw_rows)
        return Table(columns=columns, rows=rows, file_format="csv", encoding=encoding, delimiter=delimiter)
    raise ValidationError({"file": [gettext("Upload an .xlsx or .csv file")]})


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise ValidationError({"file": [gettext("Not a readable .xlsx file: save it again from your spreadsheet program")]})
    try:
        sheet = workbook.worksheets[0]
        raw_rows = ([_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True))
        columns, rows = _table(raw_rows)
    finally:
        workbook.close()
    return Table(columns=columns, rows=rows, file_format="xlsx")


# ---------------------------------------------------------------------------------------------------------------
# Mapping.


def guess_mapping(columns: list[str], fields: list[ImportField]) -> dict[str, str]:
    """{column: field name or ""}: a column maps to the field whose name, label (in any site language) or alias it is."""
    names_by_field: dict[str, set[str]] = {}
    for import_field in fields:
        names = {normalise_header(import_field.name), *(normalise_header(alias) for alias in import_field.aliases)}
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                names.add(normalise_header(str(import_field.label)))
        names.discard("")
        names_by_field[import_field.name] = names
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        wanted = normalise_header(column)
        match = next((name for name, names in names_by_field.items() if wanted in names and name not in used), "")
        if match:
            used.add(match)
        mapping[column] = match
    return mapping


def clean_mapping(mapping: dict[str, str], *, columns: list[str], fields: list[ImportField]) -> dict[str, str]:
    """The mapping for every column ("" = skip), or ValidationError keyed `mapping.<column or field>`."""
    field_names = {import_field.name for import_field in fields}
    errors: dict[str, list[str]] = {}
    for column in mapping:
        if column not in columns:
            errors[f"mapping.{column}"] = [gettext("The file has no column “%(column)s”") % {"column": column}]
    cleaned = {column: (mapping.get(column) or "").strip() for column in columns}
    seen: dict[str, str] = {}
    for column, name in cleaned.items():
        if not name:
            continue
        if name not in field_names:
            errors[f"mapping.{column}"] = [gettext("Unknown field “%(field)s”") % {"field": name}]
        elif name in seen:
            errors[f"mapping.{column}"] = [
                gettext("Field “%(field)s” is already mapped from column “%(column)s”") % {"field": name, "column": seen[name]}
            ]
        else:
            seen[name] = column
    for import_field in fields:
        if import_field.required and import_field.name not in seen:
            errors[f"mapping.{import_field.name}"] = [
                gettext("Map a column to the required field “%(label)s”") % {"label": import_field.label}
            ]
    if errors:
        raise ValidationError(errors)
    return cleaned


# ---------------------------------------------------------------------------------------------------------------
# Running rows.


@dataclass
class RowResult:
    row: int
    values: dict[str, str]
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Outcome:
    results: list[RowResult]
    created: int = 0

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [error for result in self.results for error in result.errors]

    @property
    def invalid_rows(self) -> int:
        return sum(1 for result in self.results if result.errors)


class _Rollback(Exception):
    pass


def _row_errors(error: DomainError, *, row: int, column_by_field: dict[str, str], values: dict[str, str]) -> list[dict[str, Any]]:
    result = []
    for name, messages in (error.field_errors() or {"__all__": [error.message]}).items():
        column = column_by_field.get(name, "")
        for message in messages:
            result.append({"row": row, "column": column, "field": "" if name == "__all__" else name, "value": values.get(name, ""), "message": message})
    return result


def _service_errors(importer: Importer, values: dict[str, str], known: dict[str, list[str]], *, actor: User) -> dict[str, list[str]]:
    """After some cells failed to parse, what the service says about the rest of the row (so one pass reports every
    problem of the row). Runs in a savepoint that is always rolled back."""
    remaining = {name: text for name, text in values.items() if name not in known}
    try:
        with transaction.atomic():
            importer.create_row(actor=actor, data=importer.validate_row(remaining))
            raise _Rollback
    except _Rollback:
        return {}
    except DomainError as error:
        return error.field_errors()


def _run_rows(importer: Importer, table: Table, mapping: dict[str, str], *, actor: User) -> Outcome:
    """Validate and create each row, each in its own savepoint (a bad row is undone alone). Call inside a transaction."""
    column_index = {column: index for index, column in enumerate(table.columns)}
    column_by_field = {name: column for column, name in mapping.items() if name}
    outcome = Outcome(results=[])
    for number, cells in table.rows:
        values = {name: cells[column_index[column]] for column, name in mapping.items() if name}
        result = RowResult(row=number, values=values)
        try:
            with transaction.atomic():
                data = importer.validate_row(values)
                importer.create_row(actor=actor, data=data)
        except ValidationError as error:
            errors = dict(error.errors)
            errors.update({name: messages for name, messages in _service_errors(importer, values, errors, actor=actor).items() if name not in errors})
            result.errors = _row_errors(ValidationError(errors), row=number, column_by_field=column_by_field, values=values)
        except DomainError as error:
            result.errors = _row_errors(error, row=number, column_by_field=column_by_field, values=values)
        else:
            outcome.created += 1
        outcome.results.append(result)
    return outcome


# ---------------------------------------------------------------------------------------------------------------
# Services and selectors.


def import_job_get_for_user(actor: User, job_id: int) -> ImportJob:
    """A job is seen by the user who uploaded it (and superusers); anyone else gets 404."""
    queryset = ImportJob.objects.all() if actor.is_superuser else ImportJob.objects.filter(user_id=actor.pk)
    job = queryset.filter(pk=job_id).first() if actor.is_authenticated else None
    if job is None:
        raise NotFound(gettext("Import %(id)s not found") % {"id": job_id})
    return job


def import_jobs_for_user(actor: User):
    return ImportJob.objects.filter(user_id=actor.pk).order_by("-created_at", "-id")


def import_job_table(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        return read_table(handle.read(), job.file_name)


@transaction.atomic
def import_job_create(*, actor: User, entity: str, file_name: str, content: bytes) -> ImportJob:
    """Store the upload and detect its columns and a first guess of the mapping. Writes no records yet."""
    importer = importer_for(entity)
    require(actor, importer.model, "add")
    file_name = (file_name or "").strip()[:255] or "import"
    table = read_table(content, file_name)
    job = ImportJob(
        entity=entity,
        user=actor,
        file_name=file_name,
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        columns=table.columns,
        mapping=guess_mapping(table.columns, importer.all_fields()),
        total_rows=len(table.rows),
    )
    job.file.save(get_valid_filename(file_name) or "import", ContentFile(content), save=False)
    job.save()
    return job


def _check_open(job: ImportJob) -> None:
    if job.status == ImportStatus.COMPLETED:
        raise Conflict(gettext("This file has already been imported; upload it again to import once more"), code="import_completed")


@transaction.atomic
def import_job_preview(*, actor: User, job_id: int, mapping: dict[str, str] | None = None) -> ImportJob:
    """Validate every row with the mapping as the commit would, inside a transaction that is rolled back.

    Stores the mapping, the counts, every error and the first PREVIEW_ROWS rows on the job."""
    job = ImportJob.objects.select_for_update().get(pk=import_job_get_for_user(actor, job_id).pk)
    _check_open(job)
    importer = importer_for(job.entity)
    require(actor, importer.model, "add")
    table = import_job_table(job)
    cleaned = clean_mapping(job.mapping if mapping is None else mapping, columns=table.columns, fields=importer.all_fields())
    outcome: Outcome | None = None
    try:
        with transaction.atomic():
            outcome = _run_rows(importer, table, cleaned, actor=actor)
            raise _Rollback
    except _Rollback:
        pass
    assert outcome is not None
    job.mapping = cleaned
    job.status = ImportStatus.PREVIEWED
    job.total_rows = len(table.rows)
    job.invalid_rows = outcome.invalid_rows
    job.valid_rows = job.total_rows - job.invalid_rows
    job.errors = outcome.errors
    job.preview = [{"row": r.row, "values": r.values, "errors": r.errors} for r in outcome.results[:PREVIEW_ROWS]]
    job.save(update_fields=["mapping", "status", "total_rows", "valid_rows", "invalid_rows", "errors", "preview"])
    return job


@transaction.atomic
def import_job_commit(*, actor: User, job_id: int, mode: str, mapping: dict[str, str] | None = None) -> ImportJob:
    """Create the records. all_or_nothing: any bad row and nothing is written; valid_only: the bad rows are skipped."""
    if mode not in ImportMode.values:
        raise ValidationError({"mode": [gettext("Must be one of: %(modes)s") % {"modes": ", ".join(ImportMode.values)}]})
    job = ImportJob.objects.select_for_update().get(pk=import_job_get_for_user(actor, job_id).pk)
    _check_open(job)
    importer = importer_for(job.entity)
    require(actor, importer.model, "add")
    table = import_job_table(job)
    cleaned = clean_mapping(job.mapping if mapping is None else mapping, columns=table.columns, fields=importer.all_fields())
    outcome: Outcome | None = None
    try:
        with transaction.atomic():
            outcome = _run_rows(importer, table, cleaned, actor=actor)
            if mode == ImportMode.ALL_OR_NOTHING and outcome.invalid_rows:
                raise _Rollback
    except _Rollback:
        assert outcome is not None
        outcome.created = 0
    assert outcome is not None
    job.mapping = cleaned
    job.mode = mode
    job.total_rows = len(table.rows)
    job.invalid_rows = outcome.invalid_rows
    job.valid_rows = job.total_rows - job.invalid_rows
    job.created_count = outcome.created
    job.errors = outcome.errors
    job.status = ImportStatus.COMPLETED if outcome.created or not outcome.invalid_rows else ImportStatus.FAILED
    job.finished_at = timezone.now()
    job.save(
        update_fields=["mapping", "mode", "total_rows", "valid_rows", "invalid_rows", "created_count", "errors", "status", "finished_at"]
    )
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        target=job,
        changes={
            "entity": job.entity,
            "file": job.file_name,
            "mode": mode,
            "rows": job.total_rows,
            "created": job.created_count,
            "rejected": job.invalid_rows,
        },
        message=f"{job.entity}: {job.created_count} of {job.total_rows} rows imported from {job.file_name} ({mode})",
    )
    return job


def import_error_report(job: ImportJob) -> bytes:
    """CSV (UTF-8 with BOM, so spreadsheet programs read it) of the rows with errors: the row number, the original
    cells and the errors, ready to be fixed and uploaded again."""
    table = import_job_table(job)
    messages_by_row: dict[int, list[str]] = {}
    for error in job.errors:
        prefix = f"{error['column']}: " if error.get("column") else (f"{error['field']}: " if error.get("field") else "")
        messages_by_row.setdefault(error["row"], []).append(prefix + error["message"])
    output = io.StringIO()
    writer = csv.writer(output, delimiter=job.delimiter or ",", lineterminator="\r\n")
    writer.writerow([gettext("Row"), *table.columns, gettext("Errors")])
    for number, cells in table.rows:
        if number in messages_by_row:
            writer.writerow([number, *cells, "; ".join(messages_by_row[number])])
    return ("\ufeff" + output.getvalue()).encode("utf-8")


__all__ = [
    "ImportField",
    "Importer",
    "Table",
    "clean_mapping",
    "guess_mapping",
    "import_error_report",
    "import_job_commit",
    "import_job_create",
    "import_job_get_for_user",
    "import_job_preview",
    "import_jobs_for_user",
    "importer_for",
    "importers_for_user",
    "parse_bool",
    "parse_choice",
    "parse_text",
    "parse_user",
    "read_table",
    "register_importer",
]
