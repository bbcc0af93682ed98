"""Pricing writes: price types, price lists and their items, discount rules, managers' discount limits.

Every function takes the acting user, validates its plain input (raising ValidationError naming each bad field),
writes in one transaction and records an audit row. The rules are explained in docs/design/pricing.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from fabrika.core import audit
from fabrika.core.errors import Conflict, NotFound, ValidationError
from fabrika.core.models.audit import AuditAction

from .models import (
    PERIOD_KINDS,
    TIERED_KINDS,
    DiscountKind,
    DiscountRule,
    DiscountTier,
    ManualDiscountLimit,
    PriceList,
    PriceListItem,
    PriceType,
)

HUNDRED = Decimal(100)
PRICE_QUANTUM = Decimal("0.01")
MAX_MONEY = Decimal("9999999999999.99")
MAX_THRESHOLD = Decimal("99999999999.9999")

Errors = dict[str, list[str]]


# ------------------------------------------------------------------------------------------------ input cleaning


def _add(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(str(message))


def _text(data: dict, name: str, errors: Errors, *, limit: int, required: bool = False) -> str:
    value = data.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        _add(errors, name, _("This field is required."))
    elif len(value) > limit:
        _add(errors, name, _("At most %(limit)d characters.") % {"limit": limit})
    return value


def _bool(data: dict, name: str, default: bool) -> bool:
    value = data.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _currency(data: dict, name: str, errors: Errors, *, default: str = "") -> str:
    value = str(data.get(name) or default or "").strip().upper()
    if not (len(value) == 3 and value.isalpha() and value.isascii()):
        _add(errors, name, _("A three-letter currency code (ISO 4217), e.g. RUB."))
    return value


def _decimal(
    data: dict, name: str, errors: Errors, *, required: bool = True, minimum: Decimal | None = None,
    maximum: Decimal | None = None, places: int = 2, label: str | None = None, greater_than_minimum: bool = False,
) -> Decimal | None:
    raw = data.get(name)
    key = label or name
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            _add(errors, key, _("This field is required."))
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        _add(errors, key, _("Enter a number."))
        return None
    if not value.is_finite():
        _add(errors, key, _("Enter a number."))
        return None
    if value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        _add(errors, key, _("At most %(places)d decimal places.") % {"places": places})
        return None
    if minimum is not None and (value < minimum or (greater_than_minimum and value == minimum)):
        if greater_than_minimum:
            _add(errors, key, _("Must be greater than %(minimum)s.") % {"minimum": minimum})
        else:
            _add(errors, key, _("Must be at least %(minimum)s.") % {"minimum": minimum})
        return None
    if maximum is not None and value > maximum:
        _add(errors, key, _("Must be at most %(maximum)s.") % {"maximum": maximum})
        return None
    return value


def _percent(data: dict, name: str, errors: Errors, *, required: bool = True, positive: bool = False, label: str | None = None) -> Decimal | None:
    return _decimal(data, name, errors, required=required, minimum=Decimal(0), maximum=HUNDRED, places=4, label=label, greater_than_minimum=positive)


def _date(data: dict, name: str, errors: Errors, *, required: bool = True) -> dt.date | None:
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            _add(errors, name, _("This field is required."))
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        _add(errors, name, _("Enter a date as YYYY-MM-DD."))
        return None


def _int(data: dict, name: str, errors: Errors, *, required: bool = False, default: int | None = None, minimum: int | None = None) -> int | None:
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            _add(errors, name, _("This field is required."))
        return default
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        _add(errors, name, _("Enter a whole number."))
        return default
    if minimum is not None and value < minimum:
        _add(errors, name, _("Must be at least %(minimum)s.") % {"minimum": minimum})
    elif abs(value) > 2_000_000_000:
        _add(errors, name, _("The number is too large."))
    return value


def _ids(data: dict, name: str, errors: Errors, model) -> list[int]:
    raw = data.get(name) or []
    if isinstance(raw, str | int):
        raw = [raw]
    ids: list[int] = []
    for value in raw:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            _add(errors, name, _("Not an id: %(value)s.") % {"value": value})
            return []
    ids = sorted(set(ids))
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        _add(errors, name, _("Unknown ids: %(ids)s.") % {"ids": ", ".join(map(str, unknown))})
    return ids


def _dates_ordered(errors: Errors, valid_from: dt.date | None, valid_to: dt.date | None) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        _add(errors, "valid_to", _("Must not be earlier than the start date."))


def _changes(before: dict[str, Any], instance) -> dict[str, list[Any]]:
    return audit.diff(before, audit.snapshot(instance))


# ------------------------------------------------------------------------------------------------ price types


def _clean_price_type(data: dict, *, existing: PriceType | None) -> dict[str, Any]:
    errors: Errors = {}
    merged = dict(data)
    if existing:
        for name in ("code", "name", "currency", "prices_include_tax", "is_retail", "is_active"):
            merged.setdefault(name, getattr(existing, name))
    code = _text(merged, "code", errors, limit=50, required=True)
    if code and " " in code:
        _add(errors, "code", _("No spaces in a code."))
    elif code and PriceType.objects.filter(code=code).exclude(pk=existing.pk if existing else None).exists():
        _add(errors, "code", _("A price type with the code “%(code)s” already exists.") % {"code": code})
    elif existing and code != existing.code:
        from fabrika.parties.models import Counterparty

        if Counterparty.objects.filter(price_type_code=existing.code).exists():
            _add(errors, "code", _("Counterparties use the code “%(code)s”; change their price type first.") % {"code": existing.code})
    values = {
        "code": code,
        "name": _text(merged, "name", errors, limit=200, required=True),
        "currency": _currency(merged, "currency", errors),
        "prices_include_tax": _bool(merged, "prices_include_tax", True),
        "is_retail": _bool(merged, "is_retail", False),
        "is_active": _bool(merged, "is_active", True),
    }
    has_retail = PriceType.objects.filter(is_retail=True).exclude(pk=existing.pk if existing else None).exists()
    if not has_retail:
        if existing and existing.is_retail and not values["is_retail"]:
            _add(errors, "is_retail", _("Exactly one price type is retail: mark another type retail instead."))
        values["is_retail"] = True  # the first type is the retail one
    if values["is_retail"] and not values["is_active"]:
        _add(errors, "is_active", _("The retail price type cannot be inactive."))
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def price_type_create(*, actor, data: dict[str, Any]) -> PriceType:
    values = _clean_price_type(data, existing=None)
    if values["is_retail"]:
        PriceType.objects.filter(is_retail=True).update(is_retail=False)
    price_type = PriceType.objects.create(**values)
    audit.record(actor=actor, action=AuditAction.CREATE, target=price_type, changes=audit.snapshot(price_type))
    return price_type


@transaction.atomic
def price_type_update(*, actor, price_type_id: int, data: dict[str, Any]) -> PriceType:
    price_type = _get(PriceType.objects.select_for_update(), price_type_id)
    before = audit.snapshot(price_type)
    values = _clean_price_type(data, existing=price_type)
    if values["is_retail"] and not price_type.is_retail:
        PriceType.objects.filter(is_retail=True).exclude(pk=price_type.pk).update(is_retail=False)
    for name, value in values.items():
        setattr(price_type, name, value)
    price_type.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, target=price_type, changes=_changes(before, price_type))
    return price_type


@transaction.atomic
def price_type_delete(*, actor, price_type_id: int) -> None:
    price_type = _get(PriceType.objects.select_for_update(), price_type_id)
    if price_type.is_retail:
        raise Conflict(_("The retail price type cannot be deleted."), code="retail_type")
    if price_type.price_lists.exists():
        raise Conflict(_("The price type has price lists; delete them or make the type inactive."), code="in_use")
    from fabrika.parties.models import Counterparty

    if Counterparty.objects.filter(price_type_code=price_type.code).exists():
        raise Conflict(_("Counterparties use this price type; change their price type first."), code="in_use")
    audit.record(actor=actor, action=AuditAction.DELETE, target=price_type, changes=audit.snapshot(price_type))
    price_type.delete()


def _get(queryset, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("%(model)s %(id)s not found.") % {"model": queryset.model._meta.verbose_name.capitalize(), "id": pk})


# ------------------------------------------------------------------------------------------------ price lists


def _clean_price_list(data: dict, *, existing: PriceList | None) -> dict[str, Any]:
    errors: Errors = {}
    merged = dict(data)
    if existing:
        for name in ("name", "currency", "valid_from", "valid_to", "is_active", "notes"):
            merged.setdefault(name, getattr(existing, name))
        merged.setdefault("price_type_id", existing.price_type_id)
    price_type = None
    type_id = merged.get("price_type_id") if "price_type_id" in merged else merged.get("price_type")
    if isinstance(type_id, PriceType):
        price_type = type_id
    elif type_id in (None, ""):
        _add(errors, "price_type_id", _("This field is required."))
    else:
        try:
            price_type = PriceType.objects.get(pk=int(type_id))
        except (PriceType.DoesNotExist, ValueError, TypeError):
            _add(errors, "price_type_id", _("No such price type."))
    values = {
        "price_type": price_type,
        "name": _text(merged, "name", errors, limit=200, required=True),
        "currency": _currency(merged, "currency", errors, default=price_type.currency if price_type else ""),
        "valid_from": _date(merged, "valid_from", errors),
        "valid_to": _date(merged, "valid_to", errors, required=False),
        "is_active": _bool(merged, "is_active", True),
        "notes": _text(merged, "notes", errors, limit=5000),
    }
    _dates_ordered(errors, values["valid_from"], values["valid_to"])
    if price_type and values["valid_from"] and "currency" not in errors:
        clash = PriceList.objects.filter(price_type=price_type, currency=values["currency"], valid_from=values["valid_from"])
        if existing:
            clash = clash.exclude(pk=existing.pk)
        if clash.exists():
            _add(
                errors, "valid_from",
                _("Another %(type)s list in %(currency)s already starts on %(date)s; pick another date or edit that list.")
                % {"type": price_type.code, "currency": values["currency"], "date": values["valid_from"].isoformat()},
            )
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def price_list_create(*, actor, data: dict[str, Any]) -> PriceList:
    values = _clean_price_list(data, existing=None)
    price_list = PriceList.objects.create(**values)
    audit.record(actor=actor, action=AuditAction.CREATE, target=price_list, changes=audit.snapshot(price_list))
    return price_list


@transaction.atomic
def price_list_update(*, actor, price_list_id: int, data: dict[str, Any]) -> PriceList:
    price_list = _get(PriceList.objects.select_for_update(), price_list_id)
    before = audit.snapshot(price_list)
    for name, value in _clean_price_list(data, existing=price_list).items():
        setattr(price_list, name, value)
    price_list.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, target=price_list, changes=_changes(before, price_list))
    return price_list


@transaction.atomic
def price_list_delete(*, actor, price_list_id: int) -> None:
    price_list = _get(PriceList.objects.select_for_update(), price_list_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=price_list, changes=audit.snapshot(price_list),
                 message=_("%(count)d item(s) deleted with the list.") % {"count": price_list.items.count()})
    price_list.delete()


def _clean_item(data: dict, errors: Errors) -> Decimal | None:
    return _decimal(data, "price", errors, minimum=Decimal(0), maximum=MAX_MONEY, places=2)


@transaction.atomic
def price_list_item_add(*, actor, price_list_id: int, data: dict[str, Any]) -> PriceListItem:
    from fabrika.catalog.models import Product

    price_list = _get(PriceList.objects.select_for_update(), price_list_id)
    errors: Errors = {}
    product = None
    raw = data.get("product_id", data.get("product"))
    if raw in (None, ""):
        _add(errors, "product_id", _("This field is required."))
    else:
        try:
            product = Product.objects.get(pk=int(getattr(raw, "pk", raw)))
        except (Product.DoesNotExist, ValueError, TypeError):
            _add(errors, "product_id", _("No such product."))
    price = _clean_item(data, errors)
    if product and price_list.items.filter(product=product).exists():
        _add(errors, "product_id", _("%(product)s is already in this price list; change its price instead.") % {"product": product.sku})
    if errors:
        raise ValidationError(errors)
    item = PriceListItem.objects.create(price_list=price_list, product=product, price=price)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=price_list, changes={f"item {product.sku}": [None, str(price)]})
    return item


@transaction.atomic
def price_list_item_update(*, actor, item_id: int, data: dict[str, Any]) -> PriceListItem:
    item = _get(PriceListItem.objects.select_for_update().select_related("product", "price_list"), item_id)
    errors: Errors = {}
    price = _clean_item(data, errors)
    if errors:
        raise ValidationError(errors)
    old = item.price
    item.price = price
    item.save(update_fields=["price"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=item.price_list, changes={f"item {item.product.sku}": [str(old), str(price)]})
    return item


@transaction.atomic
def price_list_item_delete(*, actor, item_id: int) -> None:
    item = _get(PriceListItem.objects.select_for_update().select_related("product", "price_list"), item_id)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=item.price_list, changes={f"item {item.product.sku}": [str(item.price), None]})
    item.delete()


def copy_price(price: Decimal, percent_change: Decimal) -> Decimal:
    """A price changed by `percent_change` %, rounded half up to kopecks."""
    return (price * (HUNDRED + percent_change) / HUNDRED).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


@transaction.atomic
def price_list_copy(*, actor, price_list_id: int, data: dict[str, Any]) -> PriceList:
    """A new list of the same type and currency from `valid_from` with every price changed by `percent_change` %."""
    source = _get(PriceList.objects.select_related("price_type"), price_list_id)
    errors: Errors = {}
    change = _decimal(data, "percent_change", errors, required=False, minimum=Decimal(-100), maximum=Decimal(1000), places=4)
    if errors:
        raise ValidationError(errors)
    change = change or Decimal(0)
    values = _clean_price_list(
        {
            "price_type_id": source.price_type_id, "currency": source.currency, "is_active": True,
            "name": data.get("name") or _("%(name)s from %(date)s") % {"name": source.name, "date": data.get("valid_from") or ""},
            "valid_from": data.get("valid_from"), "valid_to": data.get("valid_to"), "notes": data.get("notes", ""),
        },
        existing=None,
    )
    target = PriceList.objects.create(**values)
    PriceListItem.objects.bulk_create(
        [PriceListItem(price_list=target, product_id=item.product_id, price=copy_price(item.price, change)) for item in source.items.all()]
    )
    audit.record(
        actor=actor, action=AuditAction.CREATE, target=target, changes=audit.snapshot(target),
        message=_("Copied from %(source)s with %(change)s%%.") % {"source": source.name, "change": change},
    )
    return target


# ------------------------------------------------------------------------------------------------ discount rules


def _clean_tiers(data: dict, errors: Errors, *, places: int) -> list[tuple[Decimal, Decimal]]:
    raw = data.get("tiers") or []
    tiers: list[tuple[Decimal, Decimal]] = []
    if not isinstance(raw, list | tuple):
        _add(errors, "tiers", _("A list of tiers: threshold and percent."))
        return []
    for index, row in enumerate(raw, start=1):
        if hasattr(row, "dict"):
            row = row.dict()
        if not isinstance(row, dict):
            _add(errors, "tiers", _("Tier %(n)d: a threshold and a percent.") % {"n": index})
            continue
        row_errors: Errors = {}
        threshold = _decimal(row, "threshold", row_errors, minimum=Decimal(0), maximum=MAX_THRESHOLD, places=places)
        percent = _percent(row, "percent", row_errors, positive=True)
        for name, messages in row_errors.items():
            for message in messages:
                _add(errors, "tiers", _("Tier %(n)d, %(field)s: %(message)s") % {"n": index, "field": _(name), "message": message})
        if threshold is not None and percent is not None:
            if tiers and threshold <= tiers[-1][0]:
                _add(errors, "tiers", _("Tier %(n)d: thresholds must be strictly increasing (%(value)s after %(previous)s).")
                     % {"n": index, "value": threshold, "previous": tiers[-1][0]})
            tiers.append((threshold, percent))
    return tiers


def _clean_rule(data: dict, *, existing: DiscountRule | None) -> tuple[dict[str, Any], dict[str, list[int]], list[tuple[Decimal, Decimal]]]:
    from fabrika.catalog.models import Product, ProductGroup
    from fabrika.parties.models import Counterparty, Segment

    errors: Errors = {}
    merged = dict(data)
    if existing:
        for name in ("kind", "name", "description", "percent", "period_days", "min_amount", "valid_from", "valid_to", "priority", "is_active"):
            merged.setdefault(name, getattr(existing, name))
        merged.setdefault("counterparty_id", existing.counterparty_id)
        for name in ("products", "groups", "segments"):
            merged.setdefault(f"{name[:-1]}_ids", list(getattr(existing, name).values_list("pk", flat=True)))
        if "tiers" not in merged:
            merged["tiers"] = [{"threshold": t.threshold, "percent": t.percent} for t in existing.tiers.all()]
    kind = str(merged.get("kind") or "")
    if kind not in DiscountKind.values:
        _add(errors, "kind", _("One of: %(kinds)s.") % {"kinds": ", ".join(DiscountKind.values)})
    values: dict[str, Any] = {
        "kind": kind,
        "name": _text(merged, "name", errors, limit=200, required=True),
        "description": _text(merged, "description", errors, limit=5000),
        "valid_from": _date(merged, "valid_from", errors),
        "valid_to": _date(merged, "valid_to", errors, required=False),
        "priority": _int(merged, "priority", errors, default=0) or 0,
        "is_active": _bool(merged, "is_active", True),
        "percent": Decimal(0),
        "counterparty": None,
        "period_days": None,
        "min_amount": None,
    }
    _dates_ordered(errors, values["valid_from"], values["valid_to"])
    links = {
        "products": _ids(merged, "product_ids", errors, Product),
        "groups": _ids(merged, "group_ids", errors, ProductGroup),
        "segments": _ids(merged, "segment_ids", errors, Segment),
    }
    tiers: list[tuple[Decimal, Decimal]] = []
    if kind in (DiscountKind.PERSONAL, DiscountKind.PROMOTION, DiscountKind.VOLUME):
        values["percent"] = _percent(merged, "percent", errors, positive=True)
    if kind in TIERED_KINDS:
        tiers = _clean_tiers(merged, errors, places=4 if kind == DiscountKind.QUANTITY else 2)
        if not tiers and "tiers" not in errors:
            _add(errors, "tiers", _("Add at least one tier."))
    if kind in PERIOD_KINDS:
        values["period_days"] = _int(merged, "period_days", errors, required=True, minimum=1)
    if kind == DiscountKind.VOLUME:
        values["min_amount"] = _decimal(merged, "min_amount", errors, minimum=Decimal(0), maximum=MAX_THRESHOLD, places=2)
    party_id = merged.get("counterparty_id")
    if kind == DiscountKind.PERSONAL:
        if party_id in (None, ""):
            _add(errors, "counterparty_id", _("A personal discount needs a client."))
        else:
            try:
                values["counterparty"] = Counterparty.objects.get(pk=int(party_id))
            except (Counterparty.DoesNotExist, ValueError, TypeError):
                _add(errors, "counterparty_id", _("No such counterparty."))
        if links["segments"]:
            _add(errors, "segment_ids", _("A personal discount is for one client; leave segments empty."))
    elif party_id not in (None, ""):
        _add(errors, "counterparty_id", _("Only a personal discount names a client."))
    if kind == DiscountKind.QUANTITY and not (links["products"] or links["groups"]):
        _add(errors, "product_ids", _("A quantity break needs products or product groups."))
    if errors:
        raise ValidationError(errors)
    return values, links, tiers


def _save_rule(rule: DiscountRule, links: dict[str, list[int]], tiers: list[tuple[Decimal, Decimal]]) -> None:
    rule.products.set(links["products"])
    rule.groups.set(links["groups"])
    rule.segments.set(links["segments"])
    rule.tiers.all().delete()
    DiscountTier.objects.bulk_create([DiscountTier(rule=rule, threshold=threshold, percent=percent) for threshold, percent in tiers])


def _rule_snapshot(rule: DiscountRule) -> dict[str, Any]:
    result = audit.snapshot(rule)
    result["products"] = sorted(rule.products.values_list("sku", flat=True))
    result["groups"] = sorted(rule.groups.values_list("name", flat=True))
    result["segments"] = sorted(rule.segments.values_list("name", flat=True))
    result["tiers"] = [f"{t.threshold}: {t.percent}%" for t in rule.tiers.all()]
    return result


@transaction.atomic
def discount_rule_create(*, actor, data: dict[str, Any]) -> DiscountRule:
    values, links, tiers = _clean_rule(data, existing=None)
    rule = DiscountRule.objects.create(**values)
    _save_rule(rule, links, tiers)
    audit.record(actor=actor, action=AuditAction.CREATE, target=rule, changes=_rule_snapshot(rule))
    return rule


@transaction.atomic
def discount_rule_update(*, actor, rule_id: int, data: dict[str, Any]) -> DiscountRule:
    rule = _get(DiscountRule.objects.select_for_update(), rule_id)
    before = _rule_snapshot(rule)
    values, links, tiers = _clean_rule(data, existing=rule)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    _save_rule(rule, links, tiers)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=rule, changes=audit.diff(before, _rule_snapshot(rule)))
    return rule


@transaction.atomic
def discount_rule_delete(*, actor, rule_id: int) -> None:
    rule = _get(DiscountRule.objects.select_for_update(), rule_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=rule, changes=_rule_snapshot(rule))
    rule.delete()


# ------------------------------------------------------------------------------------------------ discount limits


def _clean_limit(data: dict, *, existing: ManualDiscountLimit | None) -> dict[str, Any]:
    errors: Errors = {}
    merged = dict(data)
    if existing:
        merged.setdefault("user_id", existing.user_id)
        merged.setdefault("group_id", existing.group_id)
        merged.setdefault("max_percent", existing.max_percent)
    user_id, group_id = merged.get("user_id"), merged.get("group_id")
    user = group = None
    if user_id in (None, "") and group_id in (None, ""):
        _add(errors, "user_id", _("Choose a user or a role."))
    elif user_id not in (None, "") and group_id not in (None, ""):
        _add(errors, "group_id", _("Choose a user or a role, not both."))
    elif user_id not in (None, ""):
        model = get_user_model()
        try:
            user = model.objects.get(pk=int(user_id))
        except (model.DoesNotExist, ValueError, TypeError):
            _add(errors, "user_id", _("No such user."))
        else:
            if ManualDiscountLimit.objects.filter(user=user).exclude(pk=existing.pk if existing else None).exists():
                _add(errors, "user_id", _("This user already has a limit; change it instead."))
    else:
        try:
            group = Group.objects.get(pk=int(group_id))
        except (Group.DoesNotExist, ValueError, TypeError):
            _add(errors, "group_id", _("No such role."))
        else:
            if ManualDiscountLimit.objects.filter(group=group).exclude(pk=existing.pk if existing else None).exists():
                _add(errors, "group_id", _("This role already has a limit; change it instead."))
    max_percent = _percent(merged, "max_percent", errors)
    if errors:
        raise ValidationError(errors)
    return {"user": user, "group": group, "max_percent": max_percent}


@transaction.atomic
def discount_limit_create(*, actor, data: dict[str, Any]) -> ManualDiscountLimit:
    limit = ManualDiscountLimit.objects.create(**_clean_limit(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=limit, changes=audit.snapshot(limit))
    return limit


@transaction.atomic
def discount_limit_update(*, actor, limit_id: int, data: dict[str, Any]) -> ManualDiscountLimit:
    limit = _get(ManualDiscountLimit.objects.select_for_update(), limit_id)
    before = audit.snapshot(limit)
    for name, value in _clean_limit(data, existing=limit).items():
        setattr(limit, name, value)
    limit.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, target=limit, changes=_changes(before, limit))
    return limit


@transaction.atomic
def discount_limit_delete(*, actor, limit_id: int) -> None:
    limit = _get(ManualDiscountLimit.objects.select_for_update(), limit_id)
    audit.record(actor=actor, action=AuditAction.DELETE, target=limit, changes=audit.snapshot(limit))
    limit.delete()
