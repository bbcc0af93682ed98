"""The best-price engine: the price of a product for a client on a date, and the best automatic discount.

    quote_line(product_id=, quantity=, on=, currency=, counterparty_id=, price_type_code=, purchases=) -> LineQuote
    quote_lines(lines=[(product_id, quantity), ...], on=, currency=, ...) -> [LineQuote, ...]   # same, batched
    manual_discount_limit(user=) -> Decimal                                                   # the manager's cap

Rules (docs/design/pricing.md):
- Price type: the argument, else the client's `price_type_code` (when it names an active type), else the retail type.
- A product's price in a type and currency on a date comes from the active list of that type and currency with the
  latest `valid_from <= date` (and no `valid_to` or `valid_to >= date`) that has the product. When the client's type
  has no price for the product, the retail price is used (and the quote names the retail type); when neither has one,
  `PriceNotFound`.
- `retail_price` is the retail price in the tax mode of the type used (converted with the product's VAT rate when the
  two types differ in whether prices include tax), so the discount from retail is always like for like.
- Every active discount rule valid on the date whose client, segments and products match gives a candidate; the one
  with the highest percent wins; ties: higher priority, then kind order personal > promotion > quantity break >
  volume maintenance > cumulative, then the lower rule id.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from fabrika.core.errors import ValidationError

from .models import (
    KIND_ORDER,
    DiscountKind,
    DiscountRule,
    DiscountTier,
    ManualDiscountLimit,
    PriceListItem,
    PriceType,
)

ZERO = Decimal(0)
HUNDRED = Decimal(100)
PRICE_QUANTUM = Decimal("0.01")

Purchases = Callable[[datetime.date, datetime.date], Decimal]


class PriceNotFound(ValidationError):
    """No price list has the product in that currency at that date."""

    code = "price_not_found"

    def __init__(self, message: str, **values):
        super().__init__({"product": [message]}, **values)


@dataclass(frozen=True)
class Candidate:
    """One discount that applies to the line."""

    rule_id: int | None
    kind: str
    percent: Decimal
    description: str
    priority: int

    @property
    def sort_key(self) -> tuple:
        return (-self.percent, -self.priority, KIND_ORDER.get(self.kind, len(KIND_ORDER)), self.rule_id or 0)


@dataclass(frozen=True)
class LineQuote:
    retail_price: Decimal  # the retail type's price, in the tax mode of the type used
    price: Decimal  # the price type's price per stock unit (the line's price before discount)
    discount_percent: Decimal  # the best automatic discount, 0 when none
    rule: str  # description of the applied discount ("" when none)
    rule_key: str  # "rule:12" ("" when none)
    candidates: tuple[Candidate, ...]  # every applicable discount, best first
    price_type_code: str
    prices_include_tax: bool
    currency: str

    @property
    def price_after_discount(self) -> Decimal:
        return (self.price * (HUNDRED - self.discount_percent) / HUNDRED).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)

    @property
    def difference_from_retail_percent(self) -> Decimal:
        """How much lower than retail the discounted price is, in percent of retail (0 when there is no retail price)."""
        if not self.retail_price:
            return ZERO
        return ((self.retail_price - self.price_after_discount) * HUNDRED / self.retail_price).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------------------------------
# Reads the engine needs, each one query for the whole batch.


@dataclass(frozen=True)
class _Rule:
    id: int
    kind: str
    name: str
    percent: Decimal
    priority: int
    counterparty_id: int | None
    period_days: int | None
    min_amount: Decimal | None
    valid_from: datetime.date
    tiers: tuple[tuple[Decimal, Decimal], ...]  # (threshold, percent) ascending
    product_ids: frozenset[int]
    group_ids: frozenset[int]
    segment_ids: frozenset[int]


def _price_types() -> tuple[dict[str, PriceType], PriceType | None]:
    types = {price_type.code: price_type for price_type in PriceType.objects.filter(is_active=True)}
    retail = next((price_type for price_type in types.values() if price_type.is_retail), None)
    return types, retail


def _client(counterparty_id: int | None) -> tuple[str, frozenset[int]]:
    if counterparty_id is None:
        return "", frozenset()
    from fabrika.parties.models import Counterparty

    code = Counterparty.objects.filter(pk=counterparty_id).values_list("price_type_code", flat=True).first()
    if code is None:
        raise ValidationError({"counterparty_id": [_("No such counterparty.")]})
    segments = Counterparty.segments.through.objects.filter(counterparty_id=counterparty_id).values_list("segment_id", flat=True)
    return code, frozenset(segments)


def _prices(product_ids: Iterable[int], type_ids: Iterable[int], currency: str, on: datetime.date) -> dict[tuple[int, int], Decimal]:
    """{(price_type_id, product_id): price} from the newest list in force that has the product."""
    rows = (
        PriceListItem.objects.filter(
            product_id__in=list(product_ids),
            price_list__price_type_id__in=list(type_ids),
            price_list__currency=currency,
            price_list__is_active=True,
            price_list__valid_from__lte=on,
        )
        .filter(Q(price_list__valid_to__isnull=True) | Q(price_list__valid_to__gte=on))
        .order_by("price_list__valid_from", "price_list_id")
        .values_list("price_list__price_type_id", "product_id", "price")
    )
    return {(type_id, product_id): price for type_id, product_id, price in rows}  # later (newer) lists overwrite


def _products(product_ids: Iterable[int]) -> dict[int, tuple[int | None, Decimal | None]]:
    from fabrika.catalog.models import Product

    return {pk: (group_id, vat) for pk, group_id, vat in Product.objects.filter(pk__in=list(product_ids)).values_list("pk", "group_id", "vat_rate")}


def _group_ancestors() -> Callable[[int | None], frozenset[int]]:
    """A function giving a group with all its parents (a rule on a group covers its subgroups)."""
    from fabrika.catalog.models import ProductGroup

    parents = dict(ProductGroup.objects.values_list("pk", "parent_id"))
    cache: dict[int | None, frozenset[int]] = {None: frozenset()}

    def ancestors(group_id: int | None) -> frozenset[int]:
        if group_id in cache:
            return cache[group_id]
        chain: list[int] = []
        current = group_id
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        cache[group_id] = frozenset(chain)
        return cache[group_id]

    return ancestors


def _rules(on: datetime.date, counterparty_id: int | None) -> list[_Rule]:
    client_filter = Q(counterparty__isnull=True) & ~Q(kind=DiscountKind.PERSONAL)
    if counterparty_id is not None:
        client_filter |= Q(counterparty_id=counterparty_id, kind=DiscountKind.PERSONAL)
    rows = list(
        DiscountRule.objects.filter(client_filter, is_active=True, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .values_list("pk", "kind", "name", "percent", "priority", "counterparty_id", "period_days", "min_amount", "valid_from")
    )
    if not rows:
        return []
    ids = [row[0] for row in rows]
    tiers: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for rule_id, threshold, percent in DiscountTier.objects.filter(rule_id__in=ids).order_by("threshold").values_list("rule_id", "threshold", "percent"):
        tiers[rule_id].append((threshold, percent))
    links: dict[str, dict[int, set[int]]] = {}
    for name, column in (("products", "product_id"), ("groups", "productgroup_id"), ("segments", "segment_id")):
        through = getattr(DiscountRule, name).through
        linked: dict[int, set[int]] = defaultdict(set)
        for rule_id, target_id in through.objects.filter(discountrule_id__in=ids).values_list("discountrule_id", column):
            linked[rule_id].add(target_id)
        links[name] = linked
    return [
        _Rule(
            id=pk, kind=kind, name=name, percent=percent, priority=priority, counterparty_id=party, period_days=days,
            min_amount=min_amount, valid_from=valid_from, tiers=tuple(tiers[pk]),
            product_ids=frozenset(links["products"][pk]), group_ids=frozenset(links["groups"][pk]), segment_ids=frozenset(links["segments"][pk]),
        )
        for pk, kind, name, percent, priority, party, days, min_amount, valid_from in rows
    ]


# ---------------------------------------------------------------------------------------------------------------------
# Pure decisions.


def cumulative_window(*, on: datetime.date, period_days: int) -> tuple[datetime.date, datetime.date]:
    """The last `period_days` days before `on` (the day of the order itself is not counted)."""
    return on - datetime.timedelta(days=period_days), on - datetime.timedelta(days=1)


def volume_window(*, on: datetime.date, period_days: int, anchor: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period before the one `on` falls in; periods of `period_days` days run back to back from `anchor`."""
    index = (on - anchor).days // period_days
    current_start = anchor + datetime.timedelta(days=index * period_days)
    return current_start - datetime.timedelta(days=period_days), current_start - datetime.timedelta(days=1)


