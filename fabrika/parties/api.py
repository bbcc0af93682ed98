"""Counterparties API.

Creating a counterparty checks for duplicates (same tax ID, phone or e-mail, or a name at least 85% similar): when
any exist the answer is 409 problem+json with code "duplicate_counterparty" and `candidates` ([{id, name, tax_id,
reasons, similarity}]); send the same request with `?force=true` or `"force": true` in the body to create anyway.
"""

from __future__ import annotations

from ninja import Router, Status

from fabrika.core.errors import NotFound
from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import selectors, services
from .models import Address, BankAccount, Contact, Counterparty, Position, Segment, Tag
from .schemas import (
    AddressIn,
    AddressOut,
    BankAccountIn,
    BankAccountOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    CounterpartyIn,
    CounterpartyOut,
    CounterpartyPatch,
    DirectoryIn,
    DirectoryOut,
    DuplicateOut,
    MergeIn,
)

router = Router(tags=["parties"])
RENAMED = {"responsible_id": "responsible", "parent_id": "parent", "segment_ids": "segments", "tag_ids": "tags"}


def _data(payload, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial)
    data.pop("force", None)
    for api_name, name in RENAMED.items():
        if api_name in data:
            value = data.pop(api_name)
            if value is not None or not partial or api_name == "parent_id":
                data[name] = value
    if data.get("roles") is None:
        data.pop("roles", None)
    return data


@router.get("/counterparties", response=Page[CounterpartyOut])
def counterparty_list(request, search: str = "", role: str = "", cursor: str | None = None, limit: int = 50):
    require(request.user, Counterparty, "view")
    queryset = selectors.counterparty_list_for_user(request.user, search=search, role=role).prefetch_related("segments", "tags")
    return paginate(queryset, cursor=cursor, limit=limit)


@router.get("/counterparties/duplicates", response=list[DuplicateOut])
def counterparty_duplicates(request, name: str = "", tax_id: str = "", phone: str = "", email: str = "", exclude_id: int | None = None):
    """Counterparties that look like the one described (the check `POST /counterparties` makes)."""
    require(request.user, Counterparty, "view")
    candidates = services.duplicates_find(name=name, tax_id=tax_id, phone=phone, email=email, exclude_pk=exclude_id)
    return [candidate.as_dict() for candidate in candidates]


@router.get("/counterparties/{counterparty_id}", response=CounterpartyOut)
def counterparty_detail(request, counterparty_id: int):
    require(request.user, Counterparty, "view")
    return selectors.counterparty_get_for_user(request.user, counterparty_id)


@router.post("/counterparties", response={201: CounterpartyOut})
@idempotent
def counterparty_create(request, payload: CounterpartyIn, force: bool = False):
    require(request.user, Counterparty, "add")
    data = _data(payload, partial=False)
    if data.get("responsible") is None:
        data["responsible"] = request.user
    check = not (force or payload.force)
    try:
        return Status(201, services.counterparty_create(actor=request.user, data=data, check_duplicates=check))
    except services.DuplicateFound as error:
        from fabrika.api import problem  # the one place a DomainError carries a list the body must show

        return problem(request, status=409, title=error.message, detail=error.message, code=error.code, candidates=error.values["candidates"])


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


@router.post("/counterparties/{counterparty_id}/merge", response=CounterpartyOut)
def counterparty_merge(request, counterparty_id: int, payload: MergeIn):
    """Merge `duplicate_id` into this counterparty (both must be in the caller's scope; needs change and delete)."""
    require(request.user, Counterparty, "change")
    require(request.user, Counterparty, "delete")
    survivor = selectors.counterparty_get_for_user(request.user, counterparty_id)
    duplicate = selectors.counterparty_get_for_user(request.user, payload.duplicate_id)
    return services.counterparty_merge(actor=request.user, survivor=survivor, duplicate=duplicate)


# --- contacts, addresses, bank accounts: read with the counterparty's view right, written with its change right


def _child(request, model, child_id: int, action: str):
    require(request.user, Counterparty, action)
    child = model.objects.filter(pk=child_id).first()
    if child is None:
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {child_id} not found")
    selectors.counterparty_get_for_user(request.user, child.counterparty_id)  # 404 outside the scope
    return child


@router.get("/counterparties/{counterparty_id}/contacts", response=list[ContactOut])
def contact_list(request, counterparty_id: int):
    require(request.user, Counterparty, "view")
    return list(selectors.counterparty_get_for_user(request.user, counterparty_id).contacts.all())


