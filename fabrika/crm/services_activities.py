"""Activity writes: calls, meetings, e-mails, notes and tasks, their checklists, closing, reminders and iCal feeds.

Every write runs in one transaction, records an audit row and, for state changes other apps react to, a domain event.
An open task with a due time has a reminder timer ("crm.task.due") that notifies its assignee when the time comes;
closing, cancelling or moving the task moves or cancels that timer in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fabrika.core import audit, events
from fabrika.core.errors import InvalidTransition, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.core.notifications import notification_create
from fabrika.core.timers import cancel_timers, schedule_timer

from .models import Activity, ActivityKind, ActivityPriority, ActivityStatus, CalendarFeed, ChecklistItem
from .models.activities import new_feed_token

TASK_DUE_TIMER = "crm.task.due"
SUBJECT_MAX = 300
BODY_MAX = 20000
CHECKLIST_MAX = 100
EDITABLE_FIELDS = ("kind", "subject", "body", "starts_at", "ends_at", "due_at", "priority", "responsible", "counterparty", "contact", "lead", "deal")


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _aware(value: Any, field: str, errors: dict[str, list[str]]) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            _add(errors, field, _("Enter a date and time, e.g. 2026-03-01T14:30"))
            return None
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    _add(errors, field, _("Enter a date and time, e.g. 2026-03-01T14:30"))
    return None


def _clean_checklist(items: Iterable[Any], errors: dict[str, list[str]]) -> list[str]:
    texts = []
    for item in items or ():
        text = str(item.get("text", "") if isinstance(item, dict) else item).strip()
        if not text:
            continue
        if len(text) > SUBJECT_MAX:
            _add(errors, "checklist", _("A checklist item is at most %(limit)d characters") % {"limit": SUBJECT_MAX})
        texts.append(text)
    if len(texts) > CHECKLIST_MAX:
        _add(errors, "checklist", _("At most %(limit)d checklist items") % {"limit": CHECKLIST_MAX})
    return texts


def _clean(data: dict[str, Any], *, existing: Activity | None) -> dict[str, Any]:
    """The cleaned values of `data` (only the fields it has, plus required ones for a new activity)."""
    errors: dict[str, list[str]] = {}
    cleaned = {name: data[name] for name in EDITABLE_FIELDS if name in data}

    def current(name: str) -> Any:
        if name in cleaned:
            return cleaned[name]
        return getattr(existing, name) if existing is not None else None

    if "kind" in cleaned or existing is None:
        if cleaned.get("kind") not in ActivityKind.values:
            _add(errors, "kind", _("Must be one of: %(choices)s") % {"choices": ", ".join(str(label) for label in ActivityKind.labels)})
    if "subject" in cleaned or existing is None:
        subject = (cleaned.get("subject") or "").strip()
        if not subject:
            _add(errors, "subject", _("A subject is required"))
        elif len(subject) > SUBJECT_MAX:
            _add(errors, "subject", _("At most %(limit)d characters") % {"limit": SUBJECT_MAX})
        cleaned["subject"] = subject
    if "body" in cleaned:
        cleaned["body"] = (cleaned["body"] or "").strip()
        if len(cleaned["body"]) > BODY_MAX:
            _add(errors, "body", _("At most %(limit)d characters") % {"limit": BODY_MAX})
    if "priority" in cleaned or existing is None:
        cleaned["priority"] = cleaned.get("priority") or ActivityPriority.NORMAL
        if cleaned["priority"] not in ActivityPriority.values:
            _add(errors, "priority", _("Must be one of: %(choices)s") % {"choices": ", ".join(str(label) for label in ActivityPriority.labels)})
    for name in ("starts_at", "ends_at", "due_at"):
        if name in cleaned:
            cleaned[name] = _aware(cleaned[name], name, errors)
    if "responsible" in cleaned or existing is None:
        responsible = cleaned.get("responsible")
        if isinstance(responsible, int | str) and str(responsible).isdigit():
            responsible = User.objects.filter(pk=int(responsible)).first()
        if not isinstance(responsible, User) or not responsible.is_active:
            _add(errors, "responsible", _("Choose an active user as assignee"))
        cleaned["responsible"] = responsible
    if not errors:
        kind = current("kind")
        starts_at, ends_at = current("starts_at"), current("ends_at")
        if kind == ActivityKind.MEETING and starts_at is None:
            _add(errors, "starts_at", _("A meeting needs a start time"))
        if ends_at is not None and starts_at is None:
            _add(errors, "starts_at", _("Set the start before the end"))
        if starts_at is not None and ends_at is not None and ends_at < starts_at:
            _add(errors, "ends_at", _("The end cannot be before the start"))
        _clean_links(cleaned, current, errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_links(cleaned: dict[str, Any], current, errors: dict[str, list[str]]) -> None:
    """A contact or a deal brings its counterparty; a different counterparty given alongside is refused."""
    contact, deal, counterparty = current("contact"), current("deal"), current("counterparty")
    if contact is not None:
        if counterparty is None:
            counterparty = cleaned["counterparty"] = contact.counterparty
        elif contact.counterparty_id != counterparty.pk:
            _add(errors, "contact", _("The contact belongs to another counterparty"))
    if deal is not None:
        if counterparty is None:
            counterparty = cleaned["counterparty"] = deal.counterparty
        elif deal.counterparty_id != counterparty.pk:
            _add(errors, "deal", _("The deal belongs to another counterparty"))


def activity_validate(*, data: dict[str, Any], existing: Activity | None = None) -> dict[str, Any]:
    """The same checks as create/update, without saving (inline validation)."""
    return _clean(data, existing=existing)


def _schedule_reminder(activity: Activity) -> None:
    if activity.kind in (ActivityKind.TASK, ActivityKind.CALL) and activity.status == ActivityStatus.OPEN and activity.due_at:
        schedule_timer(
            kind=TASK_DUE_TIMER,
            due_at=activity.due_at,
            target=activity,
            payload={"activity": activity.pk},
            dedupe_key=f"{TASK_DUE_TIMER}:{activity.pk}",
        )
    else:
        cancel_timers(kind=TASK_DUE_TIMER, target=activity)


def _event_payload(activity: Activity) -> dict[str, Any]:
    return {
        "activity": activity.pk,
        "kind": activity.kind,
        "deal": activity.deal_id,
        "counterparty": activity.counterparty_id,
        "lead": activity.lead_id,
        "assignee": activity.responsible_id,
    }


@transaction.atomic
def activity_create(*, actor: User, data: dict[str, Any], checklist: Iterable[Any] = ()) -> Activity:
    """Create an activity of any kind; the author is the assignee unless `data["responsible"]` names another."""
    data = {"responsible": actor, "kind": ActivityKind.TASK, **data}
    errors: dict[str, list[str]] = {}
    texts = _clean_checklist(checklist, errors)
    try:
        cleaned = _clean(data, existing=None)
    except ValidationError as error:
        errors = {**error.errors, **errors}
    if errors:
        raise ValidationError(errors)
    activity = Activity.objects.create(author=actor, **cleaned)
    if activity.kind in (ActivityKind.NOTE, ActivityKind.EMAIL) and activity.due_at is None:
        # a note or a sent e-mail is something that happened: it is done when written
        activity.status, activity.done_at = ActivityStatus.DONE, activity.created_at
        activity.save(update_fields=["status", "done_at"])
    ChecklistItem.objects.bulk_create(ChecklistItem(activity=activity, text=text, position=index) for index, text in enumerate(texts))
    changes = audit.snapshot(activity)
    if texts:
        changes["checklist"] = texts
    audit.record(actor=actor, action=AuditAction.CREATE, target=activity, changes=changes)
    events.record_event("crm.activity.created", target=activity, payload=_event_payload(activity))
    _schedule_reminder(activity)
    return activity


def task_create(
    *,
    actor: User,
    title: str,
    assignee: User,
    due_at: dt.datetime | None,
    deal=None,
    counterparty=None,
    contact=None,
    lead=None,
    priority: str = "normal",
    body: str = "",
    checklist: Iterable[Any] = (),
) -> Activity:
    """A task for `assignee`, due at `due_at`, optionally linked to a deal, counterparty, contact or lead."""
    return activity_create(
        actor=actor,
        data={
            "kind": ActivityKind.TASK,
            "subject": title,
            "responsible": assignee,
            "due_at": due_at,
            "deal": deal,
            "counterparty": counterparty,
            "contact": contact,
            "lead": lead,
            "priority": priority,
            "body": body,
        },
        checklist=checklist,
    )


def _locked(activity: Activity | int) -> Activity:
    pk = activity.pk if isinstance(activity, Activity) else activity
    return Activity.objects.select_for_update().get(pk=pk)


@transaction.atomic
def activity_update(*, actor: User, activity: Activity | int, data: dict[str, Any]) -> Activity:
    activity = _locked(activity)
    before = audit.snapshot(activity)
    cleaned = _clean(data, existing=activity)
    for name, value in cleaned.items():
        setattr(activity, name, value)
    activity.save()
    changes = audit.diff(before, audit.snapshot(activity))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=activity, changes=changes)
        events.record_event("crm.activity.changed", target=activity, payload={**_event_payload(activity), "changes": changes})
        _schedule_reminder(activity)
    return activity


def _finish(*, actor: User, activity: Activity | int, status: str) -> Activity:
    activity = _locked(activity)
    if activity.status != ActivityStatus.OPEN:
        raise InvalidTransition(
            _("The activity is already “%(status)s”") % {"status": activity.get_status_display()},
            field="status",
            status=activity.status,
            wanted=status,
        )
    activity.status = status
    activity.done_at = timezone.now() if status == ActivityStatus.DONE else None
    activity.save(update_fields=["status", "done_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=activity, changes={"status": [ActivityStatus.OPEN.value, status]})
    cancel_timers(kind=TASK_DUE_TIMER, target=activity)
    return activity


@transaction.atomic
def task_close(*, actor: User, task: Activity | int) -> Activity:
    """Mark an open activity done; records "crm.task.closed" with {"task": id, "deal": deal id or None}."""
    task = _finish(actor=actor, activity=task, status=ActivityStatus.DONE)
    events.record_event("crm.task.closed", target=task, payload={"task": task.pk, "deal": task.deal_id})
    return task


@transaction.atomic
def activity_cancel(*, actor: User, activity: Activity | int) -> Activity:
    activity = _finish(actor=actor, activity=activity, status=ActivityStatus.CANCELLED)
    events.record_event("crm.activity.cancelled", target=activity, payload=_event_payload(activity))
    return activity


@transaction.atomic
def activity_reopen(*, actor: User, activity: Activity | int) -> Activity:
    activity = _locked(activity)
    if activity.status == ActivityStatus.OPEN:
        raise InvalidTransition(_("The activity is already open"), field="status", status=activity.status)
    old = activity.status
    activity.status, activity.done_at = ActivityStatus.OPEN, None
    activity.save(update_fields=["status", "done_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=activity, changes={"status": [old, ActivityStatus.OPEN.value]})
    events.record_event("crm.activity.reopened", target=activity, payload=_event_payload(activity))
    _schedule_reminder(activity)
    return activity


@transaction.atomic
def activity_delete(*, actor: User, activity: Activity | int) -> None:
    activity = _locked(activity)
    audit.record(actor=actor, action=AuditAction.DELETE, target=activity, changes=audit.snapshot(activity))
    events.record_event("crm.activity.deleted", target=activity, payload=_event_payload(activity))
    cancel_timers(kind=TASK_DUE_TIMER, target=activity)
    activity.delete()


# --- checklist ------------------------------------------------------------------------------------------------


@transaction.atomic
def checklist_item_add(*, actor: User, activity: Activity | int, text: str) -> ChecklistItem:
    activity = _locked(activity)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("Write what has to be done")]})
    if len(text) > SUBJECT_MAX:
        raise ValidationError({"text": [_("At most %(limit)d characters") % {"limit": SUBJECT_MAX}]})
    count = activity.checklist.count()
    if count >= CHECKLIST_MAX:
        raise ValidationError({"text": [_("At most %(limit)d checklist items") % {"limit": CHECKLIST_MAX}]})
    item = ChecklistItem.objects.create(activity=activity, text=text, position=count)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=activity, changes={"checklist": [None, text]}, message=f"+ {text}")
    return item


@transaction.atomic
def checklist_item_set_done(*, actor: User, item: ChecklistItem | int, done: bool) -> ChecklistItem:
    pk = item.pk if isinstance(item, ChecklistItem) else item
    item = ChecklistItem.objects.select_for_update().select_related("activity").get(pk=pk)
    if item.done != done:
        item.done = done
        item.save(update_fields=["done"])
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=item.activity,
            changes={f"checklist: {item.text}": [not done, done]},
        )
    return item


@transaction.atomic
def checklist_item_delete(*, actor: User, item: ChecklistItem | int) -> None:
    pk = item.pk if isinstance(item, ChecklistItem) else item
    item = ChecklistItem.objects.select_for_update().select_related("activity").get(pk=pk)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=item.activity, changes={"checklist": [item.text, None]}, message=f"− {item.text}")
    item.delete()


# --- reminders ------------------------------------------------------------------------------------------------


def task_due_fire(timer) -> None:
    """Timer handler: notify the assignee of a task that is still open when its due time comes."""
    activity = Activity.objects.select_related("responsible").filter(pk=(timer.payload or {}).get("activity")).first()
    if activity is None or activity.status != ActivityStatus.OPEN or activity.due_at is None:
        return
    if activity.due_at > timer.due_at:  # moved later since; its own timer will fire then
        return
    with translation.override(getattr(activity.responsible, "language", None) or None):
        notification_create(
            recipient=activity.responsible,
            title=_("Task due: %(subject)s") % {"subject": activity.subject},
            body=activity.body[:500],
            url=activity.get_absolute_url(),
            target=activity,
            kind="crm.task.due",
        )


# --- iCal feed ------------------------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_for(*, user: User) -> CalendarFeed:
    """The user's feed, created with a fresh secret token the first time."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_regenerate(*, actor: User) -> CalendarFeed:
    """A new secret token for the actor's feed: the old address stops working."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=actor)
    if not created:
        feed.token = new_feed_token()
        feed.save(update_fields=["token"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=feed, message=_("iCal feed address regenerated"))
    return feed
