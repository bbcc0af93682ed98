"""Posting and cancelling stock documents: the lines become moves through the engine (engine.py), which values
them and updates balances; reservations the document used are fulfilled; the journal entry is written
(accounting.py). Everything in one transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from fabrika.catalog.models import Product
from fabrika.catalog.selectors import valuation_methods
from fabrika.core import audit, events, numbering
from fabrika.core.db import update_many
from fabrika.core.errors import Conflict, NotFound, ValidationError
from fabrika.core.models import CompanySettings, ExchangeRate, User
from fabrika.core.models.audit import AuditAction
from fabrika.ledger.services import Posting, Source, journal_post_many

from . import (
    accounting,
    locks,
)
from .engine import Move, StockPolicy, apply_moves, valued_location_ids
from .enums import (
    DOCUMENT_ROUTES,
    INCOMING_TYPES,
    VALUED_KINDS,
    DocumentStatus,
    DocumentType,
    LocationKind,
)
from .models import (
    Location,
    SerialNumber,
    StockBalance,
    StockDocument,
    StockDocumentLine,
    StockMove,
)
from .reservations import fulfil_reservations, fulfil_reservations_many
from .services import ensure_open_period, ensure_transition, virtual_location
from .valuation import ZERO, money
from .valuation import unit_cost as round_unit_cost

# ----------------------------------------------------------------------------------------------- posting


def _exchange_rate(document: StockDocument, base_currency: str) -> Decimal:
    if not document.currency or document.currency == base_currency:
        return Decimal(1)
    if document.exchange_rate and document.exchange_rate != 1:
        return document.exchange_rate
    rate = ExchangeRate.objects.filter(currency__code=document.currency, date__lte=document.date).order_by("-date").first()
    if rate is None:
        raise ValidationError({"currency": [f"No exchange rate of {document.currency} on or before {document.date.isoformat()}: enter one"]})
    return round_unit_cost(rate.rate / rate.nominal)


# where goods go when neither the line nor the document names a location (else the first kind of the route's target)
DEFAULT_TARGET_KINDS = {
    DocumentType.ISSUE: LocationKind.CUSTOMER,
    DocumentType.WRITE_OFF: LocationKind.SCRAP,
    DocumentType.SUPPLIER_RETURN: LocationKind.SUPPLIER,
}


class _Line:
    """A document line as posting reads it: plain values from one `values_list` row, no model instance."""

    FIELDS = (
        "id", "position", "product_id", "lot_id", "from_location_id", "to_location_id", "quantity", "stock_quantity",
        "counted_quantity", "unit_cost", "serial",
    )
    __slots__ = (
        "pk", "position", "product_id", "lot_id", "from_location_id", "to_location_id", "quantity", "stock_quantity",
        "counted_quantity", "unit_cost", "serial", "expected_quantity", "cost",
    )

    def __init__(self, row: tuple) -> None:
        (self.pk, self.position, self.product_id, self.lot_id, self.from_location_id, self.to_location_id, self.quantity,
         self.stock_quantity, self.counted_quantity, self.unit_cost, self.serial) = row
        self.expected_quantity: Decimal | None = None
        self.cost: Decimal = ZERO


def _line_locations(document: StockDocument, line: _Line, virtual: dict[str, int]) -> tuple[int, int | None]:
    """The ids of the locations a line's goods leave and go to (the line's own, else the document's, else the virtual
    location of the document's route). Ids only: a 500-line document loads no Location per line."""
    source, target = DOCUMENT_ROUTES[document.document_type]
    from_location = line.from_location_id or document.from_location_id
    to_location = line.to_location_id or document.to_location_id
    if source is not None and len(source) == 1 and from_location is None:
        if source[0] not in virtual:
            virtual[source[0]] = virtual_location(source[0]).pk
        from_location = virtual[source[0]]
    if target is not None and to_location is None:
        kind = DEFAULT_TARGET_KINDS.get(document.document_type, target[0])
        if kind not in virtual:
            virtual[kind] = virtual_location(kind).pk
        to_location = virtual[kind]
    errors: dict[str, list[str]] = {}
    if from_location is None:
        errors.setdefault("from_location", []).append(f"Line {line.position}: choose the location the goods leave")
    if to_location is None and document.document_type != DocumentType.COUNT:
        errors.setdefault("to_location", []).append(f"Line {line.position}: choose the location the goods go to")
    if from_location is not None and from_location == to_location:
        errors.setdefault("to_location", []).append(f"Line {line.position}: goods must go to a different location")
    if errors:
        raise ValidationError(errors)
    return from_location, to_location  # type: ignore[return-value]


