"""The printed sales order ("sales.sales_order"): company, client, lines with discounts, totals with tax, the amount in
words. Registered with core's print registry (fabrika/core/printing.py); the default template is
templates/sales/print/sales_order.html. The context is plain data: see `sales_order_context` for its shape."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.core import printing
from fabrika.core.errors import DomainError

from .models import OrderStatus, SalesOrder
from .selectors_orders import sales_order_get_for_user, sales_order_list_for_user
from .totals import ZERO, round_money

SALES_ORDER = "sales.sales_order"


class NotPrintable(DomainError):
    status = 409
    code = "not_printable"


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def labels(*, prices_include_tax: bool) -> dict:
    """Captions in the print language, so one default template serves every language."""
    return {
        "title": _("Sales order"),
        "number": _("No."),
        "date_word": _("dated"),
        "seller": _("Seller"),
        "client": _("Client"),
        "contact": _("Contact"),
        "tax_id": _("Tax ID"),
        "kpp": _("KPP"),
        "position": _("#"),
        "sku": _("SKU"),
        "product": _("Product"),
        "unit": _("Unit"),
        "quantity": _("Quantity"),
        "retail_price": _("Retail price"),
        "price": _("Price"),
        "discount": _("Discount, %"),
        "tax_rate": _("VAT, %"),
        "tax": _("VAT"),
        "amount": _("Amount"),
        "retail_total": _("At retail prices"),
        "discount_total": _("Your discount"),
        "net_total": _("Total without VAT"),
        "tax_total": _("VAT") + (" " + _("included") if prices_include_tax else ""),
        "total": _("Total"),
        "amount_in_words": _("Amount in words"),
        "expected_ship_date": _("Expected shipment"),
        "responsible": _("Manager"),
        "notes": _("Notes"),
        "signature": _("signature"),
        "prices_note": _("Prices include VAT") if prices_include_tax else _("Prices exclude VAT"),
    }


def sales_order_context(order: SalesOrder) -> dict:
    """Plain data of an order for its printed form."""
    lines = list(order.lines.select_related("product", "unit").order_by("position", "id"))
    counterparty, contact = order.counterparty, order.contact
    rows = [
        {
            "position": index, "sku": line.product.sku, "name": line.description or line.product.name, "unit": line.unit.code,
            "quantity": line.quantity, "retail_price": line.retail_price, "price": line.price,
            "discount_percent": line.discount_percent.normalize() if line.discount_percent else ZERO,
            "discount_rule": line.discount_rule, "discount_amount": line.discount_amount, "tax_rate": line.tax_rate,
            "net_amount": line.net_amount, "tax_amount": line.tax_amount, "amount": line.amount, "total": line.total,
        }
        for index, line in enumerate(lines, start=1)
    ]
    return {
        "document": {
            "id": order.pk, "number": order.number, "date": order.date, "status": order.status,
            "status_label": str(order.get_status_display()), "currency": order.currency,
            "prices_include_tax": order.prices_include_tax, "expected_ship_date": order.expected_ship_date,
            "notes": order.notes, "responsible": _person(order.responsible),
        },
        "counterparty": {
            "name": counterparty.name, "full_name": counterparty.full_name or counterparty.name, "tax_id": counterparty.tax_id,
            "kpp": counterparty.kpp, "city": counterparty.city, "phone": counterparty.phone, "email": counterparty.email,
        },
        "contact": {"name": str(contact)} if contact is not None else None,
        "lines": rows,
        "labels": labels(prices_include_tax=order.prices_include_tax),
        "totals": {
            "lines": len(rows), "retail": order.retail_total, "discount": order.discount_total, "net": order.net_total,
            "tax": order.tax_total, "total": order.total,
        },
    }


def _check(order: SalesOrder) -> None:
    if order.status == OrderStatus.CANCELLED:
        raise NotPrintable(_("A cancelled order is not printed"), field="status", current_status=order.status)
    if not order.lines.exists():
        raise NotPrintable(_("The order has no lines to print"), field="lines")


def _sample() -> dict:
    price, quantity = Decimal("1500.00"), Decimal("4")
    return {
        "document": {
            "id": 0, "number": "SO-00017", "date": dt.date(2026, 3, 10), "status": OrderStatus.CONFIRMED, "status_label": str(OrderStatus.CONFIRMED.label),
            "currency": "RUB", "prices_include_tax": True, "expected_ship_date": dt.date(2026, 3, 20), "notes": "",
            "responsible": "Sales manager",
        },
        "counterparty": {"name": "Sample client", "full_name": "Sample client LLC", "tax_id": "7707083893", "kpp": "773601001",
                         "city": "Moscow", "phone": "+7 495 000-00-00", "email": "buyer@example.com"},
        "contact": {"name": "Anna Petrova"},
        "lines": [
            {"position": 1, "sku": "CHAIR", "name": "Classroom chair", "unit": "pcs", "quantity": quantity, "retail_price": price,
             "price": price, "discount_percent": Decimal("5"), "discount_rule": "Spring promotion", "discount_amount": Decimal("300.00"),
             "tax_rate": Decimal("20.00"), "net_amount": Decimal("4750.00"), "tax_amount": Decimal("950.00"), "amount": Decimal("5700.00"),
             "total": Decimal("5700.00")},
        ],
        "labels": labels(prices_include_tax=True),
        "totals": {"lines": 1, "retail": round_money(price * quantity), "discount": Decimal("300.00"), "net": Decimal("4750.00"),
                   "tax": Decimal("950.00"), "total": Decimal("5700.00")},
    }


printing.register(
    printing.PrintableDocument(
        code=SALES_ORDER,
        name=gettext_lazy("Sales order"),
        model=SalesOrder,
        build_context=sales_order_context,
        sample_context=_sample,
        get_for_user=sales_order_get_for_user,
        template_name="sales/print/sales_order.html",
        check=_check,
        preview_queryset=lambda user: sales_order_list_for_user(user).exclude(status=OrderStatus.CANCELLED),
    )
)
