"""Pipelines, stages and deals: every write. Plain keyword arguments, one transaction, an audit row per change.

Moving a deal closes its current stage-history row and opens a new one; a stage whose required fields are empty
refuses the deal with a message naming them. Entering a stage runs its automation: a task for a user or a role
(through fabrika.crm.services_activities.task_create), a reminder timer for the responsible after N days in the
stage; closing the stage task may move the deal to the next stage (the consumer in registrations_pipelines).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.core import audit, custom_fields, numbering
from fabrika.core.audit import AuditAction
from fabrika.core.errors import Conflict, DomainError, NotFound, ValidationError
from fabrika.core.events import record_event
from fabrika.core.models import Currency, User
from fabrika.core.notifications import notification_create
from fabrika.core.timers import cancel_timers, schedule_timer
from fabrika.parties.models import Contact, Counterparty

from .models.pipelines import (
    Deal,
    DealStageHistory,
    Pipeline,
    PipelinePurpose,
    Stage,
    StageKind,
    StageOrderEvent,
)

DEAL_ENTITY = "crm.deal"
DEAL_NUMBER_TYPE = "deal"
REMIND_TIMER = "crm.deal_stage_remind"
MAX_AMOUNT = decimal.Decimal("9999999999999.99")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

# Standard deal fields a stage may require, with the label shown in the refusal.
STANDARD_REQUIRED_FIELDS = ("title", "counterparty", "contact", "amount", "currency", "expected_close", "responsible")
STAGE_FIELDS = (
    "name",
    "kind",
    "probability",
    "color",
    "required_fields",
    "task_on_enter",
    "task_title",
    "task_assignee",
    "task_role",
    "task_due_hours",
    "advance_on_task_close",
    "remind_after_days",
    "order_event",
)


class RequiredFieldsMissing(DomainError):
    status = 409
    code = "required_fields_missing"


def standard_field_label(name: str) -> str:
    return str(Deal._meta.get_field(name).verbose_name)


def required_field_choices(pipeline: Pipeline) -> list[tuple[str, str]]:
    """(key, label) of every field a stage of this pipeline may require: standard ones, then custom ones."""
    choices = [(name, standard_field_label(name).capitalize()) for name in STANDARD_REQUIRED_FIELDS]
    for definition in custom_fields.definitions_for(DEAL_ENTITY, context=pipeline.custom_context):
        choices.append((f"custom.{definition.code}", definition.label))
    return choices


# --- pipelines ------------------------------------------------------------------------------------------------


def _clean_pipeline(data: dict[str, Any], *, existing: Pipeline | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(data.get("name", existing.name if existing else "") or "").strip()
    if not name:
        errors["name"] = [_("Name is required")]
    elif len(name) > 150:
        errors["name"] = [_("At most %(limit)d characters") % {"limit": 150}]
    elif Pipeline.objects.filter(name__iexact=name).exclude(pk=existing.pk if existing else None).exists():
        errors["name"] = [_("A pipeline with this name already exists")]
    cleaned["name"] = name
    purpose = data.get("purpose", existing.purpose if existing else PipelinePurpose.SALES)
    if purpose not in PipelinePurpose.values:
        errors["purpose"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(PipelinePurpose.values)}]
    cleaned["purpose"] = purpose
    cleaned["description"] = str(data.get("description", existing.description if existing else "") or "")
    is_active = data.get("is_active", existing.is_active if existing else True)
    if not isinstance(is_active, bool):
        errors["is_active"] = [_("Enter true or false")]
    cleaned["is_active"] = is_active
    order = data.get("order", existing.order if existing else None)
    if order is not None and (isinstance(order, bool) or not isinstance(order, int) or order < 0):
        errors["order"] = [_("Enter a whole number, 0 or more")]
    cleaned["order"] = order
    if errors:
        raise ValidationError(errors)
    return cleaned


def pipeline_validate(*, data: dict[str, Any], existing: Pipeline | None = None) -> dict[str, Any]:
    return _clean_pipeline(data, existing=existing)


@transaction.atomic
def pipeline_create(*, actor: User, data: dict[str, Any], stages: list[dict[str, Any]] | None = None) -> Pipeline:
    """A pipeline; `stages` (each a stage's data) are added in the order given."""
    cleaned = _clean_pipeline(data, existing=None)
    if cleaned["order"] is None:
        cleaned["order"] = (Pipeline.objects.aggregate(top=Max("order"))["top"] or 0) + 1
    pipeline = Pipeline.objects.create(**cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=pipeline, changes=audit.snapshot(pipeline))
    for stage_data in stages or []:
        stage_create(actor=actor, pipeline=pipeline, data=stage_data)
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: User, pipeline: Pipeline, data: dict[str, Any]) -> Pipeline:
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    before = audit.snapshot(pipeline)
    cleaned = _clean_pipeline(data, existing=pipeline)
    if cleaned["order"] is None:
        cleaned["order"] = pipeline.order
    for name, value in cleaned.items():
        setattr(pipeline, name, value)
    pipeline.save()
    changes = audit.diff(before, audit.snapshot(pipeline))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=pipeline, changes=changes)
    return pipeline


