"""Confirmation: reservations with backorders, the credit limit, cancel, and the deal following its order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from fabrika.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from fabrika.crm.models import Deal, StageKind
from fabrika.crm.services_pipelines import deal_create, pipeline_create
from fabrika.inventory.models import Reservation, StockBalance
from fabrika.ledger.services import EntryLine, Source, accounts_ensure, journal_post
from fabrika.sales import services_orders as services
from fabrika.sales.models import OrderStatus, SalesOrder, Shipment
from fabrika.sales.selectors_orders import order_availability
from fabrika.sales.services_orders import CreditLimitExceeded


def reserved(product) -> D:
    return sum((row.reserved_quantity for row in StockBalance.objects.filter(product=product)), D(0))


def test_confirm_reserves_what_is_there_and_leaves_a_backorder(make_order, chair, table):
    # given 10 chairs and 3 tables; an order for 4 chairs and 5 tables
    order = make_order(lines=[(chair, "4", "1500"), (table, "5", "9000")], confirm=False)
    availability = order_availability(order)
    chair_line, table_line = order.lines.order_by("position")
    assert (availability[table_line.pk].available, availability[table_line.pk].backorder) == (D("3"), D("2"))
    # when confirmed
    services.sales_order_confirm(actor=order.responsible, order_id=order.pk)
    # then 4 chairs and the 3 tables there are are reserved under the order's number; 2 tables are a backorder
    chair_line.refresh_from_db()
    table_line.refresh_from_db()
    assert (chair_line.reserved_quantity, table_line.reserved_quantity) == (D("4"), D("3"))
    assert (reserved(chair), reserved(table)) == (D("4"), D("3"))
    assert set(Reservation.objects.filter(status="active").values_list("reference", flat=True)) == {order.number}
    order.refresh_from_db()
    availability = order_availability(order)
    assert availability[table_line.pk].backorder == D("2")
    assert availability[chair_line.pk].available == D("6")  # 10 on hand − 4 reserved
    assert (order.status, order.confirmed_by) == (OrderStatus.CONFIRMED, order.responsible)


def test_second_order_gets_what_the_first_left(make_order, table):
    first = make_order(lines=[(table, "2", "9000")])
    second = make_order(lines=[(table, "2", "9000")])
    assert first.lines.get().reserved_quantity == D("2")
    assert second.lines.get().reserved_quantity == D("1")
    assert reserved(table) == D("3")


def test_cancel_releases_the_reservations(make_order, chair, manager):
    order = make_order(lines=[(chair, "4", "1500")])
    services.sales_order_cancel(actor=manager, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.cancelled_at is not None
    assert reserved(chair) == 0 and order.lines.get().reserved_quantity == 0
    assert set(Reservation.objects.values_list("status", flat=True)) == {"released"}
    with pytest.raises(InvalidTransition):
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    with pytest.raises(InvalidTransition):
        services.sales_order_cancel(actor=manager, order_id=order.pk)


def test_cancel_is_refused_once_a_shipment_is_posted(make_order, chair, manager):
    order = make_order(lines=[(chair, "1", "1500")])
    Shipment.objects.create(order=order, number="SH-1", status="posted", date=order.date, author=manager)
    with pytest.raises(Conflict) as refused:
        services.sales_order_cancel(actor=manager, order_id=order.pk)
    assert refused.value.code == "order_shipped" and "SH-1" in refused.value.message
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED
    assert reserved(chair) == D("1")


def test_confirm_of_an_empty_order_is_refused(make_order, manager):
    order = make_order(lines=[], confirm=False)
    with pytest.raises(ValidationError) as refused:
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    assert "lines" in refused.value.errors
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


# ----------------------------------------------------------------------------------------------- credit limit


@pytest.fixture
def limited_client(client_party, admin_user):
    """Limit 10 000.00; the client already owes 3 000.00 by the ledger."""
    client_party.credit_limit = D("10000.00")
    client_party.save(update_fields=["credit_limit"])
    accounts_ensure()
    journal_post(
        actor=admin_user, date=dt.date(2026, 3, 1), source=Source("tests.invoice", 1, "INV-1"),
        lines=[EntryLine(account="receivables", debit=D("3000.00"), counterparty_id=client_party.pk),
               EntryLine(account="revenue", credit=D("3000.00"))],
    )
    return client_party


def test_credit_limit_counts_the_ledger_open_orders_and_this_order(limited_client, make_order, chair, manager):
    # 3000 owed + a confirmed order of 4500 = 7500; a new order of 3000 would make 10 500 > 10 000
    make_order(lines=[(chair, "3", "1500")])
    order = make_order(lines=[(chair, "2", "1500")], confirm=False)
    with pytest.raises(CreditLimitExceeded) as refused:
        services.sales_order_confirm(actor=manager, order_id=order.pk)
    assert refused.value.status == 409 and refused.value.code == "credit_limit_exceeded"
    assert refused.value.values["limit"] == "10000.00" and refused.value.values["exposure"] == "10500.00"
    assert "10000.00" in refused.value.message and "10500.00" in refused.value.message
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and not Reservation.objects.filter(reference=order.number).exists()
    # an order of exactly the rest (2500) fits
    fits = make_order(lines=[(chair, "1", "2500")])
    assert fits.status == OrderStatus.CONFIRMED


def test_override_needs_the_permission_and_is_recorded(limited_client, make_order, chair, manager, director):
    order = make_order(lines=[(chair, "5", "1500")], confirm=False)
    with pytest.raises(PermissionDenied):
        services.sales_order_confirm(actor=manager, order_id=order.pk, override_credit_limit=True)
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    services.sales_order_confirm(actor=director, order_id=order.pk, override_credit_limit=True)
    order.refresh_from_db()
    assert (order.status, order.credit_override_by) == (OrderStatus.CONFIRMED, director)
    from fabrika.core.models import AuditEntry

    entry = AuditEntry.objects.filter(object_id=str(order.pk), action="post", content_type__model="salesorder").get()
    assert entry.changes["credit_override"] == {"limit": "10000.00", "exposure": "10500.00"}


def test_partly_invoiced_orders_count_only_their_rest(limited_client, make_order, chair, manager):
    open_order = make_order(lines=[(chair, "4", "1500")])  # 6000
    line = open_order.lines.get()
    line.invoiced_quantity = D("2")  # the finance work invoices 2: their 3000 are now in the ledger, not in the order
    line.save(update_fields=["invoiced_quantity"])
    from fabrika.sales.credit import credit_check

    order = make_order(lines=[(chair, "1", "1000")], confirm=False)
    check = credit_check(order=order)
    assert (check.balance, check.open_orders, check.order_total, check.exposure) == (D("3000.00"), D("3000.00"), D("1000.00"), D("7000.00"))


# ----------------------------------------------------------------------------------------------- the deal follows


@pytest.fixture
def deal(admin_user, manager, client_party):
    pipeline = pipeline_create(
        actor=admin_user, data={"name": "Sales", "purpose": "sales"},
        stages=[
            {"name": "New"}, {"name": "Proposal"}, {"name": "Order confirmed", "order_event": "order_confirmed"},
            {"name": "Won", "kind": StageKind.WON},
        ],
    )
    return deal_create(actor=manager, pipeline=pipeline, title="Classroom set", counterparty=client_party)


def test_the_deal_follows_the_confirmed_order(deal, make_order, chair):
    assert deal.stage.name == "New"
    order = make_order(lines=[(chair, "1", "1500")], deal=deal.pk)
    assert order.deal == deal
    assert Deal.objects.get(pk=deal.pk).stage.name == "Order confirmed"


def test_order_from_a_deal_takes_its_client(deal, manager, warehouse, client_party):
    order = services.sales_order_create(actor=manager, data={"deal": deal.pk, "warehouse": warehouse.pk})
    assert (order.counterparty, order.deal, order.responsible) == (client_party, deal, manager)


def test_a_stage_follows_one_order_event_per_pipeline(deal, admin_user):
    from fabrika.crm.services_pipelines import stage_create

    with pytest.raises(ValidationError) as refused:
        stage_create(actor=admin_user, pipeline=deal.pipeline, data={"name": "Twice", "order_event": "order_confirmed"})
    assert "order_event" in refused.value.errors
    with pytest.raises(ValidationError):
        stage_create(actor=admin_user, pipeline=deal.pipeline, data={"name": "Bad", "order_event": "order_lost"})


def test_lots_are_reserved_first_expiry_first(make_order, storekeeper, main_location, pcs):
    from fabrika.catalog import services as catalog_services
    from fabrika.inventory import services as inventory_services
    from fabrika.inventory.engine import StockPolicy

    glue = catalog_services.product_create(
        actor=storekeeper, data={"sku": "GLUE", "name": "Glue", "stock_unit": pcs.pk, "kind": "goods_for_resale", "tracking": "lot"}
    )
    receipt = inventory_services.stock_document_create(actor=storekeeper, document_type="receipt", data={"date": dt.date(2026, 3, 2), "to_location": main_location.pk})
    for code, expiry in (("LATE", "2027-06-30"), ("EARLY", "2026-12-31")):
        inventory_services.stock_document_add_line(actor=storekeeper, document_id=receipt.pk, data={
            "product": glue.pk, "quantity": "5", "unit_cost": "10", "lot_code": code, "expiry_date": expiry,
        })
    inventory_services.stock_document_post(actor=storekeeper, document_id=receipt.pk, policy=StockPolicy(allow_negative_stock=False, default_valuation_method="fifo"))
    order = make_order(lines=[(glue, "7", "50")])
    by_lot = {reservation.lot.code: reservation.quantity for reservation in Reservation.objects.filter(reference=order.number)}
    assert by_lot == {"EARLY": D("5"), "LATE": D("2")}
    assert order.lines.get().reserved_quantity == D("7")


def test_a_client_without_a_limit_is_not_worked_out(client_party, make_order, chair, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fabrika.core.models import AuditEntry
    from fabrika.sales.credit import credit_check

    make_order(lines=[(chair, "2", "1500")])  # an open order of the same client: not read
    order = make_order(lines=[(chair, "1", "1000")], confirm=False)
    with CaptureQueriesContext(connection) as queries:
        check = credit_check(order=order)
    assert (check.limit, check.exposure, check.exceeded, len(queries.captured_queries)) == (None, None, False, 1)  # the client only
    services.sales_order_confirm(actor=manager, order_id=order.pk)
    entry = AuditEntry.objects.filter(object_id=str(order.pk), action="post", content_type__model="salesorder").get()
    assert "credit_exposure" not in entry.changes and entry.changes["status"] == ["draft", "confirmed"]
