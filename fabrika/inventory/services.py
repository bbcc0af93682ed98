"""Inventory writes: warehouses and locations, stock documents (draft → posted → cancelled), lots, reservations
and closed periods. Every function runs in one transaction, records an audit row and, for documents, an event."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from fabrika.catalog.enums import Tracking
from fabrika.catalog.models import Product, Unit
from fabrika.catalog.selectors import conversion_factor, product_by_barcode, valuation_methods
from fabrika.core import audit, events, numbering
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models import CompanySettings, ExchangeRate, User
from fabrika.core.models.audit import AuditAction
from fabrika.parties.models import Counterparty

from . import accounting, locks
from .engine import Move, StockPolicy, apply_moves, valued_location_ids
from .enums import (
    DOCUMENT_ROUTES,
    DOCUMENT_TRANSITIONS,
    INCOMING_TYPES,
    VALUED_KINDS,
    DocumentStatus,
    DocumentType,
    LocationKind,
    ReservationStatus,
)
from .models import (
    Location,
    Lot,
    PeriodClose,
    Reservation,
    SerialNumber,
    StockBalance,
    StockDocument,
    StockDocumentLine,
    StockMove,
    StockSnapshot,
    Warehouse,
)
from .valuation import ZERO, money
from .valuation import quantity as round_quantity
from .valuation import unit_cost as round_unit_cost

MAX_AMOUNT = Decimal("99999999999")  # 11 integer digits: quantity (15, 4) and cost (15, 6) both fit


# ----------------------------------------------------------------------------------------------- helpers


def ensure_transition(current: str, target: str) -> None:
    if target not in DOCUMENT_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(
            f"A {DocumentStatus(current).label.lower()} document cannot become {DocumentStatus(target).label.lower()}",
            current=current, target=target,
        )


def _decimal(errors: dict, field: str, value: Any, *, places: int, allow_zero: bool = False, required: bool = True) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors.setdefault(field, []).append("This field is required")
        return None
    if isinstance(value, float | bool):
        value = str(value) if isinstance(value, float) else "x"
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append("Enter a number")
        return None
    if not number.is_finite():
        errors.setdefault(field, []).append("Enter a number")
    elif number < 0 or (number == 0 and not allow_zero):
        errors.setdefault(field, []).append("Must be zero or more" if allow_zero else "Must be greater than zero")
    elif number.normalize().as_tuple().exponent < -places:  # type: ignore[operator]
        errors.setdefault(field, []).append(f"At most {places} decimal places")
    elif number > MAX_AMOUNT:
        errors.setdefault(field, []).append("Too large: at most 11 digits before the decimal point")
    else:
        return number
    return None


def _date(errors: dict, field: str, value: Any, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append("This field is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(field, []).append("Enter a date as YYYY-MM-DD")
        return None


def _get(errors: dict, field: str, model, value, *, required: bool, queryset=None):
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append("This field is required")
        return None
    if isinstance(value, model):
        return value
    found = (queryset if queryset is not None else model.objects).filter(pk=value).first() if str(value).isdigit() else None
    if found is None:
        errors.setdefault(field, []).append(f"Unknown {model._meta.verbose_name} {value}")
    return found


def last_closed_day() -> dt.date | None:
    month = PeriodClose.objects.order_by("-month").values_list("month", flat=True).first()
    if month is None:
        return None
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def ensure_open_period(on: dt.date, *, field: str = "date") -> None:
    closed = last_closed_day()
    if closed is not None and on <= closed:
        raise ValidationError({field: [f"The period up to {closed.isoformat()} is closed; choose a later date"]})


# ----------------------------------------------------------------------------------------------- locations


@transaction.atomic
def warehouse_create(*, actor: User, code: str, name: str, address: str = "") -> Warehouse:
    errors: dict[str, list[str]] = {}
    code, name, address = (code or "").strip(), (name or "").strip(), (address or "").strip()
    if not code:
        errors.setdefault("code", []).append("This field is required")
    elif len(code) > 16:
        errors.setdefault("code", []).append("At most 16 characters")
    elif Warehouse.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(f"A warehouse with the code {code} already exists")
    if not name:
        errors.setdefault("name", []).append("This field is required")
    elif len(name) > 200:
        errors.setdefault("name", []).append("At most 200 characters")
    if len(address) > 500:
        errors.setdefault("address", []).append("At most 500 characters")
    if errors:
        raise ValidationError(errors)
    warehouse = Warehouse.objects.create(code=code, name=name, address=address)
    Location.objects.create(name=name, code="", kind=LocationKind.INTERNAL, warehouse=warehouse, path=code)
    audit.record(actor=actor, action=AuditAction.CREATE, target=warehouse, changes=audit.snapshot(warehouse))
    return warehouse


def warehouse_root(warehouse: Warehouse) -> Location:
    return Location.objects.get(warehouse=warehouse, parent__isnull=True)


@transaction.atomic
def location_create(*, actor: User, parent_id: int, name: str, code: str = "") -> Location:
    errors: dict[str, list[str]] = {}
    parent = _get(errors, "parent", Location, parent_id, required=True)
    name, code = (name or "").strip(), (code or "").strip()
    if parent is not None and parent.kind != LocationKind.INTERNAL:
        errors.setdefault("parent", []).append("Zones and bins go inside a warehouse location, not a virtual one")
    if not name:
        errors.setdefault("name", []).append("This field is required")
    elif len(name) > 200:
        errors.setdefault("name", []).append("At most 200 characters")
    if len(code) > 32:
        errors.setdefault("code", []).append("At most 32 characters")
    elif code and parent is not None and Location.objects.filter(warehouse_id=parent.warehouse_id, code=code).exists():
        errors.setdefault("code", []).append(f"The code {code} is already used in this warehouse")
    if errors:
        raise ValidationError(errors)
    location = Location.objects.create(
        name=name, code=code, kind=LocationKind.INTERNAL, warehouse_id=parent.warehouse_id, parent=parent,
        path=f"{parent.path} / {name}"[:500],
    )
    audit.record(actor=actor, action=AuditAction.CREATE, target=location, changes=audit.snapshot(location))
    return location


def virtual_location(kind: str) -> Location:
    """The company's virtual location of this kind, created on first use."""
    if kind == LocationKind.INTERNAL or kind not in LocationKind.values:
        raise ValueError(f"not a virtual location kind: {kind}")
    location = Location.objects.filter(kind=kind).first()
    if location is None:
        try:
            with transaction.atomic():
                label = str(LocationKind(kind).label)
                location = Location.objects.create(name=label, kind=kind, path=f"[{label}]")
        except IntegrityError:
            location = Location.objects.get(kind=kind)
    return location


