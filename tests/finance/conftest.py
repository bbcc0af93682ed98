"""Shared fixtures of the finance tests (invoices, credit notes, schedules, payments).

A client with a responsible sales manager (and a bank account), a supplier, two stock products received at known
costs through the inventory services and one service product; orders, shipments and returns are built as ORM rows
with the money of fabrika.sales.totals, so these tests do not depend on the sales services.

    order = make_order(lines=[(chair, "3", "1000.00"), (table, "1", "5500.00")])        # confirmed, prices with tax
    shipment = make_shipment(order, [(order.lines.all()[0], "2")])                       # posted
    sales_return = make_return(order, [(line, "1")])                                     # posted
    invoice = make_invoice(order)                                                        # posted, every uninvoiced unit

Worked numbers of `order` (prices include tax): chair 3 × 1000.00 at 20 % = 3000.00 (tax 500.00, net 2500.00);
table 1 × 5500.00 at 10 % = 5500.00 (tax 500.00, net 5000.00); total 8500.00 = net 7500.00 + tax 1000.00.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from fabrika.catalog import services as catalog_services
from fabrika.core.models import CompanySettings, Department
from fabrika.inventory import services as inventory_services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType
from fabrika.ledger.services import accounts_ensure
from fabrika.parties.models import BankAccount, Counterparty
from fabrika.sales.models import (
    OrderStatus,
    SalesOrder,
    SalesOrderLine,
    SalesReturn,
    SalesReturnLine,
    Shipment,
    ShipmentLine,
)
from fabrika.sales.models.shipments import ShipmentStatus
from fabrika.sales.totals import LineTerms, line_amounts, part_amounts

D = Decimal
DAY = dt.date(2026, 3, 2)
ORDER_DAY = dt.date(2026, 3, 10)
SHIP_DAY = dt.date(2026, 3, 12)
INVOICE_DAY = dt.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made per test; the production hasher would spend most of the test time hashing their passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    settings, _ = CompanySettings.objects.get_or_create(pk=1)
    accounts_ensure()
    return settings


@pytest.fixture
def sales_department(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def manager(make_user, sales_department):
    """A sales manager (scope: own; may view invoices)."""
    return make_user("Sales manager", username="manager", department=sales_department)


@pytest.fixture
def other_manager(make_user, sales_department):
    return make_user("Sales manager", username="other", department=sales_department)


@pytest.fixture
def accountant(make_user):
    """Every finance permission, scope all."""
    return make_user("Accountant", username="accountant")


@pytest.fixture
def storekeeper(make_user):
    return make_user("Storekeeper", username="keeper")


@pytest.fixture
def client_party(company, manager):
    party = Counterparty.objects.create(
        name="Robokids School", full_name="Robokids School LLC", is_client=True, responsible=manager,
        tax_id="7707083893", kpp="773601001", city="Moscow",
    )
    BankAccount.objects.create(counterparty=party, bank_name="Sberbank", bic="044525225", account="40702810900000000001",
                               correspondent_account="30101810400000000225", currency="RUB", is_default=True)
    return party


@pytest.fixture
def supplier(company, accountant):
    return Counterparty.objects.create(name="Wood Supply", full_name="Wood Supply JSC", is_supplier=True, responsible=accountant)


@pytest.fixture
def pcs(storekeeper):
    from fabrika.catalog.models import Unit

    return Unit.objects.filter(code="pcs").first() or catalog_services.unit_create(actor=storekeeper, code="pcs", name="Pieces")


@pytest.fixture
def warehouse(storekeeper):
    return inventory_services.warehouse_create(actor=storekeeper, code="MAIN", name="Main warehouse")


@pytest.fixture
def main_location(warehouse):
    return inventory_services.warehouse_root(warehouse)


@pytest.fixture
def chair(storekeeper, pcs, company):
    """VAT 20 % (the company default)."""
    return catalog_services.product_create(actor=storekeeper, data={"sku": "CHAIR", "name": "Chair", "stock_unit": pcs.pk, "kind": "goods_for_resale"})


@pytest.fixture
def table(storekeeper, pcs, company):
    """VAT 10 % on the product."""
    product = catalog_services.product_create(
        actor=storekeeper, data={"sku": "TABLE", "name": "Table", "stock_unit": pcs.pk, "kind": "goods_for_resale"}
    )
    product.vat_rate = D("10")
    product.save(update_fields=["vat_rate"])
    return product


@pytest.fixture
def assembly(storekeeper, pcs, company):
    """A service (never in stock), VAT 20 %."""
    return catalog_services.product_create(actor=storekeeper, data={"sku": "ASSEMBLY", "name": "Assembly", "stock_unit": pcs.pk, "kind": "service"})


def receive(actor, product, quantity, unit_cost, *, to, date=DAY):
    document = inventory_services.stock_document_create(actor=actor, document_type=DocumentType.RECEIPT, data={"date": date, "to_location": to.pk})
    inventory_services.stock_document_add_line(
        actor=actor, document_id=document.pk, data={"product": product.pk, "quantity": str(quantity), "unit_cost": str(unit_cost)}
    )
    return inventory_services.stock_document_post(
        actor=actor, document_id=document.pk, policy=StockPolicy(allow_negative_stock=False, default_valuation_method="fifo")
    )


@pytest.fixture
def stock(storekeeper, main_location, chair, table):
    """10 chairs at 600.00 and 3 tables at 4000.00 in the main warehouse."""
    receive(storekeeper, chair, "10", "600.00", to=main_location)
    receive(storekeeper, table, "3", "4000.00", to=main_location)
    return {"chair": chair, "table": table}


def _vat_rate(product) -> Decimal:
    if product.vat_rate is not None:
        return product.vat_rate
    return CompanySettings.objects.get(pk=1).default_vat_rate


def line_terms(line: SalesOrderLine) -> LineTerms:
    return LineTerms(price=line.price, discount_percent=line.discount_percent, tax_rate=line.tax_rate,
                     prices_include_tax=line.order.prices_include_tax)


@pytest.fixture
def make_order(manager, client_party, warehouse, stock):
    """A sales order as ORM rows: `make_order(lines=[(product, quantity, price[, discount%])], status="confirmed", **header)`."""

    def make(lines, *, status=OrderStatus.CONFIRMED, responsible=None, counterparty=None, prices_include_tax=True, **header):
        order = SalesOrder.objects.create(
            number=f"SO-{SalesOrder.objects.count() + 1:05d}", status=status, date=header.pop("date", ORDER_DAY),
            counterparty=counterparty or client_party, responsible=responsible or manager, author=responsible or manager,
            warehouse=warehouse, currency=header.pop("currency", "RUB"), prices_include_tax=prices_include_tax, **header,
        )
        net = tax = total = D(0)
        for position, spec in enumerate(lines, start=1):
            product, quantity, price = spec[0], D(str(spec[1])), D(str(spec[2]))
            discount = D(str(spec[3])) if len(spec) > 3 else D(0)
            rate = _vat_rate(product)
            amounts = line_amounts(LineTerms(price=price, discount_percent=discount, tax_rate=rate, prices_include_tax=prices_include_tax), quantity)
            SalesOrderLine.objects.create(
                order=order, position=position, product=product, unit=product.stock_unit, quantity=quantity, stock_quantity=quantity,
                retail_price=price, price=price, discount_percent=discount, discount_amount=amounts.discount, tax_rate=rate,
                amount=amounts.amount, net_amount=amounts.net, tax_amount=amounts.tax, total=amounts.total,
            )
            net, tax, total = net + amounts.net, tax + amounts.tax, total + amounts.total
        order.net_total, order.tax_total, order.total = net, tax, total
        order.save(update_fields=["net_total", "tax_total", "total"])
        return order

    return make


@pytest.fixture
def make_shipment(storekeeper):
    """A posted shipment as ORM rows: `make_shipment(order, [(order_line, quantity)], date=SHIP_DAY)`; the order lines'
    shipped quantities grow by it."""

    def make(order, lines, *, date=SHIP_DAY, status=ShipmentStatus.POSTED):
        shipment = Shipment.objects.create(number=f"SH-{Shipment.objects.count() + 1:05d}", status=status, order=order, date=date,
                                           author=storekeeper)
        net = tax = total = D(0)
        for order_line, quantity in lines:
            order_line.refresh_from_db()
            quantity = D(str(quantity))
            amounts = part_amounts(line_terms(order_line), done=order_line.shipped_quantity, quantity=quantity)
            ShipmentLine.objects.create(shipment=shipment, order_line=order_line, quantity=quantity, net_amount=amounts.net,
                                        tax_amount=amounts.tax, total=amounts.total)
            if status == ShipmentStatus.POSTED:
                order_line.shipped_quantity += quantity
                order_line.save(update_fields=["shipped_quantity"])
            net, tax, total = net + amounts.net, tax + amounts.tax, total + amounts.total
        shipment.net_total, shipment.tax_total, shipment.total = net, tax, total
        shipment.save(update_fields=["net_total", "tax_total", "total"])
        return shipment

    return make


@pytest.fixture
def make_return(storekeeper):
    """A posted return from the client as ORM rows: `make_return(order, [(order_line, quantity)])`."""

    def make(order, lines, *, date=INVOICE_DAY, status=ShipmentStatus.POSTED):
        sales_return = SalesReturn.objects.create(number=f"RT-{SalesReturn.objects.count() + 1:05d}", status=status, order=order,
                                                  date=date, author=storekeeper, reason="Damaged")
        net = tax = total = D(0)
        for order_line, quantity in lines:
            order_line.refresh_from_db()
            quantity = D(str(quantity))
            amounts = part_amounts(line_terms(order_line), done=order_line.returned_quantity, quantity=quantity)
            SalesReturnLine.objects.create(sales_return=sales_return, order_line=order_line, quantity=quantity,
                                           net_amount=amounts.net, tax_amount=amounts.tax, total=amounts.total)
            if status == ShipmentStatus.POSTED:
                order_line.returned_quantity += quantity
                order_line.save(update_fields=["returned_quantity"])
            net, tax, total = net + amounts.net, tax + amounts.tax, total + amounts.total
        sales_return.net_total, sales_return.tax_total, sales_return.total = net, tax, total
        sales_return.save(update_fields=["net_total", "tax_total", "total"])
        return sales_return

    return make


@pytest.fixture
def order(make_order, chair, table):
    """Confirmed, prices include tax: chair 3 × 1000.00 (20 %) + table 1 × 5500.00 (10 %) = 8500.00."""
    return make_order([(chair, "3", "1000.00"), (table, "1", "5500.00")])


@pytest.fixture
def shipped_order(order, make_shipment):
    """`order` shipped in full by one posted shipment."""
    lines = list(order.lines.all())
    make_shipment(order, [(lines[0], "3"), (lines[1], "1")])
    order.refresh_from_db()
    return order


@pytest.fixture
def make_invoice(accountant):
    """A posted invoice of an order for every uninvoiced unit: `make_invoice(order, post=True, date=INVOICE_DAY)`."""

    def make(order, *, post=True, date=INVOICE_DAY, actor=None, lines=None):
        from fabrika.finance import services_invoices

        actor = actor or accountant
        data = {"date": date}
        if lines is not None:
            data["lines"] = lines
        invoice = services_invoices.invoice_create_from_order(actor=actor, order_id=order.pk, data=data)
        if post:
            invoice = services_invoices.invoice_post(actor=actor, invoice_id=invoice.pk)
        return invoice

    return make


def journal_lines(source) -> list[tuple[str, Decimal, Decimal, int | None]]:
    """(account key, debit, credit, counterparty id) of every journal line of a document, sorted."""
    from fabrika.ledger.models import JournalLine

    rows = JournalLine.objects.filter(entry__source_type=source._meta.label_lower, entry__source_id=source.pk).select_related("account")
    return sorted((row.account.key, row.debit, row.credit, row.counterparty_id) for row in rows)


def statements(captured, prefixes=("finance_", "sales_", "ledger_")) -> list[tuple[str, str]]:
    """(verb, table) of each captured query on the tables of these apps, in order: what a posting reads and writes."""
    found = []
    for query in captured.captured_queries:
        sql = re.sub(r"^\d+ times: ", "", query["sql"])  # an executemany is one statement
        verb = sql.split(None, 1)[0].upper()
        if verb == "SELECT":
            match = re.match(r'SELECT (?:DISTINCT )?"(\w+)"\.', sql) or re.search(r' FROM "(\w+)"', sql)
        else:
            match = re.match(r'(?:INSERT INTO|UPDATE|DELETE FROM) "(\w+)"', sql)
        if match and match.group(1).startswith(prefixes):
            found.append((verb, match.group(1)))
    return found