@transaction.atomic
def pipeline_delete(*, actor: User, pipeline: Pipeline) -> None:
    if pipeline.deals.exists():
        raise Conflict(_("The pipeline has deals: move or delete them first, or deactivate the pipeline"), field="pipeline")
    audit.record(actor=actor, action=AuditAction.DELETE, target=pipeline, changes=audit.snapshot(pipeline))
    DealStageHistory.objects.filter(stage__pipeline=pipeline).delete()
    pipeline.delete()


# --- stages ---------------------------------------------------------------------------------------------------


def _positive_int(errors, cleaned, name: str, value: Any, *, maximum: int | None = None) -> None:
    if value in (None, ""):
        cleaned[name] = None
        return
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum is not None and value > maximum):
        errors[name] = [_("Enter a whole number from 1 to %(maximum)d") % {"maximum": maximum or 100000}]
        return
    cleaned[name] = value


def _clean_stage(pipeline: Pipeline, data: dict[str, Any], *, existing: Stage | None) -> dict[str, Any]:
    unknown = sorted(set(data) - set(STAGE_FIELDS) - {"order"})
    errors: dict[str, list[str]] = {name: [_("Unknown field")] for name in unknown}
    current = {name: getattr(existing, name) for name in STAGE_FIELDS} if existing else {}
    merged = {**current, **data}
    cleaned: dict[str, Any] = {}
    name = str(merged.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Name is required")]
    elif len(name) > 150:
        errors["name"] = [_("At most %(limit)d characters") % {"limit": 150}]
    elif pipeline.stages.filter(name__iexact=name).exclude(pk=existing.pk if existing else None).exists():
        errors["name"] = [_("This pipeline already has a stage with this name")]
    cleaned["name"] = name
    kind = merged.get("kind") or StageKind.OPEN
    if kind not in StageKind.values:
        errors["kind"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(StageKind.values)}]
    cleaned["kind"] = kind
    probability = merged.get("probability")
    if probability in (None, ""):
        probability = 100 if kind == StageKind.WON else 0
    if isinstance(probability, str) and probability.strip().isdigit():
        probability = int(probability.strip())
    if isinstance(probability, bool) or not isinstance(probability, int) or not 0 <= probability <= 100:
        errors["probability"] = [_("Enter a whole number from 0 to 100")]
    cleaned["probability"] = probability
    color = str(merged.get("color") or "#6c757d").strip()
    if not COLOR_RE.match(color):
        errors["color"] = [_("Enter a colour as #RRGGBB")]
    cleaned["color"] = color.lower()
    required = merged.get("required_fields") or []
    if not isinstance(required, list | tuple) or not all(isinstance(item, str) for item in required):
        errors["required_fields"] = [_("Must be a list of field names")]
    else:
        allowed = dict(required_field_choices(pipeline))
        bad = [item for item in required if item not in allowed]
        if bad:
            errors["required_fields"] = [_("Unknown deal fields: %(fields)s") % {"fields": ", ".join(bad)}]
        cleaned["required_fields"] = list(dict.fromkeys(required))
    for flag in ("task_on_enter", "advance_on_task_close"):
        value = bool(merged.get(flag) or False) if merged.get(flag) in (None, "", True, False) else merged.get(flag)
        if not isinstance(value, bool):
            errors[flag] = [_("Enter true or false")]
        cleaned[flag] = value
    cleaned["task_title"] = str(merged.get("task_title") or "").strip()[:200]
    assignee = merged.get("task_assignee")
    if assignee not in (None, "") and not isinstance(assignee, User):
        assignee = User.objects.filter(pk=assignee, is_active=True).first() if str(assignee).isdigit() else None
        if assignee is None:
            errors["task_assignee"] = [_("No active user with this id")]
    cleaned["task_assignee"] = assignee or None
    role = merged.get("task_role")
    if role not in (None, "") and not isinstance(role, Group):
        role = Group.objects.filter(pk=role).first() if str(role).isdigit() else None
        if role is None:
            errors["task_role"] = [_("No role with this id")]
    cleaned["task_role"] = role or None
    _positive_int(errors, cleaned, "task_due_hours", merged.get("task_due_hours"), maximum=100000)
    _positive_int(errors, cleaned, "remind_after_days", merged.get("remind_after_days"), maximum=3650)
    order_event = merged.get("order_event") or ""
    if order_event not in StageOrderEvent.values:
        errors["order_event"] = [_("Choose one of: %(choices)s") % {"choices": ", ".join(v for v in StageOrderEvent.values if v)}]
    elif order_event and pipeline.stages.filter(order_event=order_event).exclude(pk=existing.pk if existing else None).exists():
        errors["order_event"] = [_("Another stage of this pipeline already follows this order event")]
    cleaned["order_event"] = order_event
    if cleaned.get("task_on_enter"):
        if not cleaned["task_title"]:
            errors.setdefault("task_title", []).append(_("A stage task needs a title"))
        if cleaned.get("task_assignee") is None and cleaned.get("task_role") is None:
            errors.setdefault("task_assignee", []).append(_("Choose the user or the role the task is for"))
        if cleaned.get("task_assignee") is not None and cleaned.get("task_role") is not None:
            errors.setdefault("task_assignee", []).append(_("Choose a user or a role, not both"))
        if cleaned.get("task_due_hours") is None:
            errors.setdefault("task_due_hours", []).append(_("Enter in how many hours the task is due"))
    elif cleaned.get("advance_on_task_close"):
        errors.setdefault("advance_on_task_close", []).append(_("Only a stage that creates a task can move deals when it is closed"))
    if existing is not None and kind != existing.kind and existing.kind == StageKind.OPEN and kind != StageKind.OPEN:
        pass  # an open stage may become a closing one; deals in it keep their closed_at empty until they move
    if errors:
        raise ValidationError(errors)
    return cleaned