def stock_policy_from(settings: CompanySettings) -> StockPolicy:
    return StockPolicy(
        allow_negative_stock=settings.allow_negative_stock, default_valuation_method=settings.default_valuation_method
    )


@transaction.atomic
def stock_document_post(*, actor: User, document_id: int, policy: StockPolicy) -> StockDocument:
    document = locks.documents().filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Stock document {document_id} not found")
    ensure_transition(document.status, DocumentStatus.POSTED)
    ensure_open_period(document.date)
    lines = [_Line(row) for row in document.lines.order_by("position", "id").values_list(*_Line.FIELDS)]
    if not lines:
        raise ValidationError({"lines": ["Add at least one line before posting"]})
    from fabrika.core.selectors import company_settings

    rate = _exchange_rate(document, company_settings().base_currency) if document.document_type in INCOMING_TYPES else Decimal(1)
    methods = valuation_methods({line.product_id for line in lines}, default=policy.default_valuation_method)
    moves: list[Move] = []
    serial_moves: list[tuple[Move, _Line]] = []
    counts = document.document_type == DocumentType.COUNT
    loss = virtual_location(LocationKind.INVENTORY_LOSS) if counts else None
    if counts:
        keys = {(line.product_id, line.from_location_id or document.from_location_id or 0, line.lot_id) for line in lines}
        locks.lock_balances({line.product_id for line in lines}, ensure=(key for key in keys if key[1]))
    virtual: dict[str, int] = {}
    for line in lines:
        from_location, to_location = _line_locations(document, line, virtual)
        if counts:
            on_record = _on_hand(line.product_id, from_location, line.lot_id)
            line.expected_quantity = on_record
            difference = (line.counted_quantity or ZERO) - on_record
            if difference == 0:
                line.cost = ZERO
                continue
            if difference > 0:
                move = Move(
                    product_id=line.product_id, from_location_id=loss.pk, to_location_id=from_location,  # type: ignore[union-attr]
                    quantity=difference, date=document.date, lot_id=line.lot_id,
                    given_unit_cost=line.unit_cost if line.unit_cost is not None else _current_unit_cost(line.product_id, from_location, line.lot_id),
                )
            else:
                move = Move(
                    product_id=line.product_id, from_location_id=from_location, to_location_id=loss.pk,  # type: ignore[union-attr]
                    quantity=-difference, date=document.date, lot_id=line.lot_id,
                )
        else:
            move = Move(
                product_id=line.product_id, from_location_id=from_location, to_location_id=to_location,  # type: ignore[arg-type]
                quantity=line.stock_quantity, date=document.date, lot_id=line.lot_id,
            )
            if document.document_type == DocumentType.RECEIPT:
                move.given_value = money(line.quantity * line.unit_cost * rate)  # type: ignore[operator]
            elif document.document_type == DocumentType.CUSTOMER_RETURN:
                if line.unit_cost is not None:
                    move.given_value = money(line.quantity * line.unit_cost * rate)
                else:
                    move.given_unit_cost = _last_issue_unit_cost(line.product_id)
        move.document_id, move.line_id = document.pk, line.pk
        moves.append(move)
        if line.serial:
            serial_moves.append((move, line))
    if not moves and not counts:
        raise ValidationError({"lines": ["Nothing to post"]})
    valued = valued_location_ids()
    _attach_serials(document, serial_moves, valued)
    posted_at = timezone.now()
    if moves:
        result = apply_moves(moves=moves, methods=methods, policy=policy, posted_at=posted_at, valued=valued)
        fulfil_reservations(document, moves, result.balances)
        _move_serials(serial_moves)
    line_costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        line_costs[move.line_id] += move.value  # type: ignore[index]
    for line in lines:
        line.cost = line_costs.get(line.pk, ZERO)
    with connection.cursor() as cursor:
        if counts:
            cursor.executemany(
                f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s, expected_quantity = %s WHERE id = %s",
                [(line.cost, line.expected_quantity, line.pk) for line in lines],
            )
        else:
            cursor.executemany(
                f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s WHERE id = %s", [(line.cost, line.pk) for line in lines]
            )
    document.status = DocumentStatus.POSTED
    document.number = numbering.next_number(f"stock_{document.document_type}", on=document.date)
    document.exchange_rate = rate
    document.total_value = sum(line_costs.values(), ZERO)
    document.posted_at, document.posted_by = posted_at, actor
    document.save(update_fields=["status", "number", "exchange_rate", "total_value", "posted_at", "posted_by", "updated_at"])
    accounting.stock_document_journal(actor=actor, document=document, moves=moves, revalued=result.revalued_moves if moves else [], valued=valued, on=document.date)
    audit.record(
        actor=actor, action=AuditAction.POST, target=document,
        changes={"number": document.number, "moves": len(moves), "value": document.total_value},
    )
    events.record_event(
        "inventory.stock_document.posted", target=document,
        payload={"number": document.number, "type": document.document_type, "value": str(document.total_value)},
    )
    return document


