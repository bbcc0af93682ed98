"""Custom fields: what other apps call to validate, show, filter, export and import custom values.

An entity ("app_label.model_name") accepts custom fields when its model has a JSONField named `custom`. Values are
kept there keyed by the field's code, in a stored JSON form per type:

| type                | stored as                                         |
|---------------------|---------------------------------------------------|
| text, long_text     | str                                               |
| integer             | int (at most 15 digits)                           |
| decimal             | str with the exact digits entered, e.g. "12.50"   |
| date                | "YYYY-MM-DD"                                      |
| datetime            | "YYYY-MM-DDTHH:MM:SS+00:00" (UTC, whole seconds)  |
| boolean             | bool                                              |
| choice              | the choice's value (str)                          |
| multichoice         | list of values, in the order of the choices       |
| file                | {"name", "path", "size"} (path in default storage) |
| link                | the target record's id (int)                      |

An empty value is not stored (the key is absent). Definitions are written by fabrika.core.services_custom_fields.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import FileExtensionValidator
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import capfirst, get_valid_filename
from django.utils.translation import gettext as _

from .errors import ValidationError
from .models.custom_fields import CustomFieldDefinition, CustomFieldType

__all__ = [
    "MAX_DECIMAL_DIGITS",
    "CustomFieldDefinition",
    "CustomFieldType",
    "StoredFile",
    "card_rows",
    "clean_custom_values",
    "convert_value",
    "custom_field_entities",
    "custom_from_form",
    "definitions_for",
    "display_value",
    "entity_model",
    "entity_name",
    "export_value",
    "filter_definitions",
    "filter_form_fields",
    "filter_queryset",
    "form_field_name",
    "form_fields",
    "import_value",
    "initial_from_custom",
    "link_labels",
    "link_target_entities",
    "list_definitions",
]

CUSTOM_FIELD_NAME = "custom"
FORM_PREFIX = "custom_"
FILTER_PREFIX = "cf_"
MAX_TEXT_LENGTH = 1000
MAX_LONG_TEXT_LENGTH = 10000
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_DIGITS = 15
LINK_CHOICES_LIMIT = 500
# Platform models that make sense as link targets; the rest of core (audit, tokens, outbox, ...) is internal.
CORE_LINK_TARGETS = ("core.user", "core.department")
NAMING_FIELDS = ("name", "username", "number", "code")

_INTEGER_RE = re.compile(r"^[+-]?\d+$")
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE_WORDS = {"true", "yes", "y", "1", "on", "да"}
_FALSE_WORDS = {"false", "no", "n", "0", "off", "нет"}


# --- entities -------------------------------------------------------------------------------------------------


def entity_name(model: type[models.Model] | models.Model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _has_custom_json(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field(CUSTOM_FIELD_NAME)
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.JSONField)


def custom_field_entities() -> dict[str, str]:
    """{entity: its name for people} for every model with a JSONField named `custom`, sorted by entity."""
    found = {entity_name(model): str(capfirst(model._meta.verbose_name)) for model in apps.get_models() if _has_custom_json(model)}
    return dict(sorted(found.items()))


def _naming_field(model: type[models.Model]) -> str | None:
    """The field people know a record by (name, username, number or code), if the model has one."""
    for field_name in NAMING_FIELDS:
        try:
            model._meta.get_field(field_name)
        except FieldDoesNotExist:
            continue
        return field_name
    return None


def link_target_entities() -> dict[str, str]:
    """{entity: its name for people} for every model a link field may point to: records of the business apps that
    people know by a name, number or code, plus users and departments."""
    found: dict[str, str] = {}
    for model in apps.get_models():
        config = apps.get_app_config(model._meta.app_label)
        name = entity_name(model)
        if not config.name.startswith("fabrika.") or _naming_field(model) is None:
            continue
        if config.label == "core" and name not in CORE_LINK_TARGETS:
            continue
        found[name] = str(capfirst(model._meta.verbose_name))
    return dict(sorted(found.items()))


def entity_model(entity: str) -> type[models.Model]:
    """The model of "app_label.model_name"; LookupError when there is none."""
    app_label, _dot, model_name = entity.partition(".")
    if not app_label or not model_name:
        raise LookupError(entity)
    return apps.get_model(app_label, model_name)


# --- definitions ----------------------------------------------------------------------------------------------


def definitions_for(entity: str, *, context: str | None = None) -> list[CustomFieldDefinition]:
    """Active fields of an entity, in display order: the global ones, plus those of `context` when given."""
    contexts = [""] if not context else ["", context]
    return list(
        CustomFieldDefinition.objects.filter(entity=entity, context__in=contexts, is_active=True).order_by("order", "id")
    )


def list_definitions(entity: str, *, context: str | None = None) -> list[CustomFieldDefinition]:
    """The fields to show as list columns."""
    return [definition for definition in definitions_for(entity, context=context) if definition.show_in_list]


def filter_definitions(entity: str, *, context: str | None = None) -> list[CustomFieldDefinition]:
    """The fields lists offer as filters (and that filter_queryset accepts)."""
    return [definition for definition in definitions_for(entity, context=context) if definition.filterable]


# --- conversion to the stored form ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A stored file value as a form's initial value (ClearableFileInput shows it as the current file)."""

    name: str
    path: str
    size: int

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return ""

    def as_value(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "size": self.size}


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | dict):
        return not value
    return False


