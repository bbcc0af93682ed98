from __future__ import annotations

from django.db.models import Q, QuerySet

from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models import Counterparty

# What a search box matches, in the list page, the API and the global search alike.
COUNTERPARTY_SEARCH_FIELDS = ("name", "tax_id", "email", "phone")


def search_condition(search: str) -> Q:
    condition = Q()
    for name in COUNTERPARTY_SEARCH_FIELDS:
        condition |= Q(**{f"{name}__icontains": search})
    return condition


def counterparty_queryset_for_user(actor: User) -> QuerySet[Counterparty]:
    """Every counterparty the actor's scope includes, with what lists and cards show fetched in the same query."""
    return scoped(Counterparty.objects.select_related("responsible"), actor)


def counterparty_list_for_user(actor: User, *, search: str = "") -> QuerySet[Counterparty]:
    queryset = counterparty_queryset_for_user(actor)
    if search:
        queryset = queryset.filter(search_condition(search))
    return queryset.order_by("name", "id")


def counterparty_get_for_user(actor: User, counterparty_id: int) -> Counterparty:
    return get_scoped(Counterparty.objects.select_related("responsible"), actor, counterparty_id)


def counterparty_duplicates_for_user(actor: User, counterparty: Counterparty, *, limit: int = 20) -> list[Counterparty]:
    """Other counterparties in the actor's scope with the same tax ID, e-mail or phone (likely duplicates)."""
    condition = Q()
    for name in ("tax_id", "email", "phone"):
        value = getattr(counterparty, name)
        if value:
            condition |= Q(**{name: value})
    if not condition:
        return []
    return list(counterparty_queryset_for_user(actor).filter(condition).exclude(pk=counterparty.pk).order_by("name", "id")[:limit])


def responsible_choices() -> list[tuple[str, str]]:
    """Active users who can be made responsible for a counterparty, as (id, name) pairs."""
    return [(str(user.pk), str(user)) for user in User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")]
