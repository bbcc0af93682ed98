"""Generic record cards: fields, related lists and the timeline (activities plus the record's audit entries).

Higher apps extend cards of lower apps' records by registering sources at start-up (core and lower apps cannot
import them):

    register_timeline_source(activity_timeline_entries)  # (record, *, limit) -> Iterable[TimelineEntry]
    register_card_actions(deal_order_actions)             # (record, user) -> Iterable[CardAction]: buttons in the header
    register_related_lists(counterparty_orders)           # (record, user) -> Iterable[RelatedList]: sections of the card

A source returns nothing for records it does not know, and checks the user's permissions and scope itself.
Every card built on core/ui/card.html shows them (template tags `record_actions` and `record_related_lists`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from fabrika.core import custom_fields
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors_audit import audit_entries_for_record

EMPTY = "—"


@dataclass(frozen=True)
class CardField:
    label: Any
    value: Any
    url: str = ""


@dataclass(frozen=True)
class RelatedRow:
    cells: Sequence[Any]
    url: str = ""


@dataclass(frozen=True)
class RelatedList:
    title: Any
    headers: Sequence[Any]
    rows: Sequence[RelatedRow]
    empty_text: Any = _("Nothing yet.")
    more_url: str = ""


@dataclass(frozen=True)
class TimelineChange:
    field: str
    old: str
    new: str
    created: bool = False  # a value set when the record was created (no old value to show)


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str
    action: str
    label: Any
    message: str = ""
    changes: Sequence[TimelineChange] = field(default_factory=tuple)
    kind: str = "audit"  # "audit", "activity", "status", ...
    url: str = ""  # the entry's own page, when it has one


TimelineSource = Callable[..., Iterable[TimelineEntry]]
_timeline_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> None:
    """Merge `source(record, limit=...)` into every record's timeline (registering the same source twice is a no-op)."""
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def unregister_timeline_source(source: TimelineSource) -> None:
    if source in _timeline_sources:
        _timeline_sources.remove(source)


@dataclass(frozen=True)
class CardAction:
    label: Any
    url: str
    style: str = ""  # "", "primary" or "danger": the button's class


CardActionSource = Callable[[models.Model, Any], Iterable[CardAction]]
RelatedListSource = Callable[[models.Model, Any], Iterable[RelatedList]]
_action_sources: list[CardActionSource] = []
_related_sources: list[RelatedListSource] = []


def register_card_actions(source: CardActionSource) -> None:
    """Add `source(record, user)`'s buttons to every record card's header (registering twice is a no-op)."""
    if source not in _action_sources:
        _action_sources.append(source)


def register_related_lists(source: RelatedListSource) -> None:
    """Add `source(record, user)`'s related lists to every record card (registering twice is a no-op)."""
    if source not in _related_sources:
        _related_sources.append(source)


def card_actions_for(record: models.Model, user) -> list[CardAction]:
    return [action for source in _action_sources for action in source(record, user)]


def related_lists_for(record: models.Model, user) -> list[RelatedList]:
    return [related for source in _related_sources for related in source(record, user)]


def display(value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if value is True:
        return str(_("Yes"))
    if value is False:
        return str(_("No"))
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    return str(value)


def field_labels(model: type[models.Model], entity: str) -> dict[str, str]:
    """Field name → label for a model's fields and its custom fields ("custom.<code>")."""
    labels = {f.name: capfirst(str(f.verbose_name)) for f in model._meta.concrete_fields}
    for definition in custom_fields.definitions_for(entity):
        labels[f"custom.{definition.code}"] = str(definition.label)
    return labels


def _changes(entry, labels: dict[str, str]) -> list[TimelineChange]:
    changes = entry.changes or {}
    result = []
    if entry.action == AuditAction.UPDATE:
        for name, pair in changes.items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            result.append(TimelineChange(field=labels.get(name, name), old=display(old), new=display(new)))
    elif entry.action in (AuditAction.CREATE, AuditAction.DELETE):
        for name, value in changes.items():
            if name == "custom" and isinstance(value, dict):
                for code, custom_value in value.items():
                    if custom_value not in (None, "", []):
                        result.append(TimelineChange(field=labels.get(f"custom.{code}", code), old="", new=display(custom_value), created=True))
            elif value not in (None, "", [], False, {}):
                result.append(TimelineChange(field=labels.get(name, name), old="", new=display(value), created=True))
    return result


def record_timeline(
    record: models.Model, *, labels: dict[str, str], activities: Iterable[TimelineEntry] = (), limit: int = 100
) -> list[TimelineEntry]:
    """The record's history, newest first: its audit entries (old → new per field) merged with `activities`."""
    entries = [
        TimelineEntry(
            at=entry.at,
            who=entry.actor_name,
            action=entry.action,
            label=entry.get_action_display(),
            message=entry.message,
            changes=tuple(_changes(entry, labels)),
        )
        for entry in audit_entries_for_record(record)[:limit]
    ]
    entries.extend(activities)
    for source in _timeline_sources:
        entries.extend(source(record, limit=limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
