"""Statuses and reminders on any record: the status catalogue, setting a status, reminders, the e-mail digest.

Rules:
- A record's status history is append-only. The current status on a date is the status with the latest
  `effective_from` on or before that date; among statuses of the same date, the one set last.
- A status of kind "remind" reminds the record's responsible user from its date for as long as it is current.
  Setting it schedules a timer ("status.remind", fired by the worker at the start of the date in the company's time
  zone) whose handler, `status_remind_fire`, notifies the responsible exactly once (`RecordStatus.notified_at`),
  and only if the status is still current. A status that is replaced before it fires has its timer cancelled.
- `reminder_digest_send` e-mails each user the list of their due reminders, at most once per user per day.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Model, OuterRef, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import audit, events
from .errors import Conflict, NotFound, ValidationError
from .models import Department, User
from .models.audit import AuditAction
from .models.statuses import RecordStatus, ReminderDigest, StatusDefinition, StatusKind
from .models.timers import OPEN_TIMER_STATUSES, Timer
from .notifications import notification_create
from .records import entity_of, has_responsible, model_for_entity, record_url, responsible_id_of
from .selectors import company_settings
from .timers import cancel_timers, schedule_timer

logger = logging.getLogger(__name__)

REMIND_TIMER = "status.remind"
DIGEST_TIMER = "reminders.digest"
DIGEST_DEDUPE_KEY = "reminders.digest"
NAME_MAX = 100
NOTE_MAX = 2000
ORDER_MAX = 1_000_000
COLOUR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_COLOUR = "#616e7c"


# --- time -----------------------------------------------------------------------------------------------------


def company_time_zone() -> ZoneInfo:
    try:
        return ZoneInfo(company_settings().time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def company_today(*, now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), company_time_zone()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in the company's time zone (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=company_time_zone())


# --- the catalogue --------------------------------------------------------------------------------------------


def status_definitions_for(entity: str, *, include_inactive: bool = False) -> QuerySet[StatusDefinition]:
    queryset = StatusDefinition.objects.filter(entity=entity)
    if not include_inactive:
        queryset = queryset.filter(active=True)
    return queryset.order_by("order", "name", "id")


def status_definition_list(*, entity: str = "") -> QuerySet[StatusDefinition]:
    queryset = StatusDefinition.objects.all()
    if entity:
        queryset = queryset.filter(entity=entity)
    return queryset.order_by("entity", "order", "name", "id")


def status_definition_get(definition_id) -> StatusDefinition:
    try:
        return StatusDefinition.objects.get(pk=int(definition_id))
    except (StatusDefinition.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Status {definition_id} not found")


def _clean_definition(data: dict[str, Any], *, existing: StatusDefinition | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "entity" in data or existing is None:
        entity = (data.get("entity") or "").strip().lower()
        if not entity:
            errors["entity"] = ["Record type is required, e.g. parties.counterparty"]
        else:
            try:
                model_for_entity(entity)
            except ValidationError as error:
                errors.update(error.errors)
        if existing is not None and entity != existing.entity and existing.record_statuses.exists():
            errors.setdefault("entity", []).append(
                "The record type of a status already set on records cannot change"
            )
        cleaned["entity"] = entity
    if "name" in data or existing is None:
        name = (data.get("name") or "").strip()
        if not name:
            errors["name"] = ["Name is required"]
        elif len(name) > NAME_MAX:
            errors["name"] = [f"At most {NAME_MAX} characters"]
        cleaned["name"] = name
    if "kind" in data or existing is None:
        kind = data.get("kind") or StatusKind.INFO
        if kind not in StatusKind.values:
            errors["kind"] = [f"Must be one of: {', '.join(StatusKind.values)}"]
        cleaned["kind"] = kind
    if "colour" in data or existing is None:
        colour = (data.get("colour") or DEFAULT_COLOUR).strip()
        if not COLOUR_PATTERN.match(colour):
            errors["colour"] = ["A colour is # and six hexadecimal digits, e.g. #2563eb"]
        cleaned["colour"] = colour.lower()
    if "order" in data or existing is None:
        order = data.get("order")
        if order in (None, ""):
            order = 0
        try:
            order = int(order)
        except (TypeError, ValueError):
            errors["order"] = ["Order is a whole number"]
        else:
            if not 0 <= order <= ORDER_MAX:
                errors["order"] = [f"Order is between 0 and {ORDER_MAX}"]
        cleaned["order"] = order
    if "active" in data:
        cleaned["active"] = bool(data["active"])
    if not errors and ("name" in cleaned or "entity" in cleaned):
        entity = cleaned.get("entity", existing.entity if existing else "")
        name = cleaned.get("name", existing.name if existing else "")
        clash = StatusDefinition.objects.filter(entity=entity, name__iexact=name)
        if existing is not None:
            clash = clash.exclude(pk=existing.pk)
        if name and clash.exists():
            errors.setdefault("name", []).append(f"This record type already has a status named '{name}'")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def status_definition_create(*, actor: User, data: dict[str, Any]) -> StatusDefinition:
    cleaned = _clean_definition(data, existing=None)
    definition = StatusDefinition.objects.create(**cleaned)
    audit.record(
        actor=actor, action=AuditAction.CREATE, target=definition, changes=audit.snapshot(definition)
    )
    return definition


@transaction.atomic
def status_definition_update(*, actor: User, definition_id: int, data: dict[str, Any]) -> StatusDefinition:
    definition = StatusDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"Status {definition_id} not found")
    before = audit.snapshot(definition)
    cleaned = _clean_definition(data, existing=definition)
    for name, value in cleaned.items():
        setattr(definition, name, value)
    definition.save()
    changes = audit.diff(before, audit.snapshot(definition))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=definition, changes=changes)
    return definition


@transaction.atomic
def status_definition_delete(*, actor: User, definition_id: int) -> None:
    definition = StatusDefinition.objects.select_for_update().filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"Status {definition_id} not found")
    used = definition.record_statuses.count()
    if used:
        raise Conflict(
            f"Status '{definition.name}' is set on {used} record(s) and stays in their history; deactivate it instead",
            code="status_in_use",
            used=used,
        )
    audit.record(
        actor=actor, action=AuditAction.DELETE, target=definition, changes=audit.snapshot(definition)
    )
    definition.delete()


# --- statuses of a record -------------------------------------------------------------------------------------


def _target_filter(record: Model) -> dict[str, Any]:
    return {
        "content_type": ContentType.objects.get_for_model(record, for_concrete_model=False),
        "object_id": str(record.pk),
    }


def record_status_history(record: Model) -> QuerySet[RecordStatus]:
    """Every status set on the record, newest effective date first (same date: the one set last first)."""
    return (
        RecordStatus.objects.filter(**_target_filter(record))
        .select_related("definition", "set_by")
        .order_by("-effective_from", "-set_at", "-id")
    )


def current_status(record: Model, *, on_date: dt.date | None = None) -> RecordStatus | None:
    """The record's status on `on_date` (default: today in the company's time zone), or None."""
    on_date = on_date or company_today()
    return record_status_history(record).filter(effective_from__lte=on_date).first()


def current_statuses_on(on_date: dt.date) -> QuerySet[RecordStatus]:
    """For every record that has a status on `on_date`, that current status (one row per record)."""
    latest = (
        RecordStatus.objects.filter(
            content_type=OuterRef("content_type"),
            object_id=OuterRef("object_id"),
            effective_from__lte=on_date,
        )
        .order_by("-effective_from", "-set_at", "-id")
        .values("pk")[:1]
    )
    return (
        RecordStatus.objects.filter(effective_from__lte=on_date)
        .annotate(current_pk=Subquery(latest))
        .filter(pk=F("current_pk"))
    )


def _parse_date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        errors[field] = ["This date is required"]
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = ["Enter a date as YYYY-MM-DD, e.g. 2026-03-31"]
        return None


def _ordering_key(record_status: RecordStatus) -> tuple:
    return (record_status.effective_from, record_status.set_at, record_status.pk)


@transaction.atomic
def record_status_set(
    *, actor: User, record: Model, definition_id: Any, effective_from: Any, note: str = ""
) -> RecordStatus:
    """Set a status on a record from a date. It replaces the record's status from that date on; history stays."""
    entity = entity_of(record)
    errors: dict[str, list[str]] = {}
    definition = None
    if definition_id in (None, ""):
        errors["definition_id"] = ["Choose a status"]
    else:
        try:
            definition = StatusDefinition.objects.get(pk=int(definition_id))
        except (StatusDefinition.DoesNotExist, ValueError, TypeError):
            errors["definition_id"] = [f"Status {definition_id} does not exist"]
        else:
            if definition.entity != entity:
                errors["definition_id"] = [f"Status '{definition.name}' is not a status of {entity}"]
            elif not definition.active:
                errors["definition_id"] = [f"Status '{definition.name}' is inactive"]
    day = _parse_date(effective_from, "effective_from", errors)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [f"At most {NOTE_MAX} characters (got {len(note)})"]
    if errors:
        raise ValidationError(errors)
    assert definition is not None and day is not None
    target = _target_filter(record)
    today = company_today()
    previous = current_status(record, on_date=max(day, today))
    record_status = RecordStatus.objects.create(
        **target, definition=definition, effective_from=day, note=note, set_by=actor, set_at=timezone.now()
    )
    # Reminders this status replaces for good (same date, or both already in effect) never fire.
    open_reminders = RecordStatus.objects.filter(
        **target, definition__kind=StatusKind.REMIND, notified_at__isnull=True, effective_from__lte=day
    ).exclude(pk=record_status.pk)
    for reminder in open_reminders:
        if _ordering_key(reminder) < _ordering_key(record_status) and day <= max(
            reminder.effective_from, today
        ):
            cancel_timers(kind=REMIND_TIMER, target=reminder)
    if definition.kind == StatusKind.REMIND:
        reminder_digest_ensure_scheduled()
        schedule_timer(
            kind=REMIND_TIMER,
            due_at=start_of_day(day),
            target=record_status,
            payload={"record_status_id": record_status.pk, "entity": entity, "object_id": str(record.pk)},
            dedupe_key=f"{REMIND_TIMER}:{record_status.pk}",
        )
    previous_name = previous.definition.name if previous else None
    audit.record(
        actor=actor,
        action=AuditAction.STATUS,
        target=record,
        changes={"status": [previous_name, definition.name], "effective_from": day, "note": note},
        message=f"{definition.name} from {day.isoformat()}" + (f": {note}" if note else ""),
    )
    events.record_event(
        "status.set",
        target=record,
        payload={
            "record_status_id": record_status.pk,
            "status_id": definition.pk,
            "status": definition.name,
            "kind": definition.kind,
            "effective_from": day.isoformat(),
            "note": note,
            "previous_status": previous_name,
            "set_by": actor.pk if actor else None,
        },
    )
    return record_status


