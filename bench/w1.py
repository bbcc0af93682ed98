"""W1 order-to-cash: 2,000 products in stock; 1,000 sales orders × 5 lines × SCALE: confirm → reserve → ship →
invoice → pay, through the real services the UI and the API call (docs/adr/0005-batch-document-services.md).

Preparation (not timed): products, 50 clients, a receipt of every product in batch documents, and the draft orders
with their lines (priced by the order services, tax 20 % included).
Steps (one JSON line each, see bench/workloads.py; n = orders), in batches of BATCH orders — the day's work:
- confirm_reserve: sales_orders_confirm (credit check, a reservation per line) — the order list's *Confirm*.
- ship: shipments_post_wave, one posted shipment per order with every line (an inventory issue: FIFO cost, COGS
  journal entry) — the order list's *Ship*.
- invoice: invoices_post_for_shipments, one posted invoice per shipment (receivables / revenue / VAT journal entry,
  order progress) — the shipment list's *Invoice*.
- pay: payments_post_batch, a bank statement with one payment per invoice allocated to it (journal entry, invoice
  paid, order done) — the bank statement import.
- order_to_cash: the four steps together; this is the figure of the issue's target (≥ 100 orders/s on SQLite).
- single_*: another SINGLE_SHARE of orders through the one-document services (a card's buttons), step by step, so
  neither path regresses unseen.
The books are checked afterwards: every order done, every invoice paid, the inventory account equal to the stock.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal

from bench.workloads import WORKLOADS, measure

LINES_PER_ORDER = 5
RECEIPT_LINES = 500
BATCH = 50  # orders per batch: a call's orders, a picked wave, a day's invoices, a bank statement
SINGLE_SHARE = 0.2  # orders that also go one document at a time, measured as the single_* steps


def _say(message: str) -> None:
    print(f"W1: {message}", file=sys.stderr, flush=True)


def run(scale: float) -> None:
    from fabrika.catalog.models import Product, Unit
    from fabrika.core.models import CompanySettings, User
    from fabrika.inventory import selectors as stock_selectors
    from fabrika.inventory import services as stock_services
    from fabrika.inventory.models import StockDocument, StockDocumentLine
    from fabrika.ledger.services import accounts_ensure
    from fabrika.parties.models import Counterparty
    from fabrika.sales.services_orders import sales_order_add_line, sales_order_create

    random.seed(1)
    products_count = max(20, int(2_000 * scale))
    orders_count = max(10, int(1_000 * scale))
    single_count = max(10, int(SINGLE_SHARE * orders_count))
    orders_count += single_count
    CompanySettings.objects.update_or_create(pk=1, defaults={"default_valuation_method": "fifo", "base_currency": "RUB"})
    accounts_ensure()
    actor = User.objects.create_user(username="bench-w1", password="bench-w1-password", is_superuser=True)
    unit = Unit.objects.create(code="pcs", name="Pieces")
    Product.objects.bulk_create(
        [Product(sku=f"W1-{i:05d}", name=f"Bench product {i}", stock_unit=unit, kind="finished") for i in range(products_count)],
        batch_size=2000,
    )
    products = list(Product.objects.order_by("id").values_list("id", flat=True))
    clients = Counterparty.objects.bulk_create(
        [Counterparty(name=f"Bench client {i}", is_client=True, responsible=actor) for i in range(50)]
    )
    warehouse = stock_services.warehouse_create(actor=actor, code="W1", name="Order-to-cash warehouse")
    root = stock_services.warehouse_root(warehouse)
    policy = stock_selectors.stock_policy()
    day = dt.date.today() - dt.timedelta(days=30)
    # the orders' lines first, so that every product is received in exactly the quantity its orders need (+5)
    plan = [
        [(product_id, random.randint(1, 3), Decimal(random.randint(2000, 99000)) / 100) for product_id in random.sample(products, LINES_PER_ORDER)]
        for _ in range(orders_count)
    ]
    demand: dict[int, int] = dict.fromkeys(products, 5)
    for lines in plan:
        for product_id, quantity, _price in lines:
            demand[product_id] += quantity
    _say(f"receiving {products_count} products")
    for start in range(0, products_count, RECEIPT_LINES):
        document = StockDocument.objects.create(document_type="receipt", date=day, author=actor, to_location=root)
        StockDocumentLine.objects.bulk_create([
            StockDocumentLine(document=document, position=index, product_id=product_id, unit_id=unit.pk, quantity=Decimal(demand[product_id]),
                              stock_quantity=Decimal(demand[product_id]), unit_cost=Decimal(random.randint(1000, 50000)) / 100)
            for index, product_id in enumerate(products[start:start + RECEIPT_LINES], start=1)
        ])
        stock_services.stock_document_post(actor=actor, document_id=document.pk, policy=policy)

    _say(f"preparing {orders_count} draft orders × {LINES_PER_ORDER} lines")
    orders = []
    for index, lines in enumerate(plan):
        order = sales_order_create(actor=actor, data={
            "counterparty": clients[index % len(clients)].pk, "warehouse": warehouse.pk, "date": day + dt.timedelta(days=1),
            "currency": "RUB", "prices_include_tax": True,
        })
        for product_id, quantity, price in lines:
            sales_order_add_line(actor=actor, order_id=order.pk, data={"product": product_id, "quantity": str(quantity), "price": str(price)})
        orders.append(order.pk)

    today = dt.date.today()
    single, batched = orders[:single_count], orders[single_count:]
    _run_batched(actor, batched, today, policy)
    _run_single(actor, single, today, policy)
    _check(orders)


def _run_batched(actor, orders: list[int], today: dt.date, policy) -> None:
    """The day's work in batches of BATCH orders: confirm the orders a call produced, ship the picked wave, invoice
    what was shipped, post the bank statement that pays it."""
    from fabrika.finance.batch_invoices import invoices_post_for_shipments
    from fabrika.finance.batch_payments import payments_post_batch
    from fabrika.sales.batch_orders import sales_orders_confirm
    from fabrika.sales.batch_shipments import shipments_post_wave

    batches = [orders[start:start + BATCH] for start in range(0, len(orders), BATCH)]
    shipments: list[list[int]] = []
    invoices: list[list] = []
    with measure("W1", "order_to_cash", len(orders)):
        with measure("W1", "confirm_reserve", len(orders)):
            for batch in batches:
                sales_orders_confirm(actor=actor, order_ids=batch)
        with measure("W1", "ship", len(orders)):
            for batch in batches:
                shipments.append([shipment.pk for shipment in shipments_post_wave(actor=actor, order_ids=batch, data={"date": today}, policy=policy)])
        with measure("W1", "invoice", len(orders)):
            for batch in shipments:
                invoices.append(invoices_post_for_shipments(actor=actor, shipment_ids=batch, date=today))
        with measure("W1", "pay", len(orders)):
            for batch in invoices:
                payments_post_batch(actor=actor, rows=[
                    {
                        "direction": "out", "method": "bank", "date": today, "counterparty": invoice.counterparty_id, "amount": str(invoice.total),
                        "currency": "RUB", "allocations": [{"invoice_id": invoice.pk, "amount": str(invoice.total)}],
                    }
                    for invoice in batch
                ])


def _run_single(actor, orders: list[int], today: dt.date, policy) -> None:
    """The same four steps one document at a time, through the services the cards and the API call for one document."""
    from fabrika.finance.services_invoices import invoice_create_from_shipments, invoice_post
    from fabrika.finance.services_payments import payment_create, payment_post
    from fabrika.sales.services_orders import sales_order_confirm
    from fabrika.sales.services_shipments import shipment_create, shipment_post

    shipments: list[int] = []
    invoices: list[tuple[int, int, Decimal]] = []
    with measure("W1", "single_order_to_cash", len(orders)):
        with measure("W1", "single_confirm_reserve", len(orders)):
            for order_id in orders:
                sales_order_confirm(actor=actor, order_id=order_id)
        with measure("W1", "single_ship", len(orders)):
            for order_id in orders:
                shipment = shipment_create(actor=actor, order_id=order_id, data={"date": today})
                shipments.append(shipment_post(actor=actor, shipment_id=shipment.pk, policy=policy).pk)
        with measure("W1", "single_invoice", len(orders)):
            for shipment_id in shipments:
                invoice = invoice_create_from_shipments(actor=actor, shipment_ids=[shipment_id], data={"date": today})
                invoice = invoice_post(actor=actor, invoice_id=invoice.pk)
                invoices.append((invoice.pk, invoice.counterparty_id, invoice.total))
        with measure("W1", "single_pay", len(orders)):
            for invoice_id, counterparty_id, total in invoices:
                payment = payment_create(actor=actor, data={
                    "direction": "out", "method": "bank", "date": today, "counterparty": counterparty_id, "amount": str(total), "currency": "RUB",
                })
                payment_post(actor=actor, payment_id=payment.pk, allocations=[{"invoice_id": invoice_id, "amount": str(total)}])


def _check(orders: list[int]) -> None:
    """The run must leave exact books: every order done, every invoice paid, the ledger reconciled."""
    from fabrika.finance.models import Invoice
    from fabrika.inventory.accounting import inventory_account_difference
    from fabrika.sales.models import SalesOrder

    not_done = SalesOrder.objects.filter(pk__in=orders).exclude(status="done").count()
    open_invoices = sum(1 for invoice in Invoice.objects.filter(order_id__in=orders) if invoice.open_amount != 0)
    difference = inventory_account_difference()
    _say(f"orders not done: {not_done}, invoices open: {open_invoices}, inventory account − stock value: {difference}")
    if not_done or open_invoices or difference:
        raise SystemExit("W1: the books do not reconcile after the run")


WORKLOADS["W1"] = run
