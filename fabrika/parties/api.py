from __future__ import annotations

from ninja import Router, Status

from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import selectors, services
from .models import Counterparty
from .schemas import CounterpartyIn, CounterpartyOut, CounterpartyPatch

router = Router(tags=["parties"])


def _data(payload, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial)
    if "responsible_id" in data:
        responsible = data.pop("responsible_id")
        if responsible is not None or not partial:
            data["responsible"] = responsible
    return data


@router.get("/counterparties", response=Page[CounterpartyOut])
def counterparty_list(request, search: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Counterparty, "view")
    return paginate(selectors.counterparty_list_for_user(request.user, search=search), cursor=cursor, limit=limit)


@router.get("/counterparties/{counterparty_id}", response=CounterpartyOut)
def counterparty_detail(request, counterparty_id: int):
    require(request.user, Counterparty, "view")
    return selectors.counterparty_get_for_user(request.user, counterparty_id)


@router.post("/counterparties", response={201: CounterpartyOut})
@idempotent
def counterparty_create(request, payload: CounterpartyIn):
    require(request.user, Counterparty, "add")
    data = _data(payload, partial=False)
    if data.get("responsible") is None:
        data["responsible"] = request.user
    return Status(201, services.counterparty_create(actor=request.user, data=data))


@router.patch("/counterparties/{counterparty_id}", response=CounterpartyOut)
def counterparty_update(request, counterparty_id: int, payload: CounterpartyPatch):
    require(request.user, Counterparty, "change")
    counterparty = selectors.counterparty_get_for_user(request.user, counterparty_id)
    return services.counterparty_update(actor=request.user, counterparty_id=counterparty.pk, data=_data(payload, partial=True))


@router.delete("/counterparties/{counterparty_id}", response={204: None})
def counterparty_delete(request, counterparty_id: int):
    require(request.user, Counterparty, "delete")
    counterparty = selectors.counterparty_get_for_user(request.user, counterparty_id)
    services.counterparty_delete(actor=request.user, counterparty_id=counterparty.pk)
    return Status(204, None)
