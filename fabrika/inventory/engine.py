"""The posting engine: applies moves to locked balances and FIFO layers in (date, id) order and writes the result.

`apply_moves` is the one write path of the stock ledger. New moves dated before moves already posted for the same
product (a back-dated posting, or a reversal dated before future-dated moves) make the engine roll the product's
later moves back in memory, insert the new ones at their place and replay the later ones, so that only the later
moves of that product are revalued. Callers hold a transaction; the engine takes the locks (locks.py).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Max, Q

from fabrika.core.errors import Conflict

from . import locks
from .enums import ValuationMethod
from .models import (
    CostLayer,
    LayerConsumption,
    Location,
    StockBalance,
    StockDocument,
    StockDocumentLine,
    StockMove,
)
from .valuation import (
    ZERO,
    Layer,
    Shortage,
    Take,
    average_issue_value,
    average_receipt_adjustment,
    fifo_consume,
    money,
    unit_cost_of,
)

PROVISIONAL_SEQUENCE = 10**15  # new moves sort after every stored move of the same date until they get their id


class InsufficientStock(Conflict):
    code = "insufficient_stock"


@dataclass(frozen=True)
class StockPolicy:
    """Company rules a posting needs, read once at the edge (selectors.stock_policy) and passed in."""

    allow_negative_stock: bool = False
    default_valuation_method: str = ValuationMethod.FIFO


@dataclass(eq=False)
class Move:
    product_id: int
    from_location_id: int
    to_location_id: int
    quantity: Decimal
    date: dt.date
    lot_id: int | None = None
    serial_id: int | None = None
    given_unit_cost: Decimal | None = None  # incoming from outside: the cost per stock unit in base currency
    given_value: Decimal | None = None  # the exact value (a reversal repeats the value it reverses)
    preferred_move_id: int | None = None  # reversal of a receipt: take that receipt's layer first
    document_id: int | None = None
    line_id: int | None = None
    reverses_id: int | None = None
    posted_at: dt.datetime | None = None
    pk: int | None = None
    sequence: int = 0
    unit_cost: Decimal = ZERO
    value: Decimal = ZERO
    adjustment_value: Decimal = ZERO
    takes: list[Take] = field(default_factory=list)
    stored: tuple = ()

    @property
    def order(self) -> tuple:
        return (self.date, self.sequence)


@dataclass(eq=False)
class Balance:
    pk: int
    quantity: Decimal
    value: Decimal
    last_unit_cost: Decimal
    stored: tuple = ()  # (quantity, value, last unit cost) as read: unchanged rows are not written back
    reserved_quantity: Decimal = ZERO


@dataclass
class Result:
    new_moves: list[Move]
    revalued_moves: list[Move]
    balances: dict[tuple, Balance]


def _key(product_id: int, location_id: int, lot_id: int | None) -> tuple:
    return (product_id, location_id, lot_id)


class _Book:
    def __init__(self, *, valued: set[int], methods: dict[int, str], policy: StockPolicy):
        self.valued = valued
        self.methods = methods
        self.policy = policy
        self.balances: dict[tuple, Balance] = {}
        self.layers: dict[tuple, list[Layer]] = defaultdict(list)
        self.layers_by_move: dict[int, list[Layer]] = defaultdict(list)
        self.created_layers: list[Layer] = []
        self.locations: dict[int, str] = {}

    def balance(self, key: tuple) -> Balance:
        return self.balances[key]

    def fail(self, move: Move, location_id: int, available: Decimal) -> InsufficientStock:
        from fabrika.catalog.models import Product

        product = Product.objects.filter(pk=move.product_id).values_list("sku", flat=True).first()
        location = str(Location.objects.get(pk=location_id))
        return InsufficientStock(
            f"Not enough {product} at {location}: {available.normalize():f} available, {move.quantity.normalize():f} needed"
            + (f" (on {move.date.isoformat()})" if move.pk else ""),
            product=product, location=location, available=str(available), requested=str(move.quantity),
            date=move.date.isoformat(),
        )

    def apply(self, move: Move) -> None:
        quantity = move.quantity
        method = self.methods[move.product_id]
        out_value: Decimal | None = None
        move.takes = []
        move.adjustment_value = ZERO
        if move.from_location_id in self.valued:
            key = _key(move.product_id, move.from_location_id, move.lot_id)
            balance = self.balances[key]
            if method == ValuationMethod.FIFO:
                preferred = None
                if move.preferred_move_id is not None:
                    preferred = next((layer for layer in self.layers_by_move.get(move.preferred_move_id, []) if layer.key == key), None)
                try:
                    move.takes = fifo_consume(self.layers[key], quantity, preferred=preferred)
                except Shortage as shortage:
                    raise self.fail(move, move.from_location_id, shortage.available)
                out_value = sum((take.value for take in move.takes), ZERO)
            else:
                if balance.quantity - quantity < 0 and not self.policy.allow_negative_stock:
                    raise self.fail(move, move.from_location_id, max(balance.quantity, ZERO))
                # everything leaves at the current average, a reversal too (taking the last units takes all the value)
                out_value = average_issue_value(
                    on_hand=balance.quantity, value_on_hand=balance.value, last_unit_cost=balance.last_unit_cost, amount=quantity
                )
            balance.quantity -= quantity
            balance.value -= out_value
        if move.to_location_id in self.valued:
            key = _key(move.product_id, move.to_location_id, move.lot_id)
            balance = self.balances[key]
            if out_value is not None:
                in_value = out_value
            elif move.given_value is not None:
                in_value = move.given_value
            else:
                in_value = money(quantity * (move.given_unit_cost or ZERO))
            if method == ValuationMethod.FIFO:
                if move.takes:
                    for take in move.takes:
                        root = take.layer.root
                        self._add_layer(Layer(
                            key=key, fifo_date=root.fifo_date, fifo_sequence=root.fifo_sequence, unit_cost=take.layer.unit_cost,
                            original_quantity=take.quantity, original_value=take.value, remaining_quantity=take.quantity,
                            remaining_value=take.value, origin=root, move=move,
                        ), move)
                else:
                    cost = move.given_unit_cost if move.given_unit_cost is not None else unit_cost_of(in_value, quantity)
                    self._add_layer(Layer(
                        key=key, fifo_date=move.date, fifo_sequence=move.sequence, unit_cost=cost, original_quantity=quantity,
                        original_value=in_value, remaining_quantity=quantity, remaining_value=in_value, move=move,
                    ), move)
            else:
                move.adjustment_value = average_receipt_adjustment(
                    on_hand=balance.quantity, value_on_hand=balance.value, amount=quantity, value_in=in_value
                )
                balance.last_unit_cost = unit_cost_of(in_value, quantity)
            balance.quantity += quantity
            balance.value += in_value + move.adjustment_value
            move.value = in_value
        else:
            move.value = out_value if out_value is not None else ZERO
        move.unit_cost = (
            move.given_unit_cost
            if move.given_unit_cost is not None and move.from_location_id not in self.valued
            else unit_cost_of(move.value, quantity)
        )

    def _add_layer(self, layer: Layer, move: Move) -> None:
        self.layers[layer.key].append(layer)
        self.created_layers.append(layer)
        if move.pk is not None:
            self.layers_by_move[move.pk].append(layer)


LAYER_FIELDS = (
    "id", "product_id", "location_id", "lot_id", "move_id", "origin_id", "fifo_date", "fifo_sequence", "unit_cost",
    "original_quantity", "original_value", "remaining_quantity", "remaining_value",
)
MOVE_FIELDS = (
    "id", "product_id", "from_location_id", "to_location_id", "quantity", "date", "lot_id", "serial_id", "document_id",
    "line_id", "reverses_id", "posted_at", "unit_cost", "value", "adjustment_value",
)


def _load_layer(row: tuple) -> Layer:
    """A stored layer from a LAYER_FIELDS tuple (plain tuples: no model instances on the hot path)."""
    (pk, product_id, location_id, lot_id, _move_id, _origin_id, fifo_date, fifo_sequence, unit_cost, original_quantity,
     original_value, remaining_quantity, remaining_value) = row
    return Layer(
        key=(product_id, location_id, lot_id), fifo_date=fifo_date, fifo_sequence=fifo_sequence, unit_cost=unit_cost,
        original_quantity=original_quantity, original_value=original_value, remaining_quantity=remaining_quantity,
        remaining_value=remaining_value, pk=pk, stored=(remaining_quantity, remaining_value),
    )


def _move_from_row(row: tuple, valued: set[int]) -> Move:
    """A stored move (a MOVE_FIELDS tuple) about to be replayed. What came from outside keeps the value it was booked
    at (a supplier's price does not change); what leaves is revalued by the product's method (a reversal keeps its
    own value)."""
    (pk, product_id, from_location_id, to_location_id, quantity, date, lot_id, serial_id, document_id, line_id,
     reverses_id, posted_at, unit_cost, value, adjustment_value) = row
    move = Move(
        product_id=product_id, from_location_id=from_location_id, to_location_id=to_location_id, quantity=quantity,
        date=date, lot_id=lot_id, serial_id=serial_id, document_id=document_id, line_id=line_id, reverses_id=reverses_id,
        posted_at=posted_at, pk=pk, sequence=pk, unit_cost=unit_cost, value=value, adjustment_value=adjustment_value,
    )
    move.stored = (unit_cost, value, adjustment_value)
    if from_location_id not in valued:
        move.given_value, move.given_unit_cost = value, unit_cost
    if reverses_id:
        move.preferred_move_id = reverses_id
    return move


def valued_location_ids() -> set[int]:
    from .enums import VALUED_KINDS

    return set(Location.objects.filter(kind__in=list(VALUED_KINDS)).values_list("id", flat=True))


def apply_moves(
    *, moves: list[Move], methods: dict[int, str], policy: StockPolicy, posted_at: dt.datetime, valued: set[int] | None = None
) -> Result:
    """Post `moves` (all of one date per product, in document order) and revalue later moves of their products.

    The query count does not depend on the number of moves: a look for later moves, one locking read of the touched
    balance rows (plus an insert and a second read when rows are missing), one read of later moves, one of open layers,
    then multi-row inserts and `executemany` updates of only the rows that changed."""
    valued = valued if valued is not None else valued_location_ids()
    book = _Book(valued=valued, methods=methods, policy=policy)
    product_ids = sorted({move.product_id for move in moves})
    for index, move in enumerate(moves):
        move.sequence = PROVISIONAL_SEQUENCE + index
        move.posted_at = posted_at
    earliest: dict[int, dt.date] = {}
    for move in moves:
        earliest[move.product_id] = min(earliest.get(move.product_id, move.date), move.date)

    # 1. lock: the touched balance rows, and every row of a product that has later moves (their replay may reach any
    # location); rows for new keys are created first, in key order
    keys = set()
    for move in moves:
        for location_id in (move.from_location_id, move.to_location_id):
            if location_id in valued:
                keys.add(_key(move.product_id, location_id, move.lot_id))
    whole = _products_with_later_moves(earliest)
    _add_balances(book, locks.lock_posting_balances(keys=keys, whole_products=whole))

    # 2. later moves of the same products (a back-dated posting), read under the locks; later moves committed between
    # the first look and the locks bring the rest of their product's rows in, and are read again
    while True:
        tail = [
            _move_from_row(row, valued)
            for row in StockMove.objects.filter(locks.column_in(StockMove, "product_id", product_ids), date__gt=min(earliest.values()))
            .order_by("date", "id")
            .values_list(*MOVE_FIELDS)
            if row[5] > earliest[row[1]]
        ]
        unlocked = {move.product_id for move in tail} - whole
        if not unlocked:
            break
        _add_balances(book, locks.lock_rest_of_products(unlocked))
        whole |= unlocked
    # roll the later moves back in memory
    tail_ids = [move.pk for move in tail]
    for move in reversed(tail):
        if move.from_location_id in valued:
            balance = book.balances[_key(move.product_id, move.from_location_id, move.lot_id)]
            balance.quantity += move.quantity
            balance.value += move.value
        if move.to_location_id in valued:
            balance = book.balances[_key(move.product_id, move.to_location_id, move.lot_id)]
            balance.quantity -= move.quantity
            balance.value -= move.value + move.adjustment_value
    tail_products = {move.product_id for move in tail}
    if tail_products:
        _restore_last_unit_costs(book, tail_products, tail_ids, valued)

    # 3. open FIFO layers as they stood before the later moves
    fifo_products = [pk for pk in product_ids if methods[pk] == ValuationMethod.FIFO]
    consumed_by_tail: list[tuple] = []
    loaded: dict[int, Layer] = {}
    # without later moves only the layers where the new moves go out are needed; with them, all of the product's
    wanted = {
        (move.product_id, move.from_location_id)
        for move in moves
        if move.from_location_id in valued and methods[move.product_id] == ValuationMethod.FIFO
    }
    if fifo_products and (wanted or tail_products & set(fifo_products)):
        if tail_ids:
            consumed_by_tail = list(LayerConsumption.objects.filter(locks.column_in(LayerConsumption, "move_id", tail_ids)).values_list("layer_id", "quantity", "value"))
        consumed_layer_ids = {layer_id for layer_id, _quantity, _value in consumed_by_tail}
        layer_products = ({product for product, _location in wanted} | tail_products) & set(fifo_products)
        rows = CostLayer.objects.filter(locks.column_in(CostLayer, "product_id", sorted(layer_products)))
        if not tail_products:
            rows = rows.filter(locks.column_in(CostLayer, "location_id", sorted({location for _product, location in wanted})))
        if consumed_layer_ids:
            rows = rows.filter(Q(remaining_quantity__gt=0) | Q(locks.column_in(CostLayer, "id", sorted(consumed_layer_ids))))
        else:
            rows = rows.filter(remaining_quantity__gt=0)
        if tail_ids:
            rows = rows.exclude(locks.column_in(CostLayer, "move_id", tail_ids))
        origin_of: dict[int, int | None] = {}
        for row in rows.order_by("fifo_date", "fifo_sequence", "id").values_list(*LAYER_FIELDS):
            pk, product_id, location_id, _lot_id, move_id, origin_id = row[:6]
            if product_id not in tail_products and (product_id, location_id) not in wanted:
                continue
            loaded[pk] = _load_layer(row)
            origin_of[pk] = origin_id
            book.layers_by_move[move_id].append(loaded[pk])
        missing_origins = {pk for pk in origin_of.values() if pk and pk not in loaded}
        if missing_origins:
            for row in CostLayer.objects.filter(pk__in=missing_origins).values_list(*LAYER_FIELDS):
                loaded[row[0]] = _load_layer(row)
        for pk, origin_id in origin_of.items():
            loaded[pk].origin = loaded.get(origin_id) if origin_id else None
        for layer_id, quantity, value in consumed_by_tail:
            layer = loaded.get(layer_id)
            if layer is not None:
                layer.remaining_quantity += quantity
                layer.remaining_value += value
        for pk, layer in loaded.items():
            if pk in origin_of:
                book.layers[layer.key].append(layer)
    book.loaded_layers = loaded  # type: ignore[attr-defined]

    # 4. replay: the new moves at their place, then every later move
    for move in sorted(moves + tail, key=lambda move: move.order) if tail else moves:
        book.apply(move)

    _write(book=book, moves=moves, tail=tail, tail_ids=tail_ids)
    revalued = [move for move in tail if move.stored != (move.unit_cost, move.value, move.adjustment_value)]
    return Result(new_moves=moves, revalued_moves=revalued, balances=book.balances)


def _products_with_later_moves(earliest: dict[int, dt.date]) -> set[int]:
    """The products with moves dated after the new moves' date (a first look, without locks)."""
    rows = (
        StockMove.objects.filter(locks.column_in(StockMove, "product_id", sorted(earliest)), date__gt=min(earliest.values()))
        .values_list("product_id")
        .annotate(last=Max("date"))
        .order_by()
    )
    return {product_id for product_id, last in rows if last > earliest[product_id]}


def _add_balances(book: _Book, rows: list[tuple]) -> None:
    for pk, product_id, location_id, lot_id, quantity, value, last_unit_cost, reserved in rows:
        key = _key(product_id, location_id, lot_id)
        if key not in book.balances:
            book.balances[key] = Balance(
                pk=pk, quantity=quantity, value=value, last_unit_cost=last_unit_cost,
                stored=(quantity, value, last_unit_cost), reserved_quantity=reserved,
            )


def _restore_last_unit_costs(book: _Book, product_ids: set[int], tail_ids: list[int], valued: set[int]) -> None:
    """Before replaying, each average-costed balance needs the last unit cost it had before the later moves."""
    for key, balance in book.balances.items():
        product_id, location_id, lot_id = key
        if product_id not in product_ids or book.methods.get(product_id) != ValuationMethod.AVERAGE:
            continue
        last = (
            StockMove.objects.filter(product_id=product_id, to_location_id=location_id, lot_id=lot_id)
            .exclude(locks.column_in(StockMove, "id", tail_ids))
            .order_by("-date", "-id")
            .values_list("unit_cost", flat=True)
            .first()
        )
        balance.last_unit_cost = last if last is not None else ZERO


def _executemany(sql: str, rows: list[tuple]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _max_query_params() -> int:
    """Parameters one statement may carry: SQLite's own limit (32,766 since 3.32) rather than Django's conservative
    999, so that a 500-line document's moves go in one statement instead of eight."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert `rows` (values already adapted for the database) with multi-row `INSERT ... RETURNING id` statements and
    return the new ids in row order — what bulk_create does, without building and preparing a model instance per row."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        if not connection.features.can_return_rows_from_bulk_insert:
            for row in rows:
                cursor.execute(f"INSERT INTO {table} ({names}) VALUES {placeholders}", row)
                ids.append(cursor.lastrowid)
            return ids
        size = max(1, _max_query_params() // len(columns))
        for start in range(0, len(rows), size):
            batch = rows[start:start + size]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholders] * len(batch))} RETURNING {quote('id')}",
                [value for row in batch for value in row],
            )
            ids.extend(row[0] for row in cursor.fetchall())
    if len(ids) != len(rows):  # pragma: no cover - a driver that does not return every row
        raise RuntimeError(f"inserted {len(rows)} rows into {table} but got {len(ids)} ids back")
    return ids


class _Adapt:
    """Dates and datetimes adapted for the database once per distinct value (a document's moves share them)."""

    def __init__(self) -> None:
        self.dates: dict[dt.date, object] = {}
        self.datetimes: dict[dt.datetime, object] = {}

    def date(self, value: dt.date) -> object:
        if value not in self.dates:
            self.dates[value] = connection.ops.adapt_datefield_value(value)
        return self.dates[value]

    def datetime(self, value: dt.datetime) -> object:
        if value not in self.datetimes:
            self.datetimes[value] = connection.ops.adapt_datetimefield_value(value)
        return self.datetimes[value]


MOVE_COLUMNS = (
    "product_id", "lot_id", "serial_id", "from_location_id", "to_location_id", "quantity", "unit_cost", "value",
    "adjustment_value", "document_id", "line_id", "reverses_id", "date", "posted_at",
)
LAYER_COLUMNS = (
    "product_id", "location_id", "lot_id", "move_id", "origin_id", "fifo_date", "fifo_sequence", "unit_cost",
    "original_quantity", "original_value", "remaining_quantity", "remaining_value",
)
CONSUMPTION_COLUMNS = ("move_id", "layer_id", "product_id", "quantity", "value")


def _write(*, book: _Book, moves: list[Move], tail: list[Move], tail_ids: list[int]) -> None:
    move_table = StockMove._meta.db_table
    layer_table = CostLayer._meta.db_table
    balance_table = StockBalance._meta.db_table
    adapt = _Adapt()
    # new moves
    ids = _insert(StockMove, MOVE_COLUMNS, [
        (
            move.product_id, move.lot_id, move.serial_id, move.from_location_id, move.to_location_id, move.quantity,
            move.unit_cost, move.value, move.adjustment_value, move.document_id, move.line_id, move.reverses_id,
            adapt.date(move.date), adapt.datetime(move.posted_at),  # type: ignore[arg-type]
        )
        for move in moves
    ])
    for move, pk in zip(moves, ids, strict=True):
        move.pk = pk
        move.sequence = pk
    # later moves whose cost changed
    _executemany(
        f"UPDATE {move_table} SET unit_cost = %s, value = %s, adjustment_value = %s WHERE id = %s",
        [
            (move.unit_cost, move.value, move.adjustment_value, move.pk)
            for move in tail
            if move.stored != (move.unit_cost, move.value, move.adjustment_value)
        ],
    )
    # the later moves' old layers and consumptions are replaced by the replayed ones
    # (plain DELETEs: Django's deletion collector would re-read every related row of thousands of layers to check
    # PROTECT relations that cannot exist here — consumptions of layers made by later moves are themselves later
    # moves' consumptions, deleted first; the database's foreign keys still refuse anything left pointing at them)
    if tail_ids:
        LayerConsumption.objects.filter(locks.column_in(LayerConsumption, "move_id", tail_ids))._raw_delete(LayerConsumption.objects.db)
        old_layers = CostLayer.objects.filter(locks.column_in(CostLayer, "move_id", tail_ids))
        old_layers.update(origin=None)
        old_layers._raw_delete(CostLayer.objects.db)
    # new layers: receipt layers first (derived layers point at them)
    roots = [layer for layer in book.created_layers if layer.origin is None]
    derived = [layer for layer in book.created_layers if layer.origin is not None]
    for batch in (roots, derived):
        rows = []
        for layer in batch:
            if layer.origin is None:
                layer.fifo_sequence = layer.move.sequence  # type: ignore[union-attr]
            else:
                layer.fifo_date, layer.fifo_sequence = layer.origin.fifo_date, layer.origin.fifo_sequence
            product_id, location_id, lot_id = layer.key
            rows.append((
                product_id, location_id, lot_id, layer.move.pk,  # type: ignore[union-attr]
                layer.origin.pk if layer.origin is not None else None, adapt.date(layer.fifo_date), layer.fifo_sequence,
                layer.unit_cost, layer.original_quantity, layer.original_value, layer.remaining_quantity,
                layer.remaining_value,
            ))
        for layer, pk in zip(batch, _insert(CostLayer, LAYER_COLUMNS, rows), strict=True):
            layer.pk = pk
    # layers that existed before: their remaining quantity and value
    _executemany(
        f"UPDATE {layer_table} SET remaining_quantity = %s, remaining_value = %s WHERE id = %s",
        [
            (layer.remaining_quantity, layer.remaining_value, pk)
            for pk, layer in book.loaded_layers.items()  # type: ignore[attr-defined]
            if layer.stored != (layer.remaining_quantity, layer.remaining_value)
        ],
    )
    # consumptions of every move that consumed layers
    _insert(LayerConsumption, CONSUMPTION_COLUMNS, [
        (move.pk, take.layer.pk, move.product_id, take.quantity, take.value)
        for move in (moves + tail if tail else moves)
        for take in move.takes
    ])
    # balances
    _executemany(
        f"UPDATE {balance_table} SET quantity = %s, value = %s, last_unit_cost = %s WHERE id = %s",
        [
            (balance.quantity, balance.value, balance.last_unit_cost, balance.pk)
            for balance in book.balances.values()
            if (balance.quantity, balance.value, balance.last_unit_cost) != balance.stored
        ],
    )
    for balance in book.balances.values():
        balance.stored = (balance.quantity, balance.value, balance.last_unit_cost)
    if tail:
        _refresh_costs_of_revalued_lines(tail)


def _refresh_costs_of_revalued_lines(tail: list[Move]) -> None:
    """Revalued moves change their lines' cost and their documents' total: recomputed in three queries."""
    changed_lines = {move.line_id for move in tail if move.line_id and move.stored != (move.unit_cost, move.value, move.adjustment_value)}
    if not changed_lines:
        return
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, value in StockMove.objects.filter(locks.column_in(StockMove, "line_id", sorted(changed_lines)), reverses__isnull=True).values_list("line_id", "value"):
        totals[line_id] += value
    _executemany(
        f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s WHERE id = %s",
        [(totals[line_id], line_id) for line_id in changed_lines],
    )
    document_ids = set(StockDocumentLine.objects.filter(locks.column_in(StockDocumentLine, "id", sorted(changed_lines))).order_by().values_list("document_id", flat=True))
    document_totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for document_id, cost in StockDocumentLine.objects.filter(locks.column_in(StockDocumentLine, "document_id", sorted(document_ids))).order_by().values_list("document_id", "cost"):
        document_totals[document_id] += cost or ZERO
    _executemany(
        f"UPDATE {StockDocument._meta.db_table} SET total_value = %s WHERE id = %s",
        [(document_totals[document_id], document_id) for document_id in document_ids],
    )
