"""Returns from clients: at most what was shipped and not returned, back into stock at the cost the goods left with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import Conflict, ValidationError
from fabrika.inventory.enums import DocumentStatus, DocumentType
from fabrika.inventory.models import StockDocument
from fabrika.sales import services_shipments as services
from fabrika.sales.models import SalesReturn, ShipmentStatus

from . import shipment_factories as f

D = Decimal
RETURN_DAY = dt.date(2026, 3, 20)


@pytest.fixture
def shipped(storekeeper, manager, client_party, warehouse, main_location):
    """5 pumps received at 40.00, then 10 at 52.00 (FIFO); 6 ordered at 99.99 less 7 % and shipped: cost 5 × 40 + 52 = 252."""
    pump = f.product(storekeeper, "PUMP")
    f.receive(storekeeper, pump, "5", "40.00", to=main_location)
    f.receive(storekeeper, pump, "10", "52.00", to=main_location)
    order = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "6", "99.99", "7")])
    shipment = services.shipment_create(actor=storekeeper, order_id=order.pk, data={"date": f.SHIP_DAY})
    shipment = services.shipment_post(actor=storekeeper, shipment_id=shipment.pk)
    assert shipment.cost == D("252.00")
    return {"pump": pump, "order": order, "line": order.lines.get(), "shipment": shipment}


def test_return_comes_back_at_the_cost_it_left_with(storekeeper, shipped, main_location):
    pump, line = shipped["pump"], shipped["line"]
    assert f.on_hand(pump, main_location)[:2] == (D("9"), D("468.00"))  # 9 × 52
    draft = services.sales_return_create(
        actor=storekeeper, order_id=shipped["order"].pk,
        data={"date": RETURN_DAY, "reason": "Damaged box", "lines": [{"order_line": line.pk, "quantity": "2"}]},
    )
    posted = services.sales_return_post(actor=storekeeper, return_id=draft.pk)
    # 252.00 / 6 = 42.00 a unit: 2 come back worth 84.00
    assert f.on_hand(pump, main_location)[:2] == (D("11"), D("552.00"))
    document = posted.stock_document
    assert (document.document_type, document.status, document.total_value, document.reference) == (
        DocumentType.CUSTOMER_RETURN, DocumentStatus.POSTED, D("84.00"), shipped["order"].number,
    )
    # money: 2 of the line priced as a part (199.98 − 14.00 = 185.98, VAT 31.00)
    returned = posted.lines.get()
    assert (returned.total, returned.net_amount, returned.tax_amount) == (D("185.98"), D("154.98"), D("31.00"))
    assert (posted.total, posted.number != "", posted.status) == (D("185.98"), True, ShipmentStatus.POSTED)
    line.refresh_from_db()
    assert line.returned_quantity == D("2")
    # the rest of the line comes back: the parts add up to the line total
    second = services.sales_return_post(
        actor=storekeeper,
        return_id=services.sales_return_create(actor=storekeeper, order_id=shipped["order"].pk, data={"date": RETURN_DAY, "lines": [{"order_line": line.pk, "quantity": "4"}]}).pk,
    )
    assert posted.total + second.total == line.total == D("557.94")


def test_returning_more_than_shipped_is_refused_and_changes_nothing(storekeeper, shipped):
    line = shipped["line"]
    services.sales_return_post(
        actor=storekeeper,
        return_id=services.sales_return_create(actor=storekeeper, order_id=shipped["order"].pk, data={"lines": [{"order_line": line.pk, "quantity": "5"}]}).pk,
    )
    before = (SalesReturn.objects.count(), StockDocument.objects.count())
    with pytest.raises(ValidationError) as refused:
        services.sales_return_create(actor=storekeeper, order_id=shipped["order"].pk, data={"lines": [{"order_line": line.pk, "quantity": "2"}]})
    assert refused.value.errors == {"lines.0.quantity": ["Line 1 (PUMP): 2 is more than the 1 shipped and not yet returned"]}
    with pytest.raises(ValidationError) as empty:
        services.sales_return_create(actor=storekeeper, order_id=shipped["order"].pk, data={"lines": []})
    assert empty.value.errors == {"lines": ["Add at least one line"]}
    assert (SalesReturn.objects.count(), StockDocument.objects.count()) == before


def test_cancel_a_return_and_the_shipment_it_blocked(storekeeper, shipped, main_location):
    line = shipped["line"]
    posted = services.sales_return_post(
        actor=storekeeper,
        return_id=services.sales_return_create(actor=storekeeper, order_id=shipped["order"].pk, data={"date": RETURN_DAY, "lines": [{"order_line": line.pk, "quantity": "2"}]}).pk,
    )
    # the shipment cannot be cancelled while goods of it are back from the client
    with pytest.raises(Conflict) as refused:
        services.shipment_cancel(actor=storekeeper, shipment_id=shipped["shipment"].pk, on=RETURN_DAY)
    assert refused.value.code == "shipment_returned"
    services.sales_return_cancel(actor=storekeeper, return_id=posted.pk, on=RETURN_DAY)
    line.refresh_from_db()
    assert line.returned_quantity == 0
    assert f.on_hand(shipped["pump"], main_location)[:2] == (D("9"), D("468.00"))
    services.shipment_cancel(actor=storekeeper, shipment_id=shipped["shipment"].pk, on=RETURN_DAY)
    assert f.on_hand(shipped["pump"], main_location)[:2] == (D("15"), D("720.00"))


def test_a_lot_comes_back_into_its_lot_at_its_cost(storekeeper, manager, client_party, warehouse, main_location):
    from fabrika.inventory.models import Lot, StockBalance

    milk = f.product(storekeeper, "MILK", tracking="lot")
    f.receive(storekeeper, milk, "5", "1.00", to=main_location, lot_code="L-LATE", expiry_date="2026-06-01")
    f.receive(storekeeper, milk, "5", "1.20", to=main_location, lot_code="L-SOON", expiry_date="2026-04-01")
    order = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(milk, "7", "3.00", "0")], reserve=False)
    services.shipment_post(actor=storekeeper, shipment_id=services.shipment_create(actor=storekeeper, order_id=order.pk, data={"date": f.SHIP_DAY}).pk)
    late = Lot.objects.get(code="L-LATE")
    with pytest.raises(ValidationError) as no_lot:
        services.sales_return_post(
            actor=storekeeper,
            return_id=services.sales_return_create(actor=storekeeper, order_id=order.pk, data={"lines": [{"order_line": order.lines.get().pk, "quantity": "1"}]}).pk,
        )
    assert no_lot.value.errors == {"lines.0.lot": ["Line 1 (MILK): choose the lot of MILK"]}
    posted = services.sales_return_post(
        actor=storekeeper,
        return_id=services.sales_return_create(
            actor=storekeeper, order_id=order.pk, data={"date": RETURN_DAY, "lines": [{"order_line": order.lines.get().pk, "quantity": "2", "lot": late.pk}]}
        ).pk,
    )
    assert posted.stock_document.total_value == D("2.00")  # the L-LATE units left at 1.00
    balance = StockBalance.objects.get(product=milk, location=main_location, lot=late)
    assert (balance.quantity, balance.value) == (D("5"), D("5.00"))
