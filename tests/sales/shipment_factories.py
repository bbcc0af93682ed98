"""Test data for shipments and returns: confirmed orders built directly (ORM rows priced with fabrika.sales.totals,
numbered, and reserved through the inventory services), products and stock through the catalog and inventory
services. Used with the fixtures of tests/sales/conftest.py (manager, client_party, warehouse, storekeeper, ...)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fabrika.catalog import services as catalog_services
from fabrika.catalog.models import Unit
from fabrika.inventory import services as inventory_services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType
from fabrika.inventory.models import StockBalance
from fabrika.sales.models import OrderStatus, SalesOrder, SalesOrderLine
from fabrika.sales.totals import LineTerms, line_amounts

D = Decimal
RECEIPT_DAY = dt.date(2026, 3, 2)
ORDER_DAY = dt.date(2026, 3, 10)
SHIP_DAY = dt.date(2026, 3, 12)
FIFO = StockPolicy(allow_negative_stock=False, default_valuation_method="fifo")
_counter = {"n": 0}


def product(actor, sku: str, *, vat_rate: str | None = None, **data):
    unit = Unit.objects.filter(code="pcs").first() or catalog_services.unit_create(actor=actor, code="pcs", name="Pieces")
    created = catalog_services.product_create(
        actor=actor, data={"sku": sku, "name": f"Product {sku}", "stock_unit": unit.pk, "kind": "goods_for_resale", **data}
    )
    if vat_rate is not None:
        created.vat_rate = D(vat_rate)
        created.save(update_fields=["vat_rate"])
    return created


def receive(actor, item, quantity, unit_cost, *, to, date=RECEIPT_DAY, **extra):
    document = inventory_services.stock_document_create(actor=actor, document_type=DocumentType.RECEIPT, data={"date": date, "to_location": to.pk})
    inventory_services.stock_document_add_line(
        actor=actor, document_id=document.pk, data={"product": item.pk, "quantity": str(quantity), "unit_cost": str(unit_cost), **extra}
    )
    return inventory_services.stock_document_post(actor=actor, document_id=document.pk, policy=FIFO)


def order(
    *, actor, counterparty, warehouse, lines, reserve: bool = True, prices_include_tax: bool = True, status=OrderStatus.CONFIRMED,
    responsible=None, date=ORDER_DAY,
) -> SalesOrder:
    """lines: [(product, quantity, price, discount %)], VAT from the product (20 when empty)."""
    _counter["n"] += 1
    created = SalesOrder.objects.create(
        number=f"SO-T{_counter['n']:04d}", status=status, date=date, counterparty=counterparty,
        responsible=responsible or counterparty.responsible or actor, author=actor, warehouse=warehouse, currency="RUB",
        prices_include_tax=prices_include_tax,
    )
    totals = [D(0), D(0), D(0)]
    root = inventory_services.warehouse_root(warehouse)
    for position, (item, quantity, price, discount) in enumerate(lines, start=1):
        rate = item.vat_rate if item.vat_rate is not None else D(20)
        amounts = line_amounts(LineTerms(price=D(price), discount_percent=D(discount), tax_rate=rate, prices_include_tax=prices_include_tax), D(quantity))
        SalesOrderLine.objects.create(
            order=created, position=position, product=item, unit=item.stock_unit, quantity=D(quantity), stock_quantity=D(quantity),
            retail_price=D(price), price=D(price), discount_percent=D(discount), discount_amount=amounts.discount, tax_rate=rate,
            amount=amounts.amount, net_amount=amounts.net, tax_amount=amounts.tax, total=amounts.total,
            reserved_quantity=D(quantity) if reserve else D(0),
        )
        if reserve:
            inventory_services.reservation_create(actor=actor, product_id=item.pk, location_id=root.pk, reference=created.number, quantity=str(quantity))
        totals[0] += amounts.net
        totals[1] += amounts.tax
        totals[2] += amounts.total
    created.net_total, created.tax_total, created.total = totals
    created.save(update_fields=["net_total", "tax_total", "total"])
    return created


def on_hand(item, location) -> tuple[Decimal, Decimal, Decimal]:
    """(quantity, value, reserved) of a product at a location (no lot)."""
    row = StockBalance.objects.filter(product=item, location=location, lot__isnull=True).first()
    return (row.quantity, row.value, row.reserved_quantity) if row else (D(0), D(0), D(0))