# --- reminders ------------------------------------------------------------------------------------------------


def _record_of(record_status: RecordStatus) -> Model | None:
    model = record_status.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=record_status.object_id).first()


def status_remind_fire(timer) -> None:
    """Timer handler for "status.remind": notify the record's responsible once, if the status is still current.

    Runs inside the firing transaction. Idempotent: the conditional update of `notified_at` lets one call win.
    """
    record_status = timer.target
    if not isinstance(record_status, RecordStatus):
        return
    now = timer.fired_at or timezone.now()
    on_date = company_today(now=now)
    if on_date < record_status.effective_from:
        # Fired early (the company's time zone changed since): try again at the start of the date.
        schedule_timer(
            kind=REMIND_TIMER,
            due_at=start_of_day(record_status.effective_from),
            target=record_status,
            payload=timer.payload,
            dedupe_key=f"{REMIND_TIMER}:{record_status.pk}",
        )
        return
    record = _record_of(record_status)
    if record is None:
        return
    current = current_status(record, on_date=on_date)
    if current is None or current.pk != record_status.pk:
        return
    responsible_id = responsible_id_of(record)
    if responsible_id is None:
        return
    claimed = RecordStatus.objects.filter(pk=record_status.pk, notified_at__isnull=True).update(
        notified_at=now
    )
    if claimed != 1:
        return
    recipient = User.objects.get(pk=responsible_id)
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        title = _("Reminder: %(record)s — %(status)s") % {
            "record": record,
            "status": record_status.definition.name,
        }
        body = _("Since %(date)s.") % {"date": record_status.effective_from.isoformat()}
        if record_status.note:
            body = f"{body} {record_status.note}"
    notification_create(
        recipient=recipient,
        title=title,
        body=body,
        url=record_url(record),
        target=record,
        record_status=record_status,
    )


