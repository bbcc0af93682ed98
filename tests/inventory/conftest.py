from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from fabrika.catalog import services as catalog_services
from fabrika.core.models import CompanySettings
from fabrika.inventory import services
from fabrika.inventory.engine import StockPolicy
from fabrika.inventory.enums import DocumentType
from fabrika.inventory.models import StockBalance

D = Decimal
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def storekeeper(make_user):
    """A storekeeper with every inventory and catalog permission (the standard role gets them from roles.py)."""
    user = make_user("Storekeeper", username="keeper")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=["inventory", "catalog"]))
    return user


@pytest.fixture
def fifo_policy():
    return StockPolicy(allow_negative_stock=False, default_valuation_method="fifo")


@pytest.fixture
def average_policy():
    return StockPolicy(allow_negative_stock=False, default_valuation_method="average")


@pytest.fixture
def company(db):
    settings, _ = CompanySettings.objects.get_or_create(pk=1)
    return settings


@pytest.fixture
def pcs(storekeeper):
    return catalog_services.unit_create(actor=storekeeper, code="pcs", name="Pieces")


@pytest.fixture
def box(storekeeper):
    return catalog_services.unit_create(actor=storekeeper, code="box", name="Box")


@pytest.fixture
def warehouse(storekeeper):
    return services.warehouse_create(actor=storekeeper, code="MAIN", name="Main warehouse")


@pytest.fixture
def main(warehouse):
    return services.warehouse_root(warehouse)


@pytest.fixture
def second(storekeeper):
    return services.warehouse_root(services.warehouse_create(actor=storekeeper, code="WH2", name="Second warehouse"))


class Ledger:
    """Small helpers that post real documents through the services."""

    def __init__(self, actor, policy):
        self.actor = actor
        self.policy = policy

    def product(self, sku="P1", unit=None, **data):
        from fabrika.catalog.models import Unit

        unit = unit or Unit.objects.get_or_create(code="pcs", defaults={"name": "Pieces"})[0]
        return catalog_services.product_create(actor=self.actor, data={"sku": sku, "name": f"Product {sku}", "stock_unit": unit.pk, **data})

    def document(self, document_type, *, date=DAY, lines, post=True, **header):
        document = services.stock_document_create(actor=self.actor, document_type=document_type, data={"date": date, **header})
        for line in lines:
            services.stock_document_add_line(actor=self.actor, document_id=document.pk, data=line)
        if post:
            document = services.stock_document_post(actor=self.actor, document_id=document.pk, policy=self.policy)
        return document

    def receive(self, product, quantity, unit_cost, *, to, date=DAY, **extra):
        return self.document(
            DocumentType.RECEIPT, date=date, to_location=to.pk,
            lines=[{"product": product.pk, "quantity": str(quantity), "unit_cost": str(unit_cost), **extra}],
        )

    def issue(self, product, quantity, *, source, date=DAY, **extra):
        return self.document(DocumentType.ISSUE, date=date, from_location=source.pk, lines=[{"product": product.pk, "quantity": str(quantity), **extra}])

    def transfer(self, product, quantity, *, source, to, date=DAY, **extra):
        return self.document(
            DocumentType.TRANSFER, date=date, from_location=source.pk, to_location=to.pk,
            lines=[{"product": product.pk, "quantity": str(quantity), **extra}],
        )


@pytest.fixture
def ledger(storekeeper, fifo_policy, pcs):
    return Ledger(storekeeper, fifo_policy)


@pytest.fixture
def average_ledger(storekeeper, average_policy, pcs):
    return Ledger(storekeeper, average_policy)


def balance(product, location, lot=None) -> tuple[Decimal, Decimal]:
    row = StockBalance.objects.filter(product=product, location=location, lot=lot).first()
    return (row.quantity, row.value) if row else (D(0), D(0))
