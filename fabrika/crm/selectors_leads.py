"""Lead reads, scoped by the responsible user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fabrika.core.errors import NotFound
from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models import Lead, PublicForm

LEAD_SEARCH_FIELDS = ("name", "company_name", "email", "phone", "tax_id")


def lead_queryset_for_user(actor: User) -> QuerySet[Lead]:
    return scoped(Lead.objects.select_related("responsible", "converted_counterparty", "converted_deal", "public_form"), actor)


def lead_list_for_user(actor: User, *, search: str = "", status: str = "", source: str = "") -> QuerySet[Lead]:
    queryset = lead_queryset_for_user(actor)
    if search:
        condition = Q()
        for field in LEAD_SEARCH_FIELDS:
            condition |= Q(**{f"{field}__icontains": search})
        queryset = queryset.filter(condition)
    if status:
        queryset = queryset.filter(status=status)
    if source:
        queryset = queryset.filter(source=source)
    return queryset.order_by("-created_at", "-id")


def lead_get_for_user(actor: User, lead_id) -> Lead:
    return get_scoped(lead_queryset_for_user(actor), actor, lead_id)


def public_form_by_slug(slug: str) -> PublicForm:
    form = PublicForm.objects.select_related("responsible").filter(slug=slug, is_active=True).first()
    if form is None:
        raise NotFound(_("Form %(slug)s not found") % {"slug": slug})
    return form
