"""The client's credit limit: how much the client may owe, in the base currency, counting the order being confirmed.

    exposure = ledger balance of the client (receivables + advances + payables: positive = they owe us)
             + the not-yet-invoiced part of the client's other confirmed orders
             + the total of the order being confirmed

Each order counts at its exchange rate; the not-yet-invoiced part of a line is the line's total minus the total of its
invoiced quantity (fabrika/sales/totals.py), so partial invoices never count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fabrika.ledger.selectors import counterparty_balance

from .models import OrderStatus, SalesOrder, SalesOrderLine
from .totals import ZERO, LineTerms, line_amounts, round_money


@dataclass(frozen=True)
class CreditCheck:
    limit: Decimal | None
    balance: Decimal  # the ledger balance
    open_orders: Decimal  # other confirmed orders, not yet invoiced
    order_total: Decimal  # this order, in the base currency
    exposure: Decimal

    @property
    def exceeded(self) -> bool:
        return self.limit is not None and self.exposure > self.limit


def line_terms(line: SalesOrderLine, order: SalesOrder) -> LineTerms:
    return LineTerms(price=line.price, discount_percent=line.discount_percent, tax_rate=line.tax_rate, prices_include_tax=order.prices_include_tax)


def uninvoiced_total(order: SalesOrder) -> Decimal:
    """The part of a confirmed order's total not invoiced yet, in the order's currency."""
    total = ZERO
    for line in order.lines.all():
        terms = line_terms(line, order)
        total += line_amounts(terms, line.quantity).total - line_amounts(terms, min(line.invoiced_quantity, line.quantity)).total
    return total


def credit_check(*, order: SalesOrder) -> CreditCheck:
    """The client's exposure if this order were confirmed. Decimal sums in Python (never a SQL SUM)."""
    counterparty = order.counterparty
    balance = counterparty_balance(counterparty_id=counterparty.pk)
    others = (
        SalesOrder.objects.filter(counterparty_id=counterparty.pk, status=OrderStatus.CONFIRMED)
        .exclude(pk=order.pk)
        .prefetch_related("lines")
    )
    open_orders = sum((round_money(uninvoiced_total(other) * other.exchange_rate) for other in others), ZERO)
    order_total = round_money(order.total * order.exchange_rate)
    exposure = balance + open_orders + order_total
    return CreditCheck(limit=counterparty.credit_limit, balance=balance, open_orders=open_orders, order_total=order_total, exposure=exposure)