# ----------------------------------------------------------------------------------------------- documents

DOCUMENT_FIELDS = ("date", "counterparty", "currency", "exchange_rate", "from_location", "to_location", "reference", "notes")


def _check_location(errors: dict, field: str, location: Location | None, allowed: tuple[str, ...] | None) -> None:
    if location is None:
        return
    kinds = allowed or tuple(VALUED_KINDS)
    if location.kind not in kinds:
        names = ", ".join(str(LocationKind(kind).label) for kind in kinds)
        errors.setdefault(field, []).append(f"This document needs a location of kind: {names}")
    elif not location.is_active:
        errors.setdefault(field, []).append("This location is archived")


def _clean_document(data: dict[str, Any], *, document_type: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "date" in data:
        cleaned["date"] = _date(errors, "date", data["date"], required=True)
    if "counterparty" in data:
        cleaned["counterparty"] = _get(errors, "counterparty", Counterparty, data["counterparty"], required=False)
    if "currency" in data:
        currency = (data["currency"] or "").strip().upper()
        if currency and (len(currency) != 3 or not currency.isalpha()):
            errors.setdefault("currency", []).append("Use a three-letter ISO 4217 code, e.g. EUR")
        elif currency and document_type not in INCOMING_TYPES:
            errors.setdefault("currency", []).append("Only receipts and returns from customers carry a currency")
        cleaned["currency"] = currency
    if "exchange_rate" in data:
        rate = _decimal(errors, "exchange_rate", data["exchange_rate"], places=6, required=False)
        cleaned["exchange_rate"] = rate if rate is not None else Decimal(1)
    source, target = DOCUMENT_ROUTES[document_type]
    for field, allowed in (("from_location", source), ("to_location", target)):
        if field in data:
            location = _get(errors, field, Location, data[field], required=False)
            _check_location(errors, field, location, allowed)
            cleaned[field] = location
    for field, limit in (("reference", 64), ("notes", 10000)):
        if field in data:
            cleaned[field] = (data[field] or "").strip()
            if len(cleaned[field]) > limit:
                errors.setdefault(field, []).append(f"At most {limit} characters")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def stock_document_create(*, actor: User, document_type: str, data: dict[str, Any]) -> StockDocument:
    if document_type not in DocumentType.values:
        raise ValidationError({"document_type": [f"Must be one of: {', '.join(DocumentType.values)}"]})
    data = {"date": timezone.localdate(), **{key: value for key, value in data.items() if key in DOCUMENT_FIELDS}}
    cleaned = _clean_document(data, document_type=document_type)
    document = StockDocument.objects.create(document_type=document_type, author=actor, **cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=document, changes=audit.snapshot(document))
    return document


def _draft(document_id: int) -> StockDocument:
    document = locks.documents().filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Stock document {document_id} not found")
    if document.status != DocumentStatus.DRAFT:
        raise InvalidTransition("Only a draft can be edited; cancel a posted document instead", status=document.status)
    return document


@transaction.atomic
def stock_document_update(*, actor: User, document_id: int, data: dict[str, Any]) -> StockDocument:
    document = _draft(document_id)
    cleaned = _clean_document({key: value for key, value in data.items() if key in DOCUMENT_FIELDS}, document_type=document.document_type)
    before = audit.snapshot(document)
    for field, value in cleaned.items():
        setattr(document, field, value)
    document.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, target=document, changes=audit.diff(before, audit.snapshot(document)))
    return document