def stock_documents_post_many(*, actor: User, documents: list[StockDocument], policy: StockPolicy) -> list[StockDocument]:
    """Post many draft documents of one date at once (a shipment wave's issues): the rules of `stock_document_post`,
    with one engine pass for all their moves, one read per table, numbers taken as one range, the journal entries,
    audit rows and events each written in one insert. For documents that carry no unit cost — issues, write-offs,
    transfers, returns to suppliers; receipts, returns from customers and counts post one by one. The caller has
    created or locked the documents in this transaction; `documents` come back posted, in the order given."""
    if not documents:
        return []
    errors: dict[str, list[str]] = {}
    for index, document in enumerate(documents):
        if document.document_type in INCOMING_TYPES or document.document_type == DocumentType.COUNT:
            errors.setdefault(f"documents.{index}", []).append(f"A {document.get_document_type_display().lower()} is posted on its own")
        elif document.status != DocumentStatus.DRAFT:
            errors.setdefault(f"documents.{index}", []).append(f"{document.number or document.pk} is not a draft")
    day = documents[0].date
    if any(document.date != day for document in documents):
        errors.setdefault("documents", []).append("Documents posted together share one date")
    if errors:
        raise ValidationError(errors)
    ensure_open_period(day)
    by_document: dict[int, list[_Line]] = defaultdict(list)
    for row in (
        StockDocumentLine.objects.filter(locks.column_in(StockDocumentLine, "document_id", [document.pk for document in documents]))
        .order_by("document_id", "position", "id").values_list("document_id", *_Line.FIELDS)
    ):
        by_document[row[0]].append(_Line(row[1:]))
    methods = valuation_methods({line.product_id for lines in by_document.values() for line in lines}, default=policy.default_valuation_method)
    virtual: dict[str, int] = {}
    valued = valued_location_ids()
    moves: list[Move] = []
    groups: list[tuple[StockDocument, list[Move], list[tuple[Move, _Line]]]] = []
    for index, document in enumerate(documents):
        lines = by_document.get(document.pk, [])
        if not lines:
            errors.setdefault(f"documents.{index}.lines", []).append(f"{document.number or document.pk}: add at least one line before posting")
            continue
        mine: list[Move] = []
        serial_moves: list[tuple[Move, _Line]] = []
        try:
            for line in lines:
                from_location, to_location = _line_locations(document, line, virtual)
                move = Move(
                    product_id=line.product_id, from_location_id=from_location, to_location_id=to_location,
                    quantity=line.stock_quantity, date=document.date, lot_id=line.lot_id,
                )
                move.document_id, move.line_id = document.pk, line.pk
                mine.append(move)
                if line.serial:
                    serial_moves.append((move, line))
            _attach_serials(document, serial_moves, valued)
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(f"documents.{index}.{key}", []).extend(messages)
            continue
        moves.extend(mine)
        groups.append((document, mine, serial_moves))
    if errors:
        raise ValidationError(errors)
    posted_at = timezone.now()
    result = apply_moves(moves=moves, methods=methods, policy=policy, posted_at=posted_at, valued=valued)
    fulfil_reservations_many([(document.reference, mine) for document, mine, _serials in groups], result.balances)
    _move_serials([pair for _document, _mine, serial_moves in groups for pair in serial_moves])
    line_costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        line_costs[move.line_id] += move.value  # type: ignore[index]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s WHERE id = %s",
            [(line_costs.get(line.pk, ZERO), line.pk) for lines in by_document.values() for line in lines],
        )
    numbers: dict[str, list[str]] = {}
    for document_type in {document.document_type for document in documents}:
        count = sum(1 for document in documents if document.document_type == document_type)
        numbers[document_type] = numbering.next_numbers(f"stock_{document_type}", count, on=day)[::-1]
    # a back-dated wave revalues later moves: each product's revaluation goes to the entry of the last document moving it
    last_of_product = {move.product_id: move.document_id for move in moves}
    revalued: dict[int, list[Move]] = defaultdict(list)
    for move in result.revalued_moves:
        revalued[last_of_product[move.product_id]].append(move)
    kinds = dict(Location.objects.filter(pk__in={location for move in moves for location in (move.from_location_id, move.to_location_id)})
                 .values_list("id", "kind"))
    postings: list[Posting] = []
    for document, mine, _serials in groups:
        document.status = DocumentStatus.POSTED
        document.number = numbers[document.document_type].pop()
        document.exchange_rate = Decimal(1)
        document.total_value = sum((move.value for move in mine), ZERO)  # type: ignore[misc]
        document.posted_at, document.posted_by, document.updated_at = posted_at, actor, posted_at
        amounts = accounting.stock_entry_amounts(moves=mine, revalued=revalued.get(document.pk, []), valued=valued, kinds=kinds)
        if amounts:
            postings.append(Posting(
                date=day, source=Source.of(document), memo=f"{document.get_document_type_display()} {document.number}".strip(),
                lines=accounting.entry_lines(amounts),
            ))
    update_many(documents, ["status", "number", "exchange_rate", "total_value", "posted_at", "posted_by", "updated_at"])
    journal_post_many(actor=actor, postings=postings)
    audit.record_many(actor=actor, action=AuditAction.POST, entries=[
        (document, {"number": document.number, "moves": len(mine), "value": document.total_value}) for document, mine, _serials in groups
    ])
    events.record_events([
        ("inventory.stock_document.posted", document,
         {"number": document.number, "type": document.document_type, "value": str(document.total_value)})
        for document in documents
    ])
    return documents