def _text(definition: CustomFieldDefinition, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | decimal.Decimal):
        raise ValueError(_("Enter text"))
    value = str(raw).strip()
    limit = MAX_LONG_TEXT_LENGTH if definition.field_type == CustomFieldType.LONG_TEXT else MAX_TEXT_LENGTH
    if len(value) > limit:
        raise ValueError(_("At most %(limit)d characters") % {"limit": limit})
    return value


def _integer(raw: Any) -> int:
    message = _("Enter a whole number")
    if isinstance(raw, bool):
        raise ValueError(message)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float | decimal.Decimal):
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError(message)
        if isinstance(raw, decimal.Decimal) and (not raw.is_finite() or raw != raw.to_integral_value()):
            raise ValueError(message)
        value = int(raw)
    elif isinstance(raw, str) and _INTEGER_RE.match(raw.strip()):
        value = int(raw.strip())
    else:
        raise ValueError(message)
    if abs(value) >= 10**MAX_INTEGER_DIGITS:
        raise ValueError(_("At most %(digits)d digits") % {"digits": MAX_INTEGER_DIGITS})
    return value


def _decimal(definition: CustomFieldDefinition, raw: Any) -> str:
    message = _("Enter a number, e.g. 12.50")
    if isinstance(raw, bool):
        raise ValueError(message)
    if isinstance(raw, decimal.Decimal):
        value = raw
    elif isinstance(raw, int):
        value = decimal.Decimal(raw)
    elif isinstance(raw, float):
        value = decimal.Decimal(repr(raw)) if raw == raw and raw not in (float("inf"), float("-inf")) else decimal.Decimal("NaN")
    elif isinstance(raw, str) and _DECIMAL_RE.match(raw.strip()):
        value = decimal.Decimal(raw.strip())
    else:
        raise ValueError(message)
    if not value.is_finite():
        raise ValueError(message)
    _sign, digits, exponent = value.as_tuple()
    places = max(0, -int(exponent))
    integer_digits = len(str(int(abs(value)))) if abs(value) >= 1 else 0
    if integer_digits + places > MAX_DECIMAL_DIGITS:
        raise ValueError(_("At most %(digits)d digits") % {"digits": MAX_DECIMAL_DIGITS})
    if definition.decimal_places is not None and places > definition.decimal_places:
        raise ValueError(_("At most %(places)d decimal places") % {"places": definition.decimal_places})
    text = format(value, "f")
    return text[1:] if text.startswith("-") and value == 0 else text


def _date(raw: Any) -> str:
    message = _("Enter a date as YYYY-MM-DD")
    if isinstance(raw, dt.datetime):
        raise ValueError(message)
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, str) and _DATE_RE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            raise ValueError(_("Enter a valid date as YYYY-MM-DD"))
    raise ValueError(message)


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _datetime_text(value: dt.datetime) -> str:
    return _aware(value).astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _datetime(raw: Any) -> str:
    message = _("Enter a date and time as YYYY-MM-DDTHH:MM")
    if isinstance(raw, dt.datetime):
        return _datetime_text(raw)
    if isinstance(raw, str) and len(raw.strip()) >= 16:
        try:
            return _datetime_text(dt.datetime.fromisoformat(raw.strip()))
        except ValueError:
            raise ValueError(message)
    raise ValueError(message)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise ValueError(_("Enter yes or no (true or false)"))