def fefo_allocation(*, product: Product, location: Location, quantity: Decimal, exclude_reference: str = "") -> list[tuple[Lot, Decimal]]:
    """Split `quantity` over the lots at `location` (and its sublocations' balances are separate) by first expiry,
    using what is available (on hand − reserved). Lots without an expiry date go last, oldest first."""
    balances = (
        StockBalance.objects.filter(product=product, location=location, lot__isnull=False, quantity__gt=F("reserved_quantity"))
        .select_related("lot")
        .order_by(F("lot__expiry_date").asc(nulls_last=True), "lot__created_at", "lot_id")
    )
    plan: list[tuple[Lot, Decimal]] = []
    left = quantity
    for balance in balances:
        if left <= 0:
            break
        take = min(left, balance.quantity - balance.reserved_quantity)
        plan.append((balance.lot, take))
        left -= take
    if left > 0:
        available = quantity - left
        raise Conflict(
            f"Not enough {product.sku} in lots at {location}: {available.normalize():f} available, {quantity.normalize():f} needed",
            code="insufficient_stock", field="quantity", available=str(available),
        )
    return plan


def _resolve_line(document: StockDocument, data: dict[str, Any], errors: dict) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    product = unit = None
    if data.get("barcode"):
        try:
            product, unit = product_by_barcode(data["barcode"])
        except NotFound as error:
            errors.setdefault("barcode", []).append(error.message)
    else:
        product = _get(errors, "product", Product, data.get("product"), required=True)
    if product is not None:
        if not product.is_stockable:
            errors.setdefault("product", []).append(f"{product.sku} is a {product.get_kind_display().lower()} and is not kept in stock")
        elif not product.is_active:
            errors.setdefault("product", []).append(f"{product.sku} is archived")
    if data.get("unit") not in (None, ""):
        unit = _get(errors, "unit", Unit, data.get("unit"), required=True)
    elif unit is None and product is not None:
        unit = product.purchase_unit if document.document_type == DocumentType.RECEIPT and product.purchase_unit_id else product.stock_unit
    is_count = document.document_type == DocumentType.COUNT
    amount = _decimal(errors, "quantity", data.get("quantity", "1" if data.get("barcode") else None), places=4, allow_zero=is_count)
    if amount is not None and unit is not None and amount.normalize().as_tuple().exponent < -unit.decimal_places:  # type: ignore[operator]
        if unit.decimal_places == 0:
            errors.setdefault("quantity", []).append(f"{unit.code} must be a whole number")
        else:
            errors.setdefault("quantity", []).append(f"{unit.code} allows at most {unit.decimal_places} decimal places")
    cost = _decimal(errors, "unit_cost", data.get("unit_cost"), places=6, allow_zero=True, required=document.document_type == DocumentType.RECEIPT)
    if cost is not None and document.document_type not in (*INCOMING_TYPES, DocumentType.COUNT):
        errors.setdefault("unit_cost", []).append("Only receipts, returns from customers and counts take a unit cost")
    source, target = DOCUMENT_ROUTES[document.document_type]
    for field, allowed in (("from_location", source), ("to_location", target)):
        if data.get(field) not in (None, ""):
            location = _get(errors, field, Location, data[field], required=False)
            _check_location(errors, field, location, allowed)
            cleaned[field] = location
    if errors or product is None or unit is None or amount is None:
        return {}
    try:
        factor = conversion_factor(product=product, unit=unit)
    except ValidationError as error:
        errors.update(error.errors)
        return {}
    stock_amount = round_quantity(amount * factor)
    if stock_amount == 0 and not is_count:
        errors.setdefault("quantity", []).append("Too small: rounds to zero in the stock unit")
    cleaned.update(
        product=product, unit=unit, quantity=round_quantity(amount), stock_quantity=stock_amount,
        unit_cost=round_unit_cost(cost) if cost is not None else None,
    )
    if is_count:
        cleaned["counted_quantity"] = stock_amount
    # tracking
    serial = (data.get("serial") or "").strip()
    if product.tracking == Tracking.SERIAL:
        if stock_amount != 1 and not (is_count and stock_amount == 0):
            errors.setdefault("quantity", []).append("A serial-tracked product goes one unit per line")
        if not serial:
            errors.setdefault("serial", []).append(f"{product.sku} is tracked by serial number: enter it")
        elif len(serial) > 100:
            errors.setdefault("serial", []).append("At most 100 characters")
        cleaned["serial"] = serial
    elif serial:
        errors.setdefault("serial", []).append(f"{product.sku} is not tracked by serial number")
    lot_fields = ("lot", "lot_code", "production_date", "expiry_date")
    if product.tracking == Tracking.LOT:
        cleaned["lot"] = _line_lot(document, product, data, errors)
    elif any(data.get(field) not in (None, "") for field in lot_fields):
        errors.setdefault("lot", []).append(f"{product.sku} is not tracked by lot")
    return cleaned


