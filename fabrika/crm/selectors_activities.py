"""Activity reads: scoped lists, "my tasks" filters, the calendar window and the timeline entries of a card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from fabrika.core.errors import NotFound
from fabrika.core.models import User
from fabrika.core.permissions import scope_filter
from fabrika.core.statuses import company_today, start_of_day
from fabrika.core.ui.cards import TimelineEntry

from .models import Activity, ActivityKind, ActivityStatus, CalendarFeed, ChecklistItem

TASK_KINDS = (ActivityKind.TASK, ActivityKind.CALL)
TASK_FILTERS = ("overdue", "today", "week", "open", "done", "all")


def activity_queryset_for_user(actor: User) -> QuerySet[Activity]:
    """Activities the actor may see: assigned within their scope, or written by them."""
    queryset = Activity.objects.select_related("responsible", "author", "counterparty", "contact", "lead", "deal")
    if not actor.is_authenticated:
        return queryset.none()
    condition = scope_filter(actor)
    return queryset if condition is None else queryset.filter(condition | Q(author=actor))


def activity_get_for_user(actor: User, activity_id) -> Activity:
    try:
        return activity_queryset_for_user(actor).get(pk=int(activity_id))
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Activity %(id)s not found") % {"id": activity_id})


def checklist_item_get_for_user(actor: User, item_id) -> ChecklistItem:
    try:
        item = ChecklistItem.objects.select_related("activity").get(pk=int(item_id))
    except (ChecklistItem.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Checklist item %(id)s not found") % {"id": item_id})
    activity_get_for_user(actor, item.activity_id)
    return item


def activity_list_for_user(
    actor: User,
    *,
    kind: str = "",
    status: str = "",
    assignee_id: int | None = None,
    counterparty_id: int | None = None,
    deal_id: int | None = None,
    lead_id: int | None = None,
    contact_id: int | None = None,
    search: str = "",
) -> QuerySet[Activity]:
    queryset = activity_queryset_for_user(actor)
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    for field, value in (("responsible_id", assignee_id), ("counterparty_id", counterparty_id), ("deal_id", deal_id), ("lead_id", lead_id), ("contact_id", contact_id)):
        if value is not None:
            queryset = queryset.filter(**{field: value})
    if search:
        queryset = queryset.filter(Q(subject__icontains=search) | Q(body__icontains=search))
    return queryset.order_by("-created_at", "-id")


def my_tasks(actor: User, *, when: str = "open", priority: str = "", now: dt.datetime | None = None) -> QuerySet[Activity]:
    """The actor's own tasks and calls to make. `when`: overdue, today, week (the next 7 days), open, done or all."""
    today = company_today(now=now)
    queryset = Activity.objects.select_related("counterparty", "deal", "lead").filter(responsible=actor, kind__in=TASK_KINDS)
    if when == "overdue":
        queryset = queryset.filter(status=ActivityStatus.OPEN, due_at__lt=start_of_day(today))
    elif when == "today":
        queryset = queryset.filter(status=ActivityStatus.OPEN, due_at__lt=start_of_day(today + dt.timedelta(days=1)))
    elif when == "week":
        queryset = queryset.filter(status=ActivityStatus.OPEN, due_at__lt=start_of_day(today + dt.timedelta(days=7)))
    elif when == "done":
        queryset = queryset.filter(status=ActivityStatus.DONE)
    elif when != "all":
        queryset = queryset.filter(status=ActivityStatus.OPEN)
    if priority:
        queryset = queryset.filter(priority=priority)
    if when == "done":
        return queryset.order_by("-done_at", "-id")
    return queryset.order_by("status", "due_at", "id")


def calendar_items(user: User, *, start: dt.datetime, end: dt.datetime) -> list[Activity]:
    """The user's meetings (by start) and dated tasks and calls (by due time) within [start, end), not cancelled."""
    return list(
        Activity.objects.select_related("counterparty")
        .filter(responsible=user)
        .exclude(status=ActivityStatus.CANCELLED)
        .filter(Q(starts_at__gte=start, starts_at__lt=end) | Q(starts_at__isnull=True, due_at__gte=start, due_at__lt=end))
        .order_by("starts_at", "due_at", "id")
    )


def feed_items(user: User, *, since: dt.datetime) -> list[Activity]:
    """What the user's iCal feed publishes: their meetings, tasks and calls with a time, from `since` on or still open."""
    return list(
        Activity.objects.select_related("counterparty")
        .filter(responsible=user)
        .filter(Q(starts_at__isnull=False) | Q(due_at__isnull=False))
        .filter(Q(starts_at__gte=since) | Q(due_at__gte=since) | Q(status=ActivityStatus.OPEN))
        .order_by("id")
    )


def calendar_feed_by_token(token: str) -> CalendarFeed:
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first() if token else None
    if feed is None or not feed.user.is_active:
        raise NotFound(_("Calendar feed not found"))
    return feed


def activity_moment(activity: Activity) -> dt.datetime:
    return activity.starts_at or activity.due_at or activity.created_at


# --- the timeline ---------------------------------------------------------------------------------------------

_LINK_FIELDS = {
    "parties.counterparty": "counterparty",
    "parties.contact": "contact",
    "crm.lead": "lead",
    "crm.deal": "deal",
}


def _describe(activity: Activity) -> str:
    parts = []
    if activity.kind == ActivityKind.MEETING and activity.starts_at:
        parts.append(_("at %(time)s") % {"time": activity.starts_at.strftime("%Y-%m-%d %H:%M")})
    if activity.due_at and activity.kind in TASK_KINDS:
        parts.append(_("due %(time)s") % {"time": activity.due_at.strftime("%Y-%m-%d %H:%M")})
    parts.append(activity.get_status_display())
    if activity.responsible_id != activity.author_id:
        parts.append(_("assignee: %(user)s") % {"user": activity.responsible})
    return " · ".join(str(part) for part in parts)


def activity_timeline_entries(record: Model, *, limit: int = 100) -> Iterable[TimelineEntry]:
    """Timeline source (fabrika.core.ui.cards): the activities linked to a counterparty, contact, lead or deal."""
    meta = record._meta
    field = _LINK_FIELDS.get(f"{meta.app_label}.{meta.model_name}")
    if field is None or record.pk is None:
        return []
    activities = (
        Activity.objects.select_related("author", "responsible").filter(**{f"{field}_id": record.pk}).order_by("-created_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=activity.created_at,
            who=activity.author.get_username(),
            action=f"activity-{activity.kind}",
            label=f"{activity.get_kind_display()}: {activity.subject}",
            message=" — ".join(part for part in (_describe(activity), activity.body[:300]) if part),
            kind="activity",
            url=activity.get_absolute_url(),
        )
        for activity in activities
    ]
