"""Reservations: stock held for a document reference (a sales order's lines), by quantity, lot or serial; fulfilled
by the posting of a document with the same reference."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from fabrika.catalog.enums import Tracking
from fabrika.catalog.models import Product
from fabrika.core import audit
from fabrika.core.db import column_in, insert_many, update_many
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction

from .engine import Move
from .enums import (
    VALUED_KINDS,
    ReservationStatus,
)
from .models import (
    Location,
    Lot,
    Reservation,
    SerialNumber,
    StockBalance,
    StockDocument,
)
from .services import _decimal, _get, fefo_allocation
from .valuation import ZERO

# ----------------------------------------------------------------------------------------------- reservations


@transaction.atomic
def reservation_create(
    *, actor: User, product_id: int, location_id: int, reference: str, quantity: Decimal | str | None = None,
    lot_id: int | None = None, serial: str = "",
) -> list[Reservation]:
    """Reserve stock for a document reference: a quantity (split over lots by first expiry when the product has lots
    and none is given) or one serial number. Conditional UPDATE: never more than on hand − reserved."""
    errors: dict[str, list[str]] = {}
    product = _get(errors, "product", Product, product_id, required=True)
    location = _get(errors, "location", Location, location_id, required=True, queryset=Location.objects.filter(kind__in=list(VALUED_KINDS)))
    reference = (reference or "").strip()
    if not reference:
        errors.setdefault("reference", []).append("This field is required")
    elif len(reference) > 64:
        errors.setdefault("reference", []).append("At most 64 characters")
    lot = _get(errors, "lot", Lot, lot_id, required=False)
    serial = (serial or "").strip()
    amount = Decimal(1) if serial else _decimal(errors, "quantity", quantity, places=4)
    if product is not None and lot is not None and lot.product_id != product.pk:
        errors.setdefault("lot", []).append(f"Lot {lot.code} belongs to another product")
    if product is not None and serial and product.tracking != Tracking.SERIAL:
        errors.setdefault("serial", []).append(f"{product.sku} is not tracked by serial number")
    if product is not None and not serial and product.tracking == Tracking.SERIAL:
        errors.setdefault("serial", []).append(f"{product.sku} is tracked by serial number: reserve a serial")
    if errors:
        raise ValidationError(errors)
    serial_row = None
    if serial:
        serial_row = SerialNumber.objects.filter(product=product, serial=serial).first()
        if serial_row is None or serial_row.location_id != location.pk:
            raise ValidationError({"serial": [f"{product.sku} {serial} is not at {location}"]})
        if SerialNumber.objects.filter(pk=serial_row.pk, reserved_reference="").update(reserved_reference=reference) == 0:
            raise Conflict(f"{product.sku} {serial} is already reserved", code="already_reserved", field="serial")
    plan = [(lot, amount)]
    if product.tracking == Tracking.LOT and lot is None:
        plan = fefo_allocation(product=product, location=location, quantity=amount)  # type: ignore[arg-type]
    created = []
    for plan_lot, plan_amount in plan:
        updated = StockBalance.objects.filter(
            product=product, location=location, lot=plan_lot, quantity__gte=F("reserved_quantity") + plan_amount
        ).update(reserved_quantity=F("reserved_quantity") + plan_amount)
        if updated == 0:
            row = StockBalance.objects.filter(product=product, location=location, lot=plan_lot).first()
            free = max(row.quantity - row.reserved_quantity, ZERO) if row else ZERO
            raise Conflict(
                f"Not enough {product.sku} to reserve at {location}: {free.normalize():f} available, {plan_amount.normalize():f} asked",
                code="insufficient_stock", field="quantity", available=str(free),
            )
        reservation = Reservation.objects.create(
            product=product, location=location, lot=plan_lot, serial=serial_row, quantity=plan_amount, reference=reference,
            created_by=actor,
        )
        audit.record(actor=actor, action=AuditAction.CREATE, target=reservation, changes=audit.snapshot(reservation))
        created.append(reservation)
    return created


def reservations_place(
    *, actor: User, reference: str, items: list[tuple[int, int, int, int | None, Decimal]], serials: dict[int, SerialNumber] | None = None,
) -> list[Reservation]:
    """Reserve for `reference` from balance rows the caller has locked (locks.lock_balances) and found free:
    items are (balance id, product id, location id, lot id, quantity); `serials` maps an item's index to the serial
    number it reserves (quantity 1; the serial must not be reserved yet). One statement per table instead of
    `reservation_create`'s checks and conditional update per row; the rows are checked again after the update and
    nothing is kept if any would hold more reserved than on hand."""
    return reservations_place_many(actor=actor, groups=[(reference, items, serials or {})])


def reservations_place_many(
    *, actor: User, groups: list[tuple[str, list[tuple[int, int, int, int | None, Decimal]], dict[int, SerialNumber]]],
    products: dict[int, Product] | None = None,
) -> list[Reservation]:
    """`reservations_place` for many references at once (a batch of orders): (reference, items, serials) per group;
    one statement per table for all of them (serial claims: one per reference that has serials). `products`:
    instances the caller has already read. A refusal carries `reference` (a serial) or `balance_id` (stock)."""
    groups = [(reference, items, serials or {}) for reference, items, serials in groups if items]
    if not groups:
        return []
    for reference, _items, serials in groups:
        if serials:
            claimed = SerialNumber.objects.filter(pk__in=[serial.pk for serial in serials.values()], reserved_reference="").update(
                reserved_reference=reference
            )
            if claimed != len(serials):
                raise Conflict(f"A serial number chosen for {reference} was reserved by someone else meanwhile: try again", code="already_reserved",
                               field="serial", reference=reference)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {StockBalance._meta.db_table} SET reserved_quantity = reserved_quantity + %s WHERE id = %s",
            [(quantity, balance_id) for _reference, items, _serials in groups for balance_id, _product, _location, _lot, quantity in items],
        )
    balance_ids = sorted({item[0] for _reference, items, _serials in groups for item in items})
    over = StockBalance.objects.filter(column_in(StockBalance, "id", balance_ids), reserved_quantity__gt=F("quantity")).first()
    if over is not None:
        raise Conflict(
            f"Not enough {over.product.sku} to reserve at {over.location}: {max(over.quantity - over.reserved_quantity, ZERO)} left",
            code="insufficient_stock", field="quantity", balance_id=over.pk,
        )
    product_ids = {item[1] for _reference, items, _serials in groups for item in items}
    known = products or {}
    if not product_ids <= set(known):
        known = {**known, **Product.objects.in_bulk(product_ids - set(known))}
    locations = Location.objects.in_bulk({item[2] for _reference, items, _serials in groups for item in items})
    lots = Lot.objects.in_bulk({item[3] for _reference, items, _serials in groups for item in items if item[3] is not None})
    created = insert_many([
        Reservation(
            product=known[product_id], location=locations[location_id], lot=lots.get(lot_id) if lot_id else None,
            serial=serials.get(index), quantity=quantity, reference=reference, created_by=actor,
        )
        for reference, items, serials in groups
        for index, (_balance, product_id, location_id, lot_id, quantity) in enumerate(items)
    ])
    audit.record_many(actor=actor, action=AuditAction.CREATE, entries=[(reservation, audit.snapshot(reservation)) for reservation in created])
    return created


@transaction.atomic
def reservation_release(*, actor: User, reservation_id: int) -> Reservation:
    reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
    if reservation is None:
        raise NotFound(f"Reservation {reservation_id} not found")
    if reservation.status != ReservationStatus.ACTIVE:
        raise InvalidTransition("This reservation is no longer active", status=reservation.status)
    StockBalance.objects.filter(product_id=reservation.product_id, location_id=reservation.location_id, lot_id=reservation.lot_id).update(
        reserved_quantity=F("reserved_quantity") - reservation.quantity
    )
    if reservation.serial_id:
        SerialNumber.objects.filter(pk=reservation.serial_id, reserved_reference=reservation.reference).update(reserved_reference="")
    reservation.status, reservation.closed_at = ReservationStatus.RELEASED, timezone.now()
    reservation.save(update_fields=["status", "closed_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=reservation, changes={"status": ["active", "released"]})
    return reservation


def fulfil_reservations(document: StockDocument, moves: list[Move], locked: dict[tuple, Any]) -> None:
    """Outgoing moves first use the document's own reservations (by reference); what others reserved stays untouched.

    `locked` are the engine's locked balances (with their reserved quantity): keys nobody reserved need no query.
    The balances, then the document's reservations, are read once; the changed rows are written in bulk."""
    fulfil_reservations_many([(document.reference, moves)], locked)