def _tier_percent(tiers: Sequence[tuple[Decimal, Decimal]], value: Decimal) -> tuple[Decimal, Decimal] | None:
    best = None
    for threshold, percent in tiers:
        if value >= threshold:
            best = (threshold, percent)
    return best


def _format(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def best_candidate(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    """Every candidate, best first (the engine's tie-breaks)."""
    return tuple(sorted(candidates, key=lambda candidate: candidate.sort_key))


class _Context:
    def __init__(self, *, on: datetime.date, counterparty_id: int | None, segment_ids: frozenset[int], purchases: Purchases | None,
                 rules: list[_Rule], ancestors: Callable[[int | None], frozenset[int]]):
        self.on = on
        self.counterparty_id = counterparty_id
        self.segment_ids = segment_ids
        self.purchases = purchases
        self.rules = rules
        self.ancestors = ancestors
        self._purchases_cache: dict[tuple[datetime.date, datetime.date], Decimal] = {}

    def purchases_in(self, window: tuple[datetime.date, datetime.date]) -> Decimal:
        if window not in self._purchases_cache:
            assert self.purchases is not None
            self._purchases_cache[window] = Decimal(self.purchases(*window) or 0)
        return self._purchases_cache[window]

    def candidates(self, *, product_id: int, group_id: int | None, quantity: Decimal) -> tuple[Candidate, ...]:
        groups = self.ancestors(group_id)
        found = []
        for rule in self.rules:
            if rule.kind != DiscountKind.PERSONAL and rule.segment_ids and not (rule.segment_ids & self.segment_ids):
                continue
            if (rule.product_ids or rule.group_ids) and product_id not in rule.product_ids and not (rule.group_ids & groups):
                continue
            candidate = self._candidate(rule, quantity)
            if candidate is not None and candidate.percent > 0:
                found.append(candidate)
        return best_candidate(found)

    def _candidate(self, rule: _Rule, quantity: Decimal) -> Candidate | None:
        percent, description = rule.percent, rule.name
        if rule.kind == DiscountKind.QUANTITY:
            tier = _tier_percent(rule.tiers, quantity)
            if tier is None:
                return None
            percent = tier[1]
            description = _("%(name)s (from %(threshold)s)") % {"name": rule.name, "threshold": _format(tier[0])}
        elif rule.kind in (DiscountKind.CUMULATIVE, DiscountKind.VOLUME):
            if self.purchases is None or self.counterparty_id is None or not rule.period_days:
                return None
            if rule.kind == DiscountKind.CUMULATIVE:
                tier = _tier_percent(rule.tiers, self.purchases_in(cumulative_window(on=self.on, period_days=rule.period_days)))
                if tier is None:
                    return None
                percent = tier[1]
                description = _("%(name)s (purchases from %(threshold)s)") % {"name": rule.name, "threshold": _format(tier[0])}
            else:
                window = volume_window(on=self.on, period_days=rule.period_days, anchor=rule.valid_from)
                if self.purchases_in(window) < (rule.min_amount or ZERO):
                    return None
        return Candidate(rule_id=rule.id, kind=rule.kind, percent=percent, description=description, priority=rule.priority)


def _convert_tax_mode(price: Decimal, *, include_tax: bool, to_include_tax: bool, rate: Decimal) -> Decimal:
    if include_tax == to_include_tax or not rate:
        return price
    if to_include_tax:
        converted = price * (HUNDRED + rate) / HUNDRED
    else:
        converted = price * HUNDRED / (HUNDRED + rate)
    return converted.quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def _resolve_type(types: dict[str, PriceType], retail: PriceType | None, *, price_type_code: str, client_code: str) -> PriceType | None:
    if price_type_code:
        if price_type_code not in types:
            raise ValidationError({"price_type_code": [_("No active price type with the code “%(code)s”.") % {"code": price_type_code}]})
        return types[price_type_code]
    if client_code and client_code in types:
        return types[client_code]
    return retail


def quote_lines(
    *,
    lines: Sequence[tuple[int, Decimal]],
    on: datetime.date,
    currency: str = "",
    counterparty_id: int | None = None,
    price_type_code: str = "",
    purchases: Purchases | None = None,
) -> list[LineQuote]:
    """Quotes for many (product_id, quantity) pairs of one client at once, in a fixed number of queries."""
    for quantity in (quantity for _product, quantity in lines):
        if Decimal(quantity) < 0:
            raise ValidationError({"quantity": [_("The quantity cannot be negative.")]})
    types, retail = _price_types()
    client_code, segment_ids = _client(counterparty_id)
    price_type = _resolve_type(types, retail, price_type_code=price_type_code, client_code=client_code)
    if price_type is None:
        raise PriceNotFound(_("There is no retail price type; create one first."))
    currency = (currency or price_type.currency).upper()
    product_ids = {int(product_id) for product_id, _quantity in lines}
    products = _products(product_ids)
    missing = product_ids - set(products)
    if missing:
        raise ValidationError({"product_id": [_("No such product: %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)))}]})
    type_ids = {price_type.pk} | ({retail.pk} if retail else set())
    prices = _prices(product_ids, type_ids, currency, on)
    context = _Context(on=on, counterparty_id=counterparty_id, segment_ids=segment_ids, purchases=purchases,
                       rules=_rules(on, counterparty_id), ancestors=_group_ancestors())
    default_rate: Decimal | None = None
    quotes = []
    for product_id, quantity in lines:
        product_id, quantity = int(product_id), Decimal(quantity)
        group_id, vat_rate = products[product_id]
        used = price_type
        price = prices.get((price_type.pk, product_id))
        if price is None and retail is not None:
            used, price = retail, prices.get((retail.pk, product_id))
        if price is None:
            raise PriceNotFound(
                _("No price list has this product in %(currency)s on %(date)s.") % {"currency": currency, "date": on.isoformat()},
                product_id=product_id,
            )
        retail_price = prices.get((retail.pk, product_id)) if retail else None
        if retail_price is None:
            retail_price = price
        elif retail is not None and retail.prices_include_tax != used.prices_include_tax:
            if vat_rate is None:
                if default_rate is None:
                    from fabrika.core.selectors import company_settings

                    default_rate = company_settings().default_vat_rate
                vat_rate = default_rate
            retail_price = _convert_tax_mode(retail_price, include_tax=retail.prices_include_tax, to_include_tax=used.prices_include_tax, rate=vat_rate)
        candidates = context.candidates(product_id=product_id, group_id=group_id, quantity=quantity)
        best = candidates[0] if candidates else None
        quotes.append(
            LineQuote(
                retail_price=retail_price,
                price=price,
                discount_percent=best.percent if best else ZERO,
                rule=best.description if best else "",
                rule_key=f"rule:{best.rule_id}" if best and best.rule_id is not None else "",
                candidates=candidates,
                price_type_code=used.code,
                prices_include_tax=used.prices_include_tax,
                currency=currency,
            )
        )
    return quotes


def quote_line(
    *,
    product_id: int,
    quantity: Decimal,
    on: datetime.date,
    currency: str = "",
    counterparty_id: int | None = None,
    price_type_code: str = "",
    purchases: Purchases | None = None,
) -> LineQuote:
    """The price and best automatic discount of one product for a client on a date (quantity in the stock unit)."""
    return quote_lines(
        lines=[(product_id, quantity)], on=on, currency=currency, counterparty_id=counterparty_id,
        price_type_code=price_type_code, purchases=purchases,
    )[0]


def manual_discount_limit(*, user) -> Decimal:
    """The largest special discount % the user may give without approval: the user's own limit if set, else the
    highest limit of the user's roles, else 0; a superuser 100."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return ZERO
    if user.is_superuser:
        return HUNDRED
    own = ManualDiscountLimit.objects.filter(user_id=user.pk).values_list("max_percent", flat=True).first()
    if own is not None:
        return own
    by_role = list(ManualDiscountLimit.objects.filter(group__user=user).values_list("max_percent", flat=True))
    return max(by_role, default=ZERO)
