"""Row locks, always taken in one global order so two postings never wait on each other in a cycle.

Order: stock documents by id, then stock balances by (product id, location id, lot id, id). A posting locks every
balance row of every product it touches (all locations), because a back-dated posting may revalue later moves of
that product anywhere. On SQLite `select_for_update` is a no-op; the IMMEDIATE transaction serialises writers."""

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


def balances_for_products(product_ids: Iterable[int]) -> list[StockBalance]:
    return list(
        StockBalance.objects.select_for_update()
        .filter(product_id__in=sorted(set(product_ids)))
        .order_by("product_id", "location_id", F("lot_id").asc(nulls_first=True), "id")
    )
