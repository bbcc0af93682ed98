"""Property: after any sequence of stock documents the journal balances and its inventory account equals the stock
valuation (Σ StockBalance.value over valued locations and the valuation report), for FIFO and moving average."""

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
from fabrika.inventory.accounting import inventory_account_difference, stock_valuation_total
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType
from fabrika.ledger.models import JournalLine
from fabrika.ledger.selectors import account_balance

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
    st.tuples(st.just("write_off"), st.integers(1, 5), st.sampled_from(["scrap", "inventory_loss"]), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("count"), st.integers(0, 12), st.just(""), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 30), st.just(""), st.integers(0, 25), st.integers(0, 1)),
)


def _check() -> None:
    # every entry balances
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for entry_id, debit, credit in JournalLine.objects.values_list("entry_id", "debit", "credit"):
        sums[entry_id][0] += debit
        sums[entry_id][1] += credit
    assert all(debit == credit for debit, credit in sums.values())
    # the inventory account is the stock's value, by balances and by the valuation report
    inventory = account_balance(key="inventory")
    assert inventory == stock_valuation_total()
    assert inventory == selectors.valuation_report(at=START + dt.timedelta(days=400))["total_value"]
    assert inventory_account_difference() == 0


def _run(ledger: Ledger, operations, locations) -> None:
    product = ledger.product(sku="H-1")
    posted = []
    for kind, amount, extra, day, where in operations:
        date = START + dt.timedelta(days=day)
        try:
            with transaction.atomic():
                if kind == "receipt":
                    posted.append(ledger.receive(product, amount, extra, to=locations[where], date=date))
                elif kind == "issue":
                    posted.append(ledger.issue(product, amount, source=locations[where], date=date))
                elif kind == "transfer":
                    posted.append(ledger.transfer(product, amount, source=locations[where], to=locations[1 - where], date=date))
                elif kind == "write_off":
                    posted.append(ledger.document(
                        DocumentType.WRITE_OFF, date=date, from_location=locations[where].pk,
                        to_location=services.virtual_location(extra).pk, lines=[{"product": product.pk, "quantity": str(amount)}],
                    ))
                elif kind == "count":
                    posted.append(ledger.document(
                        DocumentType.COUNT, date=date, from_location=locations[where].pk,
                        lines=[{"product": product.pk, "quantity": str(amount)}],
                    ))
                elif posted:
                    target = posted[amount % len(posted)]
                    services.stock_document_cancel(actor=ledger.actor, document_id=target.pk, policy=ledger.policy, on=max(date, target.date))
        except DomainError:
            pass  # refused (not enough stock, already cancelled): nothing changed, the invariant still holds
        _check()


@pytest.mark.parametrize("method", ["fifo", "average"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=3, max_size=12))
def test_inventory_account_always_equals_stock_valuation(storekeeper, pcs, main, second, chart, method, operations):
    ledger = Ledger(storekeeper, StockPolicy(allow_negative_stock=False, default_valuation_method=method))
    with transaction.atomic():
        _run(ledger, operations, [main, second])
        transaction.set_rollback(True)
