"""The Robokids demo warehouse: loads through the services, a second load changes nothing, stock is exact, and the
pages show it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from fabrika.catalog.models import Barcode, Product, ProductGroup, Unit, UnitConversion
from fabrika.core.demo import CORE_LOADERS, demo_load
from fabrika.core.models import AuditEntry
from fabrika.inventory import selectors
from fabrika.inventory.demo import ean13, load_catalog_and_stock
from fabrika.inventory.models import (
    CostLayer,
    Location,
    Lot,
    SerialNumber,
    StockBalance,
    StockDocument,
    StockMove,
    Warehouse,
)

D = Decimal
MODELS = (Unit, UnitConversion, ProductGroup, Product, Barcode, Warehouse, Location, StockDocument, StockMove, StockBalance,
          CostLayer, Lot, SerialNumber, AuditEntry)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def _on_hand(sku: str, code: str, lot: str | None = None) -> tuple[Decimal, Decimal]:
    row = StockBalance.objects.filter(product__sku=sku, location__code=code, lot__code=lot) if lot else StockBalance.objects.filter(
        product__sku=sku, location__code=code, lot__isnull=True
    )
    found = row.get()
    return found.quantity, found.value


@pytest.fixture
def loaded(db):
    return demo_load(loaders=(*CORE_LOADERS, load_catalog_and_stock))


def test_demo_loads_twice_without_changes_and_stock_is_exact(loaded):
    first = _counts()
    assert (first["Product"], first["Warehouse"], first["StockDocument"]) == (15, 2, 7)
    demo_load(loaders=(*CORE_LOADERS, load_catalog_and_stock))
    assert _counts() == first
    # FIFO: 24 servos at 180.00 and 12 at 190.00 came in; 30 went to production (24 × 180 + 6 × 190)
    issue = StockDocument.objects.get(reference="DEMO-I1")
    assert issue.total_value == D("5460.00")
    assert _on_hand("SRV-MG90", "A-01") == (D("6.0000"), D("1140.00"))
    # the transfer took the oldest wheels (25.00); 60 at 25.00 and 50 at 27.00 stay in A-01
    assert _on_hand("WHL-65", "A-02") == (D("40.0000"), D("1000.00"))
    assert _on_hand("WHL-65", "A-01") == (D("110.0000"), D("2850.00"))
    assert _on_hand("SCR-M3", "A-01") == (D("500.0000"), D("750.00"))  # 5 boxes of 100
    assert _on_hand("CTL-RK1", "E-01") == (D("5.0000"), D("7250.00"))
    assert _on_hand("BAT-18650", "E-01", "L-2610A") == (D("40.0000"), D("8400.00"))
    assert _on_hand("BAT-18650", "RCV", "L-2611B") == (D("20.0000"), D("4400.00"))
    assert Lot.objects.get(code="L-2610A").expiry_date == dt.date(2027, 10, 1)  # 365 days of shelf life
    assert _on_hand("SNS-US", "E-01") == (D("30.0000"), D("22878.00"))  # 30 × 60 CNY × 12.71
    assert _on_hand("PLA-175", "RCV") == (D("25.0000"), D("30000.00"))
    assert selectors.valuation_report()["total_value"] == D("83868.00")
    assert sorted(SerialNumber.objects.values_list("serial", flat=True)) == [f"RK1-{n:04d}" for n in range(1, 6)]
    assert Barcode.objects.get(code=ean13("460700123002")).product.sku == "SRV-MG90"


def test_demo_pages_show_the_stock(loaded, web_client):
    client = web_client(loaded.admin)
    servo = Product.objects.get(sku="SRV-MG90")
    html = client.get(f"/catalog/products/{servo.pk}/").content.decode()
    assert "Stock on hand: 6 pcs, value 1140.00" in html and "1 box = 12 pcs" in html
    html = client.get("/inventory/documents/?type=receipt&status=posted").content.decode()
    assert len(set(re.findall(r'href="/inventory/documents/(\d+)/"', html))) == 5
    main = Warehouse.objects.get(code="MAIN")
    assert client.get(f"/inventory/warehouses/{main.pk}/").status_code == 200
