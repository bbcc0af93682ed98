"""Row locks, always taken in one global order so two postings never wait on each other in a cycle.

Order: stock documents by id, then stock balances by (product id, location id, lot id, id). A posting locks every
balance row of every product it touches (all locations), because a back-dated posting may revalue later moves of
that product anywhere. Rows are read as plain tuples (lock_balances): a 500-line document builds no model instances. On SQLite `select_for_update` is a no-op; the IMMEDIATE transaction serialises writers."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, QuerySet

from .models import StockBalance, StockDocument


def documents() -> QuerySet[StockDocument]:
    return StockDocument.objects.select_for_update().order_by("pk")


def ensure_balances(keys: Iterable[tuple[int, int, int | None]]) -> None:
    """Create missing balance rows (inserted in key order; a concurrent insert of the same key waits, then skips)."""
    rows = [
        StockBalance(product_id=product_id, location_id=location_id, lot_id=lot_id)
        for product_id, location_id, lot_id in sorted(set(keys), key=lambda key: (key[0], key[1], key[2] or 0))
    ]
    if rows:
        StockBalance.objects.bulk_create(rows, ignore_conflicts=True)


BALANCE_FIELDS = ("id", "product_id", "location_id", "lot_id", "quantity", "value", "last_unit_cost", "reserved_quantity")


def lock_balances(product_ids: Iterable[int], *, ensure: Iterable[tuple[int, int, int | None]] = ()) -> list[tuple]:
    """Lock every balance row of these products and return them as BALANCE_FIELDS tuples in lock order.

    One query when every `ensure` key has its row (the usual case). Keys without a row are then inserted in key
    order (ensure_balances) and the products' rows locked again: a concurrent insert of the same key waits for the
    other transaction and is skipped, and the second locking read returns the committed row. Rows of a product that
    already has rows are serialised by the first locking read, so only brand-new keys can wait on an insert."""
    product_ids = sorted(set(product_ids))

    def read() -> list[tuple]:
        return list(
            StockBalance.objects.select_for_update()
            .filter(product_id__in=product_ids)
            .order_by("product_id", "location_id", F("lot_id").asc(nulls_first=True), "id")
            .values_list(*BALANCE_FIELDS)
        )

    rows = read()
    missing = set(ensure) - {(row[1], row[2], row[3]) for row in rows}
    if missing:
        ensure_balances(missing)
        rows = read()
    return rows
