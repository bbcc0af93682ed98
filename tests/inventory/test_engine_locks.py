"""What a posting locks (only the touched balance rows unless it posts before later moves) and that a back-dated
posting revalues later moves at every location even when they appear only after its first look."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fabrika.inventory import engine, locks, selectors
from fabrika.inventory.models import StockBalance, StockMove

from .conftest import balance

D = Decimal


def _locked_keys(queries) -> set[tuple]:
    """The (product, location) pairs of the balance rows the posting's locking read returned."""
    return {(row[1], row[2]) for row in queries}


def test_posting_locks_only_the_touched_balance_rows(ledger, main, second):
    # given a product with stock in two warehouses and another product in the first
    product, other = ledger.product(sku="A"), ledger.product(sku="B")
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 3, 2))
    ledger.receive(product, 10, "3.00", to=second, date=dt.date(2026, 3, 2))
    ledger.receive(other, 10, "1.00", to=main, date=dt.date(2026, 3, 2))
    # when the rows a later issue at the first warehouse needs are locked
    rows = locks.lock_posting_balances(keys={(product.pk, main.pk, None)})
    # then only the row at that warehouse is locked, and a product posted before later moves has all its rows locked
    assert _locked_keys(rows) == {(product.pk, main.pk)}
    rows = locks.lock_posting_balances(keys={(other.pk, main.pk, None)}, whole_products={product.pk})
    assert _locked_keys(rows) == {(product.pk, main.pk), (product.pk, second.pk), (other.pk, main.pk)}
    # and the rows come in the one global order
    assert [(row[1], row[2]) for row in rows] == sorted((row[1], row[2]) for row in rows)


def test_missing_balance_rows_are_created_and_locked(ledger, main):
    product = ledger.product()
    assert not StockBalance.objects.filter(product=product).exists()
    rows = locks.lock_posting_balances(keys={(product.pk, main.pk, None)})
    assert _locked_keys(rows) == {(product.pk, main.pk)}
    assert StockBalance.objects.filter(product=product, location=main).count() == 1


def test_back_dated_posting_finds_later_moves_committed_after_its_first_look(ledger, main, second, monkeypatch):
    # given receipts at two warehouses, a transfer between them and an issue at the second, all after the 5th
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 3, 2))
    ledger.transfer(product, 10, source=main, to=second, date=dt.date(2026, 3, 10))
    late_issue = ledger.issue(product, 5, source=second, date=dt.date(2026, 3, 12))
    assert late_issue.total_value == D("10.00")
    # when a receipt dated the 1st is posted and its first look misses the later moves (as when they are committed
    # by another connection between that look and the locks)
    monkeypatch.setattr(engine, "_products_with_later_moves", lambda earliest: set())
    ledger.receive(product, 10, "1.00", to=main, date=dt.date(2026, 3, 1))
    # then the re-check under the locks still revalues them at both warehouses: the transfer now carries the older
    # 1.00 units and the issue at the second warehouse takes them
    late_issue.refresh_from_db()
    assert late_issue.total_value == D("5.00")
    assert balance(product, main) == (D("10.0000"), D("20.00"))
    assert balance(product, second) == (D("5.0000"), D("5.00"))


def test_posting_in_date_order_takes_a_fixed_number_of_queries_in_the_engine(ledger, main, fifo_policy):
    # given products in stock
    products = [ledger.product(sku=f"P{i}") for i in range(3)]
    for product in products:
        ledger.receive(product, 10, "2.00", to=main)
    customer = _customer()
    moves = [
        engine.Move(product_id=product.pk, from_location_id=main.pk, to_location_id=customer, quantity=D(1), date=dt.date(2026, 3, 3))
        for product in products
    ]
    # when the engine posts an issue of each (valued locations passed in, as posting does)
    valued = engine.valued_location_ids()
    with CaptureQueriesContext(connection) as queries:
        engine.apply_moves(
            moves=moves, methods={product.pk: "fifo" for product in products}, policy=fifo_policy,
            posted_at=dt.datetime(2026, 3, 3, tzinfo=dt.UTC), valued=valued,
        )
    # then: look for later moves, lock, read later moves, read open layers, insert moves, layers are updated,
    # consumptions inserted, balances updated
    assert len(queries) == 8
    assert StockMove.objects.filter(date=dt.date(2026, 3, 3)).count() == 3


def _customer() -> int:
    from fabrika.inventory.enums import LocationKind
    from fabrika.inventory.services import virtual_location

    return virtual_location(LocationKind.CUSTOMER).pk


def test_on_hand_per_product_adds_up_the_rows_per_location(ledger, main, second, storekeeper):
    # given stock of two products in two warehouses, moved before and after a closed month's snapshot
    product, other = ledger.product(sku="A"), ledger.product(sku="B")
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 1, 10))
    ledger.receive(other, 4, "1.25", to=second, date=dt.date(2026, 1, 12))
    ledger.transfer(product, 3, source=main, to=second, date=dt.date(2026, 1, 20))
    from fabrika.inventory import services

    services.period_close(actor=storekeeper, month=dt.date(2026, 1, 1))
    ledger.issue(product, 2, source=second, date=dt.date(2026, 2, 5))
    ledger.receive(other, 1, "3.00", to=main, date=dt.date(2026, 2, 6))
    for at in (dt.date(2026, 1, 15), dt.date(2026, 2, 5), dt.date(2026, 3, 1)):
        # when on hand is asked per product
        per_product = selectors.stock_on_hand(at=at, group_by="product")
        # then each row is the sum of that product's rows per location
        per_location = selectors.stock_on_hand(at=at, group_by="location")
        expected: dict[int, list[Decimal]] = {}
        for row in per_location:
            total = expected.setdefault(row["product_id"], [D(0), D(0)])
            total[0] += row["quantity"]
            total[1] += row["value"]
        assert [(row["product_id"], row["quantity"], row["value"]) for row in per_product] == [
            (product_id, quantity, value) for product_id, (quantity, value) in sorted(expected.items())
        ]
        assert all(row["warehouse_id"] is None and row["location_id"] is None for row in per_product)
    assert [(row["product_id"], row["quantity"], row["value"]) for row in selectors.stock_on_hand(at=dt.date(2026, 2, 5), group_by="product")] == [
        (product.pk, D("8.0000"), D("16.00")), (other.pk, D("4.0000"), D("5.00")),
    ]
