"""A shipment of an order made and confirmed through the order services (reservations by the order number)."""

from __future__ import annotations

from decimal import Decimal

from fabrika.inventory.enums import ReservationStatus
from fabrika.inventory.models import Reservation
from fabrika.sales import services_shipments as services
from fabrika.sales.models import OrderStatus

from . import shipment_factories as f

D = Decimal


def test_partial_shipment_of_a_confirmed_order_uses_its_reservations(make_order, storekeeper, stock, main_location):
    order = make_order(lines=[(stock["chair"], "4", "1500.00"), (stock["table"], "1", "9000.00")])
    assert order.status == OrderStatus.CONFIRMED
    chair_line, table_line = order.lines.order_by("position")
    shipment = services.shipment_create(
        actor=storekeeper, order_id=order.pk, data={"date": f.SHIP_DAY, "lines": [{"order_line": chair_line.pk, "quantity": "3"}]}
    )
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert shipment.cost == D("3000.00")  # 3 chairs received at 1000.00
    assert shipment.total == chair_line.total * 3 / 4  # 4500.00 of 6000.00: a round split
    active = Reservation.objects.filter(reference=order.number, status=ReservationStatus.ACTIVE)
    assert sorted((r.product_id, r.quantity) for r in active) == sorted([(stock["chair"].pk, D("1")), (stock["table"].pk, D("1"))])
    # the rest by default: 1 chair and the table
    rest = services.shipment_post(actor=storekeeper, shipment_id=services.shipment_create(actor=storekeeper, order_id=order.pk, data={"date": f.SHIP_DAY}).pk)
    assert shipment.total + rest.total == order.total
    assert not Reservation.objects.filter(reference=order.number, status=ReservationStatus.ACTIVE).exists()
    assert f.on_hand(stock["chair"], main_location)[:3] == (D("6"), D("6000.00"), D("0"))
