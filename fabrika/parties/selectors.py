from __future__ import annotations

from django.db.models import Aggregate, OuterRef, Q, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext

from fabrika.core.errors import ValidationError
from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models import ROLE_FIELDS, Contact, Counterparty

# What a search box matches, in the list page, the API and the global search alike: the counterparty's own name,
# tax ID, e-mail and phone, and its contacts' names, phones and e-mails (`contacts_text`, an alias that
# `counterparty_search_queryset_for_user` adds).
COUNTERPARTY_SEARCH_FIELDS = ("name", "tax_id", "email", "phone", "contacts_text")


class _JoinedText(Aggregate):
    """The group's texts joined by spaces: GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def _contacts_text() -> Subquery:
    """One text per counterparty with every contact's name, phone and e-mail (for matching, never shown)."""
    texts = (
        Contact.objects.filter(counterparty=OuterRef("pk"))
        .order_by()
        .values("counterparty")
        .annotate(text=_JoinedText(Concat("name", Value(" "), "phone", Value(" "), "email", output_field=TextField())))
        .values("text")
    )
    return Subquery(texts, output_field=TextField())


def search_condition(search: str) -> Q:
    """Apply to a `counterparty_search_queryset_for_user` queryset (it needs the `contacts_text` alias)."""
    condition = Q()
    for name in COUNTERPARTY_SEARCH_FIELDS:
        condition |= Q(**{f"{name}__icontains": search})
    return condition


def own_company() -> Counterparty | None:
    """The counterparty marked as the company itself (its requisites go on printed forms as the seller's)."""
    return Counterparty.objects.filter(is_own_company=True).first()


def counterparty_queryset_for_user(actor: User) -> QuerySet[Counterparty]:
    """Every counterparty the actor's scope includes, with what lists and cards show fetched in the same query."""
    return scoped(Counterparty.objects.select_related("responsible"), actor)


def counterparty_search_queryset_for_user(actor: User) -> QuerySet[Counterparty]:
    """`counterparty_queryset_for_user` that a search can filter on contacts through the `contacts_text` alias.

    An alias, not an annotation: the contacts subquery appears in the SQL only when a search uses it, and one row
    per counterparty comes back however many contacts match (no join, no DISTINCT)."""
    return counterparty_queryset_for_user(actor).alias(contacts_text=_contacts_text())


def counterparty_list_for_user(actor: User, *, search: str = "", role: str = "") -> QuerySet[Counterparty]:
    queryset = counterparty_search_queryset_for_user(actor)
    if search:
        queryset = queryset.filter(search_condition(search))
    if role:
        if role not in ROLE_FIELDS:
            raise ValidationError({"role": [gettext("Must be one of: %(choices)s") % {"choices": ", ".join(ROLE_FIELDS)}]})
        queryset = queryset.filter(**{ROLE_FIELDS[role]: True})
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


def counterparty_choices(actor: User, query: str, *, limit: int, params: dict[str, str]) -> list[tuple[int, str]] | None:
    """Autocomplete source (fabrika.core.ui.autocomplete): active counterparties in the actor's scope matching `query`
    (name, tax ID, e-mail, phone); `params["roles"]` = "client,dealer" keeps those having any of the roles."""
    if not actor.has_perm("parties.view_counterparty"):
        return None
    queryset = counterparty_search_queryset_for_user(actor).filter(is_active=True)
    if query:
        queryset = queryset.filter(search_condition(query))
    roles = [role for role in (params.get("roles") or "").split(",") if role]
    unknown = [role for role in roles if role not in ROLE_FIELDS]
    if unknown:
        raise ValidationError({"roles": [gettext("Must be one of: %(choices)s") % {"choices": ", ".join(ROLE_FIELDS)}]})
    if roles:
        condition = Q()
        for role in roles:
            condition |= Q(**{ROLE_FIELDS[role]: True})
        queryset = queryset.filter(condition)
    rows = queryset.order_by("name", "id").values_list("pk", "name", "tax_id", "city")[:limit]
    return [(pk, " · ".join(part for part in (name, tax_id, city) if part)) for pk, name, tax_id, city in rows]
