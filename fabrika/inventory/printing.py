"""Printed forms of stock documents: the receipt note (a posted receipt) and the delivery note (a posted issue).

Registered with core's print registry at import; the registry imports this module the first time printing is
used (see fabrika/core/printing.py). Default templates: templates/inventory/print/. The context is plain data:
see `stock_document_context` for its shape (the admin guide lists it too).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.core import printing
from fabrika.core.errors import DomainError
from fabrika.core.selectors import company_settings

from .enums import DocumentStatus, DocumentType
from .models import StockDocument, StockDocumentLine
from .selectors import stock_document_get_for_user, stock_document_list_for_user
from .valuation import ZERO, money, quantity

RECEIPT_NOTE = "inventory.receipt_note"
DELIVERY_NOTE = "inventory.delivery_note"


class NotPrintable(DomainError):
    status = 409
    code = "not_printable"


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _location(location) -> str:
    return str(location) if location is not None else ""


def _line_context(line: StockDocumentLine, *, incoming: bool) -> dict:
    line_quantity = quantity(line.quantity)
    if incoming and line.unit_cost is not None:
        price = money(line.unit_cost)
        amount = money(line.quantity * line.unit_cost)
    else:  # an issue is valued at cost: the cost of the goods that left, per unit of the line
        amount = money(line.cost or ZERO)
        price = money(amount / line.quantity) if line.quantity else ZERO
    return {
        "position": 0,
        "sku": line.product.sku,
        "name": line.product.name,
        "unit": line.unit.code,
        "unit_name": line.unit.name,
        "quantity": line_quantity,
        "price": price,
        "amount": amount,
        "lot": line.lot.code if line.lot_id else "",
        "expiry_date": line.lot.expiry_date if line.lot_id else None,
        "serial": line.serial,
        "location": _location(line.to_location if incoming else line.from_location),
    }


def stock_document_context(document: StockDocument) -> dict:
    """Plain data of a stock document for a printed form."""
    incoming = document.document_type in (DocumentType.RECEIPT, DocumentType.CUSTOMER_RETURN)
    lines = list(
        StockDocumentLine.objects.filter(document=document)
        .select_related("product", "unit", "lot", "from_location", "to_location")
        .order_by("position", "id")
    )
    rows = []
    for index, line in enumerate(lines, start=1):
        row = _line_context(line, incoming=incoming)
        row["position"] = index
        rows.append(row)
    counterparty = document.counterparty
    base_currency = company_settings().base_currency
    location = document.to_location if incoming else document.from_location
    return {
        "document": {
            "id": document.pk,
            "number": document.number,
            "date": document.date,
            "type": document.document_type,
            "type_label": str(document.get_document_type_display()),
            "status": document.status,
            "reference": document.reference,
            "notes": document.notes,
            "currency": (document.currency or base_currency) if incoming else base_currency,
            "from_location": _location(document.from_location),
            "to_location": _location(document.to_location),
            "warehouse": str(location.warehouse) if location is not None and location.warehouse_id else "",
            "author": _person(document.author),
            "posted_by": _person(document.posted_by),
        },
        "counterparty": {
            "name": counterparty.name,
            "full_name": counterparty.full_name or counterparty.name,
            "tax_id": counterparty.tax_id,
            "kpp": counterparty.kpp,
            "city": counterparty.city,
            "phone": counterparty.phone,
        }
        if counterparty is not None
        else None,
        "lines": rows,
        "labels": labels(document.document_type),
        "totals": {
            "lines": len(rows),
            "quantity": sum((row["quantity"] for row in rows), ZERO),
            "amount": sum((row["amount"] for row in rows), ZERO),
        },
    }


def labels(document_type: str) -> dict:
    """The form's captions in the print language, so one default template serves every language."""
    incoming = document_type in (DocumentType.RECEIPT, DocumentType.CUSTOMER_RETURN)
    return {
        "title": _("Receipt note") if incoming else _("Delivery note"),
        "number": _("No."),
        "date_word": _("dated"),
        "supplier": _("Supplier"),
        "customer": _("Customer"),
        "counterparty": _("Supplier") if incoming else _("Customer"),
        "warehouse": _("Warehouse"),
        "reference": _("Reference"),
        "tax_id": _("Tax ID"),
        "kpp": _("KPP"),
        "position": _("#"),
        "sku": _("SKU"),
        "product": _("Product"),
        "unit": _("Unit"),
        "quantity": _("Quantity"),
        "price": _("Price"),
        "amount": _("Amount"),
        "lot": _("Lot"),
        "serial": _("Serial number"),
        "total": _("Total"),
        "items_total": _("Items in total"),
        "amount_in_words": _("Amount in words"),
        "handed_over": _("Handed over by"),
        "received": _("Received by"),
        "signature": _("signature"),
        "full_name": _("full name"),
        "company": _("Company"),
        "notes": _("Notes"),
    }


