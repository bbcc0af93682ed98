"""The sales delivery note ("sales.delivery_note"): a posted shipment with prices, tax and totals from its lines and
the amount in words. Registered with core's print registry at import (see fabrika/core/printing.py); the default
template is templates/sales/print/delivery_note.html and the context is plain data (`shipment_context`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.core import printing
from fabrika.core.errors import DomainError

from .models import Shipment, ShipmentStatus

DELIVERY_NOTE = "sales.delivery_note"
ZERO = Decimal(0)


class NotPrintable(DomainError):
    status = 409
    code = "not_printable"


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def shipment_context(shipment: Shipment) -> dict:
    """Plain data of a shipment for the printed delivery note."""
    order = shipment.order
    counterparty = order.counterparty
    rows = []
    lines = shipment.lines.select_related("order_line__product", "order_line__unit", "lot").order_by("id")
    for position, line in enumerate(lines, start=1):
        order_line = line.order_line
        rows.append({
            "position": position,
            "sku": order_line.product.sku,
            "name": order_line.product.name,
            "unit": order_line.unit.code,
            "quantity": line.quantity,
            "price": order_line.price,
            "discount_percent": order_line.discount_percent,
            "tax_rate": order_line.tax_rate,
            "net": line.net_amount,
            "tax": line.tax_amount,
            "total": line.total,
            "lot": line.lot.code if line.lot_id else "",
            "expiry_date": line.lot.expiry_date if line.lot_id else None,
            "serial": line.serial,
        })
    return {
        "document": {
            "id": shipment.pk,
            "number": shipment.number,
            "date": shipment.date,
            "status": shipment.status,
            "order_number": order.number,
            "order_date": order.date,
            "currency": order.currency,
            "prices_include_tax": order.prices_include_tax,
            "warehouse": str(order.warehouse),
            "notes": shipment.notes,
            "author": _person(shipment.author),
            "responsible": _person(order.responsible),
        },
        "counterparty": {
            "name": counterparty.name,
            "full_name": counterparty.full_name or counterparty.name,
            "tax_id": counterparty.tax_id,
            "kpp": counterparty.kpp,
            "city": counterparty.city,
            "phone": counterparty.phone,
        },
        "lines": rows,
        "labels": labels(),
        "totals": {
            "lines": len(rows),
            "quantity": sum((row["quantity"] for row in rows), ZERO),
            "net": shipment.net_total,
            "tax": shipment.tax_total,
            "total": shipment.total,
        },
    }


def labels() -> dict:
    """Captions in the print language, so one default template serves every language."""
    return {
        "title": _("Delivery note"),
        "number": _("No."),
        "date_word": _("dated"),
        "supplier": _("Supplier"),
        "customer": _("Customer"),
        "warehouse": _("Warehouse"),
        "order": _("Order"),
        "tax_id": _("Tax ID"),
        "kpp": _("KPP"),
        "position": _("#"),
        "sku": _("SKU"),
        "product": _("Product"),
        "unit": _("Unit"),
        "quantity": _("Quantity"),
        "price": _("Price"),
        "discount": _("Discount, %"),
        "tax_rate": _("VAT, %"),
        "net": _("Net"),
        "tax": _("VAT"),
        "amount": _("Amount"),
        "lot": _("Lot"),
        "serial": _("Serial number"),
        "total": _("Total"),
        "tax_included": _("including VAT"),
        "items_total": _("Items in total"),
        "amount_in_words": _("Amount in words"),
        "handed_over": _("Handed over by"),
        "received": _("Received by"),
        "signature": _("signature"),
        "full_name": _("full name"),
        "notes": _("Notes"),
    }


def _check(shipment: Shipment) -> None:
    if shipment.status != ShipmentStatus.POSTED:
        raise NotPrintable(_("Only a posted shipment can be printed"), field="status", current_status=shipment.status)


def _sample() -> dict:
    lines = [
        {"position": 1, "sku": "CHAIR-1", "name": "Office chair", "unit": "pcs", "quantity": Decimal("3.0000"), "price": Decimal("99.99"),
         "discount_percent": Decimal("7.0000"), "tax_rate": Decimal("20.00"), "net": Decimal("232.47"), "tax": Decimal("46.50"),
         "total": Decimal("278.97"), "lot": "", "expiry_date": None, "serial": ""},
        {"position": 2, "sku": "GLUE-1", "name": "Wood glue", "unit": "kg", "quantity": Decimal("2.5000"), "price": Decimal("480.40"),
         "discount_percent": Decimal("0"), "tax_rate": Decimal("20.00"), "net": Decimal("1000.83"), "tax": Decimal("200.17"),
         "total": Decimal("1201.00"), "lot": "L-0425", "expiry_date": dt.date(2027, 4, 30), "serial": ""},
    ]
    return {
        "document": {
            "id": 0, "number": "SS-2026-00042", "date": dt.date(2026, 3, 12), "status": ShipmentStatus.POSTED, "order_number": "SO-2026-00017",
            "order_date": dt.date(2026, 3, 10), "currency": "RUB", "prices_include_tax": True, "warehouse": "MAIN Main warehouse",
            "notes": "", "author": "Storekeeper", "responsible": "Sales manager",
        },
        "counterparty": {"name": "Sample customer", "full_name": "Sample customer LLC", "tax_id": "7707083893", "kpp": "773601001",
                         "city": "Moscow", "phone": "+7 495 000-00-00"},
        "lines": lines,
        "labels": labels(),
        "totals": {"lines": 2, "quantity": Decimal("5.5000"), "net": Decimal("1233.30"), "tax": Decimal("246.67"), "total": Decimal("1479.97")},
    }


def _get_for_user(user, shipment_id):
    from .selectors_shipments import shipment_get_for_user

    return shipment_get_for_user(user, shipment_id)


def _preview(user):
    from .selectors_shipments import shipment_list_for_user

    return shipment_list_for_user(user, status=ShipmentStatus.POSTED)


printing.register(
    printing.PrintableDocument(
        code=DELIVERY_NOTE,
        name=gettext_lazy("Sales delivery note"),
        model=Shipment,
        build_context=shipment_context,
        sample_context=_sample,
        get_for_user=_get_for_user,
        template_name="sales/print/delivery_note.html",
        check=_check,
        preview_queryset=_preview,
    )
)
