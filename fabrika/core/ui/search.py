"""Global search: every entity the user may view, scoped, grouped by record type.

Core sits below the apps that own the records, so it names their search functions by dotted path (as the main
navigation names their URLs) instead of importing them. A provider is `provider(actor, query, *, limit)` returning
a SearchGroup, or None when the actor may not view that entity; it must read through the entity's scoped selector.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.utils.module_loading import import_string

# (installed app, provider). Each app adds its line when its records become searchable.
SEARCH_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("fabrika.parties", "fabrika.parties.views.counterparty_search"),
)
MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class SearchHit:
    title: str
    detail: str
    url: str


@dataclass(frozen=True)
class SearchGroup:
    key: str
    label: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    more_url: str = ""


def global_search(actor, query: str, *, limit: int = 10) -> list[SearchGroup]:
    query = (query or "").strip()
    if len(query) < MIN_QUERY_LENGTH or not actor.is_authenticated:
        return []
    groups = []
    for app_name, path in SEARCH_PROVIDERS:
        if not apps.is_installed(app_name):
            continue
        group = import_string(path)(actor, query, limit=limit)
        if group is not None and group.total:
            groups.append(group)
    return groups
