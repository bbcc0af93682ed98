"""A client's card shows their price type and the discount rules written for them (pricing/cards.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from fabrika.parties.models import Counterparty, Segment
from fabrika.pricing.models import DiscountKind, DiscountRule, PriceType


@pytest.fixture
def setup(db, make_user):
    manager = make_user("Sales manager", username="seller")
    PriceType.objects.create(code="RETAIL", name="Retail", currency="RUB", is_retail=True)
    dealer = PriceType.objects.create(code="DEALER", name="Dealer", currency="RUB", prices_include_tax=False)
    builders = Segment.objects.create(name="Builders")
    client = Counterparty.objects.create(name="Stroy LLC", is_client=True, price_type_code="DEALER", responsible=manager)
    client.segments.add(builders)
    other = Counterparty.objects.create(name="Other LLC", is_client=True, responsible=manager)
    start = dt.date(2026, 1, 1)
    personal = DiscountRule.objects.create(kind=DiscountKind.PERSONAL, name="Stroy 7 %", percent=Decimal("7"), counterparty=client, valid_from=start)
    promotion = DiscountRule.objects.create(kind=DiscountKind.PROMOTION, name="Builders week", percent=Decimal("4"), valid_from=start)
    promotion.segments.add(builders)
    DiscountRule.objects.create(kind=DiscountKind.PERSONAL, name="Other 9 %", percent=Decimal("9"), counterparty=other, valid_from=start)
    DiscountRule.objects.create(kind=DiscountKind.PERSONAL, name="Old 3 %", percent=Decimal("3"), counterparty=client, valid_from=start,
                                valid_to=dt.date(2026, 2, 1))
    DiscountRule.objects.create(kind=DiscountKind.PERSONAL, name="Off 5 %", percent=Decimal("5"), counterparty=client, valid_from=start, is_active=False)
    return {"manager": manager, "client": client, "other": other, "dealer": dealer, "personal": personal, "promotion": promotion}


def test_the_card_lists_the_price_type_and_only_this_clients_current_rules(client, make_user, setup):
    client.force_login(setup["manager"])
    page = client.get(reverse("parties:counterparty_detail", args=[setup["client"].pk])).content.decode()
    assert "Prices and discounts" in page
    assert "Dealer (DEALER)" in page and "prices exclude tax" in page
    assert reverse("pricing:price_type_detail", args=[setup["dealer"].pk]) in page
    assert "Stroy 7 %" in page and "Builders week" in page
    for hidden in ("Other 9 %", "Old 3 %", "Off 5 %"):
        assert hidden not in page
    page = client.get(reverse("parties:counterparty_detail", args=[setup["other"].pk])).content.decode()
    assert "Retail — the default for clients without a price type" in page
    assert "Other 9 %" in page and "Stroy 7 %" not in page and "Builders week" not in page


def test_the_section_needs_the_right_to_see_discount_rules(client, setup):
    from django.contrib.auth.models import Permission

    manager = setup["manager"]
    for group in manager.groups.all():
        group.permissions.remove(Permission.objects.get(codename="view_discountrule"))
    manager.user_permissions.remove(Permission.objects.get(codename="view_discountrule"))
    client.force_login(manager)
    page = client.get(reverse("parties:counterparty_detail", args=[setup["client"].pk])).content.decode()
    assert "Stroy LLC" in page and "Prices and discounts" not in page