def _line_lot(document: StockDocument, product: Product, data: dict[str, Any], errors: dict) -> Lot | None:
    if data.get("lot") not in (None, ""):
        lot = _get(errors, "lot", Lot, data["lot"], required=True)
        if lot is not None and lot.product_id != product.pk:
            errors.setdefault("lot", []).append(f"Lot {lot.code} belongs to another product")
        return lot
    code = (data.get("lot_code") or "").strip()
    if not code:
        if document.document_type in INCOMING_TYPES or document.document_type == DocumentType.COUNT:
            errors.setdefault("lot_code", []).append(f"{product.sku} is tracked by lot: enter the lot")
        return None  # outgoing: first expiry, first out (the line is split over lots)
    if len(code) > 64:
        errors.setdefault("lot_code", []).append("At most 64 characters")
        return None
    production = _date(errors, "production_date", data.get("production_date"), required=False)
    expiry = _date(errors, "expiry_date", data.get("expiry_date"), required=False)
    lot = Lot.objects.filter(product=product, code=code).first()
    if lot is not None:
        if (production and lot.production_date and production != lot.production_date) or (expiry and lot.expiry_date and expiry != lot.expiry_date):
            errors.setdefault("lot_code", []).append(f"Lot {code} exists with other dates")
        return lot
    if document.document_type not in INCOMING_TYPES and document.document_type != DocumentType.COUNT:
        errors.setdefault("lot_code", []).append(f"There is no lot {code} of {product.sku}")
        return None
    if expiry is None and production is not None and product.shelf_life_days:
        expiry = production + dt.timedelta(days=product.shelf_life_days)
    if production and expiry and expiry < production:
        errors.setdefault("expiry_date", []).append("Must not be before the production date")
    if errors:
        return None
    return Lot.objects.create(product=product, code=code, production_date=production, expiry_date=expiry)


@transaction.atomic
def stock_document_add_line(*, actor: User, document_id: int, data: dict[str, Any]) -> list[StockDocumentLine]:
    """Add a line (or, for an outgoing lot-tracked product without a lot, one line per lot by first expiry)."""
    document = _draft(document_id)
    errors: dict[str, list[str]] = {}
    cleaned = _resolve_line(document, data, errors)
    if errors:
        raise ValidationError(errors)
    product = cleaned["product"]
    position = (document.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    splits: list[dict[str, Any]] = [cleaned]
    if product.tracking == Tracking.LOT and cleaned.get("lot") is None:
        source = cleaned.get("from_location") or document.from_location
        if source is None:
            raise ValidationError({"from_location": ["Choose the location to take the goods from"]})
        factor = cleaned["quantity"] / cleaned["stock_quantity"]
        splits = [
            {**cleaned, "lot": lot, "stock_quantity": share, "quantity": round_quantity(share * factor)}
            for lot, share in fefo_allocation(product=product, location=source, quantity=cleaned["stock_quantity"])
        ]
    lines = []
    for offset, values in enumerate(splits):
        lines.append(StockDocumentLine.objects.create(document=document, position=position + offset, **values))
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=document,
        changes={"lines": [None, [f"{product.sku} × {line.stock_quantity.normalize():f}" for line in lines]]}, message="line added",
    )
    return lines


