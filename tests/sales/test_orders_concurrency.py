"""Two orders confirmed at the same moment on two database connections for the last unit in stock."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from fabrika.catalog import services as catalog_services
from fabrika.inventory.models import Reservation, StockBalance
from fabrika.sales import services_orders as services
from fabrika.sales.models import OrderStatus, SalesOrder, SalesOrderLine

from .conftest import receive

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _in_parallel(*jobs):
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


def test_two_confirmations_for_the_last_unit_reserve_it_once(make_order, storekeeper, main_location, pcs, manager):
    # given one robot in stock and two draft orders for it
    robot = catalog_services.product_create(actor=storekeeper, data={"sku": "ROBOT", "name": "Robot", "stock_unit": pcs.pk, "kind": "goods_for_resale"})
    receive(storekeeper, robot, "1", "50000.00", to=main_location)
    drafts = [make_order(lines=[(robot, "1", "70000")], confirm=False) for _ in range(2)]
    # when both are confirmed at once
    results, errors = _in_parallel(*[
        (lambda order=order: services.sales_order_confirm(actor=manager, order_id=order.pk)) for order in drafts
    ])
    # then both are confirmed, the unit is reserved exactly once and the other order has it on backorder
    assert errors == [] and len(results) == 2
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
    assert sorted(SalesOrderLine.objects.values_list("reserved_quantity", flat=True)) == [D("0"), D("1")]
    balance = StockBalance.objects.get(product=robot)
    assert (balance.quantity, balance.reserved_quantity) == (D("1"), D("1"))
    assert Reservation.objects.filter(product=robot, status="active").count() == 1
