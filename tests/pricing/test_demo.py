"""The pricing demo: loads on top of the core, ledger and catalog demo, and a second load changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from fabrika.catalog.models import Product
from fabrika.core.demo import CORE_LOADERS, demo_load
from fabrika.core.models import AuditEntry
from fabrika.inventory.demo import load_catalog_and_stock
from fabrika.ledger.demo import load_ledger
from fabrika.parties.models import Counterparty
from fabrika.pricing.demo import load_pricing
from fabrika.pricing.engine import manual_discount_limit, quote_line
from fabrika.pricing.models import DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType

from .conftest import D

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_loads_once(django_assert_max_num_queries):
    loaders = (*CORE_LOADERS, load_ledger, load_catalog_and_stock, load_pricing)
    context = demo_load(loaders=loaders)
    assert list(PriceType.objects.order_by("code").values_list("code", "is_retail")) == [("dealer", False), ("retail", True), ("wholesale", False)]
    assert PriceList.objects.count() == 3 and PriceListItem.objects.count() == 27
    kit = Product.objects.get(sku="KIT-PRO")
    assert {item.price_list.price_type.code: item.price for item in PriceListItem.objects.filter(product=kit).select_related("price_list__price_type")} == {
        "retail": D("24900.00"), "wholesale": D("21165.00"), "dealer": D("18675.00")}
    dealer = Counterparty.objects.get(name="EduTech Distribution LLC")
    assert dealer.price_type_code == "dealer"
    assert DiscountRule.objects.count() == 4 and ManualDiscountLimit.objects.count() == 2
    school = Counterparty.objects.get(name="RoboSchool club, Samara")
    quote = quote_line(product_id=kit.pk, quantity=D(10), on=dt.date(2026, 11, 20), currency="RUB", counterparty_id=school.pk)
    assert (quote.price, quote.discount_percent) == (D("24900.00"), D(7))
    assert [c.kind for c in quote.candidates] == ["personal", "quantity"]
    assert manual_discount_limit(user=context.users["manager"] if "manager" in context.users else next(
        u for u in context.users.values() if u.groups.filter(name="Sales manager").exists())) == D(5)
    last_audit = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    counts = (PriceType.objects.count(), PriceList.objects.count(), PriceListItem.objects.count(), DiscountRule.objects.count())
    demo_load(loaders=loaders)
    assert (PriceType.objects.count(), PriceList.objects.count(), PriceListItem.objects.count(), DiscountRule.objects.count()) == counts
    assert not AuditEntry.objects.filter(content_type__app_label="pricing", pk__gt=last_audit).exists()