@dataclass(frozen=True)
class Reminder:
    """A record whose current status is a due reminder."""

    record: Model
    status: RecordStatus
    responsible: User
    url: str
    record_type: str

    @property
    def since(self) -> dt.date:
        return self.status.effective_from


def due_reminders(*, on_date: dt.date, responsible_ids: set[int] | None = None) -> list[Reminder]:
    """Records whose current status on `on_date` is a reminder, oldest reminder first; limited to records whose
    responsible is in `responsible_ids` when given. Records without a responsible user remind no one."""
    statuses = list(
        current_statuses_on(on_date)
        .filter(definition__kind=StatusKind.REMIND)
        .select_related("definition", "content_type", "set_by")
        .order_by("effective_from", "set_at", "id")
    )
    by_type: dict[int, list[RecordStatus]] = defaultdict(list)
    for record_status in statuses:
        by_type[record_status.content_type_id].append(record_status)
    records: dict[tuple[int, str], Model] = {}
    for content_type_id, items in by_type.items():
        model = items[0].content_type.model_class()
        if model is None or not has_responsible(model):
            continue
        queryset = model._default_manager.filter(pk__in=[item.object_id for item in items]).select_related(
            "responsible"
        )
        if responsible_ids is not None:
            queryset = queryset.filter(responsible_id__in=responsible_ids)
        for record in queryset:
            records[(content_type_id, str(record.pk))] = record
    result = []
    for record_status in statuses:
        record = records.get((record_status.content_type_id, record_status.object_id))
        if record is None:
            continue
        result.append(
            Reminder(
                record=record,
                status=record_status,
                responsible=record.responsible,
                url=record_url(record),
                record_type=str(record._meta.verbose_name).capitalize(),
            )
        )
    return result