def fulfil_reservations_many(groups: list[tuple[str, list[Move]]], locked: dict[tuple, Any]) -> None:
    """`fulfil_reservations` for many documents posted together: (reference, moves) per document, in posting order.
    The balances and the reservations of every reference are read once for all of them."""
    taken_by: list[tuple[str, dict[tuple, Decimal], dict[tuple, set[int]]]] = []
    taken: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for reference, moves in groups:
        mine_taken: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        moved_serials: dict[tuple, set[int]] = defaultdict(set)
        for move in moves:
            key = (move.product_id, move.from_location_id, move.lot_id)
            mine_taken[key] += move.quantity
            taken[key] += move.quantity
            if move.serial_id:
                moved_serials[key].add(move.serial_id)
        taken_by.append((reference, mine_taken, moved_serials))
    reserved_keys = [key for key in taken if key in locked and locked[key].reserved_quantity > 0]
    if not reserved_keys:
        return
    rows = {
        (row.product_id, row.location_id, row.lot_id): row
        for row in StockBalance.objects.filter(product_id__in={key[0] for key in reserved_keys}, reserved_quantity__gt=0)
    }
    balances = {key: rows[key] for key in taken if key in rows}
    references = {reference for reference, mine_taken, _serials in taken_by if reference and any(key in balances for key in mine_taken)}
    if references:
        now = timezone.now()
        mine: dict[tuple[str, tuple], list[Reservation]] = defaultdict(list)
        for reservation in Reservation.objects.select_for_update().filter(
            product_id__in={key[0] for key in balances}, reference__in=references, status=ReservationStatus.ACTIVE
        ).order_by("id"):
            mine[(reservation.reference, (reservation.product_id, reservation.location_id, reservation.lot_id))].append(reservation)
        changed: list[Reservation] = []
        freed: list[tuple[str, int]] = []
        for reference, mine_taken, moved_serials in taken_by:
            if reference not in references:
                continue
            for key, amount in mine_taken.items():
                balance = balances.get(key)
                if balance is None:
                    continue
                moved = moved_serials.get(key, set())
                # the serials that went first, then quantity reservations, then serials the document did not take
                ordered = sorted(mine.get((reference, key), []), key=lambda r: (0 if r.serial_id in moved else 2 if r.serial_id else 1, r.pk))
                for reservation in ordered:
                    if amount <= 0:
                        break
                    if reservation.serial_id and reservation.serial_id not in moved:
                        freed.append((reference, reservation.serial_id))  # another unit went in its place: this one is free again
                    used = min(amount, reservation.quantity)
                    amount -= used
                    balance.reserved_quantity -= used
                    if used == reservation.quantity:
                        reservation.status, reservation.closed_at = ReservationStatus.FULFILLED, now
                    else:
                        reservation.quantity -= used
                    changed.append(reservation)
        update_many(changed, ["status", "closed_at", "quantity"])
        for reference in {reference for reference, _serial in freed}:
            SerialNumber.objects.filter(pk__in=[pk for ref, pk in freed if ref == reference], reserved_reference=reference).update(reserved_reference="")
        update_many(balances.values(), ["reserved_quantity"])
    for key, balance in balances.items():  # rows locked by the engine: what they hold now is what they will keep
        if balance.quantity < balance.reserved_quantity:
            location = Location.objects.get(pk=key[1])
            free = max(balance.quantity + taken[key] - balance.reserved_quantity, ZERO)
            raise Conflict(
                f"Stock at {location} is reserved for other documents: {free.normalize():f} free, {taken[key].normalize():f} needed",
                code="stock_reserved", location=str(location), available=str(free),
            )
