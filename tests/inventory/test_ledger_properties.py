"""Property tests over random sequences of receipts, issues, transfers, back-dated postings and cancellations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabrika.core.errors import DomainError
from fabrika.inventory import selectors, services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import VALUED_KINDS
from fabrika.inventory.models import CostLayer, Location, StockBalance, StockMove

from .conftest import Ledger

D = Decimal
START = dt.date(2026, 1, 5)

receipt = st.tuples(
    st.just("receipt"), st.integers(1, 20), st.sampled_from(["1.00", "2.50", "3.333333", "0.07", "10"]), st.integers(0, 20), st.integers(0, 1)
)
operation = st.one_of(
    receipt,
    receipt,
    st.tuples(st.just("issue"), st.integers(1, 15), st.just(""), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("transfer"), st.integers(1, 10), st.just(""), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.just(""), st.integers(20, 25), st.integers(0, 1)),
)


def _ledger_sums(product) -> dict[int, list[Decimal]]:
    valued = set(Location.objects.filter(kind__in=list(VALUED_KINDS)).values_list("id", flat=True))
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for move in StockMove.objects.filter(product=product):
        if move.to_location_id in valued:
            sums[move.to_location_id][0] += move.quantity
            sums[move.to_location_id][1] += move.value + move.adjustment_value
        if move.from_location_id in valued:
            sums[move.from_location_id][0] -= move.quantity
            sums[move.from_location_id][1] -= move.value
    return sums


def _run(ledger: Ledger, method: str, operations, locations) -> None:
    product = ledger.product(sku=f"H-{method}")
    posted = []
    for kind, amount, cost, day, where in operations:
        date = START + dt.timedelta(days=day)
        try:
            with transaction.atomic():
                if kind == "receipt":
                    posted.append(ledger.receive(product, amount, cost, to=locations[where], date=date))
                elif kind == "issue":
                    posted.append(ledger.issue(product, amount, source=locations[where], date=date))
                elif kind == "transfer":
                    posted.append(ledger.transfer(product, amount, source=locations[where], to=locations[1 - where], date=date))
                elif posted:
                    target = posted[amount % len(posted)]
                    services.stock_document_cancel(actor=ledger.actor, document_id=target.pk, policy=ledger.policy, on=max(date, target.date))
        except DomainError:
            pass  # refused (not enough stock, already cancelled): the ledger must be exactly as before
        _check(product, method)
    _check_turnover(product)


def _check(product, method: str) -> None:
    sums = _ledger_sums(product)
    for balance in StockBalance.objects.filter(product=product):
        # on hand per product and location equals the ledger sum, in quantity and value
        assert [balance.quantity, balance.value] == sums[balance.location_id]
        # FIFO never goes negative and its value is exactly the layers left
        assert balance.quantity >= 0
        if method == "fifo":
            layers = CostLayer.objects.filter(product=product, location_id=balance.location_id)
            assert balance.quantity == sum((layer.remaining_quantity for layer in layers), D(0))
            assert balance.value == sum((layer.remaining_value for layer in layers), D(0))
        elif balance.quantity == 0:
            assert balance.value == 0
        else:
            average = (balance.value / balance.quantity).quantize(D("0.000001"))
            assert abs(balance.quantity * average - balance.value) <= D("0.01") * balance.quantity


def _check_turnover(product) -> None:
    # opening + in − out = closing, in quantity and value, for a window in the middle and for everything
    for date_from, date_to in ((START + dt.timedelta(days=5), START + dt.timedelta(days=12)), (START, START + dt.timedelta(days=40))):
        for row in selectors.turnover(date_from=date_from, date_to=date_to, product_ids=[product.pk]):
            assert row["opening_quantity"] + row["in_quantity"] - row["out_quantity"] == row["closing_quantity"]
            assert row["opening_value"] + row["in_value"] - row["out_value"] == row["closing_value"]
    # on hand at a date far ahead equals today's balances
    later = selectors.stock_on_hand_rows(at=START + dt.timedelta(days=400), product_ids=[product.pk])
    now = {
        (b.product_id, b.location_id, b.lot_id): (b.quantity, b.value)
        for b in StockBalance.objects.filter(product=product).exclude(quantity=0, value=0)
    }
    assert later == now


@pytest.mark.parametrize("method", ["fifo", "average"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=3, max_size=16))
def test_random_sequences_keep_the_ledger_exact(storekeeper, pcs, main, second, method, operations):
    ledger = Ledger(storekeeper, StockPolicy(allow_negative_stock=False, default_valuation_method=method))
    with transaction.atomic():
        _run(ledger, method, operations, [main, second])
        transaction.set_rollback(True)
