"""Serial-tracked lines reserve serial numbers when the order is confirmed; a shipment that takes another unit
frees the one it left; a cancelled shipment reserves again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import ValidationError
from fabrika.inventory.models import Reservation, SerialNumber
from fabrika.sales import services_orders as orders
from fabrika.sales import services_shipments as shipments
from fabrika.sales.models import OrderStatus

from . import shipment_factories as f

D = Decimal


def _reserved_for(reference: str) -> list[str]:
    return sorted(SerialNumber.objects.filter(reserved_reference=reference).values_list("serial", flat=True))


@pytest.fixture
def robot(storekeeper, main_location):
    item = f.product(storekeeper, "ROBOT", tracking="serial")
    for serial in ("R-1", "R-2", "R-3"):
        f.receive(storekeeper, item, "1", "500.00", to=main_location, serial=serial)
    return item


def _confirmed(manager, client_party, warehouse, robot, quantity: str):
    draft = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(robot, quantity, "900.00", "0")],
                    reserve=False, status=OrderStatus.DRAFT)
    return orders.sales_order_confirm(actor=manager, order_id=draft.pk)


def test_confirm_reserves_serials_and_a_shipment_may_take_another_unit(manager, storekeeper, client_party, warehouse, main_location, robot):
    first = _confirmed(manager, client_party, warehouse, robot, "2")
    second = _confirmed(manager, client_party, warehouse, robot, "2")
    # the lowest serials go to the first order; the second gets the one left and a backorder of one
    assert (_reserved_for(first.number), _reserved_for(second.number)) == (["R-1", "R-2"], ["R-3"])
    assert (first.lines.get().reserved_quantity, second.lines.get().reserved_quantity) == (D("2"), D("1"))
    assert f.on_hand(robot, main_location)[2] == D("3")
    # the shipment suggests the order's own serials; a serial another order holds is refused at posting
    shipment = shipments.shipment_create(actor=storekeeper, order_id=first.pk, data={"date": f.SHIP_DAY})
    assert sorted(shipment.lines.values_list("serial", flat=True)) == ["R-1", "R-2"]
    line_id = first.lines.get().pk
    taken = [{"order_line": line_id, "quantity": "1", "serial": "R-1"}, {"order_line": line_id, "quantity": "1", "serial": "R-3"}]
    shipments.shipment_update(actor=storekeeper, shipment_id=shipment.pk, data={"lines": taken})
    with pytest.raises(ValidationError) as refused:
        shipments.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert "reserved for " + second.number in str(refused.value.errors)
    # once the second order is cancelled R-3 is free: the first order ships is free again
    orders.sales_order_cancel(actor=manager, order_id=second.pk)
    shipments.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert _reserved_for(first.number) == []
    r2 = SerialNumber.objects.get(serial="R-2")
    assert (r2.reserved_reference, r2.location_id) == ("", main_location.pk)
    assert set(Reservation.objects.filter(reference=first.number).values_list("status", flat=True)) == {"fulfilled"}
    assert f.on_hand(robot, main_location)[::2] == (D("1"), D("0"))
    # cancelling the shipment brings back; the order holds two units again (the lowest free serials)
    shipment.refresh_from_db()
    shipments.shipment_cancel(actor=storekeeper, shipment_id=shipment.pk, on=dt.date(2026, 3, 14))
    line = first.lines.get()
    assert (line.shipped_quantity, line.reserved_quantity) == (D("0"), D("2"))
    assert _reserved_for(first.number) == ["R-1", "R-2"]
    assert f.on_hand(robot, main_location)[::2] == (D("3"), D("2"))