def _not_a_choice(definition: CustomFieldDefinition) -> ValueError:
    return ValueError(_("Not one of the choices: %(choices)s") % {"choices": ", ".join(definition.choice_values)})


def _choice(definition: CustomFieldDefinition, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _not_a_choice(definition)
    value = str(raw).strip()
    if value not in definition.choice_values:
        raise _not_a_choice(definition)
    return value


def _multichoice(definition: CustomFieldDefinition, raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple | set):
        raise ValueError(_("Enter a list of choices: %(choices)s") % {"choices": ", ".join(definition.choice_values)})
    chosen = {_choice(definition, item) for item in raw}
    return [value for value in definition.choice_values if value in chosen]


def _file(definition: CustomFieldDefinition, raw: Any, *, current: Any) -> dict[str, Any]:
    if raw == current:
        return raw
    message = _("Upload a file through the form; a file value cannot be set by its path")
    if not isinstance(raw, dict) or set(raw) != {"name", "path", "size"}:
        raise ValueError(message)
    name, path, size = raw["name"], raw["path"], raw["size"]
    folder = f"custom/{definition.entity}/"
    if (
        not isinstance(name, str)
        or not name
        or not isinstance(path, str)
        or not path.startswith(folder)
        or ".." in path.split("/")
        or isinstance(size, bool)
        or not isinstance(size, int)
        or size < 0
        or not default_storage.exists(path)
    ):
        raise ValueError(message)
    return {"name": name, "path": path, "size": size}


def _link(definition: CustomFieldDefinition, raw: Any) -> int:
    try:
        model = entity_model(definition.target_entity)
    except LookupError:
        raise ValueError(_("The linked entity %(entity)s no longer exists") % {"entity": definition.target_entity})
    if isinstance(raw, models.Model):
        if not isinstance(raw, model):
            raise ValueError(_("Choose a %(name)s") % {"name": model._meta.verbose_name})
        raw = raw.pk
    if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit())):
        raise ValueError(_("Enter the id of a %(name)s") % {"name": model._meta.verbose_name})
    pk = int(raw)
    if not model._default_manager.filter(pk=pk).exists():
        raise ValueError(_("No %(name)s with id %(id)d") % {"name": model._meta.verbose_name, "id": pk})
    return pk


def convert_value(definition: CustomFieldDefinition, raw: Any, *, current: Any = None) -> Any:
    """The stored JSON form of `raw` for this field, or None when it is empty. ValueError names the rule broken.
    `current` is the value stored now (a file value equal to it is kept as it is)."""
    if _is_empty(raw):
        return None
    field_type = definition.field_type
    if field_type in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT):
        return _text(definition, raw)
    if field_type == CustomFieldType.INTEGER:
        return _integer(raw)
    if field_type == CustomFieldType.DECIMAL:
        return _decimal(definition, raw)
    if field_type == CustomFieldType.DATE:
        return _date(raw)
    if field_type == CustomFieldType.DATETIME:
        return _datetime(raw)
    if field_type == CustomFieldType.BOOLEAN:
        return _boolean(raw)
    if field_type == CustomFieldType.CHOICE:
        return _choice(definition, raw)
    if field_type == CustomFieldType.MULTICHOICE:
        return _multichoice(definition, raw) or None
    if field_type == CustomFieldType.FILE:
        return _file(definition, raw, current=current)
    if field_type == CustomFieldType.LINK:
        return _link(definition, raw)
    raise ValueError(_("Unknown field type %(type)s") % {"type": field_type})


def clean_custom_values(
    entity: str, values: dict[str, Any], *, existing: dict[str, Any] | None, context: str | None = None
) -> dict[str, Any]:
    """Validate `values` (keyed by code) and return the whole `custom` object to store.

    Codes given replace the stored value (an empty value removes it); codes not given keep theirs, and so do values
    of other contexts and of deactivated fields. A new record (existing is None) gets each field's default where no
    value was given. Raises ValidationError keyed "custom.<code>".
    """
    if not isinstance(values, dict):
        raise ValidationError({"custom": [_("Must be an object keyed by field code")]})
    definitions = {definition.code: definition for definition in definitions_for(entity, context=context)}
    result: dict[str, Any] = dict(existing or {})
    errors: dict[str, list[str]] = {}
    for code, raw in values.items():
        key = f"custom.{code}"
        definition = definitions.get(code)
        if definition is None:
            if existing is not None and code in existing and existing[code] == raw:
                continue  # a stored value sent back unchanged (another context's, or a deactivated field's)
            errors[key] = [_("Unknown field")]
            continue
        try:
            stored = convert_value(definition, raw, current=result.get(code))
        except ValueError as error:
            errors[key] = [str(error)]
            continue
        if stored is None:
            result.pop(code, None)
        else:
            result[code] = stored
    if existing is None:
        for code, definition in definitions.items():
            if code not in values and definition.default is not None:
                result[code] = definition.default
    for code, definition in definitions.items():
        key = f"custom.{code}"
        if definition.required and key not in errors and _is_empty(result.get(code)):
            errors[key] = [_("Required")]
    if errors:
        raise ValidationError(errors)
    return result


