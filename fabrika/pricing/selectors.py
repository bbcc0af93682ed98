"""Pricing reads used by the API, the pages and other apps.

Pricing records have no responsible user, so they are not scope-filtered: a role that may view them sees all of them
(access is the `pricing.view_*` permission, checked by the API and the views).
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from fabrika.core.errors import NotFound

from .models import DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType


def _get(queryset: QuerySet, pk):
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{queryset.model._meta.verbose_name.capitalize()} {pk} not found")


def price_type_list(*, active: bool | None = None, search: str = "") -> QuerySet[PriceType]:
    queryset = PriceType.objects.annotate(list_count=Count("price_lists"))
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if search:
        queryset = queryset.filter(Q(code__icontains=search) | Q(name__icontains=search))
    return queryset


def price_type_get(price_type_id) -> PriceType:
    return _get(price_type_list(), price_type_id)


def price_type_choices(*, active_only: bool = True) -> list[tuple[str, str]]:
    queryset = PriceType.objects.filter(is_active=True) if active_only else PriceType.objects.all()
    return [(code, f"{code} — {name}") for code, name in queryset.values_list("code", "name")]


def price_list_list(*, price_type_id: int | None = None, currency: str = "", active: bool | None = None, search: str = "",
                    on=None) -> QuerySet[PriceList]:
    queryset = PriceList.objects.select_related("price_type").annotate(item_count=Count("items"))
    if price_type_id:
        queryset = queryset.filter(price_type_id=price_type_id)
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if search:
        queryset = queryset.filter(name__icontains=search)
    if on is not None:
        queryset = queryset.filter(valid_from__lte=on).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return queryset


def price_list_get(price_list_id) -> PriceList:
    return _get(price_list_list(), price_list_id)


def price_list_items(price_list_id: int, *, search: str = "") -> QuerySet[PriceListItem]:
    queryset = PriceListItem.objects.filter(price_list_id=price_list_id).select_related("product", "product__stock_unit", "product__group")
    if search:
        queryset = queryset.filter(Q(product__sku__icontains=search) | Q(product__name__icontains=search))
    return queryset.order_by("product__sku")


def price_list_item_get(item_id) -> PriceListItem:
    return _get(PriceListItem.objects.select_related("product", "price_list"), item_id)


def discount_rule_list(*, kind: str = "", active: bool | None = None, search: str = "", counterparty_id: int | None = None) -> QuerySet[DiscountRule]:
    queryset = DiscountRule.objects.select_related("counterparty").prefetch_related("tiers", "products", "groups", "segments")
    if kind:
        queryset = queryset.filter(kind=kind)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if counterparty_id:
        queryset = queryset.filter(counterparty_id=counterparty_id)
    return queryset


def discount_rule_get(rule_id) -> DiscountRule:
    return _get(discount_rule_list(), rule_id)


def discount_limit_list() -> QuerySet[ManualDiscountLimit]:
    return ManualDiscountLimit.objects.select_related("user", "group")


def discount_limit_get(limit_id) -> ManualDiscountLimit:
    return _get(discount_limit_list(), limit_id)


def ledger_purchases(counterparty_id: int):
    """A `purchases(date_from, date_to)` callable for the engine from the journal: the client's net revenue (revenue
    credits minus debits posted with this counterparty) in the window, in the base currency. Used by the Price check
    page and the quote endpoint; the sales app passes its own when it prices an order."""
    from decimal import Decimal

    from fabrika.ledger.models import JournalLine

    def purchases(date_from, date_to) -> Decimal:
        rows = JournalLine.objects.filter(
            account__key="revenue", counterparty_id=counterparty_id, date__gte=date_from, date__lte=date_to
        ).values_list("debit", "credit")
        return sum((credit - debit for debit, credit in rows), Decimal(0))

    return purchases