def stage_validate(*, pipeline: Pipeline, data: dict[str, Any], existing: Stage | None = None) -> dict[str, Any]:
    return _clean_stage(pipeline, data, existing=existing)


@transaction.atomic
def stage_create(*, actor: User, pipeline: Pipeline, data: dict[str, Any]) -> Stage:
    """A stage at the end of the pipeline (or at `data["order"]`)."""
    cleaned = _clean_stage(pipeline, data, existing=None)
    order = data.get("order")
    if order is None:
        order = (pipeline.stages.aggregate(top=Max("order"))["top"] or 0) + 1
    stage = Stage.objects.create(pipeline=pipeline, order=order, **cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=stage, changes=audit.snapshot(stage))
    return stage


@transaction.atomic
def stage_update(*, actor: User, stage: Stage, data: dict[str, Any]) -> Stage:
    stage = Stage.objects.select_for_update().select_related("pipeline").get(pk=stage.pk)
    before = audit.snapshot(stage)
    cleaned = _clean_stage(stage.pipeline, {k: v for k, v in data.items() if k != "order"}, existing=stage)
    for name, value in cleaned.items():
        setattr(stage, name, value)
    stage.save()
    changes = audit.diff(before, audit.snapshot(stage))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=stage, changes=changes)
    return stage


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    if stage.deals.exists():
        raise Conflict(_("Deals are in this stage: move them to another stage first"), field="stage")
    if stage.history.exists():
        raise Conflict(_("Deals have passed this stage: its history keeps it; rename it instead"), field="stage")
    audit.record(actor=actor, action=AuditAction.DELETE, target=stage, changes=audit.snapshot(stage))
    stage.delete()


