"""Shared fixtures of the sales tests (orders and shipments).

A client with a responsible sales manager, a warehouse holding two products received at known costs through the
inventory services, and `make_order`, which builds an order through the sales services (confirmed by default).

    order = make_order(lines=[(chair, "2", "1500.00"), (table, "1", "9000.00")])       # confirmed, reserved
    draft = make_order(lines=[(chair, "1", "100")], confirm=False, prices_include_tax=False)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fabrika.catalog import services as catalog_services
from fabrika.core.models import CompanySettings, Department
from fabrika.inventory import services as inventory_services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType
from fabrika.parties.models import Counterparty

D = Decimal
DAY = dt.date(2026, 3, 2)
ORDER_DAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are created in every test; the default hasher costs a noticeable part of a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    settings, _ = CompanySettings.objects.get_or_create(pk=1)
    return settings


@pytest.fixture
def sales_department(db):
    return Department.objects.create(name="Sales")


@pytest.fixture
def manager(make_user, sales_department):
    """A sales manager (scope: own)."""
    return make_user("Sales manager", username="manager", department=sales_department)


@pytest.fixture
def other_manager(make_user, sales_department):
    return make_user("Sales manager", username="other", department=sales_department)


@pytest.fixture
def head(make_user, sales_department):
    """The head of the sales department (scope: department; approves discounts)."""
    user = make_user("Head of sales", username="head", department=sales_department)
    sales_department.head = user
    sales_department.save(update_fields=["head"])
    return user


@pytest.fixture
def director(make_user):
    """Sees everything, may override the credit limit."""
    return make_user("Director", username="director")


@pytest.fixture
def storekeeper(make_user):
    return make_user("Storekeeper", username="keeper")


@pytest.fixture
def client_party(company, manager):
    return Counterparty.objects.create(name="Robokids School", is_client=True, responsible=manager)


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
def chair(storekeeper, pcs):
    """VAT 20 % (the company default)."""
    return catalog_services.product_create(actor=storekeeper, data={"sku": "CHAIR", "name": "Chair", "stock_unit": pcs.pk, "kind": "goods_for_resale"})


@pytest.fixture
def table(storekeeper, pcs):
    """VAT 10 % on the product."""
    product = catalog_services.product_create(
        actor=storekeeper, data={"sku": "TABLE", "name": "Table", "stock_unit": pcs.pk, "kind": "goods_for_resale"}
    )
    product.vat_rate = D("10")  # the catalog services do not edit the rate yet
    product.save(update_fields=["vat_rate"])
    return product


def receive(actor, product, quantity, unit_cost, *, to, date=DAY):
    """Post a receipt of `quantity` at `unit_cost` to a location."""
    document = inventory_services.stock_document_create(actor=actor, document_type=DocumentType.RECEIPT, data={"date": date, "to_location": to.pk})
    inventory_services.stock_document_add_line(
        actor=actor, document_id=document.pk, data={"product": product.pk, "quantity": str(quantity), "unit_cost": str(unit_cost)}
    )
    return inventory_services.stock_document_post(
        actor=actor, document_id=document.pk, policy=StockPolicy(allow_negative_stock=False, default_valuation_method="fifo")
    )


@pytest.fixture
def stock(storekeeper, main_location, chair, table):
    """10 chairs at 1000.00 and 3 tables at 6000.00 in the main warehouse."""
    receive(storekeeper, chair, "10", "1000.00", to=main_location)
    receive(storekeeper, table, "3", "6000.00", to=main_location)
    return {"chair": chair, "table": table}


@pytest.fixture
def make_order(manager, client_party, warehouse, stock):
    """Build an order through the services: `make_order(lines=[(product, quantity, price)], confirm=True, **header)`.

    Header keys go to sales_order_create (counterparty, warehouse, date, currency, prices_include_tax, ...); `actor`
    (default: the manager) creates and confirms; `discount` sets a special discount % on every line."""
    from fabrika.sales import services_orders

    def make(lines, *, confirm: bool = True, actor=None, discount=None, override_credit_limit: bool = False, **header):
        actor = actor or manager
        data = {"counterparty": client_party.pk, "warehouse": warehouse.pk, "date": ORDER_DAY, "currency": "RUB", **header}
        if "counterparty" in header and hasattr(header["counterparty"], "pk"):
            data["counterparty"] = header["counterparty"].pk
        order = services_orders.sales_order_create(actor=actor, data=data)
        for product, quantity, price in lines:
            line = {"product": product.pk, "quantity": str(quantity), "price": str(price)}
            if discount is not None:
                line["manual_discount_percent"] = str(discount)
            services_orders.sales_order_add_line(actor=actor, order_id=order.pk, data=line)
        if confirm:
            services_orders.sales_order_confirm(actor=actor, order_id=order.pk, override_credit_limit=override_credit_limit)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def prices(db, chair, table, roles):
    """Retail (with tax) chair 1500.00, table 9000.00; wholesale (with tax) chair 1200.00; a 5 % promotion on chairs;
    special discounts without approval: sales managers up to 10 %, heads of sales up to 25 %."""
    from fabrika.pricing.models import (
        DiscountKind,
        DiscountRule,
        ManualDiscountLimit,
        PriceList,
        PriceListItem,
        PriceType,
    )

    retail = PriceType.objects.create(code="RETAIL", name="Retail", currency="RUB", prices_include_tax=True, is_retail=True)
    wholesale = PriceType.objects.create(code="WHOLESALE", name="Wholesale", currency="RUB", prices_include_tax=True)
    retail_list = PriceList.objects.create(price_type=retail, name="Retail 2026", currency="RUB", valid_from=dt.date(2026, 1, 1))
    PriceListItem.objects.create(price_list=retail_list, product=chair, price=D("1500.00"))
    PriceListItem.objects.create(price_list=retail_list, product=table, price=D("9000.00"))
    wholesale_list = PriceList.objects.create(price_type=wholesale, name="Wholesale 2026", currency="RUB", valid_from=dt.date(2026, 1, 1))
    PriceListItem.objects.create(price_list=wholesale_list, product=chair, price=D("1200.00"))
    promotion = DiscountRule.objects.create(kind=DiscountKind.PROMOTION, name="Spring chairs", percent=D("5"), valid_from=dt.date(2026, 1, 1))
    promotion.products.add(chair)
    ManualDiscountLimit.objects.create(group=roles["Sales manager"], max_percent=D("10"))
    ManualDiscountLimit.objects.create(group=roles["Head of sales"], max_percent=D("25"))
    return {"retail": retail, "wholesale": wholesale, "promotion": promotion}
