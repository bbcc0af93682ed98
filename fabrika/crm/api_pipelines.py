"""/api/v1/crm: pipelines and their stages, deals (list with filters, card, move, history), kanban and funnel."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema, Status

from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.models import User
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import selectors_pipelines as selectors
from . import services_pipelines as services
from .models.pipelines import Deal, Pipeline, Stage
from .reports_pipelines import FunnelReport, funnel_report
from .schemas_pipelines import (
    DealIn,
    DealMoveIn,
    DealOut,
    DealPatch,
    FunnelOut,
    KanbanColumnOut,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    StageHistoryOut,
    StageIn,
    StageOrderIn,
    StageOut,
    StagePatch,
)

router = Router(tags=["crm"])


class DealFilterQuery(Schema):
    pipeline: int | None = None
    stage: int | None = None
    responsible: int | None = None
    created_from: str | None = None
    created_to: str | None = None
    amount_min: str | None = None
    amount_max: str | None = None
    q: str | None = None


def _filters(request, query: DealFilterQuery, pipeline: Pipeline | None):
    params = {key: str(value) for key, value in query.dict().items() if value not in (None, "")}
    params.update({key: value for key, value in request.GET.items() if key.startswith("cf_")})
    return selectors.parse_deal_filters(params, pipeline=pipeline)


# --- pipelines & stages ---------------------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut])
def pipeline_list(request, include_inactive: bool = False):
    require(request.user, Pipeline, "view")
    return list(selectors.pipeline_list(include_inactive=include_inactive))


@router.get("/pipelines/{pipeline_id}", response=PipelineOut)
def pipeline_detail(request, pipeline_id: int):
    require(request.user, Pipeline, "view")
    return selectors.pipeline_get(pipeline_id)


@router.post("/pipelines", response={201: PipelineOut})
@idempotent
def pipeline_create(request, payload: PipelineIn):
    require(request.user, Pipeline, "add")
    data = payload.dict()
    stages = data.pop("stages")
    pipeline = services.pipeline_create(actor=request.user, data=data, stages=stages)
    return Status(201, selectors.pipeline_get(pipeline.pk))


@router.patch("/pipelines/{pipeline_id}", response=PipelineOut)
def pipeline_update(request, pipeline_id: int, payload: PipelinePatch):
    require(request.user, Pipeline, "change")
    pipeline = selectors.pipeline_get(pipeline_id)
    services.pipeline_update(actor=request.user, pipeline=pipeline, data=payload.dict(exclude_unset=True))
    return selectors.pipeline_get(pipeline_id)


@router.delete("/pipelines/{pipeline_id}", response={204: None})
def pipeline_delete(request, pipeline_id: int):
    require(request.user, Pipeline, "delete")
    services.pipeline_delete(actor=request.user, pipeline=selectors.pipeline_get(pipeline_id))
    return Status(204, None)


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut})
def stage_create(request, pipeline_id: int, payload: StageIn):
    require(request.user, Stage, "add")
    pipeline = selectors.pipeline_get(pipeline_id)
    return Status(201, services.stage_create(actor=request.user, pipeline=pipeline, data=payload.dict()))


@router.put("/pipelines/{pipeline_id}/stages/order", response=list[StageOut])
def stage_reorder(request, pipeline_id: int, payload: StageOrderIn):
    require(request.user, Stage, "change")
    pipeline = selectors.pipeline_get(pipeline_id)
    return services.stage_reorder(actor=request.user, pipeline=pipeline, stage_ids=payload.stage_ids)


@router.patch("/stages/{stage_id}", response=StageOut)
def stage_update(request, stage_id: int, payload: StagePatch):
    require(request.user, Stage, "change")
    return services.stage_update(actor=request.user, stage=selectors.stage_get(stage_id), data=payload.dict(exclude_unset=True))


@router.delete("/stages/{stage_id}", response={204: None})
def stage_delete(request, stage_id: int):
    require(request.user, Stage, "delete")
    services.stage_delete(actor=request.user, stage=selectors.stage_get(stage_id))
    return Status(204, None)


# --- deals ----------------------------------------------------------------------------------------------------


@router.get("/deals", response=Page[DealOut])
def deal_list(request, filters: Query[DealFilterQuery], cursor: str | None = None, limit: int = 50):
    require(request.user, Deal, "view")
    pipeline = selectors.pipeline_get(filters.pipeline) if filters.pipeline else None
    queryset = selectors.deal_list_for_user(request.user, _filters(request, filters, pipeline))
    return paginate(queryset, cursor=cursor, limit=limit)


@router.get("/deals/{deal_id}", response=DealOut)
def deal_detail(request, deal_id: int):
    require(request.user, Deal, "view")
    return selectors.deal_get_for_user(request.user, deal_id)


def _deal_data(data: dict, *, partial: bool) -> dict:
    for name in ("counterparty", "contact", "responsible"):
        key = f"{name}_id"
        if key in data:
            data[name] = data.pop(key)
    if partial and "responsible" in data and data["responsible"] is None:
        data.pop("responsible")
    return data


@router.post("/deals", response={201: DealOut})
@idempotent
def deal_create(request, payload: DealIn):
    require(request.user, Deal, "add")
    data = _deal_data(payload.dict(), partial=False)
    pipeline = selectors.pipeline_get(data.pop("pipeline_id"))
    stage_id = data.pop("stage_id")
    stage = selectors.stage_get(stage_id, pipeline=pipeline) if stage_id else None
    deal = services.deal_create(actor=request.user, pipeline=pipeline, stage=stage, **data)
    return Status(201, selectors.deal_get_for_user(request.user, deal.pk))


@router.patch("/deals/{deal_id}", response=DealOut)
def deal_update(request, deal_id: int, payload: DealPatch):
    require(request.user, Deal, "change")
    deal = selectors.deal_get_for_user(request.user, deal_id)
    services.deal_update(actor=request.user, deal=deal, data=_deal_data(payload.dict(exclude_unset=True), partial=True))
    return selectors.deal_get_for_user(request.user, deal_id)


@router.post("/deals/{deal_id}/move", response=DealOut)
def deal_move(request, deal_id: int, payload: DealMoveIn):
    require(request.user, Deal, "change")
    deal = selectors.deal_get_for_user(request.user, deal_id)
    try:
        stage = selectors.stage_get(payload.stage_id, pipeline=deal.pipeline)
    except NotFound:
        raise ValidationError({"stage_id": [f"No stage {payload.stage_id} in the deal's pipeline"]})
    services.deal_move(actor=request.user, deal=deal, stage=stage, reason=payload.reason)
    return selectors.deal_get_for_user(request.user, deal_id)


@router.delete("/deals/{deal_id}", response={204: None})
def deal_delete(request, deal_id: int):
    require(request.user, Deal, "delete")
    services.deal_delete(actor=request.user, deal=selectors.deal_get_for_user(request.user, deal_id))
    return Status(204, None)


@router.get("/deals/{deal_id}/history", response=list[StageHistoryOut])
def deal_history(request, deal_id: int):
    require(request.user, Deal, "view")
    deal = selectors.deal_get_for_user(request.user, deal_id)
    return [
        {
            "stage_id": row.stage_id,
            "stage_name": row.stage.name,
            "from_stage_id": row.from_stage_id,
            "entered_at": row.entered_at,
            "left_at": row.left_at,
            "seconds_in_stage": row.duration_seconds(),
            "actor_id": row.actor_id,
            "reason": row.reason,
        }
        for row in selectors.deal_history(deal)
    ]


# --- kanban and funnel ----------------------------------------------------------------------------------------


@router.get("/pipelines/{pipeline_id}/kanban", response=list[KanbanColumnOut])
def pipeline_kanban(request, pipeline_id: int, filters: Query[DealFilterQuery]):
    require(request.user, Deal, "view")
    pipeline = selectors.pipeline_get(pipeline_id)
    columns = selectors.kanban_columns(request.user, _filters(request, filters, pipeline))
    return [{"stage": c.stage, "count": c.count, "total": str(c.total), "deals": c.deals} for c in columns]


def _funnel_out(report: FunnelReport) -> dict:
    def outcome(item) -> dict:
        return {"count": item.count, "amount": str(item.amount), "reasons": [{"reason": r, "count": n} for r, n in item.reasons]}

    return {
        "pipeline_id": report.pipeline.pk,
        "date_from": report.date_from,
        "date_to": report.date_to,
        "responsible_id": report.responsible.pk if report.responsible else None,
        "total": report.total,
        "total_amount": str(report.total_amount),
        "win_rate_percent": None if report.win_rate is None else str(report.win_rate),
        "stages": [
            {
                "stage_id": row.stage.pk,
                "stage_name": row.stage.name,
                "kind": row.stage.kind,
                "reached": row.reached,
                "conversion_percent": None if row.conversion is None else str(row.conversion),
                "current_count": row.current_count,
                "current_amount": str(row.current_amount),
                "average_seconds_in_stage": row.average_seconds,
            }
            for row in report.stages
        ],
        "won": outcome(report.won),
        "lost": outcome(report.lost),
    }


def parse_funnel_params(params) -> dict:
    errors: dict[str, list[str]] = {}
    values: dict = {"date_from": None, "date_to": None, "responsible": None}
    for name in ("date_from", "date_to"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[name] = ["Enter a date as YYYY-MM-DD"]
    raw = str(params.get("responsible") or "").strip()
    if raw:
        values["responsible"] = User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if values["responsible"] is None:
            errors["responsible"] = ["No such user"]
    if errors:
        raise ValidationError(errors)
    return values


@router.get("/pipelines/{pipeline_id}/funnel", response=FunnelOut)
def pipeline_funnel(request, pipeline_id: int, date_from: str | None = None, date_to: str | None = None, responsible: int | None = None):
    require(request.user, Deal, "view")
    pipeline = selectors.pipeline_get(pipeline_id)
    values = parse_funnel_params({"date_from": date_from, "date_to": date_to, "responsible": responsible})
    return _funnel_out(funnel_report(actor=request.user, pipeline=pipeline, **values))
