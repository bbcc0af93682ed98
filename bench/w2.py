"""W2 stock ledger: 1,000,000 moves over 10,000 products × 5 warehouses (FIFO) × SCALE.

Steps (one JSON line each, see bench/workloads.py):
- post_moves: receipts and issues in batch documents of 500 lines, posted by the real posting service
  (stock_document_post); the drafts are prepared in bulk beforehand and are not timed. n = moves.
- on_hand_at_date: stock on hand per product × warehouse for every product at a past date inside the closed
  months (from the month-end snapshot plus half a month of moves). n = 1.
- on_hand_at_date_per_product: the same date, one row per product (all warehouses together): the issue's
  "stock on hand for 10,000 products at a past date". n = 1.
- on_hand_at_date_open_period: the same at a date in the open months (today's balances minus later moves). n = 1.
- valuation_report: value per product now. n = 1.
- post_moves_small_documents: 10 % more moves (10 November, open period) in documents of 25 lines, the size a
  storekeeper's receipt or a sales shipment has; the per-document work (locks, numbering, audit, event) weighs
  20 times more than in post_moves. n = moves.
- backdated_receipt_revalue: one receipt dated before 10,000 × SCALE later moves of one product; the posting
  revalues all of them. n = later moves revalued.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal

from django.db import transaction

from bench.workloads import WORKLOADS, measure

LINES_PER_DOCUMENT = 500
SMALL_DOCUMENT_LINES = 25
YEAR = 2025


def _say(message: str) -> None:
    print(f"W2: {message}", file=sys.stderr, flush=True)


def _draft(*, actor, document_type: str, date: dt.date, location, lines: list[tuple]) -> int:
    """A draft with its lines inserted in bulk (bench preparation; the UI and API add lines one by one)."""
    from fabrika.inventory.models import StockDocument, StockDocumentLine

    header = {"from_location": location} if document_type != "receipt" else {"to_location": location}
    document = StockDocument.objects.create(document_type=document_type, date=date, author=actor, **header)
    StockDocumentLine.objects.bulk_create([
        StockDocumentLine(
            document=document, position=index, product_id=product_id, unit_id=unit_id, quantity=quantity,
            stock_quantity=quantity, unit_cost=cost,
        )
        for index, (product_id, unit_id, quantity, cost) in enumerate(lines, start=1)
    ])
    return document.pk


def run(scale: float) -> None:
    from fabrika.catalog.models import Product, Unit
    from fabrika.core.models import CompanySettings, User
    from fabrika.inventory import selectors, services
    from fabrika.inventory.models import StockMove

    random.seed(42)
    products_count = max(20, int(10_000 * scale))
    warehouses_count = 5
    total_moves = max(2_000, int(1_000_000 * scale))
    later_moves = max(200, int(10_000 * scale))
    CompanySettings.objects.update_or_create(pk=1, defaults={"default_valuation_method": "fifo", "allow_negative_stock": False})
    actor = User.objects.create_user(username="bench-w2", password="bench-w2-password", is_superuser=True)
    unit = Unit.objects.create(code="pcs", name="Pieces")
    Product.objects.bulk_create(
        [Product(sku=f"W2-{i:06d}", name=f"Bench product {i}", stock_unit=unit) for i in range(products_count)], batch_size=2000
    )
    product_ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    roots = [services.warehouse_root(services.warehouse_create(actor=actor, code=f"W{i}", name=f"Warehouse {i}")) for i in range(warehouses_count)]
    policy = selectors.stock_policy()

    # a year of documents: each round receives 10 of every product at one warehouse, then issues 6 of them
    _say(f"preparing {total_moves} moves over {products_count} products × {warehouses_count} warehouses")
    plan: list[int] = []
    pairs = [(product_id, root) for root in roots for product_id in product_ids]
    rounds = max(1, total_moves // (2 * len(pairs)))
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=int(i * 330 / max(1, rounds * 2))) for i in range(rounds * 2 + 1)]
    moves_planned = 0
    for round_index in range(rounds):
        for kind, day in (("receipt", days[2 * round_index]), ("issue", days[2 * round_index + 1])):
            for root in roots:
                chunk = [product_id for product_id, location in pairs if location is root]
                for start in range(0, len(chunk), LINES_PER_DOCUMENT):
                    lines = [
                        (product_id, unit.pk, Decimal(10) if kind == "receipt" else Decimal(6),
                         Decimal(random.randint(100, 9999)) / 100 if kind == "receipt" else None)
                        for product_id in chunk[start:start + LINES_PER_DOCUMENT]
                    ]
                    plan.append(_draft(actor=actor, document_type=kind, date=day, location=root, lines=lines))
                    moves_planned += len(lines)
    _say(f"posting {len(plan)} documents")
    with measure("W2", "post_moves", moves_planned):
        for document_id in plan:
            services.stock_document_post(actor=actor, document_id=document_id, policy=policy)

    # close January–October (month-end snapshots), leave November and December open
    for month in range(1, 11):
        services.period_close(actor=actor, month=dt.date(YEAR, month, 1))

    with measure("W2", "on_hand_at_date", 1):
        rows = selectors.stock_on_hand(at=dt.date(YEAR, 9, 15), group_by="warehouse")
    _say(f"on hand at {YEAR}-09-15: {len(rows)} product × warehouse rows")
    with measure("W2", "on_hand_at_date_per_product", 1):
        rows = selectors.stock_on_hand(at=dt.date(YEAR, 9, 15), group_by="product")
    _say(f"on hand at {YEAR}-09-15: {len(rows)} product rows")
    with measure("W2", "on_hand_at_date_open_period", 1):
        rows = selectors.stock_on_hand(at=dt.date(YEAR, 11, 10), group_by="warehouse")
    _say(f"on hand at {YEAR}-11-10: {len(rows)} product × warehouse rows")
    with measure("W2", "valuation_report", 1):
        report = selectors.valuation_report()
    _say(f"valuation: {len(report['items'])} products, total {report['total_value']}")

    # everyday documents: 25 lines each, a receipt then an issue of the same products, at every warehouse
    small_plan: list[int] = []
    small_moves = 0
    for start in range(0, max(SMALL_DOCUMENT_LINES, total_moves // 10 // (2 * warehouses_count)), SMALL_DOCUMENT_LINES):
        chunk = [product_ids[(start + i) % len(product_ids)] for i in range(SMALL_DOCUMENT_LINES)]
        for root in roots:
            for kind in ("receipt", "issue"):
                lines = [
                    (product_id, unit.pk, Decimal(4) if kind == "receipt" else Decimal(3),
                     Decimal(random.randint(100, 9999)) / 100 if kind == "receipt" else None)
                    for product_id in chunk
                ]
                small_plan.append(_draft(actor=actor, document_type=kind, date=dt.date(YEAR, 11, 10), location=root, lines=lines))
                small_moves += len(lines)
    with measure("W2", "post_moves_small_documents", small_moves):
        for document_id in small_plan:
            services.stock_document_post(actor=actor, document_id=document_id, policy=policy)

    # one product with `later_moves` moves in December, then a receipt dated 1 December before all of them
    hot = product_ids[0]
    hot_root = roots[0]
    batch = []
    for _ in range(later_moves // 2):
        batch.append(("receipt", (hot, unit.pk, Decimal(2), Decimal(random.randint(100, 999)) / 100)))
        batch.append(("issue", (hot, unit.pk, Decimal(2), None)))
    for start in range(0, len(batch), 200):
        with transaction.atomic():
            for kind, line in batch[start:start + 200]:
                document_id = _draft(actor=actor, document_type=kind, date=dt.date(YEAR, 12, 10), location=hot_root, lines=[line])
                services.stock_document_post(actor=actor, document_id=document_id, policy=policy)
    later = StockMove.objects.filter(product_id=hot, date__gt=dt.date(YEAR, 12, 1)).count()
    document_id = _draft(actor=actor, document_type="receipt", date=dt.date(YEAR, 12, 1), location=hot_root, lines=[(hot, unit.pk, Decimal(5), Decimal("0.01"))])
    with measure("W2", "backdated_receipt_revalue", later):
        services.stock_document_post(actor=actor, document_id=document_id, policy=policy)


WORKLOADS["W2"] = run
