"""Pricing API: price types, price lists with items, discount rules, discount limits and the quote.
Mounted at /api/v1/pricing/. Parse → authorise → service/selector → schema; errors map in fabrika/api.py."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status

from fabrika.core.errors import ValidationError
from fabrika.core.idempotency import idempotent
from fabrika.core.permissions import require
from fabrika.parties.selectors import counterparty_get_for_user

from . import engine, selectors, services
from .models import DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType
from .schemas import (
    DiscountLimitIn,
    DiscountLimitOut,
    DiscountLimitPatch,
    DiscountRuleIn,
    DiscountRuleOut,
    DiscountRulePatch,
    ItemIn,
    ItemOut,
    ItemPatch,
    PriceListCopyIn,
    PriceListIn,
    PriceListOut,
    PriceListPatch,
    PriceTypeIn,
    PriceTypeOut,
    PriceTypePatch,
    QuoteIn,
    QuoteOut,
)

router = Router(tags=["pricing"])


def _data(payload, *, partial: bool = False) -> dict:
    return payload.dict(exclude_unset=partial)


# ----------------------------------------------------------------------------------------------- price types


@router.get("/price-types", response=list[PriceTypeOut])
def price_type_list(request, active: bool | None = None, search: str = ""):
    require(request.user, PriceType, "view")
    return list(selectors.price_type_list(active=active, search=search))


@router.post("/price-types", response={201: PriceTypeOut})
@idempotent
def price_type_create(request, payload: PriceTypeIn):
    require(request.user, PriceType, "add")
    return Status(201, selectors.price_type_get(services.price_type_create(actor=request.user, data=_data(payload)).pk))


@router.get("/price-types/{price_type_id}", response=PriceTypeOut)
def price_type_detail(request, price_type_id: int):
    require(request.user, PriceType, "view")
    return selectors.price_type_get(price_type_id)


@router.patch("/price-types/{price_type_id}", response=PriceTypeOut)
def price_type_update(request, price_type_id: int, payload: PriceTypePatch):
    require(request.user, PriceType, "change")
    selectors.price_type_get(price_type_id)
    services.price_type_update(actor=request.user, price_type_id=price_type_id, data=_data(payload, partial=True))
    return selectors.price_type_get(price_type_id)


@router.delete("/price-types/{price_type_id}", response={204: None})
def price_type_delete(request, price_type_id: int):
    require(request.user, PriceType, "delete")
    services.price_type_delete(actor=request.user, price_type_id=selectors.price_type_get(price_type_id).pk)
    return Status(204, None)


# ----------------------------------------------------------------------------------------------- price lists


@router.get("/price-lists", response=list[PriceListOut])
def price_list_list(request, price_type_id: int | None = None, currency: str = "", active: bool | None = None, search: str = ""):
    require(request.user, PriceList, "view")
    return list(selectors.price_list_list(price_type_id=price_type_id, currency=currency, active=active, search=search))


@router.post("/price-lists", response={201: PriceListOut})
@idempotent
def price_list_create(request, payload: PriceListIn):
    require(request.user, PriceList, "add")
    return Status(201, selectors.price_list_get(services.price_list_create(actor=request.user, data=_data(payload)).pk))


@router.get("/price-lists/{price_list_id}", response=PriceListOut)
def price_list_detail(request, price_list_id: int):
    require(request.user, PriceList, "view")
    return selectors.price_list_get(price_list_id)


@router.patch("/price-lists/{price_list_id}", response=PriceListOut)
def price_list_update(request, price_list_id: int, payload: PriceListPatch):
    require(request.user, PriceList, "change")
    selectors.price_list_get(price_list_id)
    services.price_list_update(actor=request.user, price_list_id=price_list_id, data=_data(payload, partial=True))
    return selectors.price_list_get(price_list_id)


@router.delete("/price-lists/{price_list_id}", response={204: None})
def price_list_delete(request, price_list_id: int):
    require(request.user, PriceList, "delete")
    services.price_list_delete(actor=request.user, price_list_id=selectors.price_list_get(price_list_id).pk)
    return Status(204, None)


@router.post("/price-lists/{price_list_id}/copy", response={201: PriceListOut})
@idempotent
def price_list_copy(request, price_list_id: int, payload: PriceListCopyIn):
    require(request.user, PriceList, "add")
    selectors.price_list_get(price_list_id)
    copy = services.price_list_copy(actor=request.user, price_list_id=price_list_id, data=_data(payload))
    return Status(201, selectors.price_list_get(copy.pk))


@router.get("/price-lists/{price_list_id}/items", response=list[ItemOut])
def item_list(request, price_list_id: int, search: str = ""):
    require(request.user, PriceList, "view")
    selectors.price_list_get(price_list_id)
    return list(selectors.price_list_items(price_list_id, search=search))


@router.post("/price-lists/{price_list_id}/items", response={201: ItemOut})
@idempotent
def item_create(request, price_list_id: int, payload: ItemIn):
    require(request.user, PriceListItem, "add")
    selectors.price_list_get(price_list_id)
    item = services.price_list_item_add(actor=request.user, price_list_id=price_list_id, data=_data(payload))
    return Status(201, selectors.price_list_item_get(item.pk))


def _item(price_list_id: int, item_id: int) -> PriceListItem:
    item = selectors.price_list_item_get(item_id)
    if item.price_list_id != price_list_id:
        selectors.price_list_item_get(None)  # the same 404 as a missing item
    return item


@router.patch("/price-lists/{price_list_id}/items/{item_id}", response=ItemOut)
def item_update(request, price_list_id: int, item_id: int, payload: ItemPatch):
    require(request.user, PriceListItem, "change")
    _item(price_list_id, item_id)
    services.price_list_item_update(actor=request.user, item_id=item_id, data=_data(payload))
    return selectors.price_list_item_get(item_id)


@router.delete("/price-lists/{price_list_id}/items/{item_id}", response={204: None})
def item_delete(request, price_list_id: int, item_id: int):
    require(request.user, PriceListItem, "delete")
    services.price_list_item_delete(actor=request.user, item_id=_item(price_list_id, item_id).pk)
    return Status(204, None)


# ----------------------------------------------------------------------------------------------- discount rules


@router.get("/discount-rules", response=list[DiscountRuleOut])
def discount_rule_list(request, kind: str = "", active: bool | None = None, search: str = "", counterparty_id: int | None = None):
    require(request.user, DiscountRule, "view")
    return list(selectors.discount_rule_list(kind=kind, active=active, search=search, counterparty_id=counterparty_id))


@router.post("/discount-rules", response={201: DiscountRuleOut})
@idempotent
def discount_rule_create(request, payload: DiscountRuleIn):
    require(request.user, DiscountRule, "add")
    rule = services.discount_rule_create(actor=request.user, data=_data(payload))
    return Status(201, selectors.discount_rule_get(rule.pk))


@router.get("/discount-rules/{rule_id}", response=DiscountRuleOut)
def discount_rule_detail(request, rule_id: int):
    require(request.user, DiscountRule, "view")
    return selectors.discount_rule_get(rule_id)


@router.patch("/discount-rules/{rule_id}", response=DiscountRuleOut)
def discount_rule_update(request, rule_id: int, payload: DiscountRulePatch):
    require(request.user, DiscountRule, "change")
    selectors.discount_rule_get(rule_id)
    services.discount_rule_update(actor=request.user, rule_id=rule_id, data=_data(payload, partial=True))
    return selectors.discount_rule_get(rule_id)


@router.delete("/discount-rules/{rule_id}", response={204: None})
def discount_rule_delete(request, rule_id: int):
    require(request.user, DiscountRule, "delete")
    services.discount_rule_delete(actor=request.user, rule_id=selectors.discount_rule_get(rule_id).pk)
    return Status(204, None)


# ----------------------------------------------------------------------------------------------- discount limits


@router.get("/discount-limits", response=list[DiscountLimitOut])
def discount_limit_list(request):
    require(request.user, ManualDiscountLimit, "view")
    return list(selectors.discount_limit_list())


@router.post("/discount-limits", response={201: DiscountLimitOut})
@idempotent
def discount_limit_create(request, payload: DiscountLimitIn):
    require(request.user, ManualDiscountLimit, "add")
    return Status(201, selectors.discount_limit_get(services.discount_limit_create(actor=request.user, data=_data(payload)).pk))


@router.get("/discount-limits/{limit_id}", response=DiscountLimitOut)
def discount_limit_detail(request, limit_id: int):
    require(request.user, ManualDiscountLimit, "view")
    return selectors.discount_limit_get(limit_id)


@router.patch("/discount-limits/{limit_id}", response=DiscountLimitOut)
def discount_limit_update(request, limit_id: int, payload: DiscountLimitPatch):
    require(request.user, ManualDiscountLimit, "change")
    selectors.discount_limit_get(limit_id)
    services.discount_limit_update(actor=request.user, limit_id=limit_id, data=_data(payload, partial=True))
    return selectors.discount_limit_get(limit_id)


@router.delete("/discount-limits/{limit_id}", response={204: None})
def discount_limit_delete(request, limit_id: int):
    require(request.user, ManualDiscountLimit, "delete")
    services.discount_limit_delete(actor=request.user, limit_id=selectors.discount_limit_get(limit_id).pk)
    return Status(204, None)


# ----------------------------------------------------------------------------------------------- quote


def quantity_value(raw) -> Decimal:
    try:
        quantity = Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationError({"quantity": [_("Enter a number.")]})
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"quantity": [_("Must be greater than 0.")]})
    if quantity > Decimal("99999999999"):
        raise ValidationError({"quantity": [_("The number is too large.")]})
    return quantity


@router.post("/quote", response=QuoteOut)
def quote(request, payload: QuoteIn):
    require(request.user, PriceList, "view")
    quantity = quantity_value(payload.quantity if payload.quantity is not None else "1")
    purchases = None
    if payload.counterparty_id is not None:  # a client outside the user's scope is a 404, like everywhere else
        counterparty_get_for_user(request.user, payload.counterparty_id)
        purchases = selectors.ledger_purchases(payload.counterparty_id)
    return engine.quote_line(
        product_id=payload.product_id, quantity=quantity, on=payload.date or timezone.localdate(), currency=payload.currency,
        counterparty_id=payload.counterparty_id, price_type_code=payload.price_type_code, purchases=purchases,
    )
