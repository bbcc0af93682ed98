"""Choice fields that search the server instead of listing every row: `AutocompleteSelect`.

A <select> with thousands of counterparties or products is slow to render and useless to scroll. This widget renders
only the selected option plus a search box; typing asks `GET /ui/autocomplete/<source>/?q=...` for matches and the
chosen one becomes the select's option, so the form still posts an id and the field validates it against its own
(scoped) queryset as before.

Sources are named here by dotted path (core sits below the apps that own the records, as in ui/search.py):
`provider(actor, query, *, limit, params) -> list[(value, label)]`, or None when the actor may not see the entity.
A provider reads through the entity's scoped selector; `params` are the extra query parameters the widget was given
(e.g. role=supplier).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.module_loading import import_string

from fabrika.core.errors import NotFound

AUTOCOMPLETE_SOURCES: dict[str, str] = {
    "counterparties": "fabrika.parties.selectors.counterparty_choices",
    "products": "fabrika.catalog.selectors.product_choices",
}
LIMIT = 20


def autocomplete_choices(actor, source: str, query: str, *, params: dict[str, str], limit: int = LIMIT) -> list[tuple[Any, str]] | None:
    path = AUTOCOMPLETE_SOURCES.get(source)
    if path is None:
        raise NotFound(f"Unknown autocomplete source {source}")
    return import_string(path)(actor, (query or "").strip(), limit=limit, params=params)


def use_autocomplete(field: forms.ModelChoiceField, source: str, *, params: dict[str, str] | None = None) -> None:
    """Give an existing form field an AutocompleteSelect (a widget assigned after the field was built must be told the
    field's choices, which ModelChoiceField only hands to the widget it was created with)."""
    field.widget = AutocompleteSelect(source, params=params, attrs=field.widget.attrs)
    field.widget.choices = field.choices


class AutocompleteSelect(forms.Select):
    """`forms.ModelChoiceField(queryset=..., widget=AutocompleteSelect("counterparties", params={"roles": "client"}))`,
    or `use_autocomplete(form.fields["counterparty"], "counterparties")` on a field that exists already."""

    template_name = "core/ui/widgets/autocomplete.html"

    def __init__(self, source: str, *, params: dict[str, str] | None = None, attrs: dict | None = None):
        super().__init__(attrs)
        self.source = source
        self.params = params or {}

    def optgroups(self, name, value, attrs=None):
        """Only the empty choice and the selected one: never iterate a large queryset."""
        chosen = [str(v) for v in value if v not in (None, "")]
        options = []
        iterator = self.choices
        field = getattr(iterator, "field", None)
        if field is not None and getattr(field, "empty_label", None) is not None:
            options.append(self.create_option(name, "", field.empty_label, not chosen, 0, attrs=attrs))
        if chosen and field is not None:
            for index, instance in enumerate(field.queryset.filter(pk__in=chosen), start=1):
                options.append(self.create_option(name, instance.pk, field.label_from_instance(instance), True, index, attrs=attrs))
        elif chosen:  # plain choices (a list): small by nature
            labels = dict((str(k), v) for k, v in iterator) if isinstance(iterator, list | tuple) else {}
            for index, key in enumerate(chosen, start=1):
                options.append(self.create_option(name, key, labels.get(key, key), True, index, attrs=attrs))
        return [(None, options, 0)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        url = reverse("core:autocomplete", args=[self.source])
        context["widget"]["source_url"] = f"{url}?{urlencode(self.params)}" if self.params else url
        return context