# --- forms ----------------------------------------------------------------------------------------------------


class _LimitedModelChoiceIterator(forms.models.ModelChoiceIterator):
    """Offers at most LINK_CHOICES_LIMIT records; the field still accepts any existing id."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset[:LINK_CHOICES_LIMIT]:
            yield self.choice(obj)


class LinkChoiceField(forms.ModelChoiceField):
    iterator = _LimitedModelChoiceIterator


class CustomFileInput(forms.ClearableFileInput):
    """Shows the stored file by name (files are not served from a public URL) with a "clear" box."""

    template_name = "core/custom_fields/widgets/file.html"

    def is_initial(self, value) -> bool:
        return isinstance(value, StoredFile)


def _file_validators() -> list:
    extensions = [extension.strip().lower() for extension in settings.FABRIKA_ATTACHMENT_EXTENSIONS if extension.strip()]
    return [FileExtensionValidator(allowed_extensions=extensions), _validate_file_size]


def _validate_file_size(upload) -> None:
    limit = settings.FABRIKA_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise forms.ValidationError(_("The file is too large: at most %(size)s") % {"size": _file_size(limit)})


def _form_field(definition: CustomFieldDefinition) -> forms.Field:
    common = {"label": definition.label, "help_text": definition.help_text, "required": definition.required}
    field_type = definition.field_type
    if field_type == CustomFieldType.TEXT:
        return forms.CharField(max_length=MAX_TEXT_LENGTH, **common)
    if field_type == CustomFieldType.LONG_TEXT:
        return forms.CharField(max_length=MAX_LONG_TEXT_LENGTH, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if field_type == CustomFieldType.INTEGER:
        return forms.IntegerField(max_value=10**MAX_INTEGER_DIGITS - 1, min_value=-(10**MAX_INTEGER_DIGITS - 1), **common)
    if field_type == CustomFieldType.DECIMAL:
        return forms.DecimalField(
            max_digits=MAX_DECIMAL_DIGITS, decimal_places=definition.decimal_places, localize=True,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common,
        )
    if field_type == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if field_type == CustomFieldType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"), **common
        )
    if field_type == CustomFieldType.BOOLEAN:
        # An unticked box is an answer ("no"), so the box itself is never required.
        return forms.BooleanField(**{**common, "required": False})
    if field_type == CustomFieldType.CHOICE:
        options = [(choice["value"], choice.get("label") or choice["value"]) for choice in definition.choices]
        return forms.ChoiceField(choices=[("", "---------"), *options], **common)
    if field_type == CustomFieldType.MULTICHOICE:
        options = [(choice["value"], choice.get("label") or choice["value"]) for choice in definition.choices]
        return forms.MultipleChoiceField(choices=options, widget=forms.SelectMultiple, **common)
    if field_type == CustomFieldType.FILE:
        # Kept files come back through the initial value; the service checks "required" on the result.
        return forms.FileField(widget=CustomFileInput, validators=_file_validators(), **{**common, "required": False})
    if field_type == CustomFieldType.LINK:
        model = entity_model(definition.target_entity)
        return LinkChoiceField(queryset=model._default_manager.all(), **common)
    raise ValueError(f"Unknown custom field type {field_type}")


def form_field_name(error_key: str) -> str:
    """The form field that shows a clean_custom_values error: "custom.<code>" -> "custom_<code>"."""
    return f"{FORM_PREFIX}{error_key[len('custom.'):]}" if error_key.startswith("custom.") else error_key


def form_fields(entity: str, *, context: str | None = None) -> dict[str, forms.Field]:
    """Form fields for the entity's custom fields, keyed "custom_<code>", with each field's default as initial."""
    fields: dict[str, forms.Field] = {}
    for definition in definitions_for(entity, context=context):
        field = _form_field(definition)
        if definition.default is not None:
            field.initial = _initial(definition, definition.default)
        fields[f"{FORM_PREFIX}{definition.code}"] = field
    return fields


def _initial(definition: CustomFieldDefinition, raw: Any) -> Any:
    field_type = definition.field_type
    if field_type == CustomFieldType.DECIMAL:
        return decimal.Decimal(str(raw))
    if field_type == CustomFieldType.DATE:
        return dt.date.fromisoformat(raw)
    if field_type == CustomFieldType.DATETIME:
        return timezone.localtime(dt.datetime.fromisoformat(raw))
    if field_type == CustomFieldType.FILE:
        return StoredFile(name=raw["name"], path=raw["path"], size=raw["size"])
    return raw


def initial_from_custom(entity: str, custom: dict[str, Any] | None, *, context: str | None = None) -> dict[str, Any]:
    """Form initial values keyed "custom_<code>" from a record's stored `custom` object."""
    initial: dict[str, Any] = {}
    for definition in definitions_for(entity, context=context):
        raw = (custom or {}).get(definition.code)
        if raw is None:
            continue
        try:
            initial[f"{FORM_PREFIX}{definition.code}"] = _initial(definition, raw)
        except (ValueError, TypeError, KeyError, decimal.InvalidOperation):
            continue  # a value of another shape (stored before the field was redefined) starts empty in the form
    return initial


