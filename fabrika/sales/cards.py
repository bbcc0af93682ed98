"""What the sales app adds to the cards of lower apps' records: on a deal's card, "Create order" and its orders;
on a counterparty's card, "New order" and its latest orders (within the user's scope)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from fabrika.core.ui.cards import CardAction, RelatedList, RelatedRow
from fabrika.crm.models import Deal
from fabrika.parties.models import Counterparty

from .models import SalesOrder
from .selectors_orders import orders_of_deal, sales_order_queryset_for_user

LIMIT = 10


def _rows(orders) -> list[RelatedRow]:
    return [
        RelatedRow(
            cells=(order.number, formats.date_format(order.date, "SHORT_DATE_FORMAT"), order.get_status_display(),
                   f"{formats.number_format(order.total, 2, use_l10n=True, force_grouping=True)} {order.currency}"),
            url=reverse("sales:order_detail", args=[order.pk]),
        )
        for order in orders
    ]


HEADERS = (_("Number"), _("Date"), _("Status"), _("Total"))


def order_actions(record, user) -> Iterable[CardAction]:
    if not user.has_perm("sales.add_salesorder"):
        return []
    if isinstance(record, Deal):
        return [CardAction(_("Create order"), f"{reverse('sales:order_create')}?{urlencode({'deal': record.pk})}")]
    if isinstance(record, Counterparty) and record.is_client:
        return [CardAction(_("New order"), f"{reverse('sales:order_create')}?{urlencode({'counterparty': record.pk})}")]
    return []


def order_related(record, user) -> Iterable[RelatedList]:
    if not user.has_perm("sales.view_salesorder"):
        return []
    if isinstance(record, Deal):
        orders = orders_of_deal(record.pk, user)[:LIMIT]
    elif isinstance(record, Counterparty):
        orders = sales_order_queryset_for_user(user).filter(counterparty=record).order_by("-date", "-id")[:LIMIT]
    else:
        return []
    return [RelatedList(title=SalesOrder._meta.verbose_name_plural.capitalize(), headers=HEADERS, rows=_rows(orders),
                        more_url=f"{reverse('sales:order_list')}?{urlencode({'q': record.name})}" if isinstance(record, Counterparty) else "")]
