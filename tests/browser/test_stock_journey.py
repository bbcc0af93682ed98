"""A storekeeper's journey in a real browser: create a receipt, scan a barcode the way a keyboard-wedge scanner types
it (digits + Enter) — the first scan opens the line form for the unit cost, the next scans add to the line without
reloading the page and the focus stays in the field — post it, and see the stock on the product card."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from fabrika.catalog import services as catalog_services
from fabrika.inventory import services
from fabrika.inventory.models import StockBalance, StockDocument
from fabrika.parties.services import counterparty_create

PASSWORD = "pass-Word-123"
CODE = "4601234567893"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_receipt_with_the_barcode_field_then_post_and_see_stock(live_server, page, make_user):
    # given a storekeeper, a product with a barcode, a warehouse and a supplier
    keeper = make_user("Storekeeper", username="sergey")
    keeper.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["inventory", "catalog"]))
    pcs = catalog_services.unit_create(actor=keeper, code="pcs", name="Pieces")
    servo = catalog_services.product_create(actor=keeper, data={"sku": "SRV-MG90", "name": "Servo motor MG90", "stock_unit": pcs.pk})
    catalog_services.barcode_add(actor=keeper, product_id=servo.pk, code=CODE)
    main = services.warehouse_root(services.warehouse_create(actor=keeper, code="MAIN", name="Main warehouse"))
    counterparty_create(actor=keeper, data={"name": "Servo Motors Ltd", "is_supplier": True, "responsible": keeper})
    base = live_server.url

    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "sergey")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # a new receipt: the header form, then the card of the draft
    page.goto(f"{base}/inventory/documents/")
    page.click("text=Receipt")
    page.wait_for_url(f"{base}/inventory/documents/new/receipt/")
    page.select_option("select[name=to_location]", str(main.pk))
    # the supplier is found by typing (the select lists only the chosen one: there may be thousands)
    page.fill(".autocomplete-input", "servo")
    page.click(".autocomplete-hits button:has-text('Servo Motors Ltd')")
    assert page.eval_on_selector("select[name=counterparty]", "s => s.selectedOptions[0].text") == "Servo Motors Ltd"
    page.click("button.primary[type=submit]")
    page.wait_for_url(f"{base}/inventory/documents/*/")
    document = StockDocument.objects.get()
    page.evaluate("window.__samePage = true")  # gone if the page reloads

    # the first scan: a receipt needs the unit cost, so the line form opens for the servo
    barcode = page.locator("#barcode-input")
    barcode.click()
    page.keyboard.type(CODE)
    page.keyboard.press("Enter")
    page.locator("#add-line-form", has_text="SRV-MG90").wait_for()
    page.fill("#add-line-form input[name=line-unit_cost]", "180.00")
    page.click("#add-line-form button[type=submit]")
    page.locator("#lines-table td.quantity", has_text="1 pcs").wait_for()

    # two more scans in a row: the line grows to 3, no reload, the focus stays in the barcode field
    barcode.click()
    page.keyboard.type(CODE)
    page.keyboard.press("Enter")
    page.keyboard.type(CODE)
    page.keyboard.press("Enter")
    page.locator("#lines-table td.quantity", has_text="3 pcs").wait_for()
    assert page.evaluate("window.__samePage") is True
    assert page.evaluate("document.activeElement.id") == "barcode-input"
    assert barcode.input_value() == ""
    line = document.lines.get()
    assert (line.quantity, line.unit_cost) == (Decimal("3.0000"), Decimal("180.000000"))
    # an unknown code says so and adds nothing
    page.keyboard.type("999")
    page.keyboard.press("Enter")
    page.locator("#scan-status .error", has_text="Unknown barcode 999").wait_for()
    assert document.lines.count() == 1

    # post it: the card shows the number, the move and its cost
    page.click("#post-button")
    page.wait_for_load_state()
    page.locator(".messages", has_text="Posted as").wait_for()
    document.refresh_from_db()
    assert document.status == "posted" and document.total_value == Decimal("540.00")
    assert "540.00" in page.locator("section.related", has_text="Stock moves").inner_text()

    # the product card shows the stock on hand
    page.goto(f"{base}/catalog/products/{servo.pk}/")
    assert "Stock on hand: 3 pcs, value 540.00" in page.locator("body").inner_text()
    assert StockBalance.objects.get(product=servo, location=main).quantity == Decimal("3.0000")

    # at phone width the document card fits the screen
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{base}/inventory/documents/{document.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
