"""Order totals on exact numbers (fabrika/sales/totals.py rounding, stored on every change)."""

from __future__ import annotations

from decimal import Decimal as D

from fabrika.sales import services_orders as services


def test_tax_included_three_at_333_33(make_order, chair):
    # given prices with tax, 20 % VAT (the company default): 3 × 333.33
    order = make_order(lines=[(chair, "3", "333.33")], confirm=False, prices_include_tax=True)
    line = order.lines.get()
    # then the amount is 999.99 of which tax round(999.99 × 20 / 120) = 166.67 and net 833.32
    assert (line.amount, line.tax_amount, line.net_amount, line.total) == (D("999.99"), D("166.67"), D("833.32"), D("999.99"))
    assert (order.net_total, order.tax_total, order.total) == (D("833.32"), D("166.67"), D("999.99"))
    assert (order.retail_total, order.discount_total) == (D("999.99"), D("0.00"))


def test_tax_excluded_three_at_333_33(make_order, chair):
    order = make_order(lines=[(chair, "3", "333.33")], confirm=False, prices_include_tax=False)
    line = order.lines.get()
    # net 999.99, tax round(199.998) = 200.00, total 1199.99
    assert (line.net_amount, line.tax_amount, line.total) == (D("999.99"), D("200.00"), D("1199.99"))
    assert (order.net_total, order.tax_total, order.total) == (D("999.99"), D("200.00"), D("1199.99"))


def test_totals_are_sums_of_lines_with_the_product_rate(make_order, chair, table):
    # chair 20 %, table 10 %; prices with tax
    order = make_order(lines=[(chair, "2", "1500.00"), (table, "1", "9000.00")], confirm=False)
    chair_line, table_line = order.lines.order_by("position")
    assert (chair_line.tax_rate, table_line.tax_rate) == (D("20.00"), D("10.00"))
    assert chair_line.tax_amount == D("500.00")  # 3000 × 20 / 120
    assert table_line.tax_amount == D("818.18")  # 9000 × 10 / 110 = 818.1818…
    assert (order.total, order.tax_total, order.net_total) == (D("12000.00"), D("1318.18"), D("10681.82"))


def test_totals_follow_line_changes(make_order, chair, manager):
    order = make_order(lines=[(chair, "3", "333.33")], confirm=False, prices_include_tax=False)
    line = order.lines.get()
    services.sales_order_update_line(actor=manager, order_id=order.pk, line_id=line.pk, data={"quantity": "1"})
    order.refresh_from_db()
    assert (order.net_total, order.tax_total, order.total) == (D("333.33"), D("66.67"), D("400.00"))
    services.sales_order_remove_line(actor=manager, order_id=order.pk, line_id=line.pk)
    order.refresh_from_db()
    assert (order.net_total, order.tax_total, order.total, order.retail_total) == (D("0"), D("0"), D("0"), D("0"))