@transaction.atomic
def stage_reorder(*, actor: User, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in the order of `stage_ids` (every stage of the pipeline, each once)."""
    stages = {stage.pk: stage for stage in Stage.objects.select_for_update().filter(pipeline=pipeline)}
    if sorted(stage_ids) != sorted(stages) or len(set(stage_ids)) != len(stage_ids):
        raise ValidationError({"stage_ids": [_("List every stage of the pipeline exactly once")]})
    ordered = []
    for position, stage_id in enumerate(stage_ids, start=1):
        stage = stages[stage_id]
        stage.order = position
        ordered.append(stage)
    Stage.objects.bulk_update(ordered, ["order"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=pipeline, changes={"stage_order": stage_ids})
    return ordered


def next_stage(stage: Stage) -> Stage | None:
    """The open stage after this one, or the first won stage when no open one follows."""
    later = list(Stage.objects.filter(pipeline_id=stage.pipeline_id, order__gt=stage.order).order_by("order", "id"))
    return next((s for s in later if s.kind == StageKind.OPEN), None) or next((s for s in later if s.kind == StageKind.WON), None)


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return pipeline.stages.filter(kind=StageKind.OPEN).order_by("order", "id").first()


# --- deals ----------------------------------------------------------------------------------------------------


def _missing_required(deal: Deal, stage: Stage) -> list[str]:
    """Labels of the fields `stage` requires that `deal` has empty."""
    missing: list[str] = []
    definitions = {d.code: d for d in custom_fields.definitions_for(DEAL_ENTITY, context=deal.pipeline.custom_context)}
    for key in stage.required_fields or []:
        if key.startswith("custom."):
            code = key.split(".", 1)[1]
            value = (deal.custom or {}).get(code)
            if value in (None, "", [], {}):
                definition = definitions.get(code)
                missing.append(definition.label if definition else code)
        elif key in STANDARD_REQUIRED_FIELDS:
            value = getattr(deal, f"{key}_id", None) if key in ("counterparty", "contact", "currency", "responsible") else getattr(deal, key)
            if value in (None, ""):
                missing.append(standard_field_label(key))
    return missing


def _decimal_amount(errors, value: Any) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        errors["amount"] = [_("Enter a number, e.g. 1500.00")]
        return None
    if isinstance(value, bool) or not amount.is_finite():
        errors["amount"] = [_("Enter a number, e.g. 1500.00")]
        return None
    if amount < 0:
        errors["amount"] = [_("The amount cannot be negative")]
        return None
    if amount.normalize().as_tuple().exponent < -2:  # type: ignore[operator]
        errors["amount"] = [_("At most 2 decimal places")]
        return None
    if amount > MAX_AMOUNT:
        errors["amount"] = [_("At most 13 digits before the decimal point")]
        return None
    return amount.quantize(decimal.Decimal("0.01"))


def _instance(errors, name: str, value: Any, model, **conditions):
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    if isinstance(value, bool) or not str(value).strip().isdigit():
        errors[name] = [_("Enter the id of a %(name)s") % {"name": model._meta.verbose_name}]
        return None
    found = model._default_manager.filter(pk=int(value), **conditions).first()
    if found is None:
        errors[name] = [_("No %(name)s with id %(id)s") % {"name": model._meta.verbose_name, "id": value}]
    return found


def _clean_deal(data: dict[str, Any], *, pipeline: Pipeline, existing: Deal | None, actor: User) -> dict[str, Any]:
    """Validated standard values (model instances, Decimal, date) and the whole `custom` object."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    get = lambda name: data[name] if name in data else (getattr(existing, name) if existing else None)  # noqa: E731
    title = str(get("title") or "").strip()
    if not title:
        errors["title"] = [_("Title is required")]
    elif len(title) > 300:
        errors["title"] = [_("At most %(limit)d characters") % {"limit": 300}]
    cleaned["title"] = title
    counterparty = _instance(errors, "counterparty", get("counterparty"), Counterparty)
    if counterparty is None and "counterparty" not in errors:
        errors["counterparty"] = [_("Choose the counterparty")]
    cleaned["counterparty"] = counterparty
    contact = _instance(errors, "contact", get("contact"), Contact)
    if contact is not None and counterparty is not None and getattr(contact, "counterparty_id", counterparty.pk) != counterparty.pk:
        errors["contact"] = [_("The contact belongs to another counterparty")]
    cleaned["contact"] = contact
    cleaned["amount"] = _decimal_amount(errors, get("amount"))
    currency = get("currency")
    if isinstance(currency, str) and currency.strip() and not currency.strip().isdigit():
        found = Currency.objects.filter(code=currency.strip().upper()).first()
        if found is None:
            errors["currency"] = [_("No currency with code %(code)s") % {"code": currency.strip()}]
        cleaned["currency"] = found
    else:
        cleaned["currency"] = _instance(errors, "currency", currency, Currency)
    expected = get("expected_close")
    if isinstance(expected, str):
        try:
            expected = dt.date.fromisoformat(expected.strip()) if expected.strip() else None
        except ValueError:
            errors["expected_close"] = [_("Enter a date as YYYY-MM-DD")]
            expected = None
    if expected is not None and (not isinstance(expected, dt.date) or isinstance(expected, dt.datetime)):
        errors["expected_close"] = [_("Enter a date as YYYY-MM-DD")]
        expected = None
    cleaned["expected_close"] = expected
    responsible = _instance(errors, "responsible", get("responsible"), User, is_active=True)
    cleaned["responsible"] = responsible or (existing.responsible if existing else actor)
    for reason in ("won_reason", "lost_reason"):
        text = str(get(reason) or "").strip()
        if len(text) > 300:
            errors[reason] = [_("At most %(limit)d characters") % {"limit": 300}]
        cleaned[reason] = text
    custom_input = data.get("custom")
    if custom_input is None:
        custom_input = {}
    try:
        cleaned["custom"] = custom_fields.clean_custom_values(
            DEAL_ENTITY, custom_input, existing=existing.custom if existing else None, context=pipeline.custom_context
        )
    except ValidationError as error:
        errors.update(error.field_errors())
    if errors:
        raise ValidationError(errors)
    return cleaned


def deal_validate(*, pipeline: Pipeline, data: dict[str, Any], actor: User, existing: Deal | None = None) -> dict[str, Any]:
    """The deal's checks without saving (inline validation)."""
    return _clean_deal(data, pipeline=pipeline, existing=existing, actor=actor)


def _enter_stage(*, actor: User | None, deal: Deal, stage: Stage, from_stage: Stage | None, now: dt.datetime, reason: str = "") -> DealStageHistory:
    """Open the history row of `stage` and run the stage's automation (task, reminder)."""
    history = DealStageHistory.objects.create(
        deal=deal, stage=stage, from_stage=from_stage, entered_at=now, actor=actor if getattr(actor, "pk", None) else None, reason=reason[:300]
    )
    cancel_timers(kind=REMIND_TIMER, target=deal)
    if stage.kind == StageKind.OPEN and stage.remind_after_days:
        schedule_timer(
            kind=REMIND_TIMER,
            due_at=now + dt.timedelta(days=stage.remind_after_days),
            target=deal,
            payload={"deal_id": deal.pk, "stage_id": stage.pk, "history_id": history.pk},
            dedupe_key=f"{REMIND_TIMER}:{deal.pk}",
        )
    if stage.task_on_enter:
        history.stage_task_id = _create_stage_task(actor=actor, deal=deal, stage=stage, now=now)
        history.save(update_fields=["stage_task_id"])
    return history


def _stage_task_assignee(stage: Stage, deal: Deal) -> User:
    if stage.task_assignee is not None and stage.task_assignee.is_active:
        return stage.task_assignee
    if stage.task_role is not None:
        members = stage.task_role.user_set.filter(is_active=True).order_by("id")
        # The deal's responsible when they hold the role, otherwise the first active member.
        if members.filter(pk=deal.responsible_id).exists():
            return deal.responsible
        member = members.first()
        if member is not None:
            return member
    return deal.responsible


def _create_stage_task(*, actor: User | None, deal: Deal, stage: Stage, now: dt.datetime) -> int:
    from .services_activities import task_create

    task = task_create(
        actor=actor if getattr(actor, "pk", None) else deal.responsible,
        title=stage.task_title or stage.name,
        assignee=_stage_task_assignee(stage, deal),
        due_at=now + dt.timedelta(hours=stage.task_due_hours or 24),
        deal=deal,
        counterparty=deal.counterparty,
    )
    return task.pk


@transaction.atomic
def deal_create(
    *,
    actor: User,
    pipeline: Pipeline,
    title: str,
    counterparty: Counterparty | int,
    contact: Contact | int | None = None,
    amount: decimal.Decimal | str | None = None,
    currency: Currency | str | int | None = None,
    expected_close: dt.date | str | None = None,
    responsible: User | int | None = None,
    stage: Stage | None = None,
    custom: dict[str, Any] | None = None,
) -> Deal:
    """A deal in `stage` (default: the pipeline's first open stage), numbered, with its first history row."""
    if stage is None:
        stage = first_open_stage(pipeline)
        if stage is None:
            raise ValidationError({"stage": [_("The pipeline has no open stage to start a deal in")]})
    else:
        stage = Stage.objects.get(pk=stage.pk)
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": [_("The stage belongs to another pipeline")]})
    if not pipeline.is_active:
        raise ValidationError({"pipeline": [_("The pipeline is inactive")]})
    data = {
        "title": title,
        "counterparty": counterparty,
        "contact": contact,
        "amount": amount,
        "currency": currency,
        "expected_close": expected_close,
        "responsible": responsible,
        "custom": custom or {},
    }
    cleaned = _clean_deal(data, pipeline=pipeline, existing=None, actor=actor)
    now = timezone.now()
    deal = Deal(pipeline=pipeline, stage=stage, stage_entered_at=now, created_by=actor, **cleaned)
    missing = _missing_required(deal, stage)
    if missing:
        raise RequiredFieldsMissing(
            _("To enter the stage “%(stage)s” fill in: %(fields)s") % {"stage": stage.name, "fields": ", ".join(missing)},
            field="stage",
            missing=missing,
        )
    if stage.is_closed:
        deal.closed_at = now
    deal.number = numbering.next_number(DEAL_NUMBER_TYPE)
    deal.save(force_insert=True)
    _enter_stage(actor=actor, deal=deal, stage=stage, from_stage=None, now=now)
    audit.record(actor=actor, action=AuditAction.CREATE, target=deal, changes=audit.snapshot(deal))
    record_event("crm.deal.created", target=deal, payload=_event_payload(deal))
    return deal


def _event_payload(deal: Deal) -> dict[str, Any]:
    return {
        "deal_id": deal.pk,
        "number": deal.number,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "responsible_id": deal.responsible_id,
        "amount": str(deal.amount) if deal.amount is not None else None,
    }


def _locked_deal(deal: Deal | int) -> Deal:
    pk = deal.pk if isinstance(deal, Deal) else deal
    try:
        return Deal.objects.select_for_update().select_related("pipeline", "stage").get(pk=pk)
    except Deal.DoesNotExist:
        raise NotFound(_("Deal %(id)s not found") % {"id": pk})


@transaction.atomic
def deal_update(*, actor: User, deal: Deal, data: dict[str, Any]) -> Deal:
    """Change the deal's fields (not its stage: deal_move). The current stage's required fields stay filled."""
    unknown = sorted(set(data) - {"title", "counterparty", "contact", "amount", "currency", "expected_close", "responsible", "won_reason", "lost_reason", "custom"})
    if unknown:
        raise ValidationError({name: [_("Unknown field")] for name in unknown})
    deal = _locked_deal(deal)
    before = audit.snapshot(deal)
    cleaned = _clean_deal(data, pipeline=deal.pipeline, existing=deal, actor=actor)
    for name, value in cleaned.items():
        setattr(deal, name, value)
    missing = _missing_required(deal, deal.stage)
    if missing:
        raise RequiredFieldsMissing(
            _("The stage “%(stage)s” requires: %(fields)s") % {"stage": deal.stage.name, "fields": ", ".join(missing)},
            field="stage",
            missing=missing,
        )
    deal.save()
    changes = audit.diff(before, audit.snapshot(deal))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=deal, changes=changes)
        record_event("crm.deal.updated", target=deal, payload={**_event_payload(deal), "changed": sorted(changes)})
    return deal


