"""The posting engine: applies moves to locked balances and FIFO layers in (date, id) order and writes the result.

`apply_moves` is the one write path of the stock ledger. New moves dated before moves already posted for the same
product (a back-dated posting, or a reversal dated before future-dated moves) make the engine roll the product's
later moves back in memory, insert the new ones at their place and replay the later ones, so that only the later
moves of that product are revalued. Callers hold a transaction; the engine takes the locks (locks.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Q

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
    row: StockBalance
    quantity: Decimal
    value: Decimal
    last_unit_cost: Decimal


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


def _load_layer(row: CostLayer, origins: dict[int, Layer]) -> Layer:
    return Layer(
        key=_key(row.product_id, row.location_id, row.lot_id), fifo_date=row.fifo_date, fifo_sequence=row.fifo_sequence,
        unit_cost=row.unit_cost, original_quantity=row.original_quantity, original_value=row.original_value,
        remaining_quantity=row.remaining_quantity, remaining_value=row.remaining_value, pk=row.pk,
    )


def _move_from_row(row: StockMove, valued: set[int]) -> Move:
    """A stored move about to be replayed. What came from outside keeps the value it was booked at (a supplier's
    price does not change); what leaves is revalued by the product's method (a reversal keeps its own value)."""
    move = Move(
        product_id=row.product_id, from_location_id=row.from_location_id, to_location_id=row.to_location_id,
        quantity=row.quantity, date=row.date, lot_id=row.lot_id, serial_id=row.serial_id, document_id=row.document_id,
        line_id=row.line_id, reverses_id=row.reverses_id, posted_at=row.posted_at, pk=row.pk, sequence=row.pk,
        unit_cost=row.unit_cost, value=row.value, adjustment_value=row.adjustment_value,
    )
    move.stored = (row.unit_cost, row.value, row.adjustment_value)
    if row.from_location_id not in valued:
        move.given_value, move.given_unit_cost = row.value, row.unit_cost
    if row.reverses_id:
        move.preferred_move_id = row.reverses_id
    return move


def valued_location_ids() -> set[int]:
    from .enums import VALUED_KINDS

    return set(Location.objects.filter(kind__in=list(VALUED_KINDS)).values_list("id", flat=True))


def apply_moves(*, moves: list[Move], methods: dict[int, str], policy: StockPolicy, posted_at: dt.datetime) -> Result:
    """Post `moves` (all of one date per product, in document order) and revalue later moves of their products."""
    valued = valued_location_ids()
    book = _Book(valued=valued, methods=methods, policy=policy)
    product_ids = sorted({move.product_id for move in moves})
    for index, move in enumerate(moves):
        move.sequence = PROVISIONAL_SEQUENCE + index
        move.posted_at = posted_at
    earliest: dict[int, dt.date] = {}
    for move in moves:
        earliest[move.product_id] = min(earliest.get(move.product_id, move.date), move.date)

    # 1. lock: every balance row of every product touched (rows for new keys are created first, in key order)
    keys = set()
    for move in moves:
        for location_id in (move.from_location_id, move.to_location_id):
            if location_id in valued:
                keys.add(_key(move.product_id, location_id, move.lot_id))
    locks.ensure_balances(keys)
    for row in locks.balances_for_products(product_ids):
        book.balances[_key(row.product_id, row.location_id, row.lot_id)] = Balance(
            row=row, quantity=row.quantity, value=row.value, last_unit_cost=row.last_unit_cost
        )

    # 2. later moves of the same products (a back-dated posting): roll them back in memory
    tail = [
        _move_from_row(row, valued)
        for row in StockMove.objects.filter(product_id__in=product_ids, date__gt=min(earliest.values())).order_by("date", "id")
        if row.date > earliest[row.product_id]
    ]
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
    consumed_by_tail: list[LayerConsumption] = []
    if fifo_products:
        if tail_ids:
            consumed_by_tail = list(LayerConsumption.objects.filter(move_id__in=tail_ids))
        consumed_layer_ids = {consumption.layer_id for consumption in consumed_by_tail}
        # without later moves only the layers where the new moves go out are needed; with them, all of the product's
        tail_products = {move.product_id for move in tail}
        wanted = {(move.product_id, move.from_location_id) for move in moves if move.from_location_id in valued}
        rows = CostLayer.objects.filter(product_id__in=fifo_products).filter(
            Q(product_id__in=tail_products) | Q(location_id__in={location for _product, location in wanted})
        ).filter(Q(remaining_quantity__gt=0) | Q(id__in=consumed_layer_ids))
        if tail_ids:
            rows = rows.exclude(move_id__in=tail_ids)
        loaded: dict[int, Layer] = {}
        origin_of: dict[int, int | None] = {}
        for row in rows.order_by("fifo_date", "fifo_sequence", "id"):
            if row.product_id not in tail_products and (row.product_id, row.location_id) not in wanted:
                continue
            loaded[row.pk] = _load_layer(row, loaded)
            loaded[row.pk].stored = (row.remaining_quantity, row.remaining_value)  # type: ignore[attr-defined]
            origin_of[row.pk] = row.origin_id
            book.layers_by_move[row.move_id].append(loaded[row.pk])
        missing_origins = {pk for pk in origin_of.values() if pk and pk not in loaded}
        for row in CostLayer.objects.filter(pk__in=missing_origins):
            loaded[row.pk] = _load_layer(row, loaded)
            loaded[row.pk].stored = (row.remaining_quantity, row.remaining_value)  # type: ignore[attr-defined]
        for pk, origin_id in origin_of.items():
            loaded[pk].origin = loaded.get(origin_id) if origin_id else None
        for consumption in consumed_by_tail:
            layer = loaded.get(consumption.layer_id)
            if layer is not None:
                layer.remaining_quantity += consumption.quantity
                layer.remaining_value += consumption.value
        for pk, layer in loaded.items():
            if pk in origin_of:
                book.layers[layer.key].append(layer)
        book.loaded_layers = loaded  # type: ignore[attr-defined]
    else:
        book.loaded_layers = {}  # type: ignore[attr-defined]

    # 4. replay: the new moves at their place, then every later move
    for move in sorted(moves + tail, key=lambda move: move.order):
        book.apply(move)

    _write(book=book, moves=moves, tail=tail, tail_ids=tail_ids, consumed_by_tail=consumed_by_tail)
    revalued = [move for move in tail if move.stored != (move.unit_cost, move.value, move.adjustment_value)]
    return Result(new_moves=moves, revalued_moves=revalued, balances=book.balances)


