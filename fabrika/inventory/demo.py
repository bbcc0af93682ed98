"""Robokids' catalog and warehouse for the demo: units, groups, products with barcodes, two warehouses with zones and
bins, and posted stock documents (supplier receipts at different unit costs so FIFO layers differ, one in yuan, one
issue to production and one transfer between bins). Everything goes through the catalog and inventory services; a
second load finds every record by its natural key (unit code, group name, SKU, barcode, warehouse and location
code, document reference) and changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fabrika.catalog import services as catalog_services
from fabrika.catalog.enums import GroupValuation, ProductKind, Tracking
from fabrika.catalog.models import Barcode, Product, ProductGroup, Unit, UnitConversion
from fabrika.core.demo import DemoContext

from . import selectors, services
from .enums import DocumentType, LocationKind
from .models import Location, StockDocument, Warehouse

DEMO_UNITS = (("pcs", "Pieces", 0), ("box", "Box of 12 pcs", 0), ("kg", "Kilogram", 3), ("m", "Metre", 3))
# (name, parent, valuation method)
DEMO_GROUPS = (
    ("Materials", None, GroupValuation.FIFO),
    ("Electronics", None, GroupValuation.FIFO),
    ("Semi-finished", None, GroupValuation.INHERIT),
    ("Finished kits", None, GroupValuation.INHERIT),
)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    group: str
    unit: str = "pcs"
    kind: str = ProductKind.MATERIAL
    tracking: str = Tracking.NONE
    purchase_unit: str | None = None
    shelf_life_days: int | None = None
    barcode: str = ""  # 12 digits; the EAN-13 check digit is added
    attributes: dict = field(default_factory=dict)


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("PLA-175", "PLA plastic 1.75 mm, white", "Materials", unit="kg", barcode="460700123001", attributes={"diameter": "1.75 mm"}),
    DemoProduct("SRV-MG90", "Servo motor MG90", "Electronics", purchase_unit="box", barcode="460700123002", attributes={"torque": "2.2 kg·cm"}),
    DemoProduct("CTL-RK1", "Controller board RK-1", "Electronics", tracking=Tracking.SERIAL, barcode="460700123003"),
    DemoProduct("BAT-18650", "Li-ion battery 18650", "Electronics", tracking=Tracking.LOT, shelf_life_days=365, barcode="460700123004"),
    DemoProduct("SCR-M3", "Screw M3×8", "Materials", purchase_unit="box", barcode="460700123005"),
    DemoProduct("BOX-KIT", "Cardboard kit box", "Materials", barcode="460700123006"),
    DemoProduct("WHL-65", "Wheel 65 mm", "Materials", barcode="460700123007"),
    DemoProduct("WIRE-22", "Hook-up wire 22 AWG", "Materials", unit="m", barcode="460700123008"),
    DemoProduct("SNS-US", "Ultrasonic distance sensor", "Electronics", barcode="460700123009"),
    DemoProduct("CBL-USB", "USB cable 1 m", "Electronics", barcode="460700123010"),
    DemoProduct("BRK-SET", "Bracket set", "Materials", barcode="460700123011"),
    DemoProduct("CHS-RK", "Robot chassis", "Semi-finished", kind=ProductKind.SEMI_FINISHED, barcode="460700123012"),
    DemoProduct("KIT-START", "Robokids Start", "Finished kits", kind=ProductKind.FINISHED_GOOD, barcode="460700123013"),
    DemoProduct("KIT-PRO", "Robokids Pro", "Finished kits", kind=ProductKind.FINISHED_GOOD, barcode="460700123014"),
    DemoProduct("SVC-ASM", "Assembly workshop", "Finished kits", kind=ProductKind.SERVICE),
)
# (sku or "" for every product, from unit, to unit, factor)
DEMO_CONVERSIONS = (("", "box", "pcs", "12"), ("SCR-M3", "box", "pcs", "100"))

# warehouse code, name, address, [(parent code or "", location code, name)]
DEMO_WAREHOUSES = (
    ("MAIN", "Main warehouse", "Moscow, Elektrozavodskaya 21", (
        ("", "RCV", "Receiving"), ("", "A", "Storage A"), ("A", "A-01", "Bin A-01"), ("A", "A-02", "Bin A-02"),
        ("", "E", "Electronics cage"), ("E", "E-01", "Shelf E-01"),
    )),
    ("FG", "Finished goods", "Moscow, Elektrozavodskaya 21, building 2", (("", "SHIP", "Shipping"),)),
)

NOV_2, NOV_16, NOV_20 = dt.date(2026, 11, 2), dt.date(2026, 11, 16), dt.date(2026, 11, 20)


def ean13(first_twelve: str) -> str:
    """An EAN-13 barcode from its first 12 digits (the check digit appended)."""
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first_twelve))
    return first_twelve + str((10 - total % 10) % 10)


def _documents() -> tuple[dict, ...]:
    """Every demo document: reference, type, date, header and lines. Lines name products by SKU and places by code."""
    serials = [{"product": "CTL-RK1", "quantity": "1", "unit_cost": "1450.00", "serial": f"RK1-{n:04d}"} for n in range(1, 6)]
    return (
        {"reference": "DEMO-R1", "type": DocumentType.RECEIPT, "date": NOV_2, "counterparty": "Servo Motors Ltd", "to": "A-01", "lines": [
            {"product": "SRV-MG90", "quantity": "2", "unit": "box", "unit_cost": "2160.00"},  # 24 pcs at 180.00
            {"product": "WHL-65", "quantity": "100", "unit_cost": "25.00"},
            {"product": "SCR-M3", "quantity": "5", "unit": "box", "unit_cost": "150.00"},  # 500 pcs at 1.50
        ]},
        {"reference": "DEMO-R2", "type": DocumentType.RECEIPT, "date": NOV_2, "counterparty": "Rezonans PCB Factory", "to": "E-01", "lines": [
            *serials,
            {"product": "BAT-18650", "quantity": "40", "unit_cost": "210.00", "lot_code": "L-2610A", "production_date": "2026-10-01"},
        ]},
        {"reference": "DEMO-R3", "type": DocumentType.RECEIPT, "date": NOV_16, "counterparty": "Servo Motors Ltd", "to": "A-01", "lines": [
            {"product": "SRV-MG90", "quantity": "1", "unit": "box", "unit_cost": "2280.00"},  # 12 pcs at 190.00
            {"product": "WHL-65", "quantity": "50", "unit_cost": "27.00"},
        ]},
        {"reference": "DEMO-R4", "type": DocumentType.RECEIPT, "date": NOV_16, "counterparty": "Plastic Parts Plant", "to": "RCV", "lines": [
            {"product": "PLA-175", "quantity": "25", "unit_cost": "1200.00"},
            {"product": "BOX-KIT", "quantity": "100", "unit_cost": "35.00"},
            {"product": "WIRE-22", "quantity": "200", "unit_cost": "8.50"},
            {"product": "BAT-18650", "quantity": "20", "unit_cost": "220.00", "lot_code": "L-2611B", "production_date": "2026-11-01"},
        ]},
        {"reference": "DEMO-R5", "type": DocumentType.RECEIPT, "date": NOV_16, "counterparty": "Shenzhen Micro Motor Co.", "to": "E-01",
         "currency": "CNY", "lines": [{"product": "SNS-US", "quantity": "30", "unit_cost": "60.00"}]},
        {"reference": "DEMO-I1", "type": DocumentType.ISSUE, "date": NOV_20, "from": "A-01", "to_kind": LocationKind.PRODUCTION, "lines": [
            {"product": "SRV-MG90", "quantity": "30"},  # FIFO: 24 at 180.00 and 6 at 190.00
        ]},
        {"reference": "DEMO-T1", "type": DocumentType.TRANSFER, "date": NOV_20, "from": "A-01", "to": "A-02", "lines": [
            {"product": "WHL-65", "quantity": "40"},  # the oldest layer, at 25.00
        ]},
    )


def _catalog(actor) -> dict[str, Product]:
    units = {unit.code: unit for unit in Unit.objects.filter(code__in=[code for code, _name, _places in DEMO_UNITS])}
    for code, name, places in DEMO_UNITS:
        if code not in units:
            units[code] = catalog_services.unit_create(actor=actor, code=code, name=name, decimal_places=places)
    groups = {group.name: group for group in ProductGroup.objects.filter(name__in=[name for name, _p, _m in DEMO_GROUPS], parent__isnull=True)}
    for name, _parent, method in DEMO_GROUPS:
        if name not in groups:
            groups[name] = catalog_services.product_group_create(actor=actor, data={"name": name, "valuation_method": method})
    products = {product.sku: product for product in Product.objects.filter(sku__in=[p.sku for p in DEMO_PRODUCTS])}
    for demo in DEMO_PRODUCTS:
        if demo.sku not in products:
            data = {
                "sku": demo.sku, "name": demo.name, "kind": demo.kind, "group": groups[demo.group].pk, "stock_unit": units[demo.unit].pk,
                "tracking": demo.tracking, "attributes": demo.attributes,
            }
            if demo.purchase_unit:
                data["purchase_unit"] = units[demo.purchase_unit].pk
            if demo.shelf_life_days:
                data["shelf_life_days"] = demo.shelf_life_days
            products[demo.sku] = catalog_services.product_create(actor=actor, data=data)
    for sku, source, target, factor in DEMO_CONVERSIONS:
        product = products[sku] if sku else None
        if not UnitConversion.objects.filter(product=product, from_unit=units[source], to_unit=units[target]).exists():
            catalog_services.unit_conversion_create(actor=actor, product=product, from_unit=units[source], to_unit=units[target], factor=factor)
    taken = set(Barcode.objects.filter(product__sku__in=list(products)).values_list("code", flat=True))
    for demo in DEMO_PRODUCTS:
        if demo.barcode and ean13(demo.barcode) not in taken:
            catalog_services.barcode_add(actor=actor, product_id=products[demo.sku].pk, code=ean13(demo.barcode))
    return products


def _places(actor) -> dict[str, Location]:
    places: dict[str, Location] = {}
    for code, name, address, locations in DEMO_WAREHOUSES:
        warehouse = Warehouse.objects.filter(code=code).first() or services.warehouse_create(actor=actor, code=code, name=name, address=address)
        root = services.warehouse_root(warehouse)
        places[code] = root
        existing = {location.code: location for location in Location.objects.filter(warehouse=warehouse).exclude(code="")}
        for parent_code, location_code, location_name in locations:
            if location_code not in existing:
                parent = existing[parent_code] if parent_code else root
                existing[location_code] = services.location_create(actor=actor, parent_id=parent.pk, name=location_name, code=location_code)
            places[location_code] = existing[location_code]
    return places


def _stock(actor, context: DemoContext, products: dict[str, Product], places: dict[str, Location]) -> None:
    units = {unit.code: unit for unit in Unit.objects.all()}
    parties = context.records.get("counterparties", {})
    done = set(StockDocument.objects.filter(reference__startswith="DEMO-").values_list("reference", flat=True))
    policy = selectors.stock_policy()
    for spec in _documents():
        if spec["reference"] in done:
            continue
        header = {"date": spec["date"], "reference": spec["reference"]}
        if "from" in spec:
            header["from_location"] = places[spec["from"]].pk
        if "to" in spec:
            header["to_location"] = places[spec["to"]].pk
        if "to_kind" in spec:
            header["to_location"] = services.virtual_location(spec["to_kind"]).pk
        if spec.get("counterparty") in parties:
            header["counterparty"] = parties[spec["counterparty"]].pk
        if spec.get("currency"):
            header["currency"] = spec["currency"]
        document = services.stock_document_create(actor=actor, document_type=spec["type"], data=header)
        for line in spec["lines"]:
            data = {**line, "product": products[line["product"]].pk}
            if "unit" in line:
                data["unit"] = units[line["unit"]].pk
            services.stock_document_add_line(actor=actor, document_id=document.pk, data=data)
        services.stock_document_post(actor=actor, document_id=document.pk, policy=policy)


def load_catalog_and_stock(context: DemoContext) -> None:
    """Robokids' catalog, warehouses and posted stock; loading twice changes nothing."""
    actor = context.users.get("store") or context.admin
    products = _catalog(actor)
    places = _places(actor)
    _stock(actor, context, products, places)
    context.records["catalog"] = dict(products)
    context.records["locations"] = dict(places)
