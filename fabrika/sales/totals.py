"""Line and document totals: the one place money is rounded for orders, shipments, invoices and credit notes.

Rules (DESIGN.md "Exact numbers"): every amount is rounded to the currency's minor unit with ROUND_HALF_UP once, on
the line, in this order:

    gross      = round(quantity × price)
    discount   = round(quantity × price × discount% / 100)
    amount     = gross − discount                       (in the price's tax mode)
    prices include tax:  total = amount, tax = round(amount × rate / (100 + rate)), net = total − tax
    prices exclude tax:  net = amount,   tax = round(net × rate / 100),             total = net + tax

A document's totals are the sums of its lines (no second rounding). A part of a line (a partial shipment, invoice or
return) is priced as the difference between the amounts of the cumulative quantity after and before it, so the parts
of a line always add up to the whole line to the kopeck, whatever the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def round_money(value: Decimal, minor_unit: int = 2) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-minor_unit), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineTerms:
    """What a line's money depends on."""

    price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    prices_include_tax: bool
    minor_unit: int = 2


@dataclass(frozen=True)
class Amounts:
    gross: Decimal
    discount: Decimal
    amount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(*(getattr(self, name) - getattr(other, name) for name in ("gross", "discount", "amount", "net", "tax", "total")))

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(*(getattr(self, name) + getattr(other, name) for name in ("gross", "discount", "amount", "net", "tax", "total")))


NO_AMOUNTS = Amounts(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)


def line_amounts(terms: LineTerms, quantity: Decimal) -> Amounts:
    if quantity == 0:
        return NO_AMOUNTS
    unit = terms.minor_unit
    gross = round_money(quantity * terms.price, unit)
    discount = round_money(quantity * terms.price * terms.discount_percent / HUNDRED, unit)
    amount = gross - discount
    if terms.prices_include_tax:
        tax = round_money(amount * terms.tax_rate / (HUNDRED + terms.tax_rate), unit)
        return Amounts(gross, discount, amount, amount - tax, tax, amount)
    tax = round_money(amount * terms.tax_rate / HUNDRED, unit)
    return Amounts(gross, discount, amount, amount, tax, amount + tax)


def part_amounts(terms: LineTerms, *, done: Decimal, quantity: Decimal) -> Amounts:
    """The money of `quantity` more units of a line of which `done` units were already shipped/invoiced/returned."""
    return line_amounts(terms, done + quantity) - line_amounts(terms, done)


def sum_amounts(parts) -> Amounts:
    total = NO_AMOUNTS
    for part in parts:
        total = total + part
    return total
