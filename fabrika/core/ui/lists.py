"""Generic list pages: one declarative `ListConfig` per entity, one state object that reads the query string.

The state turns a request's query parameters into a filtered, searched and sorted queryset (every parameter is
whitelisted against the config), the visible columns and the page; views render it with core/ui/list.html and
export it with fabrika.core.ui.exports. Rows always come from the config's scoped selector.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.db import models
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from fabrika.core import custom_fields
from fabrika.core.errors import ValidationError

# Query parameters the kit itself uses; everything else a list understands comes from its config.
SEARCH_PARAM = "q"
SORT_PARAM = "sort"
PAGE_PARAM = "page"
COLUMNS_PARAM = "cols"
VIEW_PARAM = "view"
EXPORT_PARAM = "export"
NOT_SAVED_PARAMS = {PAGE_PARAM, COLUMNS_PARAM, VIEW_PARAM, EXPORT_PARAM, "csrfmiddlewaretoken"}
RANGE_TYPES = {"integer", "decimal", "date", "datetime"}  # custom field types filtered by a from/to range


@dataclass(frozen=True)
class Column:
    """A list column. `value(row)` gives what the page shows; `export(row)` what CSV/XLSX get (defaults to value)."""

    key: str
    label: Any
    value: Callable[[Any], Any] | None = None
    export: Callable[[Any], Any] | None = None
    sort: str = ""  # the ordering expression; empty means the column is not sortable
    link: bool = False  # the cell links to the record's card

    def display(self, row: Any) -> Any:
        return self.value(row) if self.value is not None else getattr(row, self.key)

    def export_value(self, row: Any) -> Any:
        return self.export(row) if self.export is not None else self.display(row)


@dataclass(frozen=True)
class Filter:
    """A server-side filter. kind: "choice" (one of `choices`), "boolean" (yes/no), "date_range" (key_from, key_to)."""

    key: str
    label: Any
    lookup: str
    kind: str = "choice"
    choices: Callable[[Any], Sequence[tuple[str, Any]]] | Sequence[tuple[str, Any]] = ()
    apply: Callable[[QuerySet, str], QuerySet] | None = None  # for a choice that is not one field's value

    def choices_for(self, actor) -> list[tuple[str, Any]]:
        if self.kind == "boolean":
            return [("yes", _("Yes")), ("no", _("No"))]
        choices = self.choices(actor) if callable(self.choices) else self.choices
        return [(str(value), label) for value, label in choices]


@dataclass(frozen=True)
class BulkAction:
    """An action on the checked rows. `run(actor=, ids=, value=)` calls a service and returns how many changed, or
    (how many changed, a note for the user — e.g. which ticked rows it left alone and why).

    `ids` are already limited to the rows the actor's scope includes. When `value_choices` is set, the user picks a
    value (e.g. the new responsible) that is passed as `value`.
    """

    key: str
    label: Any
    permission: str  # model action the role must grant: "change", "delete"; or a full permission ("finance.add_invoice")
    run: Callable[..., int | tuple[int, str]]
    value_label: Any = ""
    value_choices: Callable[[Any], Sequence[tuple[str, Any]]] | None = None
    confirm: Any = ""


@dataclass(frozen=True)
class ListConfig:
    entity: str  # "app_label.model_name", also the custom-field entity
    model: type
    title: Any
    queryset: Callable[[Any], QuerySet]  # actor -> scoped queryset with select_related
    columns: tuple[Column, ...]
    default_columns: tuple[str, ...]
    default_sort: str
    url_name: str
    search_fields: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    bulk_actions: tuple[BulkAction, ...] = ()
    create_url_name: str = ""
    detail_url: Callable[[Any], str] | None = None
    page_size: int = 50
    export_formats: tuple[str, ...] = ("csv", "xlsx")
    max_export_rows: int = 100_000


@dataclass
class FilterState:
    filter: Filter
    value: str = ""
    value_from: str = ""
    value_to: str = ""
    choices: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class CustomFilterState:
    definition: Any
    value: str = ""
    value_from: str = ""
    value_to: str = ""

    @property
    def code(self) -> str:
        return self.definition.code

    @property
    def is_range(self) -> bool:
        return self.definition.field_type in RANGE_TYPES

    @property
    def input_type(self) -> str:
        return {"date": "date", "datetime": "date", "integer": "number", "decimal": "number"}.get(self.definition.field_type, "text")

    @property
    def choices(self) -> list[tuple[str, str]]:
        if self.definition.field_type == "boolean":
            return [("true", str(_("Yes"))), ("false", str(_("No")))]
        return [(str(c.get("value")), str(c.get("label") or c.get("value"))) for c in getattr(self.definition, "choices", None) or []]


LINK_TYPE = "link"


def custom_column(definition, link_labels: dict[str, dict[int, str]]) -> Column:
    """A list column for a custom field. Link values are read from `link_labels[code]` (filled once per page by
    ListState.prepare_rows) so that a page of rows costs one query per link column, not one per row."""
    code = definition.code

    def shown(row):
        raw = (row.custom or {}).get(code)
        if definition.field_type == LINK_TYPE:
            return custom_fields.display_value(definition, raw, links=link_labels.get(code, {}))
        return custom_fields.display_value(definition, raw)

    def exported(row):
        if definition.field_type == LINK_TYPE:
            return shown(row) or None
        return custom_fields.export_value(definition, (row.custom or {}).get(code))

    return Column(key=f"cf_{code}", label=definition.label, value=shown, export=exported, sort=f"custom__{code}")


def _is_datetime(model, lookup: str) -> bool:
    """Whether the field a `__`-separated lookup path ends on is a DateTimeField."""
    field = None
    for name in lookup.split("__"):
        field = model._meta.get_field(name)
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return isinstance(field, models.DateTimeField)


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


class ListState:
    """What a list shows for these query parameters. Invalid filter values are ignored and reported in `errors`."""

    def __init__(self, config: ListConfig, actor, params: QueryDict, *, columns: Sequence[str] | None = None):
        self.config = config
        self.actor = actor
        self.params = params
        self.errors: dict[str, list[str]] = {}
        self.definitions = list(custom_fields.definitions_for(config.entity))
        self.link_labels: dict[str, dict[int, str]] = {}
        self.all_columns: list[Column] = list(config.columns) + [
            custom_column(d, self.link_labels) for d in self.definitions if d.show_in_list
        ]
        by_key = {column.key: column for column in self.all_columns}
        requested = list(columns) if columns is not None else [k for k in params.getlist(COLUMNS_PARAM) if k]
        if len(requested) == 1 and "," in requested[0]:
            requested = requested[0].split(",")
        chosen = [key for key in requested if key in by_key]
        self.visible_keys: list[str] = chosen or [key for key in config.default_columns if key in by_key]
        self.columns: list[Column] = [by_key[key] for key in self.visible_keys]
        self.search = (params.get(SEARCH_PARAM) or "").strip()
        self.sort = self._sort(params.get(SORT_PARAM) or "")
        self.filters = [self._filter_state(f) for f in config.filters]
        self.custom_filters = [self._custom_filter_state(d) for d in self.definitions if d.filterable]

    # ---- parsing -------------------------------------------------------------------------------------------
    def _sort(self, value: str) -> str:
        sortable = {column.key for column in self.all_columns if column.sort}
        if value.lstrip("-") in sortable:
            return value
        return self.config.default_sort

    def _filter_state(self, flt: Filter) -> FilterState:
        state = FilterState(filter=flt, choices=flt.choices_for(self.actor) if flt.kind != "date_range" else [])
        if flt.kind == "date_range":
            for suffix in ("from", "to"):
                raw = (self.params.get(f"{flt.key}_{suffix}") or "").strip()
                if raw and _parse_date(raw) is None:
                    self.errors.setdefault(f"{flt.key}_{suffix}", []).append(str(_("Enter a date as YYYY-MM-DD")))
                    raw = ""
                setattr(state, f"value_{suffix}", raw)
            return state
        raw = (self.params.get(flt.key) or "").strip()
        if raw and raw not in {value for value, _label in state.choices}:
            self.errors.setdefault(flt.key, []).append(str(_("Choose one of the offered values")))
            raw = ""
        state.value = raw
        return state

    def _custom_filter_state(self, definition) -> CustomFilterState:
        key = f"cf_{definition.code}"
        return CustomFilterState(
            definition=definition,
            value=(self.params.get(key) or "").strip(),
            value_from=(self.params.get(f"{key}_from") or "").strip(),
            value_to=(self.params.get(f"{key}_to") or "").strip(),
        )

    # ---- queryset ------------------------------------------------------------------------------------------
    def queryset(self) -> QuerySet:
        queryset = self.config.queryset(self.actor)
        if self.search and self.config.search_fields:
            condition = Q()
            for name in self.config.search_fields:
                condition |= Q(**{f"{name}__icontains": self.search})
            queryset = queryset.filter(condition)
        for state in self.filters:
            flt = state.filter
            if flt.kind == "date_range":
                # a date-time column compares its date part; a date column compares itself
                lookup = f"{flt.lookup}__date" if _is_datetime(queryset.model, flt.lookup) else flt.lookup
                if state.value_from:
                    queryset = queryset.filter(**{f"{lookup}__gte": _parse_date(state.value_from)})
                if state.value_to:
                    queryset = queryset.filter(**{f"{lookup}__lte": _parse_date(state.value_to)})
            elif flt.apply is not None and state.value:
                queryset = flt.apply(queryset, state.value)
            elif flt.kind == "boolean" and state.value:
                queryset = queryset.filter(**{flt.lookup: state.value == "yes"})
            elif state.value:
                queryset = queryset.filter(**{flt.lookup: state.value})
        if self.custom_filters:
            custom_params = {
                key: value for key, value in self.params.items() if key.startswith("cf_") and (value or "").strip()
            }
            if custom_params:
                try:
                    queryset = custom_fields.filter_queryset(queryset, self.config.entity, custom_params)
                except ValidationError as error:  # shown above the list; the other filters still apply
                    for key, messages in error.field_errors().items():
                        self.errors.setdefault(key, []).extend(messages)
        direction = "-" if self.sort.startswith("-") else ""
        column = next((c for c in self.all_columns if c.key == self.sort.lstrip("-")), None)
        expression = column.sort if column is not None else self.sort.lstrip("-")
        return queryset.order_by(f"{direction}{expression}", f"{direction}pk")

    def page(self, number: str | int | None):
        paginator = Paginator(self.queryset(), self.config.page_size)
        page = paginator.get_page(number)
        page.object_list = self.prepare_rows(list(page.object_list))
        return page

    def prepare_rows(self, rows: list) -> list:
        """Fetch, for these rows, what custom link columns show (one query per visible link column)."""
        visible = set(self.visible_keys)
        for definition in self.definitions:
            if definition.field_type == LINK_TYPE and f"cf_{definition.code}" in visible:
                values = [(row.custom or {}).get(definition.code) for row in rows]
                self.link_labels[definition.code] = custom_fields.link_labels(definition, values)
        return rows

    # ---- links ---------------------------------------------------------------------------------------------
    def query_string(self, *, drop: set[str] | None = None, **overrides: Any) -> str:
        """The current query string without `drop` and with `overrides` (None removes a parameter)."""
        query = self.params.copy()
        for key in drop or set():
            query.pop(key, None)
        for key, value in overrides.items():
            query.pop(key, None)
            if value is None:
                continue
            if isinstance(value, list | tuple):
                query.setlist(key, [str(v) for v in value])
            else:
                query[key] = str(value)
        return query.urlencode()

    def saved_query(self) -> str:
        """The part of the query string a saved view keeps (filters, search, sort)."""
        return self.query_string(drop=NOT_SAVED_PARAMS)

    def sort_links(self) -> dict[str, dict[str, str]]:
        links = {}
        current = self.sort.lstrip("-")
        descending = self.sort.startswith("-")
        for column in self.columns:
            if not column.sort:
                continue
            target = f"-{column.key}" if current == column.key and not descending else column.key
            state = ("desc" if descending else "asc") if current == column.key else ""
            links[column.key] = {"query": self.query_string(drop={PAGE_PARAM, VIEW_PARAM}, **{SORT_PARAM: target}), "state": state}
        return links

    @property
    def is_filtered(self) -> bool:
        return bool(self.search) or any(s.value or s.value_from or s.value_to for s in self.filters) or any(
            s.value or s.value_from or s.value_to for s in self.custom_filters
        )


def bulk_action_for(config: ListConfig, key: str) -> BulkAction | None:
    return next((action for action in config.bulk_actions if action.key == key), None)
