"""The printed sales order: plain context with exact figures, HTML with discounts and totals, one PDF."""

from __future__ import annotations

from decimal import Decimal as D

from django.urls import reverse

from fabrika.core import printing
from fabrika.core.printing import ensure_plain
from fabrika.sales.printing_orders import SALES_ORDER, sales_order_context
from tests.core.printing.pdf_text import pdf_text


def test_context_is_plain_with_exact_totals(make_order, chair, table):
    order = make_order(lines=[(chair, "3", "333.33"), (table, "1", "9000")], confirm=False, discount="5")
    data = sales_order_context(order)
    ensure_plain(data)
    assert [line["sku"] for line in data["lines"]] == ["CHAIR", "TABLE"]
    assert data["lines"][0]["total"] == D("949.99")  # 999.99 − round(49.9995) = 949.99
    assert data["totals"]["total"] == order.total == D("9499.99")
    assert data["totals"]["tax"] == order.tax_total


def test_html_shows_lines_discounts_tax_and_words(make_order, chair, prices):
    order = make_order(lines=[(chair, "2", "1500")], discount="5")
    html = printing.render_html(SALES_ORDER, order, language="en").html
    assert order.number in html and "Robokids School" in html
    assert "CHAIR" in html and "Discount, %" in html and '<td class="num">2,850.00</td>' in html
    assert "<th>Your discount</th><td class=\"num\">RUB150.00</td>" in html and "<th>VAT included</th><td class=\"num\">RUB475.00</td>" in html
    assert "Two thousand, eight hundred and fifty roubles" in html


def test_pdf_through_the_print_url_and_scope(web_client, manager, other_manager, make_order, chair):
    order = make_order(lines=[(chair, "1", "1234.50")])
    url = reverse("core:print_document", args=[SALES_ORDER, order.pk])
    response = web_client(manager).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert order.number in text and "1,234.50" in text
    assert web_client(other_manager).get(url).status_code == 404
