"""The bulk paths other services build stock documents with: many lines at once, reservations from locked rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fabrika.core.errors import Conflict, ValidationError
from fabrika.core.models import AuditEntry
from fabrika.inventory import locks, services
from fabrika.inventory.enums import DocumentType, ReservationStatus
from fabrika.inventory.models import Reservation, StockBalance, StockDocumentLine

from .conftest import balance

D = Decimal


def test_add_lines_adds_every_line_with_one_audit_row_and_posts_like_single_lines(ledger, main, box, pcs):
    from fabrika.catalog import services as catalog_services

    first, second = ledger.product("B1"), ledger.product("B2")
    catalog_services.unit_conversion_create(actor=ledger.actor, product=second, from_unit=box, to_unit=pcs, factor="12")
    document = services.stock_document_create(actor=ledger.actor, document_type=DocumentType.RECEIPT, data={"to_location": main.pk})
    audit_before = AuditEntry.objects.count()
    made = services.stock_document_add_lines(actor=ledger.actor, document_id=document.pk, lines=[
        {"product": first.pk, "quantity": "3", "unit_cost": "10.50"},
        {"product": second.pk, "unit": box.pk, "quantity": "2", "unit_cost": "120"},
    ])
    assert [[line.position for line in group] for group in made] == [[1], [2]]
    assert [(line.product_id, line.stock_quantity) for line in StockDocumentLine.objects.filter(document=document).order_by("position")] == [
        (first.pk, D("3")), (second.pk, D("24")),
    ]
    assert AuditEntry.objects.count() == audit_before + 1
    services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
    assert balance(first, main) == (D("3"), D("31.50"))
    assert balance(second, main) == (D("24"), D("240.00"))


def test_add_lines_names_the_line_and_field_of_each_error_and_adds_nothing(ledger, main):
    product = ledger.product("B1")
    service = ledger.product("SRV", kind="service")
    document = services.stock_document_create(actor=ledger.actor, document_type=DocumentType.RECEIPT, data={"to_location": main.pk})
    with pytest.raises(ValidationError) as error:
        services.stock_document_add_lines(actor=ledger.actor, document_id=document.pk, lines=[
            {"product": product.pk, "quantity": "2", "unit_cost": "1"},
            {"product": product.pk, "quantity": "-1", "unit_cost": "1"},
            {"product": service.pk, "quantity": "1", "unit_cost": "1"},
            {"product": 999999, "quantity": "1", "unit_cost": "1"},
        ])
    assert set(error.value.errors) == {"lines.1.quantity", "lines.2.product", "lines.3.product"}
    assert error.value.errors["lines.3.product"] == ["Unknown product 999999"]
    assert not StockDocumentLine.objects.filter(document=document).exists()
    with pytest.raises(ValidationError) as error:
        services.stock_document_add_lines(actor=ledger.actor, document_id=document.pk, lines=[])
    assert error.value.errors == {"lines": ["Add at least one line"]}


def test_reservations_place_reserves_from_locked_rows_and_refuses_more_than_on_hand(ledger, main):
    product = ledger.product("R1")
    ledger.receive(product, 10, "2.00", to=main)
    row = locks.lock_balances({product.pk})[0]
    created = services.reservations_place(actor=ledger.actor, reference="SO-1", items=[(row[0], product.pk, main.pk, None, D("4"))])
    assert [(r.quantity, r.reference, r.status) for r in created] == [(D("4"), "SO-1", ReservationStatus.ACTIVE)]
    assert StockBalance.objects.get(pk=row[0]).reserved_quantity == D("4")
    entry = AuditEntry.objects.filter(content_type__model="reservation", object_id=str(created[0].pk)).get()
    assert (entry.action, entry.changes["quantity"], entry.changes["reference"]) == ("create", "4", "SO-1")
    with pytest.raises(Conflict) as error:
        services.reservations_place(actor=ledger.actor, reference="SO-2", items=[(row[0], product.pk, main.pk, None, D("7"))])
    assert error.value.code == "insufficient_stock"


@pytest.mark.django_db(transaction=True)
def test_a_refused_placement_leaves_the_balance_and_reservations_unchanged(storekeeper, fifo_policy, pcs, main):
    from django.db import transaction

    from .conftest import Ledger

    ledger = Ledger(storekeeper, fifo_policy)
    product = ledger.product("R2")
    ledger.receive(product, 5, "1.00", to=main)
    balance_id = StockBalance.objects.get(product=product, location=main).pk
    with pytest.raises(Conflict), transaction.atomic():
        services.reservations_place(actor=storekeeper, reference="SO-9", items=[(balance_id, product.pk, main.pk, None, D("6"))])
    assert StockBalance.objects.get(pk=balance_id).reserved_quantity == 0
    assert not Reservation.objects.filter(reference="SO-9").exists()
