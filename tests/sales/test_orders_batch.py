"""Batch confirmation (fabrika/sales/batch_orders.py): the same result as confirming one by one, the credit limit
counted across the batch, refusals naming `orders.<index>.<field>` with nothing changed, the API and the list's
bulk action, and a query count that does not grow with the batch."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fabrika.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from fabrika.core.models import AuditEntry, OutboxEvent
from fabrika.crm.models import Deal, StageKind
from fabrika.crm.services_pipelines import deal_create, pipeline_create
from fabrika.inventory import services as inventory_services
from fabrika.inventory.models import Reservation, SerialNumber, StockBalance
from fabrika.ledger.services import EntryLine, Source, accounts_ensure, journal_post
from fabrika.parties.models import Counterparty
from fabrika.sales import services_orders as services
from fabrika.sales.batch_orders import MAX_BATCH, sales_orders_confirm
from fabrika.sales.models import (
    DiscountApproval,
    OrderStatus,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentStatus,
)
from fabrika.sales.services_orders import ApprovalPending, CreditLimitExceeded

from . import shipment_factories as f

BATCH_URL = "/api/v1/sales/orders/batch/confirm"


@pytest.fixture
def limited_client(company, manager, admin_user):
    """A second client of the manager: limit 10 000.00, owes 3 000.00 by the ledger."""
    party = Counterparty.objects.create(name="Robokids Club", is_client=True, responsible=manager, credit_limit=D("10000.00"))
    accounts_ensure()
    journal_post(
        actor=admin_user, date=dt.date(2026, 3, 1), source=Source("tests.invoice", 1, "INV-1"),
        lines=[EntryLine(account="receivables", debit=D("3000.00"), counterparty_id=party.pk), EntryLine(account="revenue", credit=D("3000.00"))],
    )
    return party


def _marks() -> tuple[int, int]:
    return (max(AuditEntry.objects.values_list("pk", flat=True), default=0), max(OutboxEvent.objects.values_list("pk", flat=True), default=0))


def _state(order_ids: list[int], since: tuple[int, int]) -> dict:
    """Everything a confirmation changes, without generated ids: orders, lines, reservations, balances, serials,
    the audit rows and events written since `since`, deals."""
    orders = {}
    for order in SalesOrder.objects.filter(pk__in=order_ids).order_by("pk"):
        orders[order.number] = (
            order.status, order.confirmed_by_id, order.credit_override_by_id,
            [(line.product.sku, line.reserved_quantity) for line in order.lines.select_related("product").order_by("position")],
        )
    audit = AuditEntry.objects.filter(pk__gt=since[0]).select_related("content_type")
    return {
        "orders": orders,
        "reservations": sorted(
            (r.reference, r.product_id, r.location_id, r.lot_id or 0, r.serial_id or 0, r.quantity, r.status, r.created_by_id)
            for r in Reservation.objects.all()
        ),
        "balances": sorted((p, loc, lot or 0, reserved) for p, loc, lot, reserved in StockBalance.objects.values_list("product_id", "location_id", "lot_id", "reserved_quantity")),
        "serials": sorted(SerialNumber.objects.values_list("serial", "reserved_reference")),
        "audit": sorted(
            (e.content_type.model, "" if e.content_type.model == "reservation" else e.object_id, e.action, json.dumps(e.changes, sort_keys=True), e.message,
             e.actor_id)
            for e in audit
        ),
        "events": sorted((e.event_type, e.aggregate_id, json.dumps(e.payload, sort_keys=True)) for e in OutboxEvent.objects.filter(pk__gt=since[1])),
        "deals": sorted(Deal.objects.values_list("number", "stage__name")),
    }


@pytest.fixture
def scenario(make_order, manager, storekeeper, client_party, limited_client, warehouse, main_location, chair, table, admin_user):
    """Six drafts touching every part of a confirmation: two orders of one client (the second gets what the first
    left of the tables: a backorder), lots by first expiry, serial numbers, a second warehouse, a deal that follows,
    and a limited client whose second order passes the limit (7 500 + 3 000 > 10 000: an override)."""
    glue = f.product(storekeeper, "GLUE", tracking="lot")
    receipt = inventory_services.stock_document_create(actor=storekeeper, document_type="receipt", data={"date": dt.date(2026, 3, 2), "to_location": main_location.pk})
    for code, expiry in (("LATE", "2027-06-30"), ("EARLY", "2026-12-31")):
        inventory_services.stock_document_add_line(actor=storekeeper, document_id=receipt.pk, data={
            "product": glue.pk, "quantity": "5", "unit_cost": "10", "lot_code": code, "expiry_date": expiry,
        })
    inventory_services.stock_document_post(actor=storekeeper, document_id=receipt.pk, policy=f.FIFO)
    robot = f.product(storekeeper, "ROBOT", tracking="serial")
    for serial in ("R-1", "R-2", "R-3"):
        f.receive(storekeeper, robot, "1", "500.00", to=main_location, serial=serial)
    north = inventory_services.warehouse_create(actor=storekeeper, code="NORTH", name="North warehouse")
    f.receive(storekeeper, chair, "2", "1000.00", to=inventory_services.warehouse_root(north))
    pipeline = pipeline_create(
        actor=admin_user, data={"name": "Sales", "purpose": "sales"},
        stages=[{"name": "New"}, {"name": "Order confirmed", "order_event": "order_confirmed"}, {"name": "Won", "kind": StageKind.WON}],
    )
    deal = deal_create(actor=manager, pipeline=pipeline, title="Classroom set", counterparty=client_party)
    orders = [
        make_order(lines=[(chair, "4", "1500"), (table, "2", "9000")], confirm=False),
        make_order(lines=[(table, "2", "9000"), (robot, "2", "900")], confirm=False, deal=deal.pk),
        make_order(lines=[(chair, "3", "1500")], confirm=False, counterparty=limited_client),
        make_order(lines=[(glue, "7", "300"), (robot, "2", "900")], confirm=False, counterparty=limited_client, prices_include_tax=False),
        make_order(lines=[(chair, "3", "1500")], confirm=False, warehouse=north.pk),
        make_order(lines=[(chair, "1", "1500")], confirm=False),
    ]
    return [order.pk for order in orders]


def test_a_batch_does_exactly_what_confirming_one_by_one_does(scenario, director):
    since = _marks()
    with transaction.atomic():
        for order_id in scenario:
            services.sales_order_confirm(actor=director, order_id=order_id, override_credit_limit=True)
        one_by_one = _state(scenario, since)
        transaction.set_rollback(True)
    assert {status for status, *_rest in _state(scenario, since)["orders"].values()} == {OrderStatus.DRAFT}  # rolled back
    confirmed = sales_orders_confirm(actor=director, order_ids=list(reversed(scenario)), override_credit_limit=True)
    assert [order.pk for order in confirmed] == sorted(scenario)  # id order, whatever the order given
    batch = _state(scenario, since)
    assert len(batch["audit"]) == 6 + 11 + 1 and len(batch["events"]) == 6 + 1  # orders, reservations, the deal (its move)
    assert batch == one_by_one
    # and what that is: the backorder, lots by first expiry, serials lowest first, the override, the deal
    orders = list(batch["orders"].values())
    assert orders[0][3] == [("CHAIR", D("4")), ("TABLE", D("2"))]
    assert orders[1][3] == [("TABLE", D("1")), ("ROBOT", D("2"))]
    assert orders[3][3] == [("GLUE", D("7")), ("ROBOT", D("1"))]
    assert orders[4][3] == [("CHAIR", D("2"))]  # the north warehouse has 2 chairs; the main one's are not taken
    assert [override for _s, _c, override, _l in orders] == [None, None, None, director.pk, None, None]
    assert batch["deals"] == [(Deal.objects.get().number, "Order confirmed")]
    assert sorted(serial for serial, reference in batch["serials"] if reference) == ["R-1", "R-2", "R-3"]


def test_worked_example_the_credit_limit_counts_the_batch_cumulatively(make_order, limited_client, chair, manager, director):
    # the client owes 3 000.00 and may owe 10 000.00; a batch of 4 500.00 then 3 000.00 makes 7 500.00, then 10 500.00
    first = make_order(lines=[(chair, "3", "1500")], confirm=False, counterparty=limited_client)
    second = make_order(lines=[(chair, "2", "1500")], confirm=False, counterparty=limited_client)
    with pytest.raises(CreditLimitExceeded) as refused:
        sales_orders_confirm(actor=manager, order_ids=[first.pk, second.pk])
    error = refused.value
    assert error.field == "orders.1.override_credit_limit" and error.values["exposure"] == "10500.00"
    assert error.values["open_orders"] == "4500.00" and error.values["order_id"] == second.pk
    assert error.message.startswith(f"Order {second.number}: ") and "10000.00" in error.message
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {OrderStatus.DRAFT}
    assert not Reservation.objects.exists() and not AuditEntry.objects.filter(action="post", content_type__model="salesorder").exists()
    # a user without the override permission may not force it; the director may
    with pytest.raises(PermissionDenied) as denied:
        sales_orders_confirm(actor=manager, order_ids=[first.pk, second.pk], override_credit_limit=True)
    assert denied.value.field == "orders.1.override_credit_limit"
    sales_orders_confirm(actor=director, order_ids=[first.pk, second.pk], override_credit_limit=True)
    entries = {e.object_id: e for e in AuditEntry.objects.filter(action="post", content_type__model="salesorder")}
    assert entries[str(first.pk)].changes == {
        "status": ["draft", "confirmed"], "credit_exposure": "7500.00", "reserved": {"CHAIR": "3/3"},
    } and entries[str(first.pk)].message == "confirmed"
    assert entries[str(second.pk)].changes == {
        "status": ["draft", "confirmed"], "credit_exposure": "10500.00", "credit_override": {"limit": "10000.00", "exposure": "10500.00"},
        "reserved": {"CHAIR": "2/2"},
    } and entries[str(second.pk)].message == "confirmed over the credit limit"
    assert SalesOrder.objects.get(pk=second.pk).credit_override_by == director
    assert SalesOrder.objects.get(pk=first.pk).credit_override_by is None


def _unchanged(order_ids):
    assert set(SalesOrder.objects.filter(pk__in=order_ids).values_list("status", flat=True)) <= {OrderStatus.DRAFT, OrderStatus.CANCELLED}
    assert not Reservation.objects.filter(status="active").exists()
    assert sum(StockBalance.objects.values_list("reserved_quantity", flat=True), D(0)) == 0
    assert not OutboxEvent.objects.filter(event_type="sales.order.confirmed").exists()


def test_refusals_name_the_order_and_change_nothing(make_order, manager, chair, table):
    good = make_order(lines=[(chair, "1", "1500")], confirm=False)
    empty = make_order(lines=[], confirm=False)
    with pytest.raises(ValidationError) as refused:
        sales_orders_confirm(actor=manager, order_ids=[good.pk, empty.pk])
    assert list(refused.value.errors) == ["orders.1.lines"] and empty.number in refused.value.errors["orders.1.lines"][0]
    _unchanged([good.pk, empty.pk])

    pending = make_order(lines=[(table, "1", "9000")], confirm=False)
    pending.lines.update(approval=DiscountApproval.PENDING, manual_discount_percent=D("30"))
    with pytest.raises(ApprovalPending) as refused:
        sales_orders_confirm(actor=manager, order_ids=[pending.pk, good.pk])
    assert refused.value.field == "orders.0.lines" and pending.number in refused.value.message
    _unchanged([good.pk, pending.pk])

    cancelled = make_order(lines=[(chair, "1", "1500")], confirm=False)
    services.sales_order_cancel(actor=manager, order_id=cancelled.pk)
    with pytest.raises(InvalidTransition) as refused:
        sales_orders_confirm(actor=manager, order_ids=[good.pk, cancelled.pk])
    assert refused.value.field == "orders.1.status" and cancelled.number in refused.value.message
    _unchanged([good.pk, cancelled.pk])

    with pytest.raises(NotFound) as missing:
        sales_orders_confirm(actor=manager, order_ids=[good.pk, 999999])
    assert missing.value.field == "orders.1" and "999999" in missing.value.message
    for bad, field in (([], "order_ids"), ([good.pk, good.pk], "order_ids.1"), ([good.pk, "x"], "order_ids.1"), (list(range(1, MAX_BATCH + 2)), "order_ids")):
        with pytest.raises(ValidationError) as refused:
            sales_orders_confirm(actor=manager, order_ids=bad)
        assert list(refused.value.errors) == [field]
    _unchanged([good.pk])


def test_stock_taken_meanwhile_refuses_the_batch(make_order, manager, chair):
    """The balance rows are re-checked after the reservation update (as reservations_place does)."""
    order = make_order(lines=[(chair, "2", "1500")], confirm=False)
    from fabrika.sales import batch_orders

    original = batch_orders.plan_reservations

    def overbooking(requests):
        plans = original(requests)
        StockBalance.objects.filter(product=chair).update(reserved_quantity=D("9"))  # someone else took the chairs
        return plans

    batch_orders.plan_reservations = overbooking
    try:
        with pytest.raises(Conflict) as refused:
            sales_orders_confirm(actor=manager, order_ids=[order.pk])
    finally:
        batch_orders.plan_reservations = original
    assert (refused.value.code, refused.value.field) == ("insufficient_stock", "orders.0.quantity")
    assert refused.value.message.startswith(f"Order {order.number}: Not enough CHAIR")
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_queries_do_not_grow_with_the_batch(make_order, manager, chair):
    small = [make_order(lines=[(chair, "1", "100")], confirm=False).pk for _ in range(2)]
    large = [make_order(lines=[(chair, "1", "100")], confirm=False).pk for _ in range(8)]
    with CaptureQueriesContext(connection) as two:
        sales_orders_confirm(actor=manager, order_ids=small)
    with CaptureQueriesContext(connection) as eight:
        sales_orders_confirm(actor=manager, order_ids=large)
    assert len(eight.captured_queries) - len(two.captured_queries) <= 2, [q["sql"][:80] for q in eight.captured_queries]
    assert len(eight.captured_queries) <= 20


# ----------------------------------------------------------------------------------------------- API


def _post(client, data, **headers):
    return client.post(BATCH_URL, data=json.dumps(data), content_type="application/json", **headers)


def test_api_confirms_a_batch(api_client, client, manager, other_manager, storekeeper, make_order, chair, table):
    first = make_order(lines=[(chair, "2", "1500")], confirm=False)
    second = make_order(lines=[(table, "4", "9000")], confirm=False)
    assert _post(client, {"order_ids": [first.pk]}).status_code == 401
    assert _post(api_client(storekeeper), {"order_ids": [first.pk]}).status_code == 403  # no confirm permission
    api = api_client(manager)
    for payload, field in (({"order_ids": []}, "order_ids"), ({"order_ids": list(range(1, 502))}, "order_ids"), ({"order_ids": ["x"]}, "order_ids.0")):
        response = _post(api, payload)
        assert response.status_code == 422, response.content
        assert field in json.dumps(response.json()), response.json()
    theirs = make_order(lines=[(chair, "1", "1500")], confirm=False, actor=other_manager, responsible=other_manager.pk)
    hidden = _post(api, {"order_ids": [first.pk, theirs.pk]})
    assert hidden.status_code == 404 and str(theirs.pk) in hidden.json()["detail"]
    response = _post(api, {"order_ids": [second.pk, first.pk]}, HTTP_IDEMPOTENCY_KEY="batch-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(row["id"], row["status"]) for row in body] == [(second.pk, "confirmed"), (first.pk, "confirmed")]
    assert [line["reserved_quantity"] for line in body[0]["lines"]] == ["3.0000"]  # 3 tables there, 1 backordered
    assert _post(api, {"order_ids": [second.pk, first.pk]}, HTTP_IDEMPOTENCY_KEY="batch-1").json() == body  # replayed
    again = _post(api, {"order_ids": [first.pk]})
    assert again.status_code == 409 and again.json()["errors"] == {"orders.0.status": [again.json()["detail"]]}


# ----------------------------------------------------------------------------------------------- the list's bulk action


def test_bulk_confirm_and_ship_on_the_order_list(web_client, manager, storekeeper, make_order, chair):
    draft = make_order(lines=[(chair, "2", "1500")], confirm=False)
    other = make_order(lines=[(chair, "1", "1500")], confirm=False)
    done = make_order(lines=[(chair, "1", "1500")])
    url = reverse("sales:order_list")
    web, keeper = web_client(manager), web_client(storekeeper)
    listed = web.get(url).content.decode()
    assert 'value="confirm"' in listed and 'value="ship"' not in listed  # a manager confirms, the storekeeper ships
    listed = keeper.get(url).content.decode()
    assert 'value="confirm"' not in listed and 'value="ship"' in listed
    assert 'value="ship" data-confirm="Post a shipment of everything left on each ticked confirmed order?"' in listed  # asked first
    # a confirmed order among the ticked ones is left alone and named; the drafts are confirmed in one batch
    response = web.post(url, {"action": "confirm", "ids": [draft.pk, other.pk, done.pk]}, follow=True)
    page = response.content.decode()
    assert "Confirm: 2 record(s) changed." in page and f"{done.number} (confirmed)" in page
    assert set(SalesOrder.objects.filter(pk__in=[draft.pk, other.pk]).values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
    # the storekeeper ships the three confirmed orders in one wave
    response = keeper.post(url, {"action": "ship", "ids": [draft.pk, other.pk, done.pk]}, follow=True)
    assert "Ship: 3 record(s) changed." in response.content.decode()
    assert Shipment.objects.filter(order__in=[draft, other, done], status=ShipmentStatus.POSTED).count() == 3
    assert all(line.shipped_quantity == line.quantity for line in SalesOrderLine.objects.filter(order__in=[draft, other, done]))
    # without the permission the actions are refused and change nothing
    refused = keeper.post(url, {"action": "confirm", "ids": [make_order(lines=[(chair, "1", "1500")], confirm=False).pk]}, follow=True)
    assert "Choose an action you are allowed to run." in refused.content.decode()
    assert not web.post(url, {"action": "ship", "ids": [done.pk]}, follow=True).content.decode().count("Ship: ")
