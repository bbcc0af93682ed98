"""A shipment wave: many confirmed orders shipped in one transaction give exactly what shipping each one alone gives;
one refused order refuses the wave and changes nothing; the queries do not grow with the orders."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.inventory.enums import DocumentStatus, ReservationStatus
from fabrika.inventory.models import Reservation, StockDocument
from fabrika.ledger.models import JournalLine
from fabrika.sales import services_shipments as services
from fabrika.sales.batch_shipments import shipments_post_wave
from fabrika.sales.models import OrderStatus, Shipment, ShipmentStatus

from . import shipment_factories as f

D = Decimal
BASE = "/api/v1/sales"


@pytest.fixture
def goods(storekeeper, main_location):
    """PUMP: 60 at 50.00; VALVE: 120 at 2.00; HOSE: 30 at 7.50 — VAT 20 %."""
    items = {sku: f.product(storekeeper, sku) for sku in ("PUMP", "VALVE", "HOSE")}
    f.receive(storekeeper, items["PUMP"], "60", "50.00", to=main_location)
    f.receive(storekeeper, items["VALVE"], "120", "2.00", to=main_location)
    f.receive(storekeeper, items["HOSE"], "30", "7.50", to=main_location)
    return items


def _order(manager, client_party, warehouse, goods, **extra):
    """10 pumps at 99.99 less 7 %, 20 valves at 3.50, 4 hoses at 12.00; prices include 20 % VAT; all reserved."""
    return f.order(
        actor=manager, counterparty=client_party, warehouse=warehouse,
        lines=[(goods["PUMP"], "10", "99.99", "7"), (goods["VALVE"], "20", "3.50", "0"), (goods["HOSE"], "4", "12.00", "0")], **extra,
    )


def _shipped(shipment: Shipment):
    """What a posted shipment did, comparable between two orders: lines, totals, the issue's journal, the order."""
    lines = [
        (line.order_line.position, line.quantity, line.net_amount, line.tax_amount, line.total, line.cost)
        for line in shipment.lines.select_related("order_line").order_by("order_line__position")
    ]
    journal = sorted(
        (line.account.key, line.debit, line.credit)
        for line in JournalLine.objects.filter(entry__source_type="inventory.stockdocument", entry__source_id=shipment.stock_document_id)
    )
    order_lines = [(line.shipped_quantity, line.reserved_quantity) for line in shipment.order.lines.order_by("position")]
    reservations = sorted(Reservation.objects.filter(reference=shipment.order.number).values_list("status", "quantity"))
    return (
        shipment.status, shipment.net_total, shipment.tax_total, shipment.total, shipment.cost, lines, journal,
        shipment.stock_document.status, shipment.order.status, order_lines, [(status, quantity) for status, quantity in reservations],
    )


def test_a_wave_ships_each_order_exactly_as_shipping_it_alone(storekeeper, manager, client_party, warehouse, goods):
    # given two identical confirmed orders
    alone, in_wave = (_order(manager, client_party, warehouse, goods) for _ in range(2))
    # when one ships on its own and the other in a wave
    single = services.shipment_post(
        actor=storekeeper, shipment_id=services.shipment_create(actor=storekeeper, order_id=alone.pk, data={"date": f.SHIP_DAY}).pk,
    )
    [waved] = shipments_post_wave(actor=storekeeper, order_ids=[in_wave.pk], data={"date": f.SHIP_DAY})
    # then lines, money, cost, the journal entry, the order lines and the reservations are the same
    single, waved = Shipment.objects.get(pk=single.pk), Shipment.objects.get(pk=waved.pk)
    assert _shipped(waved) == _shipped(single)
    # worked example: 929.91 + 70.00 + 48.00 = 1,047.91; cost 10 × 50 + 20 × 2 + 4 × 7.50 = 570.00
    assert (waved.total, waved.cost) == (D("1047.91"), D("570.00"))
    assert sorted((key, debit, credit) for key, debit, credit in _shipped(waved)[6]) == [
        ("cogs", D("570.00"), D("0")), ("inventory", D("0"), D("570.00")),
    ]
    # one history row of each kind and one event per document, as the single path writes them
    assert AuditEntry.objects.filter(content_type__model="shipment", object_id=str(waved.pk), action="post").count() == 1
    assert OutboxEvent.objects.filter(event_type="sales.shipment.posted", aggregate_id=str(waved.pk)).count() == 1


def test_wave_numbers_follow_the_orders_and_every_order_is_fully_shipped(storekeeper, manager, client_party, warehouse, goods):
    orders = [_order(manager, client_party, warehouse, goods) for _ in range(3)]
    before = services.shipment_post(
        actor=storekeeper, shipment_id=services.shipment_create(
            actor=storekeeper, order_id=orders[0].pk, data={"date": f.SHIP_DAY, "lines": [{"order_line": orders[0].lines.get(position=1).pk, "quantity": "4"}]},
        ).pk,
    )
    # when the wave ships what is left on the three orders (the first one's backorder included)
    shipments = shipments_post_wave(actor=storekeeper, order_ids=[order.pk for order in reversed(orders)], data={"date": f.SHIP_DAY})
    # then the shipments are numbered after the one before, in order id order, and nothing is left to ship
    prefix, last = before.number.rsplit("-", 1)
    assert [shipment.number for shipment in shipments] == [f"{prefix}-{int(last) + step:0{len(last)}d}" for step in (1, 2, 3)]
    assert [shipment.order_id for shipment in shipments] == [order.pk for order in orders]
    first_rest = Shipment.objects.get(pk=shipments[0].pk)
    assert [(line.order_line.position, line.quantity) for line in first_rest.lines.order_by("order_line__position")] == [
        (1, D("6")), (2, D("20")), (3, D("4")),
    ]
    for order in orders:
        assert all(line.shipped_quantity == line.quantity and line.reserved_quantity == 0 for line in order.lines.all())
        assert not Reservation.objects.filter(reference=order.number, status=ReservationStatus.ACTIVE).exists()
    assert StockDocument.objects.filter(status=DocumentStatus.POSTED, reference__in=[order.number for order in orders]).count() == 4