def _on_hand(product_id: int, location_id: int, lot_id: int | None) -> Decimal:
    row = StockBalance.objects.filter(product_id=product_id, location_id=location_id, lot_id=lot_id).values_list("quantity", flat=True).first()
    return row if row is not None else ZERO


def _current_unit_cost(product_id: int, location_id: int, lot_id: int | None) -> Decimal:
    balance = StockBalance.objects.filter(product_id=product_id, location_id=location_id, lot_id=lot_id).first()
    if balance is not None and balance.quantity > 0:
        return round_unit_cost(balance.value / balance.quantity)
    last = StockMove.objects.filter(product_id=product_id, to_location__kind__in=list(VALUED_KINDS)).order_by("-date", "-id").values_list("unit_cost", flat=True).first()
    return last if last is not None else ZERO


def _last_issue_unit_cost(product_id: int) -> Decimal:
    last = (
        StockMove.objects.filter(product_id=product_id, to_location__kind=LocationKind.CUSTOMER, from_location__kind__in=list(VALUED_KINDS))
        .order_by("-date", "-id").values_list("unit_cost", flat=True).first()
    )
    return last if last is not None else _current_unit_cost(product_id, 0, None)


def _attach_serials(document: StockDocument, serial_moves: list[tuple[Move, _Line]], valued: set[int]) -> None:
    if not serial_moves:
        return
    skus = dict(Product.objects.filter(pk__in={line.product_id for _move, line in serial_moves}).values_list("id", "sku"))
    errors: list[str] = []
    seen: set[tuple[int, str]] = set()
    for move, line in serial_moves:
        if (line.product_id, line.serial) in seen:
            errors.append(f"{line.serial} appears twice in this document")
            continue
        seen.add((line.product_id, line.serial))
        serial = SerialNumber.objects.select_for_update().filter(product_id=line.product_id, serial=line.serial).first()
        if move.from_location_id not in valued:
            if serial is not None and serial.location_id in valued:
                errors.append(f"{skus[line.product_id]} {line.serial} is already in stock at {serial.location}")
                continue
            if serial is None:
                serial = SerialNumber.objects.create(product_id=line.product_id, serial=line.serial, location_id=move.from_location_id)
        else:
            if serial is None or serial.location_id != move.from_location_id:
                where = f"is at {serial.location}" if serial is not None else "is unknown"
                errors.append(f"{skus[line.product_id]} {line.serial} {where}, not at the line's location")
                continue
            if serial.reserved_reference and serial.reserved_reference != document.reference:
                errors.append(f"{skus[line.product_id]} {line.serial} is reserved for {serial.reserved_reference}")
                continue
        move.serial_id = serial.pk
    if errors:
        raise ValidationError({"serial": errors})


