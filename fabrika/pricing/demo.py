"""Pricing part of the Robokids demo: price types, price lists and discount rules. Loading twice changes nothing.

Retail (prices include VAT) is about twice the cost; wholesale is retail −15 %, dealer −25 %. Two clients get the
wholesale and dealer types; one school club has a personal 7 % on the finished kits; kits have quantity breaks,
education clients a promotion, everyone cumulative tiers; the Sales manager role may give 5 % by hand, Head of sales 15 %.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from fabrika.core.demo import DemoContext

from . import services
from .models import DiscountKind, DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType

LISTS_FROM = dt.date(2026, 1, 1)
RULES_FROM = dt.date(2026, 1, 1)
# code, name, share of retail
DEMO_TYPES = (("retail", "Retail", Decimal("1")), ("wholesale", "Wholesale", Decimal("0.85")), ("dealer", "Dealer", Decimal("0.75")))
# SKU → retail price with VAT, RUB (finished kits, the workshop service and electronics resold as spare parts)
DEMO_RETAIL = {
    "KIT-START": Decimal("12900.00"),
    "KIT-PRO": Decimal("24900.00"),
    "SVC-ASM": Decimal("3500.00"),
    "CTL-RK1": Decimal("2900.00"),
    "SRV-MG90": Decimal("390.00"),
    "BAT-18650": Decimal("450.00"),
    "SNS-US": Decimal("1590.00"),  # bought at 60 CNY (about 760 RUB)
    "CBL-USB": Decimal("250.00"),
    "WHL-65": Decimal("60.00"),
}
DEMO_CLIENT_TYPES = {"Toy Planet retail chain": "wholesale", "EduTech Distribution LLC": "dealer"}
PERSONAL_CLIENT = "RoboSchool club, Samara"
KITS_GROUP = "Finished kits"
PROMOTION_SEGMENT = "Education"
DEMO_LIMITS = {"Sales manager": Decimal("5"), "Head of sales": Decimal("15")}


def _price(retail: Decimal, share: Decimal) -> Decimal:
    return (retail * share).quantize(Decimal("1"), rounding=ROUND_HALF_UP).quantize(Decimal("0.01"))


def _types(actor) -> dict[str, PriceType]:
    types = {price_type.code: price_type for price_type in PriceType.objects.filter(code__in=[code for code, _n, _s in DEMO_TYPES])}
    for code, name, _share in DEMO_TYPES:
        if code not in types:
            types[code] = services.price_type_create(
                actor=actor, data={"code": code, "name": name, "currency": "RUB", "prices_include_tax": True, "is_retail": code == "retail"}
            )
    return types


def _lists(actor, types: dict[str, PriceType], products: dict) -> None:
    for code, name, share in DEMO_TYPES:
        price_list = PriceList.objects.filter(price_type=types[code], currency="RUB", valid_from=LISTS_FROM).first()
        if price_list is None:
            price_list = services.price_list_create(
                actor=actor, data={"price_type_id": types[code].pk, "name": f"{name} 2026", "currency": "RUB", "valid_from": LISTS_FROM}
            )
        present = set(PriceListItem.objects.filter(price_list=price_list).values_list("product__sku", flat=True))
        for sku, retail in DEMO_RETAIL.items():
            if sku in products and sku not in present:
                services.price_list_item_add(actor=actor, price_list_id=price_list.pk, data={"product_id": products[sku].pk, "price": _price(retail, share)})


def _clients(actor, context: DemoContext) -> None:
    from fabrika.parties.services import counterparty_update

    parties = context.records.get("counterparties", {})
    for name, code in DEMO_CLIENT_TYPES.items():
        party = parties.get(name)
        if party is not None and party.price_type_code != code:
            counterparty_update(actor=actor, counterparty_id=party.pk, data={"price_type_code": code})


def _rules(actor, context: DemoContext, products: dict) -> None:
    from fabrika.catalog.models import ProductGroup
    from fabrika.parties.models import Segment

    kits = ProductGroup.objects.filter(name=KITS_GROUP).first()
    parties = context.records.get("counterparties", {})
    segment = Segment.objects.filter(name=PROMOTION_SEGMENT).first()
    existing = set(DiscountRule.objects.values_list("name", flat=True))
    specs = []
    if kits is not None and PERSONAL_CLIENT in parties:
        specs.append({"kind": DiscountKind.PERSONAL, "name": "RoboSchool Samara: 7% on kits", "percent": "7",
                      "counterparty_id": parties[PERSONAL_CLIENT].pk, "group_ids": [kits.pk],
                      "description": "Agreed for the 2026 school year."})
    if kits is not None:
        specs.append({"kind": DiscountKind.QUANTITY, "name": "Kits in quantity", "group_ids": [kits.pk],
                      "tiers": [{"threshold": "5", "percent": "3"}, {"threshold": "10", "percent": "5"}]})
    if segment is not None and "KIT-START" in products:
        specs.append({"kind": DiscountKind.PROMOTION, "name": "Back to school: Start kit for education", "percent": "6",
                      "product_ids": [products["KIT-START"].pk], "segment_ids": [segment.pk],
                      "valid_from": dt.date(2026, 8, 15), "valid_to": dt.date(2026, 12, 31)})
    specs.append({"kind": DiscountKind.CUMULATIVE, "name": "Loyal clients", "period_days": 90,
                  "tiers": [{"threshold": "100000", "percent": "2"}, {"threshold": "300000", "percent": "4"}]})
    for spec in specs:
        if spec["name"] not in existing:
            services.discount_rule_create(actor=actor, data={"valid_from": RULES_FROM, **spec})


def _limits(actor, context: DemoContext) -> None:
    from django.contrib.auth.models import Group

    for role, percent in DEMO_LIMITS.items():
        group = context.roles.get(role) or Group.objects.filter(name=role).first()
        if group is not None and not ManualDiscountLimit.objects.filter(group=group).exists():
            services.discount_limit_create(actor=actor, data={"group_id": group.pk, "max_percent": percent})


def load_pricing(context: DemoContext) -> None:
    """Price types, lists, client price types, discount rules and limits; a second load changes nothing."""
    from fabrika.catalog.models import Product

    actor = context.admin
    products = {product.sku: product for product in Product.objects.filter(sku__in=list(DEMO_RETAIL))}
    types = _types(actor)
    _lists(actor, types, products)
    _clients(actor, context)
    _rules(actor, context, products)
    _limits(actor, context)
    context.records["pricing"] = {"price_types": types}