def _nothing_changed(orders) -> None:
    assert not Shipment.objects.exists()
    assert not StockDocument.objects.filter(reference__in=[order.number for order in orders]).exists()
    assert Reservation.objects.filter(reference__in=[order.number for order in orders], status=ReservationStatus.ACTIVE).count() == 3 * len(
        [order for order in orders if order.status == OrderStatus.CONFIRMED]
    )


def test_one_order_that_cannot_ship_refuses_the_wave_naming_it(storekeeper, manager, client_party, warehouse, goods):
    good = _order(manager, client_party, warehouse, goods)
    draft = _order(manager, client_party, warehouse, goods, status=OrderStatus.DRAFT, reserve=False)
    with pytest.raises(ValidationError) as refused:
        shipments_post_wave(actor=storekeeper, order_ids=[good.pk, draft.pk], data={"date": f.SHIP_DAY})
    assert "orders.1.order" in refused.value.errors
    assert draft.number in " ".join(refused.value.errors["orders.1"])
    _nothing_changed([good])


@pytest.mark.parametrize(("order_ids", "data", "field"), [
    ([], {}, "order_ids"),
    (["x"], {}, "order_ids.0"),
    (None, {"date": "31.02.2026"}, "date"),
    (None, {"remind_after_months": "-1"}, "remind_after_months"),
])
def test_bad_input_names_the_field_and_changes_nothing(storekeeper, manager, client_party, warehouse, goods, order_ids, data, field):
    order = _order(manager, client_party, warehouse, goods)
    with pytest.raises(ValidationError) as refused:
        shipments_post_wave(actor=storekeeper, order_ids=[order.pk] if order_ids is None else order_ids, data=data)
    assert field in refused.value.errors
    _nothing_changed([order])


def test_a_shortage_refuses_the_whole_wave(storekeeper, manager, client_party, warehouse, goods):
    # given a second order that was confirmed without reservations for more pumps than are left
    first = _order(manager, client_party, warehouse, goods)
    greedy = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(goods["PUMP"], "51", "99.99", "0")], reserve=False)
    with pytest.raises(Conflict):
        shipments_post_wave(actor=storekeeper, order_ids=[first.pk, greedy.pk], data={"date": f.SHIP_DAY})
    assert not Shipment.objects.exists()
    assert Reservation.objects.filter(reference=first.number, status=ReservationStatus.ACTIVE).count() == 3


def test_the_queries_do_not_grow_with_the_orders(storekeeper, manager, client_party, warehouse, goods):
    small = [_order(manager, client_party, warehouse, goods) for _ in range(1)]
    large = [_order(manager, client_party, warehouse, goods) for _ in range(3)]
    shipments_post_wave(actor=storekeeper, order_ids=[_order(manager, client_party, warehouse, goods).pk], data={"date": f.SHIP_DAY})  # warm-up
    with CaptureQueriesContext(connection) as one:
        shipments_post_wave(actor=storekeeper, order_ids=[order.pk for order in small], data={"date": f.SHIP_DAY})
    with CaptureQueriesContext(connection) as three:
        shipments_post_wave(actor=storekeeper, order_ids=[order.pk for order in large], data={"date": f.SHIP_DAY})
    assert len(three.captured_queries) <= len(one.captured_queries) + 2, [query["sql"][:120] for query in three.captured_queries]


# ----------------------------------------------------------------------------------------------- API


def _post(client, body, **headers):
    return client.post(f"{BASE}/shipments/wave", data=json.dumps(body), content_type="application/json", **headers)


def test_the_wave_over_the_api(api_client, storekeeper, manager, client_party, warehouse, goods):
    orders = [_order(manager, client_party, warehouse, goods) for _ in range(2)]
    as_keeper = api_client(storekeeper)
    answer = _post(as_keeper, {"order_ids": [order.pk for order in orders], "date": "2026-03-12"}, HTTP_IDEMPOTENCY_KEY="wave-1")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert [row["order_id"] for row in body] == [order.pk for order in orders]
    assert {row["status"] for row in body} == {ShipmentStatus.POSTED} and {row["total"] for row in body} == {"1047.91"}
    again = _post(as_keeper, {"order_ids": [order.pk for order in orders], "date": "2026-03-12"}, HTTP_IDEMPOTENCY_KEY="wave-1")
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    assert Shipment.objects.count() == 2


def test_the_api_refuses_without_permission_on_bad_input_and_outside_the_scope(
    api_client, client, storekeeper, manager, other_manager, client_party, warehouse, goods,
):
    order = _order(manager, client_party, warehouse, goods)
    assert _post(client, {"order_ids": [order.pk]}).status_code == 401
    assert _post(api_client(manager), {"order_ids": [order.pk]}).status_code == 403  # a manager does not post shipments
    bad = _post(api_client(storekeeper), {"order_ids": [order.pk], "date": "2026-03-12", "remind_after_months": -2})
    assert bad.status_code == 422 and "remind_after_months" in json.dumps(bad.json())
    assert _post(api_client(storekeeper), {"order_ids": [order.pk + 1000]}).status_code == 404
    assert not Shipment.objects.exists()
