"""Fixtures of the pricing tests: a small catalogue (a group tree), price types with lists, clients and segments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.catalog.models import Product, ProductGroup, Unit
from fabrika.parties.models import Counterparty, Segment
from fabrika.pricing import services
from fabrika.pricing.models import (
    DiscountRule,
    DiscountTier,
    ManualDiscountLimit,
    PriceList,
    PriceListItem,
    PriceType,
)

DAY = dt.date(2026, 3, 10)


def D(value) -> Decimal:
    return Decimal(str(value))


def table_counts() -> dict[str, int]:
    """Rows of every pricing table: a refusal must leave them as they were."""
    return {
        model.__name__: model.objects.count()
        for model in (PriceType, PriceList, PriceListItem, DiscountRule, DiscountTier, ManualDiscountLimit)
    }


class World:
    """Robots (group) > Kits (subgroup) > kit KIT-1; Parts (group) > part P-1; retail and wholesale in RUB."""

    def __init__(self, actor):
        self.actor = actor
        self.pcs = Unit.objects.get_or_create(code="pcs", defaults={"name": "Pieces"})[0]
        self.robots = ProductGroup.objects.create(name="Robots")
        self.kits = ProductGroup.objects.create(name="Kits", parent=self.robots)
        self.parts = ProductGroup.objects.create(name="Parts")
        self.kit = self.product("KIT-1", self.kits)
        self.part = self.product("P-1", self.parts)
        self.retail = services.price_type_create(actor=actor, data={"code": "retail", "name": "Retail", "currency": "RUB", "is_retail": True})
        self.wholesale = services.price_type_create(
            actor=actor, data={"code": "wholesale", "name": "Wholesale", "currency": "RUB", "prices_include_tax": True}
        )
        self.retail_list = self.price_list(self.retail, dt.date(2026, 1, 1), {self.kit: "1000.00", self.part: "100.00"})
        self.wholesale_list = self.price_list(self.wholesale, dt.date(2026, 1, 1), {self.kit: "850.00", self.part: "85.00"})
        self.school = Counterparty.objects.create(name="Robokids School", is_client=True, responsible=actor)
        self.dealer = Counterparty.objects.create(name="Dealer LLC", is_client=True, price_type_code="wholesale", responsible=actor)
        self.schools = Segment.objects.create(name="Schools")
        self.school.segments.add(self.schools)

    def product(self, sku, group, **extra):
        return Product.objects.create(sku=sku, name=f"Product {sku}", group=group, stock_unit=self.pcs, **extra)

    def price_list(self, price_type, valid_from, prices, *, currency="RUB", valid_to=None, name=""):
        price_list = services.price_list_create(
            actor=self.actor,
            data={"price_type_id": price_type.pk, "name": name or f"{price_type.code} {valid_from}", "currency": currency,
                  "valid_from": valid_from, "valid_to": valid_to},
        )
        for product, price in prices.items():
            services.price_list_item_add(actor=self.actor, price_list_id=price_list.pk, data={"product_id": product.pk, "price": price})
        return price_list

    def rule(self, kind, **data):
        data.setdefault("name", f"{kind} rule")
        data.setdefault("valid_from", dt.date(2026, 1, 1))
        return services.discount_rule_create(actor=self.actor, data={"kind": kind, **data})


@pytest.fixture
def head(make_user):
    return make_user("Head of sales", username="head")


@pytest.fixture
def manager(make_user):
    return make_user("Sales manager", username="manager")


@pytest.fixture
def pricing_admin(db):
    """The author of the fixtures' records: a plain user (the services take any actor; roles cost time to set up)."""
    from fabrika.core.models import User

    return User.objects.create_user(username="pricing-admin")


@pytest.fixture
def world(pricing_admin):
    return World(pricing_admin)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made in nearly every test; the default hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
