from __future__ import annotations

from django.db.models import Q, QuerySet

from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models import Counterparty


def counterparty_list_for_user(actor: User, *, search: str = "") -> QuerySet[Counterparty]:
    queryset = scoped(Counterparty.objects.select_related("responsible"), actor)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(tax_id__icontains=search) | Q(email__icontains=search) | Q(phone__icontains=search)
        )
    return queryset.order_by("name", "id")


def counterparty_get_for_user(actor: User, counterparty_id: int) -> Counterparty:
    return get_scoped(Counterparty.objects.select_related("responsible"), actor, counterparty_id)
