"""The best-price engine on a table of worked cases: each rule kind alone, overlaps, every tie-break step, validity
dates, group inheritance, segments, cumulative and volume rules with a fake purchases callable, price type resolution,
PriceNotFound and the manager's cap."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import ValidationError
from fabrika.pricing.engine import (
    PriceNotFound,
    cumulative_window,
    manual_discount_limit,
    quote_line,
    quote_lines,
    volume_window,
)
from fabrika.pricing.models import PriceType

from .conftest import DAY, D

pytestmark = pytest.mark.django_db


class FakePurchases:
    """The client's purchases per window, recording which windows the engine asked for."""

    def __init__(self, amount):
        self.amount = D(amount)
        self.asked: list[tuple[dt.date, dt.date]] = []

    def __call__(self, date_from, date_to):
        self.asked.append((date_from, date_to))
        return self.amount


def tiers(*pairs):
    return [{"threshold": str(threshold), "percent": str(percent)} for threshold, percent in pairs]


# Each case: setup(world) creating rules, the quote's arguments, then (price, retail_price, percent, kinds of candidates best first).
CASES = {
    "no rules, retail client": (lambda w: None, {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "client's price type": (lambda w: None, {"client": "dealer"}, ("850.00", "1000.00", "0", [])),
    "explicit price type wins over the client's": (
        lambda w: None, {"client": "school", "price_type_code": "wholesale"}, ("850.00", "1000.00", "0", [])),
    "personal on a parent group covers its subgroups": (
        lambda w: w.rule("personal", percent="7", counterparty_id=w.school.pk, group_ids=[w.robots.pk]),
        {"client": "school"}, ("1000.00", "1000.00", "7", ["personal"])),
    "personal on a group does not cover other groups": (
        lambda w: w.rule("personal", percent="7", counterparty_id=w.school.pk, group_ids=[w.robots.pk]),
        {"client": "school", "product": "part"}, ("100.00", "100.00", "0", [])),
    "personal on everything": (
        lambda w: w.rule("personal", percent="7", counterparty_id=w.school.pk),
        {"client": "school", "product": "part"}, ("100.00", "100.00", "7", ["personal"])),
    "personal of another client": (
        lambda w: w.rule("personal", percent="7", counterparty_id=w.dealer.pk),
        {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "personal without a client in the quote": (
        lambda w: w.rule("personal", percent="7", counterparty_id=w.school.pk),
        {"client": None}, ("1000.00", "1000.00", "0", [])),
    "quantity break below the first tier": (
        lambda w: w.rule("quantity", group_ids=[w.kits.pk], tiers=tiers((5, 3), (10, 5))),
        {"client": "school", "quantity": "4"}, ("1000.00", "1000.00", "0", [])),
    "quantity break first tier": (
        lambda w: w.rule("quantity", group_ids=[w.kits.pk], tiers=tiers((5, 3), (10, 5))),
        {"client": "school", "quantity": "5"}, ("1000.00", "1000.00", "3", ["quantity"])),
    "quantity break highest tier reached": (
        lambda w: w.rule("quantity", product_ids=[w.kit.pk], tiers=tiers((5, 3), (10, 5))),
        {"client": "school", "quantity": "12"}, ("1000.00", "1000.00", "5", ["quantity"])),
    "promotion for a segment, client in it": (
        lambda w: w.rule("promotion", percent="4", product_ids=[w.kit.pk], segment_ids=[w.schools.pk]),
        {"client": "school"}, ("1000.00", "1000.00", "4", ["promotion"])),
    "promotion for a segment, client not in it": (
        lambda w: w.rule("promotion", percent="4", product_ids=[w.kit.pk], segment_ids=[w.schools.pk]),
        {"client": "dealer"}, ("850.00", "1000.00", "0", [])),
    "promotion for everyone on a group, anonymous quote": (
        lambda w: w.rule("promotion", percent="4", group_ids=[w.robots.pk]),
        {"client": None}, ("1000.00", "1000.00", "4", ["promotion"])),
    "promotion ended the day before": (
        lambda w: w.rule("promotion", percent="4", valid_from=dt.date(2026, 3, 1), valid_to=DAY - dt.timedelta(days=1)),
        {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "promotion ending on the day still applies": (
        lambda w: w.rule("promotion", percent="4", valid_from=dt.date(2026, 3, 1), valid_to=DAY),
        {"client": "school"}, ("1000.00", "1000.00", "4", ["promotion"])),
    "promotion starting the day after": (
        lambda w: w.rule("promotion", percent="4", valid_from=DAY + dt.timedelta(days=1)),
        {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "inactive rule": (
        lambda w: w.rule("promotion", percent="4", is_active=False),
        {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "cumulative, top tier": (
        lambda w: w.rule("cumulative", period_days=30, tiers=tiers((50000, 2), (100000, 4))),
        {"client": "school", "purchases": "120000"}, ("1000.00", "1000.00", "4", ["cumulative"])),
    "cumulative, exactly the first threshold": (
        lambda w: w.rule("cumulative", period_days=30, tiers=tiers((50000, 2), (100000, 4))),
        {"client": "school", "purchases": "50000"}, ("1000.00", "1000.00", "2", ["cumulative"])),
    "cumulative, below every tier": (
        lambda w: w.rule("cumulative", period_days=30, tiers=tiers((50000, 2), (100000, 4))),
        {"client": "school", "purchases": "49999.99"}, ("1000.00", "1000.00", "0", [])),
    "cumulative skipped without a purchases callable": (
        lambda w: w.rule("cumulative", period_days=30, tiers=tiers((50000, 2))),
        {"client": "school"}, ("1000.00", "1000.00", "0", [])),
    "volume maintenance reached": (
        lambda w: w.rule("volume", period_days=30, min_amount="60000", percent="6"),
        {"client": "school", "purchases": "60000"}, ("1000.00", "1000.00", "6", ["volume"])),
    "volume maintenance missed": (
        lambda w: w.rule("volume", period_days=30, min_amount="60000", percent="6"),
        {"client": "school", "purchases": "59999"}, ("1000.00", "1000.00", "0", [])),
    "overlap: the highest percent wins": (
        lambda w: (w.rule("personal", percent="7", counterparty_id=w.school.pk),
                   w.rule("quantity", group_ids=[w.kits.pk], tiers=tiers((5, 3), (10, 5))),
                   w.rule("cumulative", period_days=30, tiers=tiers((1, 9)))),
        {"client": "school", "quantity": "10", "purchases": "5"}, ("1000.00", "1000.00", "9", ["cumulative", "personal", "quantity"])),
    "tie on percent: higher priority wins": (
        lambda w: (w.rule("personal", percent="5", counterparty_id=w.school.pk, priority=1),
                   w.rule("cumulative", period_days=30, tiers=tiers((1, 5)), priority=2)),
        {"client": "school", "purchases": "5"}, ("1000.00", "1000.00", "5", ["cumulative", "personal"])),
    "tie: personal before promotion": (
        lambda w: (w.rule("promotion", percent="5"), w.rule("personal", percent="5", counterparty_id=w.school.pk)),
        {"client": "school"}, ("1000.00", "1000.00", "5", ["personal", "promotion"])),
    "tie: promotion before quantity break": (
        lambda w: (w.rule("quantity", product_ids=[w.kit.pk], tiers=tiers((1, 5))), w.rule("promotion", percent="5")),
        {"client": "school"}, ("1000.00", "1000.00", "5", ["promotion", "quantity"])),
    "tie: quantity break before volume maintenance": (
        lambda w: (w.rule("volume", period_days=30, min_amount="1", percent="5"),
                   w.rule("quantity", product_ids=[w.kit.pk], tiers=tiers((1, 5)))),
        {"client": "school", "purchases": "5"}, ("1000.00", "1000.00", "5", ["quantity", "volume"])),
    "tie: volume maintenance before cumulative": (
        lambda w: (w.rule("cumulative", period_days=30, tiers=tiers((1, 5))),
                   w.rule("volume", period_days=30, min_amount="1", percent="5")),
        {"client": "school", "purchases": "5"}, ("1000.00", "1000.00", "5", ["volume", "cumulative"])),
}


@pytest.mark.parametrize("name", list(CASES))
def test_quote_table(world, name):
    setup, arguments, (price, retail_price, percent, kinds) = CASES[name]
    setup(world)
    client = getattr(world, arguments["client"]) if arguments.get("client") else None
    purchases = FakePurchases(arguments["purchases"]) if "purchases" in arguments else None
    quote = quote_line(
        product_id=getattr(world, arguments.get("product", "kit")).pk, quantity=D(arguments.get("quantity", "1")), on=DAY,
        currency="RUB", counterparty_id=client.pk if client else None, price_type_code=arguments.get("price_type_code", ""),
        purchases=purchases,
    )
    assert (quote.price, quote.retail_price, quote.discount_percent) == (D(price), D(retail_price), D(percent))
    assert [candidate.kind for candidate in quote.candidates] == kinds
    if kinds:
        assert quote.rule == quote.candidates[0].description and quote.rule_key == f"rule:{quote.candidates[0].rule_id}"
    else:
        assert (quote.rule, quote.rule_key) == ("", "")


def test_tie_on_everything_the_lower_rule_id_wins(world):
    first = world.rule("promotion", percent="5", name="First")
    world.rule("promotion", percent="5", name="Second")
    quote = quote_line(product_id=world.kit.pk, quantity=D(1), on=DAY, currency="RUB", counterparty_id=world.school.pk)
    assert quote.rule_key == f"rule:{first.pk}" and quote.rule == "First"
    assert [c.description for c in quote.candidates] == ["First", "Second"]


def test_quantity_break_describes_the_tier(world):
    world.rule("quantity", name="Kits in bulk", group_ids=[world.kits.pk], tiers=tiers((5, 3), (10, 5)))
    quote = quote_line(product_id=world.kit.pk, quantity=D(10), on=DAY, currency="RUB")
    assert quote.rule == "Kits in bulk (from 10)"


def test_windows_asked_of_the_purchases_callable(world):
    world.rule("cumulative", period_days=30, tiers=tiers((1, 2)))
    world.rule("volume", period_days=30, min_amount="1", percent="1")  # periods from 2026-01-01: Mar 2..Mar 31 is current
    purchases = FakePurchases("10")
    quote_line(product_id=world.kit.pk, quantity=D(1), on=DAY, currency="RUB", counterparty_id=world.school.pk, purchases=purchases)
    assert sorted(purchases.asked) == [(dt.date(2026, 1, 31), dt.date(2026, 3, 1)), (dt.date(2026, 2, 8), dt.date(2026, 3, 9))]
    assert cumulative_window(on=DAY, period_days=30) == (dt.date(2026, 2, 8), dt.date(2026, 3, 9))
    assert volume_window(on=DAY, period_days=30, anchor=dt.date(2026, 1, 1)) == (dt.date(2026, 1, 31), dt.date(2026, 3, 1))


def test_price_list_dates_pick_the_latest_list_in_force(world):
    world.price_list(world.retail, dt.date(2026, 3, 1), {world.kit: "1100.00"})
    world.price_list(world.retail, dt.date(2026, 3, 5), {world.kit: "1200.00"}, valid_to=dt.date(2026, 3, 8))
    price = lambda on: quote_line(product_id=world.kit.pk, quantity=D(1), on=on, currency="RUB").price  # noqa: E731
    assert price(dt.date(2026, 2, 28)) == D("1000.00")
    assert price(dt.date(2026, 3, 1)) == D("1100.00")
    assert price(dt.date(2026, 3, 5)) == D("1200.00")
    assert price(dt.date(2026, 3, 8)) == D("1200.00")
    assert price(DAY) == D("1100.00")  # the March 5 list ended on March 8
    # a product missing from the newest list keeps its price from the older list
    assert quote_line(product_id=world.part.pk, quantity=D(1), on=DAY, currency="RUB").price == D("100.00")


def test_client_type_without_the_product_falls_back_to_retail(world):
    extra = world.product("KIT-2", world.kits)
    world.price_list(world.retail, dt.date(2026, 2, 1), {extra: "500.00"})
    quote = quote_line(product_id=extra.pk, quantity=D(1), on=DAY, currency="RUB", counterparty_id=world.dealer.pk)
    assert (quote.price, quote.price_type_code, quote.prices_include_tax) == (D("500.00"), "retail", True)


def test_client_with_an_unknown_type_code_gets_retail(world):
    world.school.price_type_code = "gone"
    world.school.save(update_fields=["price_type_code"])
    quote = quote_line(product_id=world.kit.pk, quantity=D(1), on=DAY, currency="RUB", counterparty_id=world.school.pk)
    assert (quote.price_type_code, quote.price) == ("retail", D("1000.00"))


def test_retail_price_is_shown_in_the_tax_mode_of_the_type_used(world):
    net = PriceType.objects.create(code="net", name="Net", currency="RUB", prices_include_tax=False)
    world.price_list(net, dt.date(2026, 1, 1), {world.kit: "700.00"})
    quote = quote_line(product_id=world.kit.pk, quantity=D(1), on=DAY, currency="RUB", price_type_code="net")
    # retail 1000.00 with VAT 20% (company default) -> 1000 × 100 / 120 = 833.33 without tax
    assert (quote.price, quote.retail_price, quote.prices_include_tax) == (D("700.00"), D("833.33"), False)


@pytest.mark.parametrize(
    "arguments",
    [
        {"currency": "USD"},  # no list in that currency
        {"on": dt.date(2025, 12, 31)},  # before every list
        {"product": "unpriced"},  # the product is in no list
    ],
    ids=["currency", "date", "product"],
)
def test_price_not_found(world, arguments):
    world.unpriced = world.product("NEW-1", world.parts)
    with pytest.raises(PriceNotFound) as raised:
        quote_line(
            product_id=getattr(world, arguments.get("product", "kit")).pk, quantity=D(1), on=arguments.get("on", DAY),
            currency=arguments.get("currency", "RUB"), counterparty_id=world.school.pk,
        )
    assert isinstance(raised.value, ValidationError)
    assert raised.value.code == "price_not_found" and list(raised.value.errors) == ["product"]


def test_unknown_price_type_argument_is_refused(world):
    with pytest.raises(ValidationError) as raised:
        quote_line(product_id=world.kit.pk, quantity=D(1), on=DAY, currency="RUB", price_type_code="nope")
    assert list(raised.value.errors) == ["price_type_code"]


def test_batch_quotes_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    world.rule("personal", percent="7", counterparty_id=world.school.pk, group_ids=[world.robots.pk])
    world.rule("quantity", group_ids=[world.kits.pk], tiers=tiers((5, 3), (10, 5)))
    products = [world.product(f"B-{n}", world.kits) for n in range(20)]
    world.price_list(world.retail, dt.date(2026, 2, 1), {product: "10.00" for product in products})
    with django_assert_max_num_queries(12):
        quotes = quote_lines(lines=[(p.pk, D(10)) for p in products] + [(world.part.pk, D(1))], on=DAY, currency="RUB",
                             counterparty_id=world.school.pk)
    assert [q.discount_percent for q in quotes] == [D(7)] * 20 + [D(0)]


# ------------------------------------------------------------------------------------------------ the manager's cap


def test_manual_discount_limit_by_role_user_and_superuser(make_user, roles, head):
    from fabrika.pricing import services

    manager = make_user("Sales manager")
    both = make_user("Sales manager")
    both.groups.add(roles["Head of sales"])
    nobody = make_user("")
    boss = make_user("", is_superuser=True)
    assert manual_discount_limit(user=manager) == 0  # no limits yet
    services.discount_limit_create(actor=head, data={"group_id": roles["Sales manager"].pk, "max_percent": "5"})
    services.discount_limit_create(actor=head, data={"group_id": roles["Head of sales"].pk, "max_percent": "15"})
    assert manual_discount_limit(user=manager) == D(5)
    assert manual_discount_limit(user=both) == D(15)  # the highest of the user's roles
    assert manual_discount_limit(user=nobody) == 0
    assert manual_discount_limit(user=boss) == 100
    services.discount_limit_create(actor=head, data={"user_id": both.pk, "max_percent": "3"})
    assert manual_discount_limit(user=both) == D(3)  # the user's own limit wins over the roles'
    assert manual_discount_limit(user=None) == Decimal(0)