def _restore_last_unit_costs(book: _Book, product_ids: set[int], tail_ids: list[int], valued: set[int]) -> None:
    """Before replaying, each average-costed balance needs the last unit cost it had before the later moves."""
    for key, balance in book.balances.items():
        product_id, location_id, lot_id = key
        if product_id not in product_ids or book.methods.get(product_id) != ValuationMethod.AVERAGE:
            continue
        last = (
            StockMove.objects.filter(product_id=product_id, to_location_id=location_id, lot_id=lot_id)
            .exclude(pk__in=tail_ids)
            .order_by("-date", "-id")
            .values_list("unit_cost", flat=True)
            .first()
        )
        balance.last_unit_cost = last if last is not None else ZERO


def _executemany(sql: str, rows: list[tuple]) -> None:
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _write(*, book: _Book, moves: list[Move], tail: list[Move], tail_ids: list[int], consumed_by_tail) -> None:
    move_table = StockMove._meta.db_table
    layer_table = CostLayer._meta.db_table
    balance_table = StockBalance._meta.db_table
    # new moves
    created = StockMove.objects.bulk_create([
        StockMove(
            product_id=move.product_id, lot_id=move.lot_id, serial_id=move.serial_id, from_location_id=move.from_location_id,
            to_location_id=move.to_location_id, quantity=move.quantity, unit_cost=move.unit_cost, value=move.value,
            adjustment_value=move.adjustment_value, document_id=move.document_id, line_id=move.line_id,
            reverses_id=move.reverses_id, date=move.date, posted_at=move.posted_at,
        )
        for move in moves
    ])
    for move, row in zip(moves, created, strict=True):
        move.pk = row.pk
        move.sequence = row.pk
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
    if tail_ids and consumed_by_tail is not None:
        LayerConsumption.objects.filter(move_id__in=tail_ids).delete()
        old_layers = CostLayer.objects.filter(move_id__in=tail_ids)
        old_layers.update(origin=None)
        old_layers.delete()
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
            rows.append(CostLayer(
                product_id=product_id, location_id=location_id, lot_id=lot_id, move_id=layer.move.pk,  # type: ignore[union-attr]
                origin_id=layer.origin.pk if layer.origin is not None else None, fifo_date=layer.fifo_date,
                fifo_sequence=layer.fifo_sequence, unit_cost=layer.unit_cost, original_quantity=layer.original_quantity,
                original_value=layer.original_value, remaining_quantity=layer.remaining_quantity,
                remaining_value=layer.remaining_value,
            ))
        for layer, row in zip(batch, CostLayer.objects.bulk_create(rows), strict=True):
            layer.pk = row.pk
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
    LayerConsumption.objects.bulk_create([
        LayerConsumption(move_id=move.pk, layer_id=take.layer.pk, product_id=move.product_id, quantity=take.quantity, value=take.value)
        for move in [*moves, *tail]
        for take in move.takes
    ])
    # balances
    _executemany(
        f"UPDATE {balance_table} SET quantity = %s, value = %s, last_unit_cost = %s WHERE id = %s",
        [
            (balance.quantity, balance.value, balance.last_unit_cost, balance.row.pk)
            for balance in book.balances.values()
            if (balance.quantity, balance.value, balance.last_unit_cost)
            != (balance.row.quantity, balance.row.value, balance.row.last_unit_cost)
        ],
    )
    for balance in book.balances.values():
        balance.row.quantity, balance.row.value, balance.row.last_unit_cost = balance.quantity, balance.value, balance.last_unit_cost
    if tail:
        _refresh_costs_of_revalued_lines(tail)


def _refresh_costs_of_revalued_lines(tail: list[Move]) -> None:
    """Revalued moves change their lines' cost and their documents' total: recomputed in three queries."""
    changed_lines = {move.line_id for move in tail if move.line_id and move.stored != (move.unit_cost, move.value, move.adjustment_value)}
    if not changed_lines:
        return
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line_id, value in StockMove.objects.filter(line_id__in=changed_lines, reverses__isnull=True).values_list("line_id", "value"):
        totals[line_id] += value
    _executemany(
        f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s WHERE id = %s",
        [(totals[line_id], line_id) for line_id in changed_lines],
    )
    document_ids = set(StockDocumentLine.objects.filter(pk__in=changed_lines).values_list("document_id", flat=True))
    document_totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for document_id, cost in StockDocumentLine.objects.filter(document_id__in=document_ids).values_list("document_id", "cost"):
        document_totals[document_id] += cost or ZERO
    _executemany(
        f"UPDATE {StockDocument._meta.db_table} SET total_value = %s WHERE id = %s",
        [(document_totals[document_id], document_id) for document_id in document_ids],
    )