@router.post("/counterparties/{counterparty_id}/contacts", response={201: ContactOut})
@idempotent
def contact_create(request, counterparty_id: int, payload: ContactIn):
    require(request.user, Counterparty, "change")
    counterparty = selectors.counterparty_get_for_user(request.user, counterparty_id)
    data = payload.dict()
    contact = services.contact_create(
        actor=request.user, counterparty=counterparty, name=data["name"], position=data["position_id"], phone=data["phone"],
        email=data["email"], note=data["note"], is_primary=data["is_primary"],
    )
    return Status(201, contact)


@router.patch("/contacts/{contact_id}", response=ContactOut)
def contact_update(request, contact_id: int, payload: ContactPatch):
    contact = _child(request, Contact, contact_id, "change")
    data = payload.dict(exclude_unset=True)
    if "position_id" in data:
        data["position"] = data.pop("position_id")
    return services.contact_update(actor=request.user, contact_id=contact.pk, data=data)


@router.delete("/contacts/{contact_id}", response={204: None})
def contact_delete(request, contact_id: int):
    contact = _child(request, Contact, contact_id, "change")
    services.contact_delete(actor=request.user, contact_id=contact.pk)
    return Status(204, None)


@router.get("/counterparties/{counterparty_id}/addresses", response=list[AddressOut])
def address_list(request, counterparty_id: int):
    require(request.user, Counterparty, "view")
    return list(selectors.counterparty_get_for_user(request.user, counterparty_id).addresses.all())


@router.post("/counterparties/{counterparty_id}/addresses", response={201: AddressOut})
@idempotent
def address_create(request, counterparty_id: int, payload: AddressIn):
    """Add an address; `raw` alone (the parts empty) is parsed into the parts where the parser can tell them."""
    require(request.user, Counterparty, "change")
    counterparty = selectors.counterparty_get_for_user(request.user, counterparty_id)
    return Status(201, services.address_create(actor=request.user, counterparty=counterparty, data=payload.dict()))


@router.put("/addresses/{address_id}", response=AddressOut)
def address_update(request, address_id: int, payload: AddressIn):
    address = _child(request, Address, address_id, "change")
    return services.address_update(actor=request.user, address_id=address.pk, data=payload.dict())


@router.delete("/addresses/{address_id}", response={204: None})
def address_delete(request, address_id: int):
    address = _child(request, Address, address_id, "change")
    services.address_delete(actor=request.user, address_id=address.pk)
    return Status(204, None)


@router.get("/counterparties/{counterparty_id}/bank-accounts", response=list[BankAccountOut])
def bank_account_list(request, counterparty_id: int):
    require(request.user, Counterparty, "view")
    return list(selectors.counterparty_get_for_user(request.user, counterparty_id).bank_accounts.all())


@router.post("/counterparties/{counterparty_id}/bank-accounts", response={201: BankAccountOut})
@idempotent
def bank_account_create(request, counterparty_id: int, payload: BankAccountIn):
    require(request.user, Counterparty, "change")
    counterparty = selectors.counterparty_get_for_user(request.user, counterparty_id)
    data = payload.dict(exclude_unset=True)
    return Status(201, services.bank_account_create(actor=request.user, counterparty=counterparty, data=data))


@router.put("/bank-accounts/{bank_account_id}", response=BankAccountOut)
def bank_account_update(request, bank_account_id: int, payload: BankAccountIn):
    account = _child(request, BankAccount, bank_account_id, "change")
    return services.bank_account_update(actor=request.user, bank_account_id=account.pk, data=payload.dict())


@router.delete("/bank-accounts/{bank_account_id}", response={204: None})
def bank_account_delete(request, bank_account_id: int):
    account = _child(request, BankAccount, bank_account_id, "change")
    services.bank_account_delete(actor=request.user, bank_account_id=account.pk)
    return Status(204, None)


# --- directories ------------------------------------------------------------------------------------------------


def _directory_routes(path: str, model) -> None:
    @router.get(f"/{path}", response=list[DirectoryOut], operation_id=f"{path}_list")
    def directory_list(request):
        require(request.user, Counterparty, "view")
        return list(model.objects.all())

    @router.post(f"/{path}", response={201: DirectoryOut}, operation_id=f"{path}_create")
    def directory_create(request, payload: DirectoryIn):
        require(request.user, model, "add")
        return Status(201, services.directory_item_create(actor=request.user, model=model, data=payload.dict()))

    @router.put(f"/{path}/{{item_id}}", response=DirectoryOut, operation_id=f"{path}_update")
    def directory_update(request, item_id: int, payload: DirectoryIn):
        require(request.user, model, "change")
        if not model.objects.filter(pk=item_id).exists():
            raise NotFound(f"{model._meta.verbose_name.capitalize()} {item_id} not found")
        return services.directory_item_update(actor=request.user, model=model, item_id=item_id, data=payload.dict())


_directory_routes("positions", Position)
_directory_routes("segments", Segment)
_directory_routes("tags", Tag)