def _check(document_type: str, form_name):
    def check(document: StockDocument) -> None:
        if document.document_type != document_type:
            raise NotPrintable(
                _("A %(form)s is printed for %(type)s documents only") % {
                    "form": form_name, "type": DocumentType(document_type).label.lower(),
                },
                field="document_type",
            )
        if document.status != DocumentStatus.POSTED:
            raise NotPrintable(_("Only a posted document can be printed"), field="status", current_status=document.status)

    return check


def _sample(document_type: str, label: str, counterparty: str) -> dict:
    lines = [
        {"position": 1, "sku": "BOARD-18", "name": "Particle board 18 mm", "unit": "pcs", "unit_name": "Pieces",
         "quantity": Decimal("10.0000"), "price": Decimal("1250.00"), "amount": Decimal("12500.00"), "lot": "",
         "expiry_date": None, "serial": "", "location": "MAIN"},
        {"position": 2, "sku": "GLUE-1", "name": "Wood glue", "unit": "kg", "unit_name": "Kilogram",
         "quantity": Decimal("2.5000"), "price": Decimal("480.40"), "amount": Decimal("1201.00"), "lot": "L-0425",
         "expiry_date": dt.date(2027, 4, 30), "serial": "", "location": "MAIN / A-01"},
    ]
    return {
        "document": {
            "id": 0, "number": "00042", "date": dt.date(2026, 3, 2), "type": document_type, "type_label": label,
            "status": DocumentStatus.POSTED, "reference": "SO-0017", "notes": "", "currency": company_settings().base_currency,
            "from_location": "MAIN", "to_location": "MAIN", "warehouse": "MAIN Main warehouse", "author": "Storekeeper",
            "posted_by": "Storekeeper",
        },
        "counterparty": {"name": counterparty, "full_name": f"{counterparty} LLC", "tax_id": "7707083893", "kpp": "773601001",
                         "city": "Moscow", "phone": "+7 495 000-00-00"},
        "lines": lines,
        "labels": labels(document_type),
        "totals": {"lines": 2, "quantity": Decimal("12.5000"), "amount": Decimal("13701.00")},
    }


def _preview(document_type: str):
    def queryset(user):
        return stock_document_list_for_user(user, document_type=document_type, status=DocumentStatus.POSTED)

    return queryset


printing.register(
    printing.PrintableDocument(
        code=RECEIPT_NOTE,
        name=gettext_lazy("Receipt note"),
        model=StockDocument,
        build_context=stock_document_context,
        sample_context=lambda: _sample(DocumentType.RECEIPT, str(DocumentType.RECEIPT.label), "Sample supplier"),
        get_for_user=stock_document_get_for_user,
        template_name="inventory/print/receipt_note.html",
        check=_check(DocumentType.RECEIPT, gettext_lazy("receipt note")),
        preview_queryset=_preview(DocumentType.RECEIPT),
    )
)

printing.register(
    printing.PrintableDocument(
        code=DELIVERY_NOTE,
        name=gettext_lazy("Delivery note"),
        model=StockDocument,
        build_context=stock_document_context,
        sample_context=lambda: _sample(DocumentType.ISSUE, str(DocumentType.ISSUE.label), "Sample customer"),
        get_for_user=stock_document_get_for_user,
        template_name="inventory/print/delivery_note.html",
        check=_check(DocumentType.ISSUE, gettext_lazy("delivery note")),
        preview_queryset=_preview(DocumentType.ISSUE),
    )
)
