"""The sales demo: four orders in draft and confirmed states, reserved where stock is; loading twice changes nothing."""

from __future__ import annotations

from decimal import Decimal as D

from fabrika.core.demo import CORE_LOADERS, demo_load
from fabrika.crm.demo import load_crm
from fabrika.inventory.demo import load_catalog_and_stock
from fabrika.inventory.models import Reservation
from fabrika.ledger.demo import load_ledger
from fabrika.pricing.demo import load_pricing
from fabrika.sales.demo import load_sales
from fabrika.sales.models import DiscountApproval, OrderStatus, SalesOrder

LOADERS = (*CORE_LOADERS, load_ledger, load_catalog_and_stock, load_crm, load_pricing, load_sales)


def test_demo_orders_load_once(roles):
    demo_load(loaders=LOADERS)
    orders = {order.notes.split(":")[0]: order for order in SalesOrder.objects.all()}
    assert sorted(orders) == ["DEMO-SO-1", "DEMO-SO-2", "DEMO-SO-3", "DEMO-SO-4"]
    assert [orders[key].status for key in sorted(orders)] == [OrderStatus.CONFIRMED, OrderStatus.CONFIRMED, OrderStatus.DRAFT, OrderStatus.DRAFT]
    assert all(order.total > 0 for order in orders.values())
    servos = orders["DEMO-SO-2"].lines.get(product__sku="SRV-MG90")
    assert (servos.quantity, servos.reserved_quantity) == (D("10"), D("6"))  # 6 in stock: 4 on backorder
    assert orders["DEMO-SO-4"].lines.get().approval == DiscountApproval.PENDING
    reservations = Reservation.objects.count()
    demo_load(loaders=LOADERS)
    assert SalesOrder.objects.count() == 4 and Reservation.objects.count() == reservations
