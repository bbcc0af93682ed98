"""Stock valuation as pure functions over Decimal: rounding rules, FIFO layer consumption and moving average.

Nothing here touches the database; the posting engine (engine.py) feeds these functions the locked state.
Rounding: quantities 4 places, unit costs 6, money 2, always ROUND_HALF_UP, applied where a ledger entry is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
QUANTITY_STEP = Decimal("0.0001")
UNIT_COST_STEP = Decimal("0.000001")
MONEY_STEP = Decimal("0.01")


def quantity(value) -> Decimal:
    return Decimal(value).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


def unit_cost(value) -> Decimal:
    return Decimal(value).quantize(UNIT_COST_STEP, rounding=ROUND_HALF_UP)


def money(value) -> Decimal:
    return Decimal(value).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)


def unit_cost_of(value: Decimal, amount: Decimal) -> Decimal:
    return unit_cost(value / amount) if amount else ZERO


@dataclass(eq=False)
class Layer:
    """A FIFO layer in memory. `origin` is the receipt layer the units first came from (None for that layer)."""

    key: tuple  # (product id, location id, lot id or None)
    fifo_date: dt.date
    fifo_sequence: int
    unit_cost: Decimal
    original_quantity: Decimal
    original_value: Decimal
    remaining_quantity: Decimal
    remaining_value: Decimal
    origin: Layer | None = None
    pk: int | None = None
    move: object | None = None  # the engine's move that created it
    stored: tuple = ()  # (remaining quantity, remaining value) as read from the database, for a stored layer

    @property
    def order(self) -> tuple:
        return (self.fifo_date, self.fifo_sequence, self.pk or 0)

    @property
    def root(self) -> Layer:
        return self.origin or self


@dataclass(frozen=True)
class Take:
    layer: Layer
    quantity: Decimal
    value: Decimal


@dataclass
class Shortage(Exception):
    available: Decimal
    requested: Decimal = field(default=ZERO)


def fifo_available(layers: list[Layer]) -> Decimal:
    return sum((layer.remaining_quantity for layer in layers), ZERO)


def fifo_consume(layers: list[Layer], amount: Decimal, *, preferred: Layer | None = None) -> list[Take]:
    """Take `amount` from the oldest layers (the `preferred` one first, for a reversal) and reduce them in place.

    A layer emptied completely gives up exactly its remaining value, so layer values never drift by rounding, and is
    dropped from `layers` (the list of open layers: a replay of thousands of later moves would otherwise scan every
    emptied layer again at each issue). Raises Shortage (nothing changed) when the layers hold less than `amount`."""
    available = fifo_available(layers)
    if available < amount:
        raise Shortage(available=available, requested=amount)
    ordered = sorted((layer for layer in layers if layer.remaining_quantity > 0), key=lambda layer: layer.order)
    if preferred is not None and preferred in ordered:
        ordered.remove(preferred)
        ordered.insert(0, preferred)
    takes: list[Take] = []
    left = amount
    for layer in ordered:
        if left <= 0:
            break
        portion = min(left, layer.remaining_quantity)
        if portion == layer.remaining_quantity:
            value = layer.remaining_value
        else:
            value = min(money(portion * layer.unit_cost), layer.remaining_value)
        layer.remaining_quantity -= portion
        layer.remaining_value -= value
        left -= portion
        takes.append(Take(layer=layer, quantity=portion, value=value))
    if any(take.layer.remaining_quantity <= 0 for take in takes) or len(ordered) < len(layers):
        layers[:] = [layer for layer in layers if layer.remaining_quantity > 0]
    return takes


def average_issue_value(*, on_hand: Decimal, value_on_hand: Decimal, last_unit_cost: Decimal, amount: Decimal) -> Decimal:
    """Value of `amount` leaving at the current moving average. Taking everything takes exactly the value on hand;
    with nothing (or less than nothing) on hand the last known unit cost is used."""
    if on_hand > 0 and amount == on_hand:
        return value_on_hand
    if on_hand > 0:
        return money(amount * unit_cost_of(value_on_hand, on_hand))
    return money(amount * last_unit_cost)


def average_receipt_adjustment(*, on_hand: Decimal, value_on_hand: Decimal, amount: Decimal, value_in: Decimal) -> Decimal:
    """The revaluation booked with a receipt into negative stock: the units issued short were costed at a guessed
    (last) price; once goods arrive, every unit still short and the units received are costed at the receipt's unit
    cost, and the difference corrects the stock value (it belongs to the cost of what was issued)."""
    if on_hand >= 0:
        return ZERO
    cost = unit_cost_of(value_in, amount)
    new_on_hand = on_hand + amount
    target = money(new_on_hand * cost) if new_on_hand else ZERO
    return target - (value_on_hand + value_in)
