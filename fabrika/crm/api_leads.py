from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Status

from fabrika.core.errors import NotFound
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require
from fabrika.parties.selectors import counterparty_get_for_user

from . import selectors_leads, services_leads
from .models import Lead, LeadSource, Pipeline
from .schemas_leads import LeadConvertIn, LeadIn, LeadOut, LeadPatch, LeadStatusIn

router = Router(tags=["crm"])


def _data(payload, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial)
    if "responsible_id" in data:
        responsible = data.pop("responsible_id")
        if responsible is not None:
            data["responsible"] = responsible
    return data


@router.get("/leads", response=Page[LeadOut])
def lead_list(request, search: str = "", status: str = "", source: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Lead, "view")
    return paginate(selectors_leads.lead_list_for_user(request.user, search=search, status=status, source=source), cursor=cursor, limit=limit)


@router.get("/leads/{lead_id}", response=LeadOut)
def lead_detail(request, lead_id: int):
    require(request.user, Lead, "view")
    return selectors_leads.lead_get_for_user(request.user, lead_id)


@router.post("/leads", response={201: LeadOut})
@idempotent
def lead_create(request, payload: LeadIn):
    require(request.user, Lead, "add")
    return Status(201, services_leads.lead_create(actor=request.user, data={**_data(payload, partial=False), "source": LeadSource.API}))


@router.patch("/leads/{lead_id}", response=LeadOut)
def lead_update(request, lead_id: int, payload: LeadPatch):
    require(request.user, Lead, "change")
    lead = selectors_leads.lead_get_for_user(request.user, lead_id)
    return services_leads.lead_update(actor=request.user, lead=lead, data=_data(payload, partial=True))


@router.post("/leads/{lead_id}/status", response=LeadOut)
def lead_status(request, lead_id: int, payload: LeadStatusIn):
    require(request.user, Lead, "change")
    lead = selectors_leads.lead_get_for_user(request.user, lead_id)
    return services_leads.lead_set_status(actor=request.user, lead=lead, status=payload.status, reason=payload.reason)


@router.post("/leads/{lead_id}/convert", response=LeadOut)
@idempotent
def lead_convert(request, lead_id: int, payload: LeadConvertIn):
    require(request.user, Lead, "convert")
    lead = selectors_leads.lead_get_for_user(request.user, lead_id)
    pipeline = None
    if payload.pipeline_id is not None:
        pipeline = Pipeline.objects.filter(pk=payload.pipeline_id, is_active=True).first()
        if pipeline is None:
            raise NotFound(_("Pipeline %(id)s not found") % {"id": payload.pipeline_id}, field="pipeline_id")
    counterparty = counterparty_get_for_user(request.user, payload.counterparty_id) if payload.counterparty_id else None
    return services_leads.lead_convert(
        actor=request.user, lead=lead, pipeline=pipeline, create_deal=payload.create_deal, counterparty=counterparty, deal_title=payload.deal_title
    )