@transaction.atomic
def deal_move(*, actor: User | None, deal: Deal, stage: Stage, reason: str = "") -> Deal:
    """Move the deal into `stage` of its pipeline. Refused when the stage's required fields are empty (naming
    them) and, for a lost stage, without a reason. Entering a won/lost stage closes the deal; leaving it reopens."""
    deal = _locked_deal(deal)
    stage = Stage.objects.select_related("task_assignee", "task_role").get(pk=stage.pk)  # the stage's rules as stored now
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationError({"stage": [_("The stage belongs to another pipeline")]})
    if stage.pk == deal.stage_id:
        return deal
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationError({"reason": [_("At most %(limit)d characters") % {"limit": 300}]})
    if stage.kind == StageKind.LOST and not reason and not deal.lost_reason:
        raise ValidationError({"reason": [_("Say why the deal was lost")]})
    missing = _missing_required(deal, stage)
    if missing:
        raise RequiredFieldsMissing(
            _("To enter the stage “%(stage)s” fill in: %(fields)s") % {"stage": stage.name, "fields": ", ".join(missing)},
            field="stage",
            missing=missing,
            stage_id=stage.pk,
        )
    now = timezone.now()
    from_stage = deal.stage
    DealStageHistory.objects.filter(deal=deal, left_at__isnull=True).update(left_at=now)
    deal.stage = stage
    deal.stage_entered_at = now
    if stage.kind == StageKind.WON:
        deal.closed_at = now
        deal.won_reason = reason or deal.won_reason
        deal.lost_reason = ""
    elif stage.kind == StageKind.LOST:
        deal.closed_at = now
        deal.lost_reason = reason or deal.lost_reason
        deal.won_reason = ""
    else:
        deal.closed_at = None
    deal.save(update_fields=["stage", "stage_entered_at", "closed_at", "won_reason", "lost_reason", "updated_at"])
    _enter_stage(actor=actor, deal=deal, stage=stage, from_stage=from_stage, now=now, reason=reason)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=deal,
        changes={"stage": [from_stage.name, stage.name]},
        message=reason,
        actor_name=None if getattr(actor, "pk", None) else _("automation"),
    )
    record_event(
        "crm.deal.stage_changed",
        target=deal,
        payload={**_event_payload(deal), "from_stage_id": from_stage.pk, "stage_kind": stage.kind, "reason": reason},
    )
    if stage.kind != StageKind.OPEN:
        record_event(f"crm.deal.{stage.kind}", target=deal, payload={**_event_payload(deal), "reason": reason})
    return deal


