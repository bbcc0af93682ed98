"""Stock documents in the journal: worked examples with exact entries (FIFO, 1300 inventory / 2150 GRNI / 5000 COGS)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.inventory import services
from fabrika.inventory.accounting import inventory_account_difference, stock_valuation_total
from fabrika.inventory.engine import InsufficientStock
from fabrika.inventory.enums import DocumentType
from fabrika.ledger.models import JournalEntry
from fabrika.ledger.selectors import account_balance

from .conftest import DAY, entries_of, journal_snapshot

D = Decimal
NEXT = DAY + dt.timedelta(days=1)
LATER = DAY + dt.timedelta(days=5)


def test_receipts_and_fifo_issue_post_one_entry_each(ledger, main):
    # given 10 × 2.50 and then 10 × 3.00 received
    product = ledger.product()
    first = ledger.receive(product, 10, "2.50", to=main, date=DAY)
    second = ledger.receive(product, 10, "3.00", to=main, date=NEXT)
    # when fifteen go to a customer
    issue = ledger.issue(product, 15, source=main, date=LATER)
    # then each document wrote one balanced entry: Dr 1300 / Cr 2150 for receipts, Dr 5000 / Cr 1300 for the issue
    assert entries_of(first) == [[("1300", D("25.00"), D("0")), ("2150", D("0"), D("25.00"))]]
    assert entries_of(second) == [[("1300", D("30.00"), D("0")), ("2150", D("0"), D("30.00"))]]
    assert entries_of(issue) == [[("5000", D("40.00"), D("0")), ("1300", D("0"), D("40.00"))]]
    entry = JournalEntry.objects.get(source_id=issue.pk, source_type="inventory.stockdocument")
    assert (entry.date, entry.source_number, entry.total) == (LATER, issue.number, D("40.00"))
    assert account_balance(key="inventory") == D("15.00") == stock_valuation_total()
    assert account_balance(key="cogs") == D("40.00")
    assert inventory_account_difference() == 0


def test_back_dated_receipt_changes_cogs_by_the_exact_revaluation(ledger, main):
    # given the example above: COGS 40.00 for 15 issued on day 5
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    ledger.receive(product, 10, "3.00", to=main, date=NEXT)
    ledger.issue(product, 15, source=main, date=LATER)
    # when 10 × 2.00 are received back-dated before everything
    early = ledger.receive(product, 10, "2.00", to=main, date=DAY - dt.timedelta(days=3))
    # then the issue now takes 10 × 2.00 + 5 × 2.50 = 32.50: COGS falls by 7.50 and the receipt's entry carries it
    assert entries_of(early) == [[("1300", D("27.50"), D("0")), ("2150", D("0"), D("20.00")), ("5000", D("0"), D("7.50"))]]
    assert account_balance(key="cogs") == D("32.50")
    assert account_balance(key="inventory") == D("42.50") == stock_valuation_total()
    assert inventory_account_difference() == 0


def test_count_surplus_and_shortage_go_to_inventory_differences(ledger, main):
    # given 10 × 2.50 and 10 × 3.00 on hand
    product = ledger.product()
    other = ledger.product(sku="P2")
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    ledger.receive(other, 10, "3.00", to=main, date=DAY)
    # when a count finds 12 of the first (2 over, valued at 2.50) and 7 of the second (3 short)
    count = ledger.document(
        DocumentType.COUNT, date=NEXT, from_location=main.pk,
        lines=[{"product": product.pk, "quantity": "12"}, {"product": other.pk, "quantity": "7"}],
    )
    # then one entry nets surplus 5.00 and shortage 9.00 on 5100 and on 1300
    assert entries_of(count) == [[("5100", D("4.00"), D("0")), ("1300", D("0"), D("4.00"))]]
    assert account_balance(key="inventory") == D("51.00") == stock_valuation_total()


def test_write_off_to_scrap(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    scrap = services.virtual_location("scrap")
    write_off = ledger.document(DocumentType.WRITE_OFF, date=NEXT, from_location=main.pk, to_location=scrap.pk,
                                lines=[{"product": product.pk, "quantity": "4"}])
    assert entries_of(write_off) == [[("5300", D("10.00"), D("0")), ("1300", D("0"), D("10.00"))]]


def test_transfer_between_warehouses_posts_nothing(ledger, main, second):
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    transfer = ledger.transfer(product, 4, source=main, to=second, date=NEXT)
    assert entries_of(transfer) == []
    assert inventory_account_difference() == 0


def test_cancelling_a_receipt_and_an_issue_posts_mirror_entries_on_the_cancellation_day(ledger, main):
    # given the worked example
    product = ledger.product()
    first = ledger.receive(product, 10, "2.50", to=main, date=DAY)
    ledger.receive(product, 10, "3.00", to=main, date=NEXT)
    issue = ledger.issue(product, 15, source=main, date=LATER)
    cancel_day = LATER + dt.timedelta(days=2)
    # when the issue is cancelled, its 15 come back at 40.00
    services.stock_document_cancel(actor=ledger.actor, document_id=issue.pk, policy=ledger.policy, on=cancel_day)
    assert entries_of(issue)[1] == [("1300", D("40.00"), D("0")), ("5000", D("0"), D("40.00"))]
    reversal = JournalEntry.objects.filter(source_id=issue.pk, source_type="inventory.stockdocument").order_by("id").last()
    assert reversal.date == cancel_day and reversal.reverses_id is not None
    # and when the first receipt is cancelled, its own layer was used up by the issue, so FIFO sends back the oldest
    # units: 5 × 3.00 of the second receipt and 5 of the returned 15 (40.00 / 15 = 2.666667 each): 15.00 + 13.33
    services.stock_document_cancel(actor=ledger.actor, document_id=first.pk, policy=ledger.policy, on=cancel_day)
    assert entries_of(first)[1] == [("2150", D("28.33"), D("0")), ("1300", D("0"), D("28.33"))]
    assert account_balance(key="inventory") == D("26.67") == stock_valuation_total()
    assert account_balance(key="cogs") == 0
    assert account_balance(key="grni") == D("-26.67")
    assert inventory_account_difference() == 0


def test_cancelling_a_receipt_whose_layer_is_intact_reverses_its_own_value(ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    second = ledger.receive(product, 10, "3.00", to=main, date=NEXT)
    issue = ledger.issue(product, 5, source=main, date=LATER)
    assert entries_of(issue) == [[("5000", D("12.50"), D("0")), ("1300", D("0"), D("12.50"))]]
    services.stock_document_cancel(actor=ledger.actor, document_id=second.pk, policy=ledger.policy, on=LATER)
    assert entries_of(second) == [
        [("1300", D("30.00"), D("0")), ("2150", D("0"), D("30.00"))],
        [("2150", D("30.00"), D("0")), ("1300", D("0"), D("30.00"))],
    ]
    assert account_balance(key="inventory") == D("12.50") == stock_valuation_total()


def test_cancelling_a_receipt_before_a_later_issue_revalues_that_issue(ledger, main):
    # given 10 × 2.00 (day 0) and 10 × 4.00 (day 1); an issue of 10 on day 6 takes the 2.00 layer: COGS 20.00
    product = ledger.product()
    cheap = ledger.receive(product, 10, "2.00", to=main, date=DAY)
    ledger.receive(product, 10, "4.00", to=main, date=NEXT)
    ledger.issue(product, 10, source=main, date=DAY + dt.timedelta(days=6))
    assert account_balance(key="cogs") == D("20.00")
    # when the cheap receipt is cancelled on day 2, before the issue
    services.stock_document_cancel(actor=ledger.actor, document_id=cheap.pk, policy=ledger.policy, on=DAY + dt.timedelta(days=2))
    # then its 20.00 go back to GRNI and the replayed issue now takes 10 × 4.00: COGS rises by 20.00 in the same entry
    assert entries_of(cheap)[1] == [("2150", D("20.00"), D("0")), ("5000", D("20.00"), D("0")), ("1300", D("0"), D("40.00"))]
    assert account_balance(key="cogs") == D("40.00")
    assert account_balance(key="inventory") == D("0.00") == stock_valuation_total()
    assert inventory_account_difference() == 0


def test_refused_posting_writes_no_entry(ledger, main):
    product = ledger.product()
    ledger.receive(product, 4, "1.00", to=main)
    before = journal_snapshot()
    with pytest.raises(InsufficientStock):
        ledger.issue(product, 5, source=main)
    assert journal_snapshot() == before


def test_average_receipt_into_negative_stock_books_its_adjustment_to_cogs(storekeeper, pcs, main):
    from fabrika.inventory.engine import StockPolicy

    from .conftest import Ledger

    average = Ledger(storekeeper, StockPolicy(allow_negative_stock=True, default_valuation_method="average"))
    product = average.product()
    average.receive(product, 10, "2.00", to=main, date=DAY)
    average.issue(product, 15, source=main, date=NEXT)  # 5 short, issued at the last cost 2.00: 30.00
    receipt = average.receive(product, 10, "3.00", to=main, date=LATER)  # the 5 short now cost 3.00: +5.00 to COGS
    assert entries_of(receipt) == [[("1300", D("25.00"), D("0")), ("5000", D("5.00"), D("0")), ("2150", D("0"), D("30.00"))]]
    assert account_balance(key="inventory") == D("15.00") == stock_valuation_total()
    assert inventory_account_difference() == 0


def test_opening_entry_brings_stock_posted_before_the_journal_into_the_ledger(ledger, main, accountant):
    from django.core.management import call_command

    from fabrika.ledger.models import JournalLine

    # given stock whose entries are missing (posted before the journal existed)
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    JournalLine.objects.all().delete()
    JournalEntry.objects.all().delete()
    assert inventory_account_difference() == D("-25.00")
    # when the opening command runs (twice)
    call_command("ledger_opening", date="2026-01-01", user=accountant.username)
    call_command("ledger_opening", date="2026-01-01", user=accountant.username)
    # then one entry Dr 1300 / Cr 3000 25.00 closes the gap
    (entry,) = JournalEntry.objects.all()
    assert sorted((line.account.code, line.debit, line.credit) for line in entry.lines.all()) == [
        ("1300", D("25.00"), D("0.00")), ("3000", D("0.00"), D("25.00")),
    ]
    assert inventory_account_difference() == 0


def test_journal_adds_a_constant_number_of_queries_per_document(ledger, main, chart):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = [ledger.product(sku=f"Q{index}") for index in range(12)]

    def ledger_queries(count: int) -> list[str]:
        document = services.stock_document_create(actor=ledger.actor, document_type="receipt", data={"date": DAY, "to_location": main.pk})
        for product in products[:count]:
            services.stock_document_add_line(actor=ledger.actor, document_id=document.pk, data={"product": product.pk, "quantity": "2", "unit_cost": "1.50"})
        with CaptureQueriesContext(connection) as captured:
            services.stock_document_post(actor=ledger.actor, document_id=document.pk, policy=ledger.policy)
        return [query["sql"] for query in captured.captured_queries if "ledger_" in query["sql"]]

    one, twelve = ledger_queries(1), ledger_queries(12)
    # the account lookup, the entry insert and one multi-row insert of lines, whatever the document's size
    assert len(one) == len(twelve) == 3
    assert account_balance(key="inventory") == D("39.00") == stock_valuation_total()