def _save_upload(entity: str, upload: UploadedFile) -> dict[str, Any]:
    name = get_valid_filename(upload.name or "file") or "file"
    path = default_storage.save(f"custom/{entity}/{uuid.uuid4().hex[:12]}_{name}", upload)
    return {"name": upload.name or name, "path": path, "size": upload.size}


def _from_form_value(entity: str, definition: CustomFieldDefinition, value: Any) -> Any:
    if value is None or value is False and definition.field_type == CustomFieldType.FILE:
        return None
    if isinstance(value, UploadedFile):
        return _save_upload(entity, value)
    if isinstance(value, StoredFile):
        return value.as_value()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip() or None
    return value


def custom_from_form(entity: str, cleaned_data: dict[str, Any], *, context: str | None = None) -> dict[str, Any]:
    """Values keyed by code from a bound form's cleaned_data, ready for clean_custom_values. Uploaded files are saved
    to the default storage under custom/<entity>/."""
    values: dict[str, Any] = {}
    for definition in definitions_for(entity, context=context):
        name = f"{FORM_PREFIX}{definition.code}"
        if name in cleaned_data:
            values[definition.code] = _from_form_value(entity, definition, cleaned_data[name])
    return values


# --- display, export, import ----------------------------------------------------------------------------------


def link_labels(definition: CustomFieldDefinition, ids: Iterable[Any]) -> dict[int, str]:
    """{id: str(record)} for many link values at once (one query), for list pages."""
    wanted = {value for value in ids if isinstance(value, int) and not isinstance(value, bool)}
    if not wanted:
        return {}
    try:
        model = entity_model(definition.target_entity)
    except LookupError:
        return {}
    return {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=wanted)}


def _file_size(size: int) -> str:
    if size < 1024:
        return _("%(size)d bytes") % {"size": size}
    if size < 1024 * 1024:
        return _("%(size)s KB") % {"size": f"{size / 1024:.1f}"}
    return _("%(size)s MB") % {"size": f"{size / 1024 / 1024:.1f}"}


def display_value(definition: CustomFieldDefinition, raw: Any, *, links: Mapping[int, str] | None = None) -> str:
    """The value as people read it on cards and in list cells ("" when empty). Pass `links` from link_labels to show
    many link values without a query each."""
    if _is_empty(raw):
        return ""
    field_type = definition.field_type
    try:
        if field_type == CustomFieldType.BOOLEAN:
            return _("Yes") if raw else _("No")
        if field_type == CustomFieldType.CHOICE:
            return definition.choice_label(raw)
        if field_type == CustomFieldType.MULTICHOICE:
            return ", ".join(definition.choice_label(value) for value in raw)
        if field_type == CustomFieldType.DATETIME:
            return timezone.localtime(dt.datetime.fromisoformat(raw)).strftime("%Y-%m-%d %H:%M")
        if field_type == CustomFieldType.FILE:
            return f"{raw['name']} ({_file_size(int(raw['size']))})"
        if field_type == CustomFieldType.LINK:
            label = links.get(raw) if links is not None else link_labels(definition, [raw]).get(raw)
            return label if label is not None else _("#%(id)s (not found)") % {"id": raw}
    except (ValueError, TypeError, KeyError):
        return str(raw)
    return str(raw)


