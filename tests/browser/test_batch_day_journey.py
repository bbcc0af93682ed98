"""A day's order-to-cash in batches, in a real browser: the sales manager ticks the call's draft orders and confirms
them together; the storekeeper ticks them and ships the wave; the accountant ticks the shipments and invoices them,
then uploads the bank statement and posts it after the preview — every order is done and every invoice paid.

Numbers: three orders of 2, 3 and 4 chairs at 1500.00 (VAT 20 % included): invoices of 3000.00, 4500.00 and 6000.00;
the statement pays the first two in full and 1000.00 of the third, which keeps 5000.00 open.
"""

from __future__ import annotations

import datetime as dt
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
from fabrika.sales.models import OrderStatus, SalesOrder, Shipment, ShipmentStatus
from fabrika.sales.services_orders import sales_order_add_line, sales_order_create

from .conftest import PASSWORD, login_as


def _tick_all_and_run(page, url: str, action: str) -> str:
    """Tick every row, choose the bulk action and run it; an action that asks first (BulkAction.confirm) is agreed to,
    and its question is checked to have been asked."""
    page.goto(url)
    page.check("input[data-check-all=ids]")
    page.select_option("select[name=action]", action)
    question = page.get_attribute(f"select[name=action] option[value={action}]", "data-confirm")
    assert bool(question) == (action in {"ship", "invoice"})  # the actions that post documents ask first
    asked: list[str] = []

    def agree(dialog):
        asked.append(dialog.message)
        dialog.accept()

    if question:
        page.once("dialog", agree)
    page.click("#bulk-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert asked == ([question] if question else [])
    return page.content()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_confirm_ship_invoice_and_pay_a_batch_of_orders(live_server, chromium_browser, make_user, tmp_path):
    CompanySettings.objects.update_or_create(pk=1, defaults={"base_currency": "RUB", "default_vat_rate": Decimal("20")})
    accounts_ensure()
    manager = make_user("Sales manager", username="ivan")
    keeper = make_user("Storekeeper", username="sergey")
    accountant = make_user("Accountant", username="olga")
    for user in (manager, keeper, accountant):
        user.set_password(PASSWORD)
        user.save()
    client = Counterparty.objects.create(name="School No. 57", tax_id="7701234567", is_client=True, responsible=manager)
    pcs = catalog_services.unit_create(actor=keeper, code="pcs", name="Pieces")
    chair = catalog_services.product_create(actor=keeper, data={"sku": "CHAIR", "name": "Chair", "stock_unit": pcs.pk, "kind": "goods_for_resale"})
    warehouse = inventory_services.warehouse_create(actor=keeper, code="MAIN", name="Main warehouse")
    receipt = inventory_services.stock_document_create(actor=keeper, document_type="receipt", data={
        "date": timezone.localdate() - dt.timedelta(days=10), "to_location": inventory_services.warehouse_root(warehouse).pk,
    })
    inventory_services.stock_document_add_line(actor=keeper, document_id=receipt.pk, data={"product": chair.pk, "quantity": "20", "unit_cost": "1000.00"})
    inventory_services.stock_document_post(actor=keeper, document_id=receipt.pk, policy=StockPolicy())
    orders = []
    for quantity in ("2", "3", "4"):  # the call's drafts, made through the order services
        order = sales_order_create(actor=manager, data={"counterparty": client.pk, "warehouse": warehouse.pk, "currency": "RUB", "prices_include_tax": True})
        sales_order_add_line(actor=manager, order_id=order.pk, data={"product": chair.pk, "quantity": quantity, "price": "1500.00"})
        orders.append(order)
    base = live_server.url

    # the sales manager confirms the three drafts at once
    page = login_as(chromium_browser, base, "ivan")
    assert "Confirm: 3 record(s) changed." in _tick_all_and_run(page, f"{base}/sales/orders/", "confirm")
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
    page.context.close()

    # the storekeeper ships the wave
    page = login_as(chromium_browser, base, "sergey")
    assert "Ship: 3 record(s) changed." in _tick_all_and_run(page, f"{base}/sales/orders/", "ship")
    assert Shipment.objects.filter(status=ShipmentStatus.POSTED).count() == 3
    page.context.close()

    # the accountant invoices the shipments, then posts the bank statement after checking it
    page = login_as(chromium_browser, base, "olga")
    assert "3 record(s) changed." in _tick_all_and_run(page, f"{base}/sales/shipments/", "invoice")
    invoices = list(Invoice.objects.order_by("total"))
    assert [invoice.total for invoice in invoices] == [Decimal("3000.00"), Decimal("4500.00"), Decimal("6000.00")]
    day = timezone.localdate().isoformat()
    statement = tmp_path / "statement.csv"
    statement.write_text(
        "date,tax id,counterparty,amount,currency,direction,reference,invoice\n"
        + "".join(f"{day},7701234567,School No. 57,{amount},RUB,in,PP-{index},{invoice.number}\n"
                  for index, (invoice, amount) in enumerate(zip(invoices, ("3000.00", "4500.00", "1000.00"), strict=True), start=1)),
        encoding="utf-8",
    )
    page.goto(f"{base}/finance/payments/")
    page.click("#bank-statement")
    page.set_input_files("input[name=file]", str(statement))
    page.click("text=Check the statement")
    page.wait_for_selector("#statement-rows")
    assert page.locator("#statement-rows .import-ok").count() == 3
    assert not Payment.objects.exists()  # the preview posts nothing
    page.click("text=Post 3 payments")
    page.wait_for_load_state("networkidle")
    assert Payment.objects.count() == 3
    assert [invoice.open_amount for invoice in Invoice.objects.order_by("total")] == [Decimal("0.00"), Decimal("0.00"), Decimal("5000.00")]
    assert counterparty_balance(counterparty_id=client.pk) == Decimal("5000.00")
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {OrderStatus.DONE}  # shipped and invoiced in full
    page.context.close()
