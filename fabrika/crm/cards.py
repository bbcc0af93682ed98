"""What the CRM adds to the cards of lower apps' records (parties sits below crm and cannot link to it):
on a counterparty's card, buttons to log an activity or add a task, and its deals and open tasks."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from fabrika.core.ui.cards import CardAction, RelatedList, RelatedRow, display
from fabrika.parties.models import Counterparty

from .models import ActivityStatus
from .selectors_activities import activity_queryset_for_user
from .selectors_pipelines import deal_queryset_for_user

LIMIT = 10


def counterparty_actions(record, user) -> Iterable[CardAction]:
    if not isinstance(record, Counterparty) or not user.has_perm("crm.add_activity"):
        return []
    base = reverse("crm:activity_create")
    return [
        CardAction(_("Log an activity"), f"{base}?{urlencode({'counterparty': record.pk, 'kind': 'call'})}"),
        CardAction(_("Add a task"), f"{base}?{urlencode({'counterparty': record.pk, 'kind': 'task'})}"),
    ]


def counterparty_related(record, user) -> Iterable[RelatedList]:
    if not isinstance(record, Counterparty):
        return []
    lists = []
    if user.has_perm("crm.view_deal"):
        deals = deal_queryset_for_user(user).filter(counterparty=record).select_related("stage", "currency").order_by("-id")[:LIMIT]
        lists.append(RelatedList(
            title=_("Deals"), headers=(_("Number"), _("Title"), _("Stage"), _("Amount")),
            rows=[RelatedRow(cells=(deal.number, deal.title, deal.stage.name, display(deal.amount)), url=reverse("crm:deal_detail", args=[deal.pk]))
                  for deal in deals],
            more_url=f"{reverse('crm:deal_list')}?{urlencode({'q': record.name})}",
        ))
    if user.has_perm("crm.view_activity"):
        activities = (
            activity_queryset_for_user(user).filter(counterparty=record, status=ActivityStatus.OPEN).order_by("due_at", "id")[:LIMIT]
        )
        lists.append(RelatedList(
            title=_("Open activities"), headers=(_("Subject"), _("Kind"), _("Due"), _("Responsible")),
            rows=[RelatedRow(
                cells=(activity.subject, activity.get_kind_display(),
                       formats.date_format(activity.due_at, "SHORT_DATETIME_FORMAT") if activity.due_at else display(None),
                       display(activity.responsible)),
                url=reverse("crm:activity_detail", args=[activity.pk]),
            ) for activity in activities],
        ))
    return lists
