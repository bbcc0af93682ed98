"""Printed forms of invoices: the invoice for payment ("finance.invoice") and the act of services rendered
("finance.act_of_services"), both for posted invoices to clients. The act is offered only when the invoice has
service lines (a product of kind "service", or a free line without a product) and lists those lines only.

The context is plain data (see `invoice_context`): seller and buyer requisites with the default bank account from
the parties app, lines, tax per rate, totals. The seller is the company: its requisites come from the counterparty
marked "our company" (parties), else from one named exactly like the company in the settings, else the name only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.catalog.enums import ProductKind
from fabrika.core import printing
from fabrika.core.errors import DomainError
from fabrika.core.selectors import company_settings
from fabrika.parties.models import Counterparty
from fabrika.parties.selectors import own_company

from .models import Direction, DocumentStatus, Invoice, InvoiceLine
from .selectors_invoices import invoice_get_for_user, invoice_queryset_for_user

INVOICE_FORM = "finance.invoice"
ACT_OF_SERVICES = "finance.act_of_services"
ZERO = Decimal(0)


class NotPrintable(DomainError):
    status = 409
    code = "not_printable"


def is_service_line(line: InvoiceLine) -> bool:
    return line.product_id is None or line.product.kind == ProductKind.SERVICE


def has_service_lines(invoice: Invoice) -> bool:
    return any(is_service_line(line) for line in invoice.lines.all())


def _party(counterparty: Counterparty | None, *, fallback_name: str = "") -> dict:
    if counterparty is None:
        return {"name": fallback_name, "full_name": fallback_name, "tax_id": "", "kpp": "", "city": "", "phone": "", "email": "", "bank": None}
    bank = counterparty.bank_accounts.order_by("-is_default", "id").first()
    return {
        "name": counterparty.name,
        "full_name": counterparty.full_name or counterparty.name,
        "tax_id": counterparty.tax_id,
        "kpp": counterparty.kpp,
        "city": counterparty.city,
        "phone": counterparty.phone,
        "email": counterparty.email,
        "bank": {"bank_name": bank.bank_name, "bic": bank.bic, "account": bank.account, "correspondent_account": bank.correspondent_account}
        if bank is not None else None,
    }


def _company_party() -> dict:
    name = company_settings().name
    own = own_company() or Counterparty.objects.filter(name=name).first()
    return _party(own, fallback_name=name)


def _line(line: InvoiceLine, position: int) -> dict:
    return {
        "position": position,
        "sku": line.product.sku if line.product_id else "",
        "name": line.description or (line.product.name if line.product_id else ""),
        "unit": line.unit.code if line.unit_id else "",
        "quantity": line.quantity,
        "price": line.price,
        "discount_percent": line.discount_percent,
        "tax_rate": line.tax_rate,
        "net": line.net_amount,
        "tax": line.tax_amount,
        "total": line.total,
    }


def _form_context(invoice: Invoice, lines: list[InvoiceLine], *, title: str) -> dict:
    rows = [_line(line, index) for index, line in enumerate(lines, start=1)]
    by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        by_rate[line.tax_rate] += line.tax_amount
    company, counterparty = _company_party(), _party(invoice.counterparty)
    outgoing = invoice.direction == Direction.OUTGOING
    return {
        "document": {
            "id": invoice.pk, "number": invoice.number, "date": invoice.date, "due_date": invoice.due_date, "currency": invoice.currency,
            "prices_include_tax": invoice.prices_include_tax, "order": invoice.order.number if invoice.order_id else "",
            "notes": invoice.notes, "title": title,
        },
        "seller": company if outgoing else counterparty,
        "buyer": counterparty if outgoing else company,
        "lines": rows,
        "taxes": [{"rate": rate, "amount": amount} for rate, amount in sorted(by_rate.items())],
        "totals": {
            "lines": len(rows),
            "net": sum((line.net_amount for line in lines), ZERO),
            "tax": sum((line.tax_amount for line in lines), ZERO),
            "total": sum((line.total for line in lines), ZERO),
        },
        "labels": labels(),
    }


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(invoice.lines.select_related("product", "unit").order_by("position", "id"))


def invoice_context(invoice: Invoice) -> dict:
    return _form_context(invoice, _lines(invoice), title=str(_("Invoice for payment")))


def act_context(invoice: Invoice) -> dict:
    return _form_context(invoice, [line for line in _lines(invoice) if is_service_line(line)], title=str(_("Act of services rendered")))


def labels() -> dict:
    return {
        "number": _("No."), "date_word": _("dated"), "seller": _("Seller"), "buyer": _("Buyer"), "contractor": _("Contractor"),
        "customer": _("Customer"), "tax_id": _("Tax ID"), "kpp": _("KPP"), "bank": _("Bank"), "bic": _("BIC"),
        "account": _("Account"), "correspondent_account": _("Correspondent account"), "position": _("#"), "product": _("Goods, services"),
        "unit": _("Unit"), "quantity": _("Quantity"), "price": _("Price"), "amount": _("Amount"), "tax_rate": _("VAT rate"),
        "tax": _("VAT"), "net": _("Net"), "total": _("Total"), "total_due": _("Total due"), "including_tax": _("including VAT"),
        "without_tax": _("Without VAT"), "due_date": _("Pay by"), "order": _("Order"), "items_total": _("Items in total"),
        "amount_in_words": _("Amount in words"), "signature": _("signature"), "director": _("Director"), "accountant": _("Accountant"),
        "act_statement": _("The services above were rendered in full and on time; the customer has no claims as to their scope, quality or timing."),
        "notes": _("Notes"),
    }


def _check(*, act: bool):
    def check(invoice: Invoice) -> None:
        if invoice.status != DocumentStatus.POSTED:
            raise NotPrintable(_("Only a posted invoice can be printed"), field="status", current_status=invoice.status)
        if invoice.direction != Direction.OUTGOING:
            raise NotPrintable(_("Only invoices to clients are printed"), field="direction")
        if act and not has_service_lines(invoice):
            raise NotPrintable(_("The invoice has no service lines: there is nothing to put on an act"), field="lines")

    return check


def _sample(*, act: bool) -> dict:
    lines = [
        {"position": 1, "sku": "INSTALL", "name": "Installation of a classroom robot kit", "unit": "pcs", "quantity": Decimal("2.0000"),
         "price": Decimal("1500.00"), "discount_percent": ZERO, "tax_rate": Decimal("20.00"), "net": Decimal("2500.00"),
         "tax": Decimal("500.00"), "total": Decimal("3000.00")},
    ]
    if not act:
        lines.insert(0, {"position": 1, "sku": "ROBO-1", "name": "Robot kit", "unit": "pcs", "quantity": Decimal("2.0000"),
                         "price": Decimal("5500.00"), "discount_percent": ZERO, "tax_rate": Decimal("10.00"), "net": Decimal("10000.00"),
                         "tax": Decimal("1000.00"), "total": Decimal("11000.00")})
        lines[1]["position"] = 2
    bank = {"bank_name": "Sberbank", "bic": "044525225", "account": "40702810900000000001", "correspondent_account": "30101810400000000225"}
    party = {"name": "Robokids School", "full_name": "Robokids School LLC", "tax_id": "7707083893", "kpp": "773601001", "city": "Moscow",
             "phone": "+7 495 000-00-00", "email": "office@robokids.example", "bank": bank}
    net, tax, total = (sum((line[key] for line in lines), ZERO) for key in ("net", "tax", "total"))
    return {
        "document": {"id": 0, "number": "I-2026-00042", "date": dt.date(2026, 3, 15), "due_date": dt.date(2026, 3, 25), "currency": company_settings().base_currency,
                     "prices_include_tax": True, "order": "SO-0017", "notes": "",
                     "title": str(_("Act of services rendered") if act else _("Invoice for payment"))},
        "seller": {**party, "name": company_settings().name, "full_name": company_settings().name},
        "buyer": party,
        "lines": lines,
        "taxes": [{"rate": line["tax_rate"], "amount": line["tax"]} for line in lines],
        "totals": {"lines": len(lines), "net": net, "tax": tax, "total": total},
        "labels": labels(),
    }


def _preview(user):
    return invoice_queryset_for_user(user).filter(status=DocumentStatus.POSTED, direction=Direction.OUTGOING)


printing.register(
    printing.PrintableDocument(
        code=INVOICE_FORM,
        name=gettext_lazy("Invoice for payment"),
        model=Invoice,
        build_context=invoice_context,
        sample_context=lambda: _sample(act=False),
        get_for_user=invoice_get_for_user,
        template_name="finance/print/invoice.html",
        check=_check(act=False),
        preview_queryset=_preview,
    )
)

printing.register(
    printing.PrintableDocument(
        code=ACT_OF_SERVICES,
        name=gettext_lazy("Act of services rendered"),
        model=Invoice,
        build_context=act_context,
        sample_context=lambda: _sample(act=True),
        get_for_user=invoice_get_for_user,
        template_name="finance/print/act_of_services.html",
        check=_check(act=True),
        preview_queryset=_preview,
    )
)