def _move_serials(serial_moves: list[tuple[Move, _Line]]) -> None:
    if not serial_moves:
        return
    for move, _line in serial_moves:
        SerialNumber.objects.filter(pk=move.serial_id).update(location_id=move.to_location_id, reserved_reference="")


# ----------------------------------------------------------------------------------------------- cancel


@transaction.atomic
def stock_document_cancel(*, actor: User, document_id: int, policy: StockPolicy, on: dt.date | None = None) -> StockDocument:
    """Cancel a draft, or reverse a posted document with moves dated on the cancellation day."""
    document = locks.documents().filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Stock document {document_id} not found")
    ensure_transition(document.status, DocumentStatus.CANCELLED)
    on = on or timezone.localdate()
    now = timezone.now()
    reversals: list[Move] = []
    if document.status == DocumentStatus.POSTED:
        if on < document.date:
            raise ValidationError({"date": ["A cancellation cannot be dated before the document"]})
        ensure_open_period(on)
        originals = list(document.moves.filter(reverses__isnull=True).order_by("id"))
        methods = valuation_methods({move.product_id for move in originals}, default=policy.default_valuation_method)
        valued = set(Location.objects.filter(kind__in=list(VALUED_KINDS)).values_list("id", flat=True))
        for original in originals:
            reversal = Move(
                product_id=original.product_id, from_location_id=original.to_location_id, to_location_id=original.from_location_id,
                quantity=original.quantity, date=on, lot_id=original.lot_id, serial_id=original.serial_id,
                document_id=document.pk, line_id=original.line_id, reverses_id=original.pk,
            )
            if original.to_location_id in valued:
                reversal.preferred_move_id = original.pk  # FIFO: the layer it brought goes first; average: at average
            else:
                reversal.given_value = original.value  # an issue comes back at the cost it left with
            reversals.append(reversal)
        for reverse in (m for m in reversals if m.serial_id):
            serial = SerialNumber.objects.select_for_update().get(pk=reverse.serial_id)
            if serial.location_id != reverse.from_location_id:
                raise Conflict(f"Serial number {serial.serial} has moved on to {serial.location}; cancel that document first",
                               code="serial_moved", field="serial")
        if reversals:
            result = apply_moves(moves=reversals, methods=methods, policy=policy, posted_at=now)
            accounting.stock_document_journal(actor=actor, document=document, moves=reversals, revalued=result.revalued_moves, valued=valued, on=on, cancellation=True)
            for move in reversals:
                if move.serial_id:
                    SerialNumber.objects.filter(pk=move.serial_id).update(location_id=move.to_location_id)
    document.status, document.cancelled_at, document.cancelled_by = DocumentStatus.CANCELLED, now, actor
    document.cancellation_date = on if reversals else None
    document.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancellation_date", "updated_at"])
    audit.record(actor=actor, action=AuditAction.CANCEL, target=document, changes={"reversal_moves": len(reversals), "date": on})
    events.record_event("inventory.stock_document.cancelled", target=document, payload={"number": document.number})
    return document
