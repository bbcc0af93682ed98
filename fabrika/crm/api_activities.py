from __future__ import annotations

from ninja import Router, Status

from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require
from fabrika.parties.selectors import counterparty_get_for_user

from . import selectors_activities, services_activities
from .models import Activity
from .schemas_activities import ActivityIn, ActivityOut
from .selectors_leads import lead_get_for_user

router = Router(tags=["crm"])


@router.get("/activities", response=Page[ActivityOut])
def activity_list(request, kind: str = "", status: str = "", counterparty_id: int | None = None, lead_id: int | None = None, deal_id: int | None = None, search: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Activity, "view")
    queryset = selectors_activities.activity_list_for_user(
        request.user, kind=kind, status=status, counterparty_id=counterparty_id, lead_id=lead_id, deal_id=deal_id, search=search
    ).prefetch_related("checklist")
    return paginate(queryset, cursor=cursor, limit=limit)


@router.get("/activities/{activity_id}", response=ActivityOut)
def activity_detail(request, activity_id: int):
    require(request.user, Activity, "view")
    return selectors_activities.activity_get_for_user(request.user, activity_id)


@router.post("/activities", response={201: ActivityOut})
@idempotent
def activity_create(request, payload: ActivityIn):
    require(request.user, Activity, "add")
    data = payload.dict(exclude={"checklist", "assignee_id", "counterparty_id", "lead_id", "deal_id"})
    if payload.assignee_id is not None:
        data["responsible"] = payload.assignee_id
    if payload.counterparty_id is not None:
        data["counterparty"] = counterparty_get_for_user(request.user, payload.counterparty_id)
    if payload.lead_id is not None:
        data["lead"] = lead_get_for_user(request.user, payload.lead_id)
    if payload.deal_id is not None:
        from .selectors_pipelines import deal_get_for_user

        data["deal"] = deal_get_for_user(request.user, payload.deal_id)
    return Status(201, services_activities.activity_create(actor=request.user, data=data, checklist=payload.checklist))


@router.post("/activities/{activity_id}/close", response=ActivityOut)
def activity_close(request, activity_id: int):
    require(request.user, Activity, "change")
    activity = selectors_activities.activity_get_for_user(request.user, activity_id)
    return services_activities.task_close(actor=request.user, task=activity)
