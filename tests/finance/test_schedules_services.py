"""Payment schedules: sums, the rounding remainder on the last item, dates, the generator and the due date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.core.errors import ValidationError
from fabrika.finance import selectors_invoices as selectors
from fabrika.finance import services_invoices as services
from fabrika.finance.models import PaymentScheduleItem

from .conftest import INVOICE_DAY, ORDER_DAY

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def odd_order(make_order, chair, table):
    """Prices without tax: 999.99 + 200.00 tax and 5500.00 + 550.00 tax = 7249.99."""
    return make_order([(chair, "3", "333.33"), (table, "1", "5500.00")], prices_include_tax=False)


def _items(**owner):
    return [(item.kind, item.due_date.isoformat(), item.percent, item.amount) for item in PaymentScheduleItem.objects.filter(**owner).order_by("position")]


def test_prepayment_and_three_monthly_instalments_add_up_exactly(odd_order, accountant):
    # 30 % of 7249.99 = 2175.00 (2174.997); 5074.99 / 3 = 1691.66, 1691.66 and the last takes the remainder 1691.67
    services.schedule_generate(actor=accountant, order_id=odd_order.pk, prepayment_percent="30", instalments=3)
    assert _items(order=odd_order) == [
        ("prepayment", "2026-03-10", D("30.0000"), D("2175.00")),
        ("instalment", "2026-04-10", None, D("1691.66")),
        ("instalment", "2026-05-10", None, D("1691.66")),
        ("instalment", "2026-06-10", None, D("1691.67")),
    ]
    assert sum(item[3] for item in _items(order=odd_order)) == odd_order.total


def test_percents_of_a_hundred_give_the_remainder_to_the_last_item(odd_order, accountant):
    # 50 % of 7249.99 rounds to 3625.00 twice (7250.00); the last item takes the remainder: 3624.99
    services.schedule_set(actor=accountant, order_id=odd_order.pk, items=[
        {"kind": "prepayment", "due_date": "2026-03-10", "percent": "50"},
        {"due_date": "2026-04-10", "percent": "50"},
    ])
    amounts = [item[3] for item in _items(order=odd_order)]
    assert amounts == [D("3625.00"), D("3624.99")]
    assert sum(amounts) == D("7249.99")


def test_amounts_that_do_not_add_up_are_refused_and_nothing_changes(odd_order, accountant):
    services.schedule_generate(actor=accountant, order_id=odd_order.pk, prepayment_percent="50", instalments=1)
    before = _items(order=odd_order)
    with pytest.raises(ValidationError) as refused:
        services.schedule_set(actor=accountant, order_id=odd_order.pk, items=[
            {"due_date": "2026-04-01", "amount": "5000.00"}, {"due_date": "2026-05-01", "amount": "2000.00"}])
    assert refused.value.errors == {"items": ["The items add up to 7000.00; the document total is 7249.99"]}
    with pytest.raises(ValidationError) as refused:
        services.schedule_set(actor=accountant, order_id=odd_order.pk, items=[{"due_date": "2026-03-01", "amount": "7249.99"}])
    assert refused.value.errors == {"items.0.due_date": ["Not before the document date 2026-03-10"]}
    assert _items(order=odd_order) == before


def test_last_item_without_an_amount_takes_the_rest(odd_order, accountant):
    services.schedule_set(actor=accountant, order_id=odd_order.pk, items=[
        {"kind": "prepayment", "due_date": "2026-03-10", "amount": "1000.00"}, {"due_date": "2026-04-10"}])
    assert [item[3] for item in _items(order=odd_order)] == [D("1000.00"), D("6249.99")]


def test_invoice_schedule_sets_the_due_date_and_shows_states(order, make_invoice, accountant):
    invoice = make_invoice(order, post=False)
    services.schedule_generate(actor=accountant, invoice_id=invoice.pk, prepayment_percent="0", instalments=2, first_due_date="2026-04-01")
    invoice = services.invoice_post(actor=accountant, invoice_id=invoice.pk)
    assert invoice.due_date == dt.date(2026, 5, 1)
    items = selectors.schedule_for(invoice_id=invoice.pk)
    assert [item.amount for item in items] == [D("4250.00"), D("4250.00")]
    items[0].paid_amount = D("4250.00")
    rows = selectors.schedule_rows(items, today=dt.date(2026, 5, 2))
    assert [row.state for row in rows] == ["paid", "overdue"]
    assert [row.state for row in selectors.schedule_rows(items, today=dt.date(2026, 5, 1))] == ["paid", "due"]


def test_generator_refuses_bad_input(order, accountant):
    with pytest.raises(ValidationError) as refused:
        services.schedule_generate(actor=accountant, order_id=order.pk, prepayment_percent="120", instalments="x")
    assert refused.value.errors == {"prepayment_percent": ["Too large: at most 100"], "instalments": ["Enter a whole number from 0 to 120"]}
    assert PaymentScheduleItem.objects.count() == 0
    assert ORDER_DAY < INVOICE_DAY