def reminders_for_user(user: User, *, on_date: dt.date | None = None) -> list[Reminder]:
    """My reminders: my records whose current status is a due reminder, oldest first."""
    return due_reminders(on_date=on_date or company_today(), responsible_ids={user.pk})


def headed_department_user_ids(user: User) -> set[int]:
    """Members of the departments `user` heads (and of the departments below them); empty for a non-head."""
    department_ids: set[int] = set()
    for headed in Department.objects.filter(head=user):
        department_ids |= headed.descendant_ids()
    if not department_ids:
        return set()
    return set(User.objects.filter(department_id__in=department_ids).values_list("id", flat=True))


def reminders_for_department(user: User, *, on_date: dt.date | None = None) -> list[Reminder]:
    """The due reminders of every member of the departments the user heads, oldest first."""
    user_ids = headed_department_user_ids(user)
    if not user_ids:
        return []
    return due_reminders(on_date=on_date or company_today(), responsible_ids=user_ids)


def _absolute(url: str) -> str:
    base = getattr(settings, "FABRIKA_BASE_URL", "").rstrip("/")
    return f"{base}{url}" if url and base else url


def reminder_digest_send(*, on_date: dt.date) -> int:
    """E-mail every active user with an address the list of their reminders due on `on_date`, at most once per user
    and day (a ReminderDigest row, written in the same transaction as the sending). Returns how many were sent."""
    by_user: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in due_reminders(on_date=on_date):
        by_user[reminder.responsible.pk].append(reminder)
    already = set(
        ReminderDigest.objects.filter(date=on_date, user_id__in=by_user).values_list("user_id", flat=True)
    )
    sent = 0
    for user_id in sorted(by_user):
        reminders = by_user[user_id]
        user = reminders[0].responsible
        if user_id in already or not user.is_active or not user.email:
            continue
        try:
            with transaction.atomic():
                ReminderDigest.objects.create(
                    user=user, date=on_date, reminder_count=len(reminders), sent_at=timezone.now()
                )
                with translation.override(user.language or settings.LANGUAGE_CODE):
                    context = {
                        "user": user,
                        "date": on_date,
                        "rows": [
                            {"reminder": reminder, "link": _absolute(reminder.url)} for reminder in reminders
                        ],
                    }
                    subject = _("Your reminders for %(date)s: %(count)d") % {
                        "date": on_date.isoformat(),
                        "count": len(reminders),
                    }
                    body = render_to_string("core/statuses/email/reminder_digest.txt", context)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except IntegrityError:
            continue  # another run sent this user's digest for the day first
        except Exception:  # noqa: BLE001 — one mailbox failing must not stop the others; retried on the next run
            logger.exception("Reminder digest to user %s for %s failed", user_id, on_date)
            continue
        sent += 1
    return sent