@transaction.atomic
def stock_document_remove_line(*, actor: User, document_id: int, line_id: int) -> None:
    document = _draft(document_id)
    line = document.lines.filter(pk=line_id).select_related("product").first()
    if line is None:
        raise NotFound(f"Line {line_id} not found in this document")
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=document,
        changes={"lines": [f"{line.product.sku} × {line.stock_quantity.normalize():f}", None]}, message="line removed",
    )
    line.delete()


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


def _line_locations(document: StockDocument, line: StockDocumentLine, virtual: dict[str, int]) -> tuple[int, int | None]:
    """The ids of the locations a line's goods leave and go to (the line's own, else the document's, else the virtual
    location of the document's route). Ids only: a 500-line document loads no Location per line."""
    source, target = DOCUMENT_ROUTES[document.document_type]
    defaults = {
        DocumentType.ISSUE: LocationKind.CUSTOMER,
        DocumentType.WRITE_OFF: LocationKind.SCRAP,
        DocumentType.SUPPLIER_RETURN: LocationKind.SUPPLIER,
    }
    from_location = line.from_location_id or document.from_location_id
    to_location = line.to_location_id or document.to_location_id
    if source is not None and len(source) == 1 and from_location is None:
        if source[0] not in virtual:
            virtual[source[0]] = virtual_location(source[0]).pk
        from_location = virtual[source[0]]
    if target is not None and to_location is None:
        kind = defaults.get(document.document_type, target[0])
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
    lines = list(document.lines.order_by("position", "id"))
    if not lines:
        raise ValidationError({"lines": ["Add at least one line before posting"]})
    from fabrika.core.selectors import company_settings

    rate = _exchange_rate(document, company_settings().base_currency) if document.document_type in INCOMING_TYPES else Decimal(1)
    methods = valuation_methods({line.product_id for line in lines}, default=policy.default_valuation_method)
    moves: list[Move] = []
    serial_moves: list[tuple[Move, StockDocumentLine]] = []
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
        _fulfil_reservations(document, moves, result.balances)
        _move_serials(serial_moves)
    line_costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        line_costs[move.line_id] += move.value  # type: ignore[index]
    for line in lines:
        line.cost = line_costs.get(line.pk, ZERO)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {StockDocumentLine._meta.db_table} SET cost = %s, expected_quantity = %s WHERE id = %s",
            [(line.cost, line.expected_quantity, line.pk) for line in lines],
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


def _attach_serials(document: StockDocument, serial_moves: list[tuple[Move, StockDocumentLine]], valued: set[int]) -> None:
    if not serial_moves:
        return
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
                errors.append(f"{line.product.sku} {line.serial} is already in stock at {serial.location}")
                continue
            if serial is None:
                serial = SerialNumber.objects.create(product_id=line.product_id, serial=line.serial, location_id=move.from_location_id)
        else:
            if serial is None or serial.location_id != move.from_location_id:
                where = f"is at {serial.location}" if serial is not None else "is unknown"
                errors.append(f"{line.product.sku} {line.serial} {where}, not at the line's location")
                continue
            if serial.reserved_reference and serial.reserved_reference != document.reference:
                errors.append(f"{line.product.sku} {line.serial} is reserved for {serial.reserved_reference}")
                continue
        move.serial_id = serial.pk
    if errors:
        raise ValidationError({"serial": errors})


def _move_serials(serial_moves: list[tuple[Move, StockDocumentLine]]) -> None:
    if not serial_moves:
        return
    for move, _line in serial_moves:
        SerialNumber.objects.filter(pk=move.serial_id).update(location_id=move.to_location_id, reserved_reference="")


