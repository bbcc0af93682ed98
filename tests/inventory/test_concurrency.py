"""Two real database connections posting at once (SQLite: IMMEDIATE transactions; PostgreSQL: row locks)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from fabrika.core.errors import DomainError
from fabrika.inventory import services
from fabrika.inventory.enums import DocumentType
from fabrika.inventory.models import StockBalance, StockMove

from .conftest import balance

D = Decimal
pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _in_parallel(*jobs) -> tuple[list, list[BaseException]]:
    start = threading.Barrier(len(jobs))
    results: list = []
    errors: list[BaseException] = []

    def run(job) -> None:
        try:
            start.wait(timeout=10)
            results.append(job())
        except BaseException as error:  # reported to the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


@pytest.mark.parametrize("method", ["fifo", "average"])
def test_two_connections_issuing_the_last_unit_exactly_one_succeeds(ledger, main, method):
    # given one unit in stock and two draft issues of one unit each
    from fabrika.inventory.engine import StockPolicy

    policy = StockPolicy(allow_negative_stock=False, default_valuation_method=method)
    product = ledger.product()
    ledger.receive(product, 1, "7.00", to=main)
    drafts = [ledger.document(
        DocumentType.ISSUE, from_location=main.pk, lines=[{"product": product.pk, "quantity": "1"}], post=False
    ) for _ in range(2)]
    # when both are posted at the same moment on two connections
    results, errors = _in_parallel(*[
        (lambda document=document: services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=policy))
        for document in drafts
    ])
    # then exactly one is posted and the other is refused for lack of stock
    assert len(results) == 1
    assert len(errors) == 1 and isinstance(errors[0], DomainError) and errors[0].code == "insufficient_stock"
    assert balance(product, main) == (D("0"), D("0"))
    assert StockMove.objects.filter(document__document_type="issue").count() == 1
    assert sorted(d.status for d in type(drafts[0]).objects.filter(pk__in=[d.pk for d in drafts])) == ["draft", "posted"]


def test_opposite_orders_never_deadlock(ledger, main, second):
    # given two products in stock and ten transfers touching them in opposite orders
    first, other = ledger.product(sku="A"), ledger.product(sku="B")
    ledger.receive(first, 100, "1.00", to=main)
    ledger.receive(other, 100, "2.00", to=main)

    def draft(products):
        return ledger.document(
            DocumentType.TRANSFER, from_location=main.pk, to_location=second.pk, post=False,
            lines=[{"product": product.pk, "quantity": "1"} for product in products],
        )

    forward = [draft([first, other]) for _ in range(5)]
    backward = [draft([other, first]) for _ in range(5)]

    def post_all(documents):
        def job():
            for document in documents:
                services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
            return len(documents)
        return job

    # when two connections post them at the same time
    results, errors = _in_parallel(post_all(forward), post_all(backward))
    # then all ten are posted, none deadlocked, and the quantities add up
    assert errors == []
    assert sorted(results) == [5, 5]
    assert balance(first, main) == (D("90.0000"), D("90.00"))
    assert balance(other, second) == (D("10.0000"), D("20.00"))
    assert StockBalance.objects.filter(product__in=[first, other], quantity__lt=0).count() == 0


def test_two_connections_reserving_the_last_units_never_over_reserve(ledger, main):
    product = ledger.product()
    ledger.receive(product, 5, "1.00", to=main)
    results, errors = _in_parallel(*[
        (lambda reference=reference: services.reservation_create(
            actor=ledger.actor, product_id=product.pk, location_id=main.pk, quantity="3", reference=reference
        ))
        for reference in ("SO-1", "SO-2")
    ])
    assert len(results) == 1 and len(errors) == 1
    assert errors[0].code == "insufficient_stock"
    assert StockBalance.objects.get(product=product, location=main).reserved_quantity == D("3.0000")