@transaction.atomic
def deal_delete(*, actor: User, deal: Deal) -> None:
    deal = _locked_deal(deal)
    cancel_timers(kind=REMIND_TIMER, target=deal)
    audit.record(actor=actor, action=AuditAction.DELETE, target=deal, changes=audit.snapshot(deal))
    record_event("crm.deal.deleted", target=deal, payload=_event_payload(deal))
    deal.delete()


# --- automation reactions (called by the timer handler and the event consumer) --------------------------------


def deal_stage_remind(*, deal_id: int, stage_id: int) -> bool:
    """Notify the responsible that the deal has stayed in the stage too long; False when it has moved on."""
    deal = Deal.objects.select_related("stage", "responsible").filter(pk=deal_id).first()
    if deal is None or deal.stage_id != stage_id or deal.closed_at is not None:
        return False
    days = (timezone.now() - deal.stage_entered_at).days
    notification_create(
        recipient=deal.responsible,
        title=_("Deal %(number)s has been in “%(stage)s” for %(days)d days") % {"number": deal.number, "stage": deal.stage.name, "days": days},
        body=deal.title,
        url=reverse("crm:deal_detail", args=[deal.pk]),
        target=deal,
    )
    return True


@transaction.atomic
def deal_advance_on_task_closed(*, task_id: int, deal_id: int | None) -> Deal | None:
    """Move the deal to the next stage when `task_id` is the task its current stage created and the stage says
    so. A deal that already left that stage, or a next stage whose required fields are empty, stays put."""
    if deal_id is None:
        return None
    history = (
        DealStageHistory.objects.select_related("stage", "deal")
        .filter(deal_id=deal_id, stage_task_id=task_id, left_at__isnull=True)
        .first()
    )
    if history is None or not history.stage.advance_on_task_close or history.deal.stage_id != history.stage_id:
        return None
    target = next_stage(history.stage)
    if target is None:
        return None
    try:
        with transaction.atomic():
            return deal_move(actor=None, deal=history.deal, stage=target, reason=_("Stage task closed"))
    except DomainError as refused:
        notification_create(
            recipient=history.deal.responsible,
            title=_("Deal %(number)s could not move to “%(stage)s”") % {"number": history.deal.number, "stage": target.name},
            body=refused.message,
            url=reverse("crm:deal_detail", args=[history.deal.pk]),
            target=history.deal,
        )
        return None
