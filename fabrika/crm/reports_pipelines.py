"""Funnel report of a pipeline: conversion between stages, deals and amount per stage, average time in stage,
won and lost with their reasons — for the deals created in a period, optionally of one responsible.

Counted in Python over the cohort's deals and stage-history rows (two queries), with Decimal sums.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import Counter
from dataclasses import dataclass, field

from django.utils import timezone

from fabrika.core.errors import ValidationError
from fabrika.core.models import User

from .models.pipelines import DealStageHistory, Pipeline, Stage, StageKind
from .selectors_pipelines import deal_queryset_for_user

ZERO = decimal.Decimal("0.00")


@dataclass
class StageRow:
    stage: Stage
    reached: int = 0  # cohort deals that got to this stage or further
    conversion: decimal.Decimal | None = None  # % of the previous stage's reached that got here
    current_count: int = 0  # cohort deals in the stage now
    current_amount: decimal.Decimal = ZERO
    average_seconds: int | None = None  # average stay in the stage (stays still going count up to now)

    @property
    def average_days(self) -> decimal.Decimal | None:
        if self.average_seconds is None:
            return None
        return (decimal.Decimal(self.average_seconds) / 86400).quantize(decimal.Decimal("0.1"))


@dataclass
class Outcome:
    count: int = 0
    amount: decimal.Decimal = ZERO
    reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class FunnelReport:
    pipeline: Pipeline
    date_from: dt.date | None
    date_to: dt.date | None
    responsible: User | None
    total: int
    total_amount: decimal.Decimal
    stages: list[StageRow]
    won: Outcome
    lost: Outcome

    @property
    def win_rate(self) -> decimal.Decimal | None:
        closed = self.won.count + self.lost.count
        return _percent(self.won.count, closed)


def _percent(part: int, whole: int) -> decimal.Decimal | None:
    if not whole:
        return None
    return (decimal.Decimal(part) * 100 / decimal.Decimal(whole)).quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP)


def funnel_report(
    *,
    actor: User,
    pipeline: Pipeline,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    responsible: User | None = None,
    now: dt.datetime | None = None,
) -> FunnelReport:
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": ["The end of the period is before its start"]})
    now = now or timezone.now()
    stages = list(pipeline.stages.order_by("order", "id"))
    deals = deal_queryset_for_user(actor).filter(pipeline=pipeline)
    if date_from:
        deals = deals.filter(created_at__date__gte=date_from)
    if date_to:
        deals = deals.filter(created_at__date__lte=date_to)
    if responsible is not None:
        deals = deals.filter(responsible=responsible)
    cohort = {deal.pk: deal for deal in deals.select_related(None).only("id", "stage_id", "amount", "won_reason", "lost_reason")}
    history = list(
        DealStageHistory.objects.filter(deal_id__in=list(cohort)).values_list("deal_id", "stage_id", "entered_at", "left_at")
    )
    order_of = {stage.pk: index for index, stage in enumerate(stages)}
    kind_of = {stage.pk: stage.kind for stage in stages}
    # The furthest open or won stage each deal reached (lost stages end a deal without moving it along the funnel).
    furthest: dict[int, int] = {}
    stays: dict[int, list[int]] = {stage.pk: [] for stage in stages}
    for deal_id, stage_id, entered_at, left_at in history:
        if stage_id not in order_of:
            continue
        stays[stage_id].append(max(0, int(((left_at or now) - entered_at).total_seconds())))
        if kind_of[stage_id] != StageKind.LOST:
            furthest[deal_id] = max(furthest.get(deal_id, -1), order_of[stage_id])
    rows: list[StageRow] = []
    previous_reached: int | None = None
    for stage in stages:
        row = StageRow(stage=stage)
        in_stage = [deal for deal in cohort.values() if deal.stage_id == stage.pk]
        row.current_count = len(in_stage)
        row.current_amount = sum((deal.amount or ZERO for deal in in_stage), ZERO)
        if stays[stage.pk]:
            row.average_seconds = sum(stays[stage.pk]) // len(stays[stage.pk])
        if stage.kind == StageKind.LOST:
            row.reached = len({deal_id for deal_id, stage_id, _e, _l in history if stage_id == stage.pk})
        else:
            index = order_of[stage.pk]
            row.reached = sum(1 for reached in furthest.values() if reached >= index)
            if previous_reached is not None:
                row.conversion = _percent(row.reached, previous_reached)
            previous_reached = row.reached
        rows.append(row)
    won, lost = Outcome(), Outcome()
    won_reasons: Counter[str] = Counter()
    lost_reasons: Counter[str] = Counter()
    for deal in cohort.values():
        kind = kind_of.get(deal.stage_id)
        if kind == StageKind.WON:
            won.count += 1
            won.amount += deal.amount or ZERO
            won_reasons[deal.won_reason or ""] += 1
        elif kind == StageKind.LOST:
            lost.count += 1
            lost.amount += deal.amount or ZERO
            lost_reasons[deal.lost_reason or ""] += 1
    won.reasons = sorted(won_reasons.items(), key=lambda item: (-item[1], item[0]))
    lost.reasons = sorted(lost_reasons.items(), key=lambda item: (-item[1], item[0]))
    return FunnelReport(
        pipeline=pipeline,
        date_from=date_from,
        date_to=date_to,
        responsible=responsible,
        total=len(cohort),
        total_amount=sum((deal.amount or ZERO for deal in cohort.values()), ZERO),
        stages=rows,
        won=won,
        lost=lost,
    )
