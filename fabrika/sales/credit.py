"""The client's credit limit: how much the client may owe, in the base currency, counting the order being confirmed.

    exposure = ledger balance of the client (receivables + advances + payables: positive = they owe us)
             + the not-yet-invoiced part of the client's other confirmed orders
             + the total of the order being confirmed

Only a client with a limit is worked out (without one there is nothing to check). Each order counts at its exchange
rate; the not-yet-invoiced part of a line is the line's total minus the total of its
invoiced quantity (fabrika/sales/totals.py), so partial invoices never count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fabrika.core.db import column_in
from fabrika.ledger.accounts import SETTLEMENT_KEYS
from fabrika.ledger.models import JournalLine
from fabrika.ledger.selectors import counterparty_balance

from .models import OrderStatus, SalesOrder, SalesOrderLine
from .totals import ZERO, LineTerms, line_amounts, round_money


@dataclass(frozen=True)
class CreditCheck:
    limit: Decimal | None  # None: the client has no limit, and the rest is not worked out (zeros; exposure None)
    balance: Decimal  # the ledger balance
    open_orders: Decimal  # other confirmed orders, not yet invoiced
    order_total: Decimal  # this order, in the base currency
    exposure: Decimal | None

    @property
    def exceeded(self) -> bool:
        return self.limit is not None and self.exposure > self.limit


def line_terms(line: SalesOrderLine, order: SalesOrder) -> LineTerms:
    return LineTerms(price=line.price, discount_percent=line.discount_percent, tax_rate=line.tax_rate, prices_include_tax=order.prices_include_tax)


def _uninvoiced(terms: LineTerms, quantity: Decimal, invoiced: Decimal) -> Decimal:
    return line_amounts(terms, quantity).total - line_amounts(terms, min(invoiced, quantity)).total


def uninvoiced_total(order: SalesOrder) -> Decimal:
    """The part of a confirmed order's total not invoiced yet, in the order's currency."""
    return sum((_uninvoiced(line_terms(line, order), line.quantity, line.invoiced_quantity) for line in order.lines.all()), ZERO)


def credit_check(*, order: SalesOrder) -> CreditCheck:
    """The client's exposure if this order were confirmed. Decimal sums in Python (never a SQL SUM). Without a limit
    there is nothing to check: no reads (the open orders of a busy client are many)."""
    counterparty = order.counterparty
    if counterparty.credit_limit is None:
        return CreditCheck(limit=None, balance=ZERO, open_orders=ZERO, order_total=round_money(order.total * order.exchange_rate), exposure=None)
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


def credit_checks(orders: list[SalesOrder], lines: dict[int, list[SalesOrderLine]]) -> dict[int, CreditCheck]:
    """credit_check of each order (by id) as if the orders were confirmed one after another in the given order: an
    order's open orders include the earlier orders of the same client in the list (`lines`: each order's lines, for
    their uninvoiced total). Two reads for all the clients: the ledger balances, the other confirmed orders' lines."""
    client_ids = sorted({order.counterparty_id for order in orders if order.counterparty.credit_limit is not None})  # the others need no reads
    balances = dict.fromkeys(client_ids, ZERO)
    for client_id, debit, credit in JournalLine.objects.filter(
        column_in(JournalLine, "counterparty_id", client_ids), account__key__in=SETTLEMENT_KEYS
    ).values_list("counterparty_id", "debit", "credit"):
        balances[client_id] += debit - credit
    own = {order.pk for order in orders}
    uninvoiced: dict[int, Decimal] = {}  # other confirmed order id: uninvoiced total (its currency)
    rate_of: dict[int, tuple[int, Decimal]] = {}  # order id: (client id, exchange rate)
    for order_id, client_id, rate, include_tax, price, discount, tax_rate, quantity, invoiced in SalesOrderLine.objects.filter(
        order__counterparty_id__in=client_ids, order__status=OrderStatus.CONFIRMED
    ).values_list(
        "order_id", "order__counterparty_id", "order__exchange_rate", "order__prices_include_tax", "price", "discount_percent", "tax_rate",
        "quantity", "invoiced_quantity",
    ):
        if order_id in own:
            continue
        terms = LineTerms(price=price, discount_percent=discount, tax_rate=tax_rate, prices_include_tax=include_tax)
        uninvoiced[order_id] = uninvoiced.get(order_id, ZERO) + _uninvoiced(terms, quantity, invoiced)
        rate_of[order_id] = (client_id, rate)
    open_orders = dict.fromkeys(client_ids, ZERO)
    for order_id, total in uninvoiced.items():
        client_id, rate = rate_of[order_id]
        open_orders[client_id] += round_money(total * rate)
    checks: dict[int, CreditCheck] = {}
    for order in orders:
        client_id = order.counterparty_id
        if client_id not in balances:
            checks[order.pk] = CreditCheck(
                limit=None, balance=ZERO, open_orders=ZERO, order_total=round_money(order.total * order.exchange_rate), exposure=None,
            )
            continue
        balance, others = balances[client_id], open_orders[client_id]
        order_total = round_money(order.total * order.exchange_rate)
        checks[order.pk] = CreditCheck(
            limit=order.counterparty.credit_limit, balance=balance, open_orders=others, order_total=order_total, exposure=balance + others + order_total
        )
        # confirmed, it counts for the client's next order in the list
        own_uninvoiced = sum((_uninvoiced(line_terms(line, order), line.quantity, line.invoiced_quantity) for line in lines.get(order.pk, [])), ZERO)
        open_orders[client_id] += round_money(own_uninvoiced * order.exchange_rate)
    return checks