def card_rows(entity: str, custom: dict[str, Any] | None, *, context: str | None = None) -> list[tuple[str, str]]:
    """(label, display value) for each custom field with a value, for a record's card."""
    rows = []
    for definition in definitions_for(entity, context=context):
        text = display_value(definition, (custom or {}).get(definition.code))
        if text:
            rows.append((definition.label, text))
    return rows


def export_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    """A value fit for a CSV or XLSX cell: numbers as int/Decimal, dates as date/naive local datetime, booleans as
    bool, choices by label ("; " between several), files by name, links by the record's text; None when empty."""
    if _is_empty(raw):
        return None
    field_type = definition.field_type
    try:
        if field_type == CustomFieldType.DECIMAL:
            return decimal.Decimal(str(raw))
        if field_type == CustomFieldType.DATE:
            return dt.date.fromisoformat(raw)
        if field_type == CustomFieldType.DATETIME:
            return timezone.make_naive(timezone.localtime(dt.datetime.fromisoformat(raw)))
        if field_type == CustomFieldType.BOOLEAN:
            return bool(raw)
        if field_type == CustomFieldType.CHOICE:
            return definition.choice_label(raw)
        if field_type == CustomFieldType.MULTICHOICE:
            return "; ".join(definition.choice_label(value) for value in raw)
        if field_type == CustomFieldType.FILE:
            return raw["name"]
        if field_type == CustomFieldType.LINK:
            return display_value(definition, raw)
    except (ValueError, TypeError, KeyError, decimal.InvalidOperation):
        return str(raw)
    return raw


def _import_choice(definition: CustomFieldDefinition, text: str) -> str:
    wanted = text.strip().casefold()
    for choice in definition.choices:
        if wanted in (str(choice["value"]).casefold(), str(choice.get("label") or "").casefold()):
            return choice["value"]
    raise _not_a_choice(definition)


