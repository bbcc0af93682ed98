"""Shipments: partial shipments with exact money, backorders, refusals that change nothing, cancellation, the
after-sales reminder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import Conflict, InvalidTransition, ValidationError
from fabrika.core.models.statuses import RecordStatus, StatusDefinition
from fabrika.core.models.timers import Timer
from fabrika.inventory.enums import DocumentStatus, DocumentType, ReservationStatus
from fabrika.inventory.models import Reservation, StockDocument
from fabrika.sales import services_shipments as services
from fabrika.sales.models import OrderStatus, Shipment, ShipmentLine, ShipmentStatus

from . import shipment_factories as f

D = Decimal


@pytest.fixture
def goods(storekeeper, main_location):
    """PUMP: 10 at 50.00; VALVE: 30 at 2.00; HOSE: 5 at 7.50 — VAT 20 %."""
    items = {sku: f.product(storekeeper, sku) for sku in ("PUMP", "VALVE", "HOSE")}
    f.receive(storekeeper, items["PUMP"], "10", "50.00", to=main_location)
    f.receive(storekeeper, items["VALVE"], "30", "2.00", to=main_location)
    f.receive(storekeeper, items["HOSE"], "5", "7.50", to=main_location)
    return items


@pytest.fixture
def three_lines(manager, client_party, warehouse, goods):
    """10 pumps at 99.99 less 7 %, 20 valves at 3.50, 4 hoses at 12.00; prices include 20 % VAT; all reserved."""
    return f.order(
        actor=manager, counterparty=client_party, warehouse=warehouse,
        lines=[(goods["PUMP"], "10", "99.99", "7"), (goods["VALVE"], "20", "3.50", "0"), (goods["HOSE"], "4", "12.00", "0")],
    )


def _lines(order_):
    return list(order_.lines.order_by("position"))


def test_two_partial_shipments_add_up_to_the_line_and_leave_a_backorder(storekeeper, three_lines, main_location, goods):
    pump, valve, hose = _lines(three_lines)
    assert (pump.total, pump.net_amount, pump.tax_amount) == (D("929.91"), D("774.92"), D("154.99"))
    # when 3 pumps and 5 valves go first
    first = services.shipment_create(
        actor=storekeeper, order_id=three_lines.pk,
        data={"date": f.SHIP_DAY, "lines": [{"order_line": pump.pk, "quantity": "3"}, {"order_line": valve.pk, "quantity": "5"}]},
    )
    first = services.shipment_post(actor=storekeeper, shipment_id=first.pk)
    # then the 3 pumps are priced on their own: 299.97 − 21.00 = 278.97, of it VAT 46.50
    first_pump = first.lines.get(order_line=pump)
    assert (first_pump.total, first_pump.net_amount, first_pump.tax_amount) == (D("278.97"), D("232.47"), D("46.50"))
    assert (first.total, first.cost) == (D("296.47"), D("160.00"))  # 278.97 + 5 × 3.50; 3 × 50 + 5 × 2
    assert first.number and first.status == ShipmentStatus.POSTED
    pump.refresh_from_db()
    assert (pump.shipped_quantity, pump.reserved_quantity) == (D("3"), D("7"))
    # the backorder stays reserved: 7 pumps still reserved for the order
    assert f.on_hand(goods["PUMP"], main_location) == (D("7"), D("350.00"), D("7"))
    # when the rest goes: the default is what remains on every line
    second = services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={"date": f.SHIP_DAY})
    assert sorted((line.order_line_id, line.quantity) for line in second.lines.all()) == sorted(
        [(pump.pk, D("7")), (valve.pk, D("15")), (hose.pk, D("4"))]
    )
    second = services.shipment_post(actor=storekeeper, shipment_id=second.pk)
    second_pump = second.lines.get(order_line=pump)
    # then the 7 pumps are the rest of the line, not 7 priced alone (650.93): the parts add up to the kopeck
    assert (second_pump.total, second_pump.net_amount, second_pump.tax_amount) == (D("650.94"), D("542.45"), D("108.49"))
    assert first_pump.total + second_pump.total == pump.total
    assert first.total + second.total == three_lines.total == D("1047.91")
    assert first.net_total + second.net_total == three_lines.net_total
    for line in _lines(three_lines):
        assert line.shipped_quantity == line.quantity and line.reserved_quantity == 0
    assert not Reservation.objects.filter(reference=three_lines.number, status=ReservationStatus.ACTIVE).exists()
    document = second.stock_document
    assert (document.document_type, document.status, document.reference, document.counterparty_id) == (
        DocumentType.ISSUE, DocumentStatus.POSTED, three_lines.number, three_lines.counterparty_id,
    )
    assert document.date == f.SHIP_DAY and second.cost == D("410.00")  # 7 × 50 + 15 × 2 + 4 × 7.50
    three_lines.refresh_from_db()
    assert three_lines.status == OrderStatus.CONFIRMED  # shipped in full, not invoiced yet


def test_shipping_more_than_remains_is_refused_and_changes_nothing(storekeeper, three_lines):
    pump = _lines(three_lines)[0]
    services.shipment_post(
        actor=storekeeper,
        shipment_id=services.shipment_create(
            actor=storekeeper, order_id=three_lines.pk, data={"lines": [{"order_line": pump.pk, "quantity": "4"}]}
        ).pk,
    )
    before = (Shipment.objects.count(), ShipmentLine.objects.count(), StockDocument.objects.count())
    with pytest.raises(ValidationError) as refused:
        services.shipment_create(
            actor=storekeeper, order_id=three_lines.pk,
            data={"lines": [{"order_line": pump.pk, "quantity": "5"}, {"order_line": pump.pk, "quantity": "2"}]},
        )
    assert refused.value.errors == {"lines.0.quantity": ["Line 1 (PUMP): 7 is more than the 6 remaining to ship"]}
    assert (Shipment.objects.count(), ShipmentLine.objects.count(), StockDocument.objects.count()) == before
    pump.refresh_from_db()
    assert pump.shipped_quantity == D("4")


def test_bad_input_names_the_field(storekeeper, three_lines):
    before = Shipment.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.shipment_create(
            actor=storekeeper, order_id=three_lines.pk,
            data={"date": "12.03.2026", "remind_after_months": "x", "lines": [{"order_line": 999999, "quantity": "1"}, {"order_line": _lines(three_lines)[1].pk, "quantity": "-1"}]},
        )
    assert set(refused.value.errors) == {"date", "remind_after_months", "lines.0.order_line", "lines.1.quantity"}
    assert refused.value.errors["lines.1.quantity"] == ["Must be greater than zero"]
    assert Shipment.objects.count() == before


def test_a_draft_order_is_not_shipped(storekeeper, manager, client_party, warehouse, goods):
    draft = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(goods["PUMP"], "1", "10", "0")], reserve=False, status=OrderStatus.DRAFT)
    with pytest.raises(InvalidTransition):
        services.shipment_create(actor=storekeeper, order_id=draft.pk, data={})
    assert not Shipment.objects.exists()


def test_a_shortage_is_refused_with_the_available_quantity_and_changes_nothing(storekeeper, manager, client_party, warehouse, goods, main_location):
    # an order taken without a reservation for 12 pumps, when 10 are on hand
    unreserved = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(goods["PUMP"], "12", "99.99", "0")], reserve=False)
    shipment = services.shipment_create(actor=storekeeper, order_id=unreserved.pk, data={"date": f.SHIP_DAY})
    documents = StockDocument.objects.count()
    with pytest.raises(Conflict) as refused:
        services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert refused.value.status == 409
    assert D(refused.value.values["available"]) == 10 and refused.value.values["product"] == "PUMP"
    assert "Not enough PUMP at" in refused.value.message
    shipment.refresh_from_db()
    assert (shipment.status, shipment.number, shipment.stock_document_id) == (ShipmentStatus.DRAFT, "", None)
    assert StockDocument.objects.count() == documents
    assert f.on_hand(goods["PUMP"], main_location)[:2] == (D("10"), D("500.00"))
    assert unreserved.lines.get().shipped_quantity == 0


def test_cancel_restores_the_order_and_the_stock(storekeeper, three_lines, goods, main_location):
    pump = _lines(three_lines)[0]
    shipment = services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={"date": f.SHIP_DAY, "lines": [{"order_line": pump.pk, "quantity": "3"}]})
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert f.on_hand(goods["PUMP"], main_location)[:2] == (D("7"), D("350.00"))
    cancelled = services.shipment_cancel(actor=storekeeper, shipment_id=shipment.pk, on=dt.date(2026, 3, 14))
    assert cancelled.status == ShipmentStatus.CANCELLED
    pump.refresh_from_db()
    assert pump.shipped_quantity == 0
    assert f.on_hand(goods["PUMP"], main_location)[:2] == (D("10"), D("500.00"))
    # the three pumps that came back are the order's again: all ten reserved, none free for others
    assert pump.reserved_quantity == D("10")
    active = Reservation.objects.filter(reference=three_lines.number, product=goods["PUMP"], status=ReservationStatus.ACTIVE)
    assert sum(reservation.quantity for reservation in active) == D("10")
    assert f.on_hand(goods["PUMP"], main_location)[2] == D("10")
    document = StockDocument.objects.get(pk=shipment.stock_document_id)
    assert (document.status, document.cancellation_date) == (DocumentStatus.CANCELLED, dt.date(2026, 3, 14))
    with pytest.raises(InvalidTransition):
        services.shipment_cancel(actor=storekeeper, shipment_id=shipment.pk)


def test_cancel_of_an_invoiced_shipment_is_refused(storekeeper, three_lines, goods, main_location):
    pump = _lines(three_lines)[0]
    shipment = services.shipment_post(
        actor=storekeeper,
        shipment_id=services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={"lines": [{"order_line": pump.pk, "quantity": "3"}]}).pk,
    )
    ShipmentLine.objects.filter(shipment=shipment).update(invoiced_quantity=D("3"))  # what the finance helper's invoice does
    with pytest.raises(Conflict) as refused:
        services.shipment_cancel(actor=storekeeper, shipment_id=shipment.pk)
    assert refused.value.code == "shipment_invoiced"
    assert "cancel the invoice first" in refused.value.message
    shipment.refresh_from_db()
    pump.refresh_from_db()
    assert (shipment.status, pump.shipped_quantity) == (ShipmentStatus.POSTED, D("3"))
    assert f.on_hand(goods["PUMP"], main_location)[:2] == (D("7"), D("350.00"))


def test_reminder_is_set_on_the_client_n_months_after_the_shipment(storekeeper, three_lines, client_party):
    pump = _lines(three_lines)[0]
    shipment = services.shipment_create(
        actor=storekeeper, order_id=three_lines.pk,
        data={"date": dt.date(2026, 8, 31), "remind_after_months": 6, "lines": [{"order_line": pump.pk, "quantity": "1"}]},
    )
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    status = RecordStatus.objects.get(object_id=str(client_party.pk))
    assert status.definition.name == "Maintenance due" and status.definition.kind == "remind"
    assert status.effective_from == dt.date(2027, 2, 28)  # 31 August + 6 months: the last day of February
    assert status.note == f"Shipment {shipment.number} of 2026-08-31: PUMP Product PUMP"
    assert Timer.objects.filter(kind="status.remind", status="pending").count() == 1
    # the next shipment of the order suggests the same period, and the status definition is not created twice
    second = services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={"date": dt.date(2026, 9, 1), "lines": [{"order_line": pump.pk, "quantity": "1"}]})
    assert second.remind_after_months == 6
    services.shipment_post(actor=storekeeper, shipment_id=second.pk)
    assert StatusDefinition.objects.filter(name="Maintenance due").count() == 1
    assert Timer.objects.filter(kind="status.remind", status="pending").count() == 2
    # cancelling the first shipment stops its reminder
    services.shipment_cancel(actor=storekeeper, shipment_id=shipment.pk, on=dt.date(2026, 9, 2))
    assert Timer.objects.filter(kind="status.remind", status="pending").count() == 1


def test_draft_lines_are_edited_and_posted_docs_are_not(storekeeper, three_lines):
    pump, valve, _hose = _lines(three_lines)
    shipment = services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={})
    services.shipment_update(actor=storekeeper, shipment_id=shipment.pk, data={"notes": "Gate 2", "lines": [{"order_line": valve.pk, "quantity": "2"}]})
    shipment.refresh_from_db()
    assert shipment.notes == "Gate 2" and [(line.order_line_id, line.quantity) for line in shipment.lines.all()] == [(valve.pk, D("2"))]
    with pytest.raises(ValidationError) as refused:
        services.shipment_update(actor=storekeeper, shipment_id=shipment.pk, data={"lines": [{"order_line": pump.pk, "quantity": "11"}]})
    assert refused.value.errors == {"lines.0.quantity": ["Line 1 (PUMP): 11 is more than the 10 remaining to ship"]}
    assert [(line.order_line_id, line.quantity) for line in shipment.lines.all()] == [(valve.pk, D("2"))]
    services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    with pytest.raises(InvalidTransition):
        services.shipment_update(actor=storekeeper, shipment_id=shipment.pk, data={"notes": "x"})


def test_lot_tracked_goods_are_suggested_first_expiry_first(storekeeper, manager, client_party, warehouse, main_location):
    milk = f.product(storekeeper, "MILK", tracking="lot")
    f.receive(storekeeper, milk, "5", "1.00", to=main_location, lot_code="L-LATE", expiry_date="2026-06-01")
    f.receive(storekeeper, milk, "5", "1.20", to=main_location, lot_code="L-SOON", expiry_date="2026-04-01")
    milk_order = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(milk, "7", "3.00", "0")], reserve=False)
    shipment = services.shipment_create(actor=storekeeper, order_id=milk_order.pk, data={"date": f.SHIP_DAY})
    assert [(line.lot.code, line.quantity) for line in shipment.lines.order_by("id")] == [("L-SOON", D("5")), ("L-LATE", D("2"))]
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert shipment.cost == D("8.00")  # 5 × 1.20 + 2 × 1.00
    assert shipment.total == D("21.00")


def test_serial_numbers_are_suggested_one_per_line_and_shipped(storekeeper, manager, client_party, warehouse, main_location):
    robot = f.product(storekeeper, "ROBOT", tracking="serial")
    for serial in ("R-1", "R-2", "R-3"):
        f.receive(storekeeper, robot, "1", "500.00", to=main_location, serial=serial)
    robot_order = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(robot, "2", "900.00", "0")], reserve=False)
    shipment = services.shipment_create(actor=storekeeper, order_id=robot_order.pk, data={"date": f.SHIP_DAY})
    assert [(line.serial, line.quantity) for line in shipment.lines.order_by("id")] == [("R-1", D("1")), ("R-2", D("1"))]
    line_ids = list(shipment.lines.order_by("id").values_list("order_line_id", flat=True))
    # the storekeeper takes R-3 instead of R-2; a serial left empty is refused at posting
    services.shipment_update(actor=storekeeper, shipment_id=shipment.pk, data={"lines": [
        {"order_line": line_ids[0], "quantity": "1", "serial": "R-1"}, {"order_line": line_ids[1], "quantity": "1", "serial": "R-3"},
    ]})
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert sorted(shipment.lines.values_list("serial", flat=True)) == ["R-1", "R-3"]
    assert shipment.cost == D("1000.00") and shipment.total == D("1800.00")
    from fabrika.inventory.models import SerialNumber

    assert SerialNumber.objects.get(serial="R-2").location_id == main_location.pk
    assert SerialNumber.objects.get(serial="R-3").location.kind == "customer"


def test_an_empty_list_of_lines_is_refused(storekeeper, three_lines):
    with pytest.raises(ValidationError) as refused:
        services.shipment_create(actor=storekeeper, order_id=three_lines.pk, data={"lines": []})
    assert refused.value.errors == {"lines": ["Add at least one line"]}
    assert not Shipment.objects.exists()
