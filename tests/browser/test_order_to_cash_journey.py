"""Order to cash in a real browser, by three people: a sales manager makes an order with a discounted line and confirms
it; the storekeeper ships it in two parts; the accountant invoices both shipments, registers a partial payment, and
the client's settlements and reconciliation statement show exactly what is left to pay.

Numbers: 10 chairs at the retail 1500.00 (VAT 20 % included), an automatic 5 % promotion and the manager's special
8 % (within the 10 % limit): the line is 15000.00 − 1200.00 = 13800.00; shipped 4 (5520.00) then 6 (8280.00);
one invoice of 13800.00; paid 5000.00; the client still owes 8800.00.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from fabrika.catalog import services as catalog_services
from fabrika.core.models import CompanySettings
from fabrika.finance.models import Invoice, Payment
from fabrika.inventory import services as inventory_services
from fabrika.inventory.engine import StockPolicy
from fabrika.ledger.selectors import counterparty_balance
from fabrika.ledger.services import accounts_ensure
from fabrika.parties.models import Counterparty
from fabrika.pricing.models import (
    DiscountKind,
    DiscountRule,
    ManualDiscountLimit,
    PriceList,
    PriceListItem,
    PriceType,
)
from fabrika.sales.models import SalesOrder, Shipment

from .conftest import PASSWORD, login_as


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_order_two_shipments_invoice_partial_payment(live_server, chromium_browser, make_user, roles):
    CompanySettings.objects.update_or_create(pk=1, defaults={"base_currency": "RUB", "default_vat_rate": Decimal("20")})
    accounts_ensure()
    manager = make_user("Sales manager", username="ivan")
    keeper = make_user("Storekeeper", username="sergey")
    accountant = make_user("Accountant", username="olga")
    client = Counterparty.objects.create(name="School No. 57", is_client=True, responsible=manager)
    pcs = catalog_services.unit_create(actor=keeper, code="pcs", name="Pieces")
    chair = catalog_services.product_create(actor=keeper, data={"sku": "CHAIR", "name": "Chair", "stock_unit": pcs.pk, "kind": "goods_for_resale"})
    warehouse = inventory_services.warehouse_create(actor=keeper, code="MAIN", name="Main warehouse")
    receipt = inventory_services.stock_document_create(actor=keeper, document_type="receipt", data={
        "date": timezone.localdate() - dt.timedelta(days=10), "to_location": inventory_services.warehouse_root(warehouse).pk,
    })
    inventory_services.stock_document_add_line(actor=keeper, document_id=receipt.pk, data={"product": chair.pk, "quantity": "10", "unit_cost": "1000.00"})
    inventory_services.stock_document_post(actor=keeper, document_id=receipt.pk, policy=StockPolicy())
    retail = PriceType.objects.create(code="RETAIL", name="Retail", currency="RUB", prices_include_tax=True, is_retail=True)
    price_list = PriceList.objects.create(price_type=retail, name="Retail", currency="RUB", valid_from=dt.date(2020, 1, 1))
    PriceListItem.objects.create(price_list=price_list, product=chair, price=Decimal("1500.00"))
    promotion = DiscountRule.objects.create(kind=DiscountKind.PROMOTION, name="Chairs week", percent=Decimal("5"), valid_from=dt.date(2020, 1, 1))
    promotion.products.add(chair)
    ManualDiscountLimit.objects.create(group=roles["Sales manager"], max_percent=Decimal("10"))
    for user in (manager, keeper, accountant):
        user.set_password(PASSWORD)
        user.save()
    base = live_server.url

    # the sales manager: a new order, a line with a special discount, confirmed
    page = login_as(chromium_browser, base, "ivan")
    page.goto(f"{base}/sales/orders/new/")
    page.fill("#field-counterparty .autocomplete-input", "School")
    page.click(".autocomplete-hits button:has-text('School No. 57')")
    page.select_option("select[name=warehouse]", str(warehouse.pk))
    page.click("button.primary[type=submit]")
    page.wait_for_url(re.compile(r"/sales/orders/\d+/$"))
    order = SalesOrder.objects.get()
    page.fill("#product-search", "CHAIR")
    page.click(".product-hits button:has-text('CHAIR')")
    page.fill("#add-line-form input[name=line-quantity]", "10")
    page.fill("#add-line-form input[name=line-manual_discount_percent]", "8")
    page.click("#add-line-form button[type=submit]")
    page.locator("#order-lines", has_text="13800.00").wait_for()
    assert "special discount" in page.inner_text("#order-lines")  # 8 % beat the 5 % promotion
    page.click("#confirm-button")
    page.locator("text=Confirmed").first.wait_for()
    order.refresh_from_db()
    assert (order.status, order.total, order.discount_total) == ("confirmed", Decimal("13800.00"), Decimal("1200.00"))
    page.context.close()

    # the storekeeper: two partial shipments, 4 and then the remaining 6
    page = login_as(chromium_browser, base, "sergey")
    for quantity in ("4", None):
        page.goto(f"{base}/sales/shipments/new/{order.pk}/")
        if quantity:
            page.fill("input[name=row-0-quantity]", quantity)
        page.click("button.primary[type=submit]")
        page.wait_for_url(re.compile(r"/sales/shipments/\d+/$"))
        page.click("#post-button")
        page.locator("text=Shipped").first.wait_for()
    assert sorted(Shipment.objects.values_list("total", flat=True)) == [Decimal("5520.00"), Decimal("8280.00")]
    page.context.close()

    # the accountant: one invoice of both shipments, a partial payment, the balance and the reconciliation statement
    page = login_as(chromium_browser, base, "olga")
    page.goto(f"{base}/finance/invoices/from-shipments/{order.pk}/")
    page.click("button.primary[type=submit]")
    page.wait_for_url(re.compile(r"/finance/invoices/\d+/$"))
    page.click("#post-button")
    page.locator("text=Posted").first.wait_for()
    invoice = Invoice.objects.get()
    assert (invoice.status, invoice.total) == ("posted", Decimal("13800.00"))
    page.click("text=Register a payment")
    page.wait_for_url(re.compile(r"/finance/payments/new/"))
    page.fill("input[name=amount]", "5000.00")
    page.click("button.primary[type=submit]")
    page.wait_for_url(re.compile(r"/finance/payments/\d+/$"))
    page.click("#post-button")
    page.locator("#allocations", has_text=invoice.number).wait_for()
    payment = Payment.objects.get()
    invoice.refresh_from_db()
    assert (payment.status, invoice.paid_amount, invoice.open_amount) == ("posted", Decimal("5000.00"), Decimal("8800.00"))
    page.goto(f"{base}/finance/settlements/{client.pk}/")
    assert "8,800.00" in page.content() or "8800.00" in page.content()
    page.goto(f"{base}/finance/settlements/{client.pk}/reconciliation/")
    assert page.locator("#closing").inner_text().replace("\u00a0", "").replace(",", "").strip().endswith("8800.00")
    assert counterparty_balance(counterparty_id=client.pk) == Decimal("8800.00")
    page.context.close()