def _import_link(definition: CustomFieldDefinition, text: str) -> Any:
    if text.isdigit():
        return text
    model = entity_model(definition.target_entity)
    field_name = _naming_field(model)
    if field_name is not None:
        matches = list(model._default_manager.filter(**{f"{field_name}__iexact": text}).values_list("pk", flat=True)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise ValueError(_("More than one %(name)s is called %(text)s: use the id") % {"name": model._meta.verbose_name, "text": text})
    raise ValueError(_("No %(name)s called %(text)s") % {"name": model._meta.verbose_name, "text": text})


def _import_date(text: str) -> Any:
    for pattern in ("%d.%m.%Y", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return text


def _import_datetime(text: str) -> Any:
    for pattern in ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    return text


def import_value(definition: CustomFieldDefinition, text: Any) -> Any:
    """Parse a spreadsheet cell into the stored form (None when empty). Accepts what export_value writes, plus
    common spellings: "1 234,5", "31.12.2025", "yes"/"no", a choice's value or label, a linked record's id or name.
    Raises ValueError naming the rule."""
    if text is None:
        return None
    field_type = definition.field_type
    if field_type == CustomFieldType.FILE:
        if _is_empty(text):
            return None
        raise ValueError(_("Files cannot be imported from a spreadsheet; attach them on the record"))
    if isinstance(text, float) and field_type == CustomFieldType.INTEGER and text.is_integer():
        text = int(text)
    if isinstance(text, dt.datetime) and field_type == CustomFieldType.DATE:
        text = text.date() if text.time() == dt.time(0) else text
    if isinstance(text, str):
        text = text.strip()
        if not text:
            return None
        if field_type in (CustomFieldType.INTEGER, CustomFieldType.DECIMAL):
            text = re.sub(r"[\s\u00a0\u202f]", "", text)
            if field_type == CustomFieldType.DECIMAL and "," in text and "." not in text:
                text = text.replace(",", ".")
        elif field_type == CustomFieldType.BOOLEAN:
            word = text.casefold()
            if word == _("Yes").casefold():
                text = "yes"
            elif word == _("No").casefold():
                text = "no"
        elif field_type == CustomFieldType.CHOICE:
            text = _import_choice(definition, text)
        elif field_type == CustomFieldType.MULTICHOICE:
            separator = ";" if ";" in text else ","
            text = [_import_choice(definition, part) for part in text.split(separator) if part.strip()]
        elif field_type == CustomFieldType.LINK:
            text = _import_link(definition, text)
        elif field_type == CustomFieldType.DATE:
            text = _import_date(text)
        elif field_type == CustomFieldType.DATETIME:
            text = _import_datetime(text)
    return convert_value(definition, text)


# --- filtering ------------------------------------------------------------------------------------------------


RANGE_TYPES = (CustomFieldType.INTEGER, CustomFieldType.DECIMAL, CustomFieldType.DATE, CustomFieldType.DATETIME)


class _JsonArrayContains(models.Func):
    """True when the JSON array at `custom -> code` holds `value` (SQLite; PostgreSQL uses the `contains` lookup)."""

    output_field = models.BooleanField()

    def __init__(self, column: str, code: str, value: str):
        super().__init__(models.F(column))
        self.code, self.value = code, value

    def as_sql(self, compiler, connection, **extra_context):
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        sql = f"EXISTS (SELECT 1 FROM json_each({column_sql}, %s) WHERE json_each.value = %s)"
        return sql, (*column_params, f'$."{self.code}"', self.value)


def _parse_filter(definition: CustomFieldDefinition, name: str, text: str, *, end_of_day: bool = False) -> Any:
    field_type = definition.field_type
    try:
        if field_type == CustomFieldType.DATETIME and _DATE_RE.match(text):
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min).replace(microsecond=0)
            return _datetime(moment)
        if field_type == CustomFieldType.LINK:
            return _integer(text)
        if field_type == CustomFieldType.MULTICHOICE:
            return _choice(definition, text)
        if field_type == CustomFieldType.DECIMAL and "," in text and "." not in text:
            text = text.replace(",", ".")  # "12,5" typed where the comma is the decimal separator
        return convert_value(definition, text)
    except ValueError as error:
        raise ValidationError({name: [str(error)]})


def _comparable(definition: CustomFieldDefinition, code: str):
    """An expression that orders this field's values correctly on the current database."""
    text = KeyTextTransform(code, CUSTOM_FIELD_NAME)
    if definition.field_type == CustomFieldType.DECIMAL:
        # Stored as text: compare as numbers (NUMERIC on SQLite is exact for our 15 digits, numeric on PostgreSQL).
        return Cast(text, models.DecimalField(max_digits=30, decimal_places=15)), decimal.Decimal
    if connection.vendor == "postgresql":
        if definition.field_type == CustomFieldType.DATE:
            return Cast(text, models.DateField()), dt.date.fromisoformat
        if definition.field_type == CustomFieldType.DATETIME:
            return Cast(text, models.DateTimeField()), dt.datetime.fromisoformat
    if definition.field_type in (CustomFieldType.DATE, CustomFieldType.DATETIME):
        # ISO text in one format (UTC, whole seconds) orders like the dates themselves. The wrapper compares it as
        # plain text (a key transform's own lookups would parse the bound as JSON).
        return models.ExpressionWrapper(text, output_field=models.TextField()), str
    return KeyTransform(code, CUSTOM_FIELD_NAME), int


def filter_form_fields(entity: str, *, context: str | None = None) -> dict[str, forms.Field]:
    """Optional form fields for a list's filter bar, named as filter_queryset reads them: "cf_<code>", or
    "cf_<code>_from" and "cf_<code>_to" for numbers and dates. Submit them by GET and pass request.GET on."""
    fields: dict[str, forms.Field] = {}
    for definition in filter_definitions(entity, context=context):
        name, label, field_type = f"{FILTER_PREFIX}{definition.code}", definition.label, definition.field_type
        if field_type in RANGE_TYPES:
            if field_type == CustomFieldType.DATE:
                widget: type[forms.Widget] | forms.Widget = forms.DateInput(attrs={"type": "date"})
            elif field_type == CustomFieldType.DATETIME:
                widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
            else:
                widget = forms.TextInput(attrs={"inputmode": "decimal" if field_type == CustomFieldType.DECIMAL else "numeric"})
            fields[f"{name}_from"] = forms.CharField(label=_("%(label)s from") % {"label": label}, required=False, widget=widget)
            fields[f"{name}_to"] = forms.CharField(label=_("%(label)s to") % {"label": label}, required=False, widget=widget)
        elif field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTICHOICE):
            options = [(choice["value"], choice.get("label") or choice["value"]) for choice in definition.choices]
            fields[name] = forms.ChoiceField(label=label, required=False, choices=[("", _("Any")), *options])
        elif field_type == CustomFieldType.BOOLEAN:
            fields[name] = forms.ChoiceField(label=label, required=False, choices=[("", _("Any")), ("yes", _("Yes")), ("no", _("No"))])
        elif field_type == CustomFieldType.LINK:
            model = entity_model(definition.target_entity)
            fields[name] = LinkChoiceField(queryset=model._default_manager.all(), label=label, required=False, empty_label=_("Any"))
        else:
            fields[name] = forms.CharField(label=label, required=False)
    return fields


