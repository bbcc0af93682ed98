"""Reads of pipelines, stages and deals; every deal read is limited to the actor's scope."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from fabrika.core import custom_fields
from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.permissions import get_scoped, scoped

from .models.pipelines import Deal, DealStageHistory, Pipeline, Stage

DEAL_ENTITY = "crm.deal"
DEAL_SEARCH_FIELDS = ("number", "title", "counterparty__name")


def pipeline_list(*, include_inactive: bool = False) -> QuerySet[Pipeline]:
    queryset = Pipeline.objects.prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("order", "id")))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    return queryset.order_by("order", "id")


def pipeline_get(pipeline_id: Any) -> Pipeline:
    try:
        return pipeline_list(include_inactive=True).get(pk=int(pipeline_id))
    except (Pipeline.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Pipeline {pipeline_id} not found")


def stage_get(stage_id: Any, *, pipeline: Pipeline | None = None) -> Stage:
    queryset = Stage.objects.select_related("pipeline", "task_assignee", "task_role")
    if pipeline is not None:
        queryset = queryset.filter(pipeline=pipeline)
    try:
        return queryset.get(pk=int(stage_id))
    except (Stage.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"Stage {stage_id} not found")


def deal_queryset_for_user(actor: User) -> QuerySet[Deal]:
    return scoped(
        Deal.objects.select_related("pipeline", "stage", "counterparty", "contact", "currency", "responsible"), actor
    )


def deal_get_for_user(actor: User, deal_id: Any) -> Deal:
    return get_scoped(Deal.objects.select_related("pipeline", "stage", "counterparty", "contact", "currency", "responsible"), actor, deal_id)


@dataclass(frozen=True)
class DealFilters:
    pipeline: Pipeline | None = None
    stage_id: int | None = None
    responsible_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    amount_min: decimal.Decimal | None = None
    amount_max: decimal.Decimal | None = None
    search: str = ""
    custom: dict[str, str] = field(default_factory=dict)  # "cf_<code>" query parameters


def parse_deal_filters(params: dict[str, Any], *, pipeline: Pipeline | None = None) -> DealFilters:
    """Filters from query parameters (responsible, created_from/created_to, amount_min/amount_max, q, stage,
    cf_*); ValidationError names each bad one."""
    errors: dict[str, list[str]] = {}

    def number(name: str) -> decimal.Decimal | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = decimal.Decimal(raw)
        except decimal.InvalidOperation:
            errors[name] = ["Enter a number"]
            return None
        if not value.is_finite():
            errors[name] = ["Enter a number"]
            return None
        return value

    def date(name: str) -> dt.date | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Enter a date as YYYY-MM-DD"]
            return None

    def integer(name: str) -> int | None:
        raw = str(params.get(name) or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            errors[name] = ["Enter an id"]
            return None
        return int(raw)

    filters = DealFilters(
        pipeline=pipeline,
        stage_id=integer("stage"),
        responsible_id=integer("responsible"),
        created_from=date("created_from"),
        created_to=date("created_to"),
        amount_min=number("amount_min"),
        amount_max=number("amount_max"),
        search=(params.get("q") or "").strip(),
        custom={key: value for key, value in params.items() if key.startswith("cf_") and isinstance(value, str) and value.strip()},
    )
    if errors:
        raise ValidationError(errors)
    return filters


def deals_filtered(queryset: QuerySet[Deal], filters: DealFilters) -> QuerySet[Deal]:
    if filters.pipeline is not None:
        queryset = queryset.filter(pipeline=filters.pipeline)
    if filters.stage_id is not None:
        queryset = queryset.filter(stage_id=filters.stage_id)
    if filters.responsible_id is not None:
        queryset = queryset.filter(responsible_id=filters.responsible_id)
    if filters.created_from is not None:
        queryset = queryset.filter(created_at__date__gte=filters.created_from)
    if filters.created_to is not None:
        queryset = queryset.filter(created_at__date__lte=filters.created_to)
    if filters.amount_min is not None:
        queryset = queryset.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        queryset = queryset.filter(amount__lte=filters.amount_max)
    if filters.search:
        condition = Q()
        for name in DEAL_SEARCH_FIELDS:
            condition |= Q(**{f"{name}__icontains": filters.search})
        queryset = queryset.filter(condition)
    if filters.custom:
        context = filters.pipeline.custom_context if filters.pipeline is not None else None
        queryset = custom_fields.filter_queryset(queryset, DEAL_ENTITY, filters.custom, context=context)
    return queryset


def deal_list_for_user(actor: User, filters: DealFilters) -> QuerySet[Deal]:
    return deals_filtered(deal_queryset_for_user(actor), filters).order_by("-created_at", "-id")


@dataclass
class KanbanColumn:
    stage: Stage
    deals: list[Deal]
    count: int
    total: decimal.Decimal


def kanban_columns(actor: User, filters: DealFilters, *, per_column: int = 200) -> list[KanbanColumn]:
    """One column per stage of the pipeline: the deals in it (newest in the stage first), their count and the sum
    of their amounts. Two queries for the deals and the totals, whatever the number of stages."""
    pipeline = filters.pipeline
    assert pipeline is not None
    stages = list(pipeline.stages.order_by("order", "id"))
    queryset = deals_filtered(deal_queryset_for_user(actor), filters)
    totals = {
        row["stage_id"]: row for row in queryset.order_by().values("stage_id").annotate(count=Count("id"))
    }
    by_stage: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    for deal in queryset.order_by("stage_id", "-stage_entered_at", "-id"):
        bucket = by_stage.get(deal.stage_id)
        if bucket is not None and len(bucket) < per_column:
            bucket.append(deal)
    columns = []
    for stage in stages:
        row = totals.get(stage.pk) or {}
        # the sum is recomputed in Python from the exact Decimal amounts of the whole column (SQLite sums REALs)
        columns.append(KanbanColumn(stage=stage, deals=by_stage[stage.pk], count=row.get("count", 0), total=decimal.Decimal("0.00")))
    exact = {stage.pk: decimal.Decimal("0.00") for stage in stages}
    for stage_id, amount in queryset.order_by().filter(amount__isnull=False).values_list("stage_id", "amount"):
        if stage_id in exact:
            exact[stage_id] += amount
    for column in columns:
        column.total = exact[column.stage.pk]
    return columns


def deal_history(deal: Deal) -> list[DealStageHistory]:
    return list(DealStageHistory.objects.filter(deal=deal).select_related("stage", "from_stage", "actor").order_by("entered_at", "id"))


def responsible_choices() -> list[tuple[str, str]]:
    return [(str(user.pk), str(user)) for user in User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")]