def _fulfil_reservations(document: StockDocument, moves: list[Move], locked: dict[tuple, Any]) -> None:
    """Outgoing moves first use the document's own reservations (by reference); what others reserved stays untouched.

    `locked` are the engine's locked balances (with their reserved quantity): keys nobody reserved need no query."""
    taken: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        taken[(move.product_id, move.from_location_id, move.lot_id)] += move.quantity
    reserved_keys = [key for key in taken if key in locked and locked[key].reserved_quantity > 0]
    if not reserved_keys:
        return
    rows = {
        (row.product_id, row.location_id, row.lot_id): row
        for row in StockBalance.objects.filter(product_id__in={key[0] for key in reserved_keys}, reserved_quantity__gt=0)
    }
    now = timezone.now()
    for key, amount in taken.items():
        balance = rows.get(key)
        if balance is None:
            continue
        if document.reference:
            for reservation in Reservation.objects.select_for_update().filter(
                product_id=key[0], location_id=key[1], lot_id=key[2], reference=document.reference, status=ReservationStatus.ACTIVE
            ).order_by("id"):
                if amount <= 0:
                    break
                used = min(amount, reservation.quantity)
                amount -= used
                balance.reserved_quantity -= used
                if used == reservation.quantity:
                    reservation.status, reservation.closed_at = ReservationStatus.FULFILLED, now
                    reservation.save(update_fields=["status", "closed_at"])
                else:
                    reservation.quantity -= used
                    reservation.save(update_fields=["quantity"])
            StockBalance.objects.filter(pk=balance.pk).update(reserved_quantity=balance.reserved_quantity)
        fresh = StockBalance.objects.get(pk=balance.pk)
        if fresh.quantity < fresh.reserved_quantity:
            location = Location.objects.get(pk=key[1])
            free = max(fresh.quantity + taken[key] - fresh.reserved_quantity, ZERO)
            raise Conflict(
                f"Stock at {location} is reserved for other documents: {free.normalize():f} free, {taken[key].normalize():f} needed",
                code="stock_reserved", location=str(location), available=str(free),
            )


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


# ----------------------------------------------------------------------------------------------- periods


@transaction.atomic
def period_close(*, actor: User, month: dt.date | str) -> PeriodClose:
    """Close a month (and every month before it): no posting may be dated on or before its last day. Stores a stock
    snapshot at the month end so reports at a past date start from it."""
    errors: dict[str, list[str]] = {}
    month = _date(errors, "month", month, required=True)
    if errors:
        raise ValidationError(errors)
    month = month.replace(day=1)  # type: ignore[union-attr]
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    if last_day >= timezone.localdate():
        raise ValidationError({"month": ["Only a month that has ended can be closed"]})
    closed = last_closed_day()
    if closed is not None and last_day <= closed:
        raise ValidationError({"month": [f"The period up to {closed.isoformat()} is already closed"]})
    from .selectors import stock_on_hand_rows

    period = PeriodClose.objects.create(month=month, closed_by=actor)
    StockSnapshot.objects.bulk_create(
        [
            StockSnapshot(date=last_day, product_id=product_id, location_id=location_id, lot_id=lot_id, quantity=qty, value=value)
            for (product_id, location_id, lot_id), (qty, value) in stock_on_hand_rows(at=last_day).items()
            if qty or value
        ],
        batch_size=2000,
    )
    audit.record(actor=actor, action=AuditAction.OTHER, target=period, message=f"stock period closed up to {last_day.isoformat()}")
    return period


@transaction.atomic
def period_reopen(*, actor: User, month: dt.date | str) -> None:
    """Reopen a month and every later one (their snapshots go with them)."""
    errors: dict[str, list[str]] = {}
    month = _date(errors, "month", month, required=True)
    if errors:
        raise ValidationError(errors)
    month = month.replace(day=1)  # type: ignore[union-attr]
    periods = PeriodClose.objects.filter(month__gte=month)
    if not periods.exists():
        raise ValidationError({"month": ["This month is not closed"]})
    StockSnapshot.objects.filter(date__gte=month).delete()
    for period in periods:
        audit.record(actor=actor, action=AuditAction.OTHER, target=period, message="stock period reopened")
    periods.delete()


__all__ = [
    "StockPolicy", "ensure_open_period", "fefo_allocation", "location_create", "period_close", "period_reopen",
    "reservation_create", "reservation_release", "stock_document_add_line", "stock_document_cancel", "stock_document_create",
    "stock_document_post", "stock_document_remove_line", "stock_document_update", "stock_policy_from", "virtual_location",
    "warehouse_create",
]
