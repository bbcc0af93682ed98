"""API schemas of pipelines, stages, deals and the funnel report (money as strings)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class StageIn(Schema):
    name: str
    kind: str = "open"
    probability: int | None = None
    color: str = "#6c757d"
    required_fields: list[str] = Field(default_factory=list)
    task_on_enter: bool = False
    task_title: str = ""
    task_assignee: int | None = None
    task_role: int | None = None
    task_due_hours: int | None = None
    advance_on_task_close: bool = False
    remind_after_days: int | None = None
    order_event: str = ""


class StagePatch(Schema):
    name: str | None = None
    kind: str | None = None
    probability: int | None = None
    color: str | None = None
    required_fields: list[str] | None = None
    task_on_enter: bool | None = None
    task_title: str | None = None
    task_assignee: int | None = None
    task_role: int | None = None
    task_due_hours: int | None = None
    advance_on_task_close: bool | None = None
    remind_after_days: int | None = None
    order_event: str | None = None


class StageOut(Schema):
    id: int
    name: str
    order: int
    kind: str
    probability: int
    color: str
    required_fields: list[str]
    task_on_enter: bool
    task_title: str
    task_assignee_id: int | None
    task_role_id: int | None
    task_due_hours: int | None
    advance_on_task_close: bool
    remind_after_days: int | None
    order_event: str


class StageOrderIn(Schema):
    stage_ids: list[int]


class PipelineIn(Schema):
    name: str
    purpose: str = "sales"
    description: str = ""
    is_active: bool = True
    stages: list[StageIn] = Field(default_factory=list)


class PipelinePatch(Schema):
    name: str | None = None
    purpose: str | None = None
    description: str | None = None
    is_active: bool | None = None


class PipelineOut(Schema):
    id: int
    name: str
    purpose: str
    description: str
    is_active: bool
    order: int
    custom_context: str
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj) -> list:
        return list(obj.stages.all())


class DealIn(Schema):
    pipeline_id: int
    stage_id: int | None = None
    title: str
    counterparty_id: int
    contact_id: int | None = None
    amount: str | None = None
    currency: str | None = Field(default=None, description="ISO 4217 code, e.g. RUB")
    expected_close: str | None = Field(default=None, description="YYYY-MM-DD")
    responsible_id: int | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class DealPatch(Schema):
    title: str | None = None
    counterparty_id: int | None = None
    contact_id: int | None = None
    amount: str | None = None
    currency: str | None = None
    expected_close: str | None = None
    responsible_id: int | None = None
    won_reason: str | None = None
    lost_reason: str | None = None
    custom: dict[str, Any] | None = None


class DealMoveIn(Schema):
    stage_id: int
    reason: str = ""


class DealOut(Schema):
    id: int
    number: str
    pipeline_id: int
    stage_id: int
    stage_name: str
    stage_kind: str
    title: str
    counterparty_id: int
    counterparty_name: str
    contact_id: int | None
    amount: str | None
    currency: str | None
    expected_close: dt.date | None
    responsible_id: int
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    won_reason: str
    lost_reason: str
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_stage_name(obj) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_stage_kind(obj) -> str:
        return obj.stage.kind

    @staticmethod
    def resolve_counterparty_name(obj) -> str:
        return obj.counterparty.name

    @staticmethod
    def resolve_amount(obj) -> str | None:
        return None if obj.amount is None else str(obj.amount)

    @staticmethod
    def resolve_currency(obj) -> str | None:
        return obj.currency.code if obj.currency_id else None


class StageHistoryOut(Schema):
    stage_id: int
    stage_name: str
    from_stage_id: int | None
    entered_at: dt.datetime
    left_at: dt.datetime | None
    seconds_in_stage: int
    actor_id: int | None
    reason: str


class KanbanColumnOut(Schema):
    stage: StageOut
    count: int
    total: str
    deals: list[DealOut]


class FunnelStageOut(Schema):
    stage_id: int
    stage_name: str
    kind: str
    reached: int
    conversion_percent: str | None
    current_count: int
    current_amount: str
    average_seconds_in_stage: int | None


class FunnelOutcomeOut(Schema):
    count: int
    amount: str
    reasons: list[dict[str, Any]]


class FunnelOut(Schema):
    pipeline_id: int
    date_from: dt.date | None
    date_to: dt.date | None
    responsible_id: int | None
    total: int
    total_amount: str
    win_rate_percent: str | None
    stages: list[FunnelStageOut]
    won: FunnelOutcomeOut
    lost: FunnelOutcomeOut
