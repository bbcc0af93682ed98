"""Row locks, always taken in one global order so two postings never wait on each other in a cycle.

Order: stock documents by id, then stock balances by (product id, location id, lot id, id). A posting locks the
balance rows its moves touch, and every balance row of a product it posts before later moves of (a back-dated
posting revalues that product's later moves anywhere: lock_posting_balances). Rows are read as plain tuples: a
500-line document builds no model instances. On SQLite `select_for_update` is a no-op; the IMMEDIATE transaction
serialises writers."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from functools import reduce

from django.db import OperationalError
from django.db.models import F, Q, QuerySet

from fabrika.core.db import column_in
from fabrika.core.errors import Conflict

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


def _locked(condition: Q, *, nowait: bool = False) -> list[tuple]:
    return list(
        StockBalance.objects.select_for_update(nowait=nowait)
        .filter(condition)
        .order_by("product_id", "location_id", F("lot_id").asc(nulls_first=True), "id")
        .values_list(*BALANCE_FIELDS)
    )


def _lock_ensuring(condition: Q, ensure: Iterable[tuple[int, int, int | None]]) -> list[tuple]:
    """One query when every `ensure` key has its row (the usual case). Keys without a row are then inserted in key
    order (ensure_balances) and the rows locked again: a concurrent insert of the same key waits for the other
    transaction and is skipped, and the second locking read returns the committed row."""
    rows = _locked(condition)
    missing = set(ensure) - {(row[1], row[2], row[3]) for row in rows}
    if missing:
        ensure_balances(missing)
        rows = _locked(condition)
    return rows


def lock_balances(product_ids: Iterable[int], *, ensure: Iterable[tuple[int, int, int | None]] = ()) -> list[tuple]:
    """Lock every balance row of these products and return them as BALANCE_FIELDS tuples in lock order (missing
    `ensure` keys are created first)."""
    return _lock_ensuring(Q(column_in(StockBalance, "product_id", sorted(set(product_ids)))), ensure)


def lock_posting_balances(
    *, keys: Iterable[tuple[int, int, int | None]], whole_products: Iterable[int] = ()
) -> list[tuple]:
    """Lock, in one ordered read, every balance row of `whole_products` and the rows at the touched locations of the
    other products of `keys` (rows of those products at the keys' locations: for a document at one warehouse, exactly
    the touched rows). Missing `keys` rows are created first; returns BALANCE_FIELDS tuples in lock order."""
    keys = set(keys)
    whole = set(whole_products)
    partial = {key for key in keys if key[0] not in whole}
    conditions = []
    if whole:
        conditions.append(Q(column_in(StockBalance, "product_id", sorted(whole))))
    if partial:
        conditions.append(Q(
            column_in(StockBalance, "product_id", sorted({key[0] for key in partial})),
            column_in(StockBalance, "location_id", sorted({key[1] for key in partial})),
        ))
    if not conditions:
        return []
    return _lock_ensuring(reduce(operator.or_, conditions), keys)


def lock_rest_of_products(product_ids: Iterable[int]) -> list[tuple]:
    """Every balance row of these products, when a posting learns only after its locks that it must revalue their
    later moves (they were committed after its first look). These rows come out of the global order, so they are
    taken without waiting: a row another posting holds refuses this posting with a retryable conflict instead of
    risking a wait in a cycle."""
    try:
        return _locked(Q(column_in(StockBalance, "product_id", sorted(set(product_ids)))), nowait=True)
    except OperationalError as error:
        raise Conflict(
            "Another posting is changing the stock of the same products; post again", code="stock_busy"
        ) from error