def filter_queryset(
    queryset: QuerySet, entity: str, params: Mapping[str, str], *, context: str | None = None
) -> QuerySet:
    """Apply "cf_<code>" (and "cf_<code>_from" / "cf_<code>_to" for numbers and dates) query parameters.

    text: contains (case-insensitive); choice, boolean, link, integer, decimal, date: equals; multichoice: holds the
    value; ranges are inclusive (a date alone as the end of a date-time range means the whole day). Empty parameters
    are ignored; a parameter naming a field that is not filterable, or a value of the wrong kind, raises
    ValidationError keyed by the parameter.
    """
    definitions = {definition.code: definition for definition in filter_definitions(entity, context=context)}
    wanted: list[tuple[str, str, str, str]] = []  # (parameter, code, kind, text)
    errors: dict[str, list[str]] = {}
    for name in params:
        if not name.startswith(FILTER_PREFIX):
            continue
        value = params[name]
        if isinstance(value, list | tuple):
            value = value[-1] if value else ""
        if isinstance(value, models.Model):  # a filter form's cleaned link value
            value = value.pk
        text = "" if value is None else str(value).strip()
        code, kind = name[len(FILTER_PREFIX):], "exact"
        for suffix in ("_from", "_to"):
            base = code[: -len(suffix)]
            if code.endswith(suffix) and base in definitions and definitions[base].field_type in RANGE_TYPES:
                code, kind = base, suffix[1:]
        if code not in definitions:
            errors[name] = [_("Not a filterable custom field")]
            continue
        if kind == "exact" and definitions[code].field_type == CustomFieldType.DATETIME and text:
            errors[name] = [_("Filter a date and time by range: use %(name)s_from and %(name)s_to") % {"name": name}]
            continue
        if text:
            wanted.append((name, code, kind, text))
    if errors:
        raise ValidationError(errors)
    for name, code, kind, text in wanted:
        definition = definitions[code]
        field_type = definition.field_type
        value = _parse_filter(definition, name, text, end_of_day=kind == "to")
        alias = f"_cf_{code}"
        if field_type in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT):
            queryset = queryset.alias(**{alias: KeyTextTransform(code, CUSTOM_FIELD_NAME)}).filter(**{f"{alias}__icontains": value})
        elif field_type == CustomFieldType.MULTICHOICE:
            if connection.vendor == "postgresql":
                queryset = queryset.alias(**{alias: KeyTransform(code, CUSTOM_FIELD_NAME)}).filter(**{f"{alias}__contains": [value]})
            else:
                queryset = queryset.filter(_JsonArrayContains(CUSTOM_FIELD_NAME, code, value))
        elif field_type == CustomFieldType.BOOLEAN:
            queryset = queryset.alias(**{alias: KeyTransform(code, CUSTOM_FIELD_NAME)})
            if value:
                queryset = queryset.filter(**{alias: True})
            else:  # "no" includes records that never got a value
                queryset = queryset.filter(Q(**{alias: False}) | Q(**{f"{alias}__isnull": True}))
        elif field_type in (CustomFieldType.CHOICE, CustomFieldType.LINK):
            queryset = queryset.alias(**{alias: KeyTransform(code, CUSTOM_FIELD_NAME)}).filter(**{alias: value})
        else:
            expression, convert = _comparable(definition, code)
            lookup = {"exact": "exact", "from": "gte", "to": "lte"}[kind]
            alias = f"_cf_{code}_{kind}"
            queryset = queryset.alias(**{alias: expression}).filter(**{f"{alias}__{lookup}": convert(value)})
    return queryset

