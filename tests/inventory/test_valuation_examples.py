"""Textbook worked examples with exact costs: FIFO, moving average, back-dating and cancellation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.inventory import services
from fabrika.inventory.engine import InsufficientStock, StockPolicy
from fabrika.inventory.models import CostLayer, LayerConsumption, StockMove
from fabrika.inventory.selectors import move_origins

from .conftest import DAY, balance

D = Decimal


def test_fifo_issue_consumes_oldest_layers_first(ledger, main):
    # given three receipts of the same product at rising costs
    product = ledger.product()
    first = ledger.receive(product, 10, "2.50", to=main, date=DAY)
    ledger.receive(product, 10, "3.00", to=main, date=DAY + dt.timedelta(days=1))
    ledger.receive(product, 10, "3.20", to=main, date=DAY + dt.timedelta(days=2))
    # when fifteen go out
    issue = ledger.issue(product, 15, source=main, date=DAY + dt.timedelta(days=3))
    # then the cost is 10 × 2.50 + 5 × 3.00 and 5 × 3.00 + 10 × 3.20 remain
    line = issue.lines.get()
    assert line.cost == D("40.00")
    assert issue.total_value == D("40.00")
    assert balance(product, main) == (D("15.0000"), D("47.00"))
    assert sorted((layer.remaining_quantity, layer.unit_cost) for layer in CostLayer.objects.filter(product=product, remaining_quantity__gt=0)) == [
        (D("5.0000"), D("3.000000")), (D("10.0000"), D("3.200000"))
    ]
    # and the issue is traceable to the two receipts it came from
    origins = move_origins(move_id=StockMove.objects.get(document=issue).pk)
    assert [(o["receipt_number"], o["quantity"], o["value"]) for o in origins] == [
        (first.number, D("10.0000"), D("25.00")),
        (StockMove.objects.filter(product=product, date=DAY + dt.timedelta(days=1)).get().document.number, D("5.0000"), D("15.00")),
    ]


def test_fifo_partial_layer_rounds_each_entry_half_up(ledger, main):
    # given 3 units received for 10.00 (3.333333 each)
    product = ledger.product()
    ledger.receive(product, 3, "3.333333", to=main)
    # when one goes out, then another two
    first = ledger.issue(product, 1, source=main)
    second = ledger.issue(product, 2, source=main)
    # then 3.33 and the remaining 6.67: nothing is lost to rounding
    assert first.total_value == D("3.33")
    assert second.total_value == D("6.67")
    assert balance(product, main) == (D("0"), D("0"))


def test_fifo_refuses_to_go_negative_and_names_product_location_and_available(ledger, main):
    # given 4 units in stock
    product = ledger.product(sku="BOLT-8")
    ledger.receive(product, 4, "1.00", to=main)
    moves_before = StockMove.objects.count()
    # when 5 are issued
    document = services.stock_document_create(actor=ledger.actor, document_type="issue", data={"date": DAY, "from_location": main.pk})
    services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": product.pk, "quantity": "5"})
    with pytest.raises(InsufficientStock) as refused:
        services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
    # then the error names the product, the location and what is available, and nothing changed
    assert refused.value.values["product"] == "BOLT-8"
    assert refused.value.values["location"] == "MAIN"
    assert refused.value.values["available"] == "4.0000"
    assert "BOLT-8" in refused.value.message and "MAIN" in refused.value.message
    document.refresh_from_db()
    assert document.status == "draft" and document.number == ""
    assert StockMove.objects.count() == moves_before
    assert balance(product, main) == (D("4.0000"), D("4.00"))


def test_moving_average_sequence(average_ledger, main):
    # given 100 @ 10.00 and 50 @ 13.00: average (1000 + 650) / 150 = 11.00
    product = average_ledger.product()
    average_ledger.receive(product, 100, "10.00", to=main)
    average_ledger.receive(product, 50, "13.00", to=main)
    assert balance(product, main) == (D("150.0000"), D("1650.00"))
    # when 60 go out they cost 60 × 11.00
    issue = average_ledger.issue(product, 60, source=main)
    assert issue.total_value == D("660.00")
    assert balance(product, main) == (D("90.0000"), D("990.00"))
    # and 30 more at 14.00 give (990 + 420) / 120 = 11.75
    average_ledger.receive(product, 30, "14.00", to=main)
    issue = average_ledger.issue(product, 20, source=main)
    assert issue.total_value == D("235.00")
    # and the last 100 take exactly what is left
    issue = average_ledger.issue(product, 100, source=main)
    assert issue.total_value == D("1175.00")
    assert balance(product, main) == (D("0"), D("0"))


def test_moving_average_negative_stock_is_corrected_at_the_next_receipt(storekeeper, main, pcs):
    from .conftest import Ledger

    ledger = Ledger(storekeeper, StockPolicy(allow_negative_stock=True, default_valuation_method="average"))
    # given 10 @ 5.00 in stock
    product = ledger.product()
    ledger.receive(product, 10, "5.00", to=main)
    # when 15 go out: 10 at the average 5.00 and 5 more at the last cost 5.00 → stock −5 worth −25.00
    issue = ledger.issue(product, 15, source=main)
    assert issue.total_value == D("75.00")
    assert balance(product, main) == (D("-5.0000"), D("-25.00"))
    # when 20 arrive at 6.00, the 5 units short are re-costed at 6.00: a 5.00 correction
    receipt = ledger.receive(product, 20, "6.00", to=main)
    move = StockMove.objects.get(document=receipt)
    assert (move.value, move.adjustment_value) == (D("120.00"), D("-5.00"))
    # then 15 units remain at exactly 6.00
    assert balance(product, main) == (D("15.0000"), D("90.00"))


def test_moving_average_negative_stock_refused_when_company_forbids(average_ledger, main):
    product = average_ledger.product(sku="AVG-1")
    average_ledger.receive(product, 2, "5.00", to=main)
    with pytest.raises(InsufficientStock) as refused:
        average_ledger.issue(product, 3, source=main)
    assert refused.value.values["available"] == "2.0000"
    assert balance(product, main) == (D("2.0000"), D("10.00"))


def test_back_dated_receipt_revalues_only_later_issues(ledger, main):
    # given receipts on the 2nd (10 @ 2.00) and the 10th (10 @ 4.00), an issue of 15 on the 12th
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 3, 2))
    early_issue = ledger.issue(product, 5, source=main, date=dt.date(2026, 3, 3))
    ledger.receive(product, 10, "4.00", to=main, date=dt.date(2026, 3, 10))
    late_issue = ledger.issue(product, 10, source=main, date=dt.date(2026, 3, 12))
    # 5 @ 2.00 then 5 @ 2.00 + 5 @ 4.00
    assert early_issue.total_value == D("10.00")
    assert late_issue.total_value == D("30.00")
    # when a receipt of 10 @ 1.00 dated the 5th is posted
    ledger.receive(product, 10, "1.00", to=main, date=dt.date(2026, 3, 5))
    # then the issue on the 3rd keeps its cost and the issue on the 12th now takes 5 @ 2.00 + 5 @ 1.00
    early_issue.refresh_from_db()
    late_issue.refresh_from_db()
    assert early_issue.total_value == D("10.00")
    assert late_issue.total_value == D("15.00")
    assert late_issue.lines.get().cost == D("15.00")
    assert StockMove.objects.get(document=late_issue).value == D("15.00")
    # and what is left is 5 @ 1.00 + 10 @ 4.00
    assert balance(product, main) == (D("15.0000"), D("45.00"))
    assert sum(layer.remaining_value for layer in CostLayer.objects.filter(product=product)) == D("45.00")
    assert sum(c.value for c in LayerConsumption.objects.filter(move__document=late_issue)) == D("15.00")


def test_back_dated_issue_that_would_starve_a_later_issue_is_refused(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 3, 2))
    ledger.issue(product, 8, source=main, date=dt.date(2026, 3, 10))
    before = list(StockMove.objects.values_list("id", "value"))
    with pytest.raises(InsufficientStock):
        ledger.issue(product, 5, source=main, date=dt.date(2026, 3, 5))
    assert list(StockMove.objects.values_list("id", "value")) == before
    assert balance(product, main) == (D("2.0000"), D("4.00"))


def test_cancel_receipt_reverses_on_the_cancellation_date(ledger, main):
    product = ledger.product()
    receipt = ledger.receive(product, 10, "2.00", to=main, date=dt.date(2026, 3, 2))
    ledger.receive(product, 5, "3.00", to=main, date=dt.date(2026, 3, 3))
    # when the first receipt is cancelled on the 20th
    cancelled = services.stock_document_cancel(actor=ledger.actor, document_id=receipt.pk, policy=ledger.policy, on=dt.date(2026, 3, 20))
    # then its own layer goes back, dated the 20th, and 5 @ 3.00 remain
    assert cancelled.status == "cancelled"
    reversal = StockMove.objects.get(reverses__document=receipt)
    assert (reversal.date, reversal.quantity, reversal.value) == (dt.date(2026, 3, 20), D("10.0000"), D("20.00"))
    assert balance(product, main) == (D("5.0000"), D("15.00"))


def test_cancel_refused_when_fifo_would_go_negative(ledger, main):
    product = ledger.product()
    receipt = ledger.receive(product, 10, "2.00", to=main)
    ledger.issue(product, 7, source=main)
    with pytest.raises(InsufficientStock):
        services.stock_document_cancel(actor=ledger.actor, document_id=receipt.pk, policy=ledger.policy, on=DAY)
    receipt.refresh_from_db()
    assert receipt.status == "posted"
    assert balance(product, main) == (D("3.0000"), D("6.00"))


def test_cancel_issue_brings_goods_back_at_their_cost(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.00", to=main)
    ledger.receive(product, 10, "3.00", to=main)
    issue = ledger.issue(product, 15, source=main)
    services.stock_document_cancel(actor=ledger.actor, document_id=issue.pk, policy=ledger.policy, on=DAY)
    assert balance(product, main) == (D("20.0000"), D("50.00"))


def test_transfer_moves_layers_with_their_cost_and_origin(ledger, main, second):
    product = ledger.product()
    receipt = ledger.receive(product, 10, "2.00", to=main)
    ledger.receive(product, 10, "3.00", to=main)
    transfer = ledger.transfer(product, 12, source=main, to=second)
    assert transfer.total_value == D("26.00")
    assert balance(product, main) == (D("8.0000"), D("24.00"))
    assert balance(product, second) == (D("12.0000"), D("26.00"))
    # issuing at the second warehouse still takes the oldest (2.00) units first and traces them to the receipt
    issue = ledger.issue(product, 10, source=second)
    assert issue.total_value == D("20.00")
    origins = move_origins(move_id=StockMove.objects.get(document=issue).pk)
    assert [(o["receipt_number"], o["quantity"]) for o in origins] == [(receipt.number, D("10.0000"))]