# --- the daily digest timer -----------------------------------------------------------------------------------


def digest_hour() -> int | None:
    """The hour (company time) the worker sends the daily digest: settings.FABRIKA_REMINDER_DIGEST_HOUR (default 8);
    None or "" turns the automatic digest off (run `fabrika send_reminder_digest` from cron instead)."""
    hour = getattr(settings, "FABRIKA_REMINDER_DIGEST_HOUR", 8)
    if hour is None or hour == "":
        return None
    return min(max(int(hour), 0), 23)


def next_digest_at(*, now: dt.datetime | None = None) -> dt.datetime:
    """The next digest time strictly after `now`: today at the digest hour, or tomorrow's when that has passed."""
    now = now or timezone.now()
    hour = digest_hour() or 0
    local = timezone.localtime(now, company_time_zone())
    candidate = dt.datetime.combine(local.date(), dt.time(hour), tzinfo=company_time_zone())
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), dt.time(hour), tzinfo=company_time_zone()
        )
    return candidate


def reminder_digest_ensure_scheduled(*, now: dt.datetime | None = None) -> Timer | None:
    """Make sure one digest timer is waiting (the worker then sends the digest every day by itself); None when the
    automatic digest is off."""
    if digest_hour() is None:
        return None
    existing = Timer.objects.filter(dedupe_key=DIGEST_DEDUPE_KEY, status__in=OPEN_TIMER_STATUSES).first()
    if existing is not None:
        return existing
    return schedule_timer(kind=DIGEST_TIMER, due_at=next_digest_at(now=now), dedupe_key=DIGEST_DEDUPE_KEY)


def reminder_digest_fire(timer) -> None:
    """Timer handler for "reminders.digest": send today's digest, then schedule the next one.

    "Today" is the company's date when it fires: a worker that was down for days sends one digest of what is due
    now (reminders are current state, so nothing is lost), at most once per user and day."""
    if digest_hour() is None:
        return
    now = timer.fired_at or timezone.now()
    # The firing timer is already marked done, so this schedules a fresh one.
    schedule_timer(kind=DIGEST_TIMER, due_at=next_digest_at(now=now), dedupe_key=DIGEST_DEDUPE_KEY)
    reminder_digest_send(on_date=company_today(now=now))
