"""Stock documents: units, lots and FEFO, serial numbers, counts, reservations, currencies, periods, bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.catalog import services as catalog_services
from fabrika.core.errors import DomainError, InvalidTransition, ValidationError
from fabrika.core.models import Currency, ExchangeRate
from fabrika.inventory import selectors, services
from fabrika.inventory.enums import DocumentType
from fabrika.inventory.models import (
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockDocument,
    StockDocumentLine,
    StockMove,
)

from .conftest import DAY, balance

D = Decimal


def test_receipt_in_boxes_is_kept_in_pieces_and_numbered_on_posting(ledger, main, box, pcs):
    # given a product bought in boxes of 12
    product = ledger.product(sku="SCREW", purchase_unit=box.pk)
    catalog_services.unit_conversion_create(actor=ledger.actor, product=product, from_unit=box, to_unit=pcs, factor="12")
    # when 2 boxes at 30.00 a box are received
    document = ledger.document(
        DocumentType.RECEIPT, to_location=main.pk, lines=[{"product": product.pk, "quantity": "2", "unit_cost": "30.00"}], post=False
    )
    assert document.number == ""
    line = document.lines.get()
    assert (line.unit.code, line.stock_quantity) == ("box", D("24.0000"))
    posted = services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
    # then 24 pieces worth 60.00 are on hand, at 2.50 a piece, and the document has a number
    assert posted.number.startswith("SR")
    assert balance(product, main) == (D("24.0000"), D("60.00"))
    assert StockMove.objects.get(document=posted).unit_cost == D("2.500000")
    with pytest.raises(InvalidTransition):
        services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)


def test_pieces_must_be_whole(ledger, main):
    product = ledger.product()
    document = services.stock_document_create(actor=ledger.actor, document_type="receipt", data={"date": DAY, "to_location": main.pk})
    with pytest.raises(ValidationError) as refused:
        services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": product.pk, "quantity": "1.5", "unit_cost": "1"})
    assert refused.value.errors == {"quantity": ["pcs must be a whole number"]}
    assert StockDocumentLine.objects.count() == 0


def test_bad_line_input_names_each_field_and_changes_nothing(ledger, main):
    product = ledger.product()
    service = catalog_services.product_create(actor=ledger.actor, data={"sku": "SRV", "name": "Delivery", "kind": "service", "stock_unit": product.stock_unit_id})
    document = services.stock_document_create(actor=ledger.actor, document_type="receipt", data={"date": DAY, "to_location": main.pk})
    with pytest.raises(ValidationError) as refused:
        services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": product.pk, "quantity": "-3", "unit_cost": "abc"})
    assert refused.value.errors == {"quantity": ["Must be greater than zero"], "unit_cost": ["Enter a number"]}
    with pytest.raises(ValidationError) as refused:
        services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": service.pk, "quantity": "1", "unit_cost": "1"})
    assert refused.value.errors == {"product": ["SRV is a service and is not kept in stock"]}
    with pytest.raises(ValidationError) as refused:
        services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": product.pk, "quantity": "1", "unit_cost": "1", "from_location": main.pk})
    assert list(refused.value.errors) == ["from_location"]
    with pytest.raises(ValidationError) as refused:
        services.stock_document_create(actor=ledger.actor, document_type="issue", data={"date": "2026-02-31", "from_location": 424242})
    assert set(refused.value.errors) == {"date", "from_location"}
    assert StockDocumentLine.objects.count() == 0
    assert StockDocument.objects.count() == 1


def test_lots_get_expiry_from_shelf_life_and_issues_go_first_expiry_first_out(ledger, main):
    # given a lot-tracked product with a 10-day shelf life, received in two lots (the later one expires first)
    product = ledger.product(sku="MILK", tracking="lot", shelf_life_days=10)
    ledger.receive(product, 5, "1.00", to=main, lot_code="L-LATE", production_date="2026-03-01")
    ledger.receive(product, 5, "1.20", to=main, lot_code="L-SOON", production_date="2026-02-25")
    assert Lot.objects.get(code="L-LATE").expiry_date == dt.date(2026, 3, 11)
    # when 7 are issued without naming a lot
    issue = ledger.issue(product, 7, source=main)
    # then the line is split: 5 from the lot expiring first, 2 from the other
    assert [(line.lot.code, line.stock_quantity) for line in issue.lines.order_by("position")] == [
        ("L-SOON", D("5.0000")), ("L-LATE", D("2.0000"))
    ]
    assert balance(product, main, Lot.objects.get(code="L-LATE")) == (D("3.0000"), D("3.00"))
    # and the expiring-lots report lists what is left by expiry
    report = selectors.expiring_lots(within_days=10, on=dt.date(2026, 3, 5))
    assert [(row["lot"], row["quantity"], row["days_left"]) for row in report] == [("L-LATE", D("3.0000"), 6)]


def test_serial_numbers_are_unique_and_their_location_is_always_known(ledger, main, second):
    product = ledger.product(sku="ROBOT", tracking="serial")
    ledger.receive(product, 1, "500.00", to=main, serial="RB-001")
    # the same serial cannot arrive twice
    with pytest.raises(ValidationError) as refused:
        ledger.receive(product, 1, "500.00", to=main, serial="RB-001")
    assert refused.value.errors == {"serial": ["ROBOT RB-001 is already in stock at MAIN"]}
    ledger.transfer(product, 1, source=main, to=second, serial="RB-001")
    issue = ledger.issue(product, 1, source=second, serial="RB-001")
    serial = SerialNumber.objects.get(serial="RB-001")
    assert serial.location.kind == "customer"
    history = selectors.serial_history(product_id=product.pk, serial="RB-001")
    assert history["in_stock"] is False
    assert [step["document_type"] for step in history["history"]] == ["receipt", "transfer", "issue"]
    # cancelling the issue brings it back to where it left from
    services.stock_document_cancel(actor=ledger.actor, document_id=issue.pk, policy=ledger.policy, on=DAY)
    serial.refresh_from_db()
    assert serial.location_id == second.pk


def test_count_posts_differences_as_adjustments(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main)
    count = ledger.document(DocumentType.COUNT, from_location=main.pk, lines=[{"product": product.pk, "quantity": "7"}])
    line = count.lines.get()
    assert (line.expected_quantity, line.counted_quantity, line.cost) == (D("10.0000"), D("7.0000"), D("6.00"))
    assert balance(product, main) == (D("7.0000"), D("14.00"))
    surplus = ledger.document(DocumentType.COUNT, from_location=main.pk, lines=[{"product": product.pk, "quantity": "9"}])
    assert surplus.total_value == D("4.00")
    assert balance(product, main) == (D("9.0000"), D("18.00"))


def test_reservations_limit_what_others_can_issue(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "1.00", to=main)
    services.reservation_create(actor=ledger.actor, product_id=product.pk, location_id=main.pk, quantity="6", reference="SO-7")
    assert selectors.available_quantity(product_id=product.pk, location_id=main.pk) == D("4.0000")
    # reserving more than is free is refused
    with pytest.raises(DomainError) as refused:
        services.reservation_create(actor=ledger.actor, product_id=product.pk, location_id=main.pk, quantity="5", reference="SO-8")
    assert refused.value.code == "insufficient_stock"
    # an issue for another order cannot take reserved stock
    with pytest.raises(DomainError) as refused:
        ledger.issue(product, 5, source=main)
    assert refused.value.code == "stock_reserved"
    assert balance(product, main) == (D("10.0000"), D("10.00"))
    # the order's own issue uses its reservation
    ledger.document(DocumentType.ISSUE, from_location=main.pk, reference="SO-7", lines=[{"product": product.pk, "quantity": "6"}])
    assert StockBalance.objects.get(product=product, location=main).reserved_quantity == 0
    assert Reservation.objects.get(reference="SO-7").status == "fulfilled"


def test_receipt_in_foreign_currency_is_valued_in_base_currency(ledger, main):
    euro = Currency.objects.create(code="EUR", name="Euro")
    ExchangeRate.objects.create(currency=euro, date=DAY - dt.timedelta(days=1), rate=D("95.5"))
    product = ledger.product()
    receipt = ledger.document(
        DocumentType.RECEIPT, to_location=main.pk, currency="EUR", lines=[{"product": product.pk, "quantity": "3", "unit_cost": "1.10"}]
    )
    assert receipt.exchange_rate == D("95.500000")
    assert balance(product, main) == (D("3.0000"), D("315.15"))


def test_closed_period_refuses_postings_on_or_before_it(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 1, 10))
    services.period_close(actor=ledger.actor, month="2026-01-01")
    with pytest.raises(ValidationError) as refused:
        ledger.receive(product, 1, "2.00", to=main, date=dt.date(2026, 1, 31))
    assert refused.value.errors == {"date": ["The period up to 2026-01-31 is closed; choose a later date"]}
    assert balance(product, main) == (D("10.0000"), D("20.00"))
    # reports at a later date start from the month-end snapshot
    ledger.issue(product, 4, source=main, date=dt.date(2026, 2, 3))
    rows = selectors.stock_on_hand(at=dt.date(2026, 2, 3), group_by="product")
    assert [(row["quantity"], row["value"]) for row in rows] == [(D("6.0000"), D("12.00"))]
    assert selectors.stock_on_hand(at=dt.date(2026, 1, 20), group_by="product")[0]["quantity"] == D("10.0000")
    services.period_reopen(actor=ledger.actor, month="2026-01-01")
    ledger.receive(product, 1, "2.00", to=main, date=dt.date(2026, 1, 31))
    assert balance(product, main) == (D("7.0000"), D("14.00"))


def test_posting_and_cancelling_are_audited_on_the_document(ledger, main):
    from fabrika.core.models import AuditEntry

    # given a posted receipt of 3 pieces at 4.00
    product = ledger.product()
    document = ledger.document(DocumentType.RECEIPT, to_location=main.pk, lines=[{"product": product.pk, "quantity": "3", "unit_cost": "4.00"}])
    # when it is cancelled
    services.stock_document_cancel(actor=ledger.actor, document_id=document.pk, policy=ledger.policy, on=DAY)
    # then the document's audit trail holds one post and one cancel entry, by the storekeeper, with what they did
    entries = AuditEntry.objects.filter(object_id=str(document.pk), action__in=["post", "cancel"]).order_by("id")
    assert [(entry.action, entry.actor_id) for entry in entries] == [("post", ledger.actor.pk), ("cancel", ledger.actor.pk)]
    posted, cancelled = entries
    assert posted.changes["moves"] == 1 and posted.changes["number"] == document.number
    assert D(str(posted.changes["value"])) == D("12.00")
    assert cancelled.changes["reversal_moves"] == 1
