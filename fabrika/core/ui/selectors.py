"""Reads of the UI kit."""

from __future__ import annotations

from django.db.models import QuerySet

from fabrika.core.models import SavedView, User


def saved_views_for_user(actor: User, *, entity: str = "") -> QuerySet[SavedView]:
    """The actor's own saved views (of one record type when `entity` is given); nobody sees another's."""
    queryset = SavedView.objects.filter(user=actor) if actor.is_authenticated else SavedView.objects.none()
    if entity:
        queryset = queryset.filter(entity=entity)
    return queryset.order_by("entity", "name", "id")
