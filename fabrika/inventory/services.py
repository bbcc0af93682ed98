"""Inventory writes: warehouses and locations, stock documents (draft → posted → cancelled), lots, reservations
and closed periods. Every function runs in one transaction, records an audit row and, for documents, an event."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fabrika.catalog.enums import Tracking
from fabrika.catalog.models import Product, Unit
from fabrika.catalog.selectors import conversion_factor, product_by_barcode
from fabrika.core import audit
from fabrika.core.db import insert_many
from fabrika.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.parties.models import Counterparty

from . import locks
from .engine import StockPolicy
from .enums import (
    DOCUMENT_ROUTES,
    DOCUMENT_TRANSITIONS,
    INCOMING_TYPES,
    VALUED_KINDS,
    DocumentStatus,
    DocumentType,
    LocationKind,
)
from .models import (
    Location,
    Lot,
    PeriodClose,
    StockBalance,
    StockDocument,
    StockDocumentLine,
    StockSnapshot,
    Warehouse,
)
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


class _Refs:
    """The products, units, locations and lots a batch of lines names by id, each table read once; `get` then
    behaves like `_get` without a query per line."""

    FIELDS = (("product", Product), ("unit", Unit), ("from_location", Location), ("to_location", Location), ("lot", Lot))

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        wanted: dict[type, set[int]] = defaultdict(set)
        for data in lines:
            for field, model in self.FIELDS:
                value = data.get(field)
                if value not in (None, "") and not isinstance(value, model) and str(value).isdigit():
                    wanted[model].add(int(value))
        self.rows = {model: model.objects.in_bulk(ids) for model, ids in wanted.items()}

    def get(self, errors: dict, field: str, model, value, *, required: bool):
        if value in (None, "") or isinstance(value, model) or model not in self.rows:
            return _get(errors, field, model, value, required=required)
        found = self.rows[model].get(int(value)) if str(value).isdigit() else None
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


def _resolve_line(document: StockDocument, data: dict[str, Any], errors: dict, refs: _Refs) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    product = unit = None
    if data.get("barcode"):
        try:
            product, unit = product_by_barcode(data["barcode"])
        except NotFound as error:
            errors.setdefault("barcode", []).append(error.message)
    else:
        product = refs.get(errors, "product", Product, data.get("product"), required=True)
    if product is not None:
        if not product.is_stockable:
            errors.setdefault("product", []).append(f"{product.sku} is a {product.get_kind_display().lower()} and is not kept in stock")
        elif not product.is_active:
            errors.setdefault("product", []).append(f"{product.sku} is archived")
    if data.get("unit") not in (None, ""):
        unit = refs.get(errors, "unit", Unit, data.get("unit"), required=True)
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
            location = refs.get(errors, field, Location, data[field], required=False)
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
        cleaned["lot"] = _line_lot(document, product, data, errors, refs)
    elif any(data.get(field) not in (None, "") for field in lot_fields):
        errors.setdefault("lot", []).append(f"{product.sku} is not tracked by lot")
    return cleaned


def _line_lot(document: StockDocument, product: Product, data: dict[str, Any], errors: dict, refs: _Refs) -> Lot | None:
    if data.get("lot") not in (None, ""):
        lot = refs.get(errors, "lot", Lot, data["lot"], required=True)
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
    return _add_lines(actor=actor, document_id=document_id, lines=[data], prefix=False)[0]


@transaction.atomic
def stock_document_add_lines(*, actor: User, document_id: int, lines: list[dict[str, Any]]) -> list[list[StockDocumentLine]]:
    """Add many lines at once (documents other services build, e.g. a shipment's issue): each line is checked as
    `stock_document_add_line` checks it, the rows they name are read once per table, errors are keyed
    `lines.<index>.<field>` and nothing is added unless every line is valid. Returns the lines made of each."""
    return _add_lines(actor=actor, document_id=document_id, lines=lines, prefix=True)


def _add_lines(*, actor: User, document_id: int, lines: list[dict[str, Any]], prefix: bool) -> list[list[StockDocumentLine]]:
    document = _draft(document_id)
    if not lines:
        raise ValidationError({"lines": ["Add at least one line"]})
    refs = _Refs(lines)
    errors: dict[str, list[str]] = {}
    resolved: list[dict[str, Any]] = []
    for index, data in enumerate(lines):
        line_errors: dict[str, list[str]] = {}
        resolved.append(_resolve_line(document, data, line_errors, refs))
        for field, messages in line_errors.items():
            errors.setdefault(f"lines.{index}.{field}" if prefix else field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    position = (document.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    made: list[list[StockDocumentLine]] = []
    for index, cleaned in enumerate(resolved):
        product = cleaned["product"]
        splits: list[dict[str, Any]] = [cleaned]
        if product.tracking == Tracking.LOT and cleaned.get("lot") is None:
            source = cleaned.get("from_location") or document.from_location
            if source is None:
                raise ValidationError({f"lines.{index}.from_location" if prefix else "from_location": ["Choose the location to take the goods from"]})
            factor = cleaned["quantity"] / cleaned["stock_quantity"]
            splits = [
                {**cleaned, "lot": lot, "stock_quantity": share, "quantity": round_quantity(share * factor)}
                for lot, share in fefo_allocation(product=product, location=source, quantity=cleaned["stock_quantity"])
            ]
        made.append([StockDocumentLine(document=document, position=position + offset, **values) for offset, values in enumerate(splits)])
        position += len(splits)
    StockDocumentLine.objects.bulk_create([line for group in made for line in group])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=document,
        changes={"lines": [None, [f"{line.product.sku} × {line.stock_quantity.normalize():f}" for group in made for line in group]]},
        message="line added" if len(lines) == 1 else f"{len(lines)} lines added",
    )
    return made


def stock_documents_create_many(
    *, actor: User, document_type: str, documents: list[dict[str, Any]], record: bool = True
) -> list[tuple[StockDocument, list[list[StockDocumentLine]]]]:
    """Create many draft documents of one type with their lines (a shipment wave's issues): each `{"data": header,
    "lines": [line, ...]}` is checked as `stock_document_create` and `stock_document_add_lines` check it, the rows the
    lines name are read once for all of them, errors are keyed `documents.<index>.<field>` and
    `documents.<index>.lines.<line>.<field>`, and nothing is written unless everything is valid. Returns each document
    with the lines made of each of its input lines. `record=False`: no *create* history row — for a caller that posts
    the documents in the same transaction (their *post* row is their history)."""
    if document_type not in DocumentType.values:
        raise ValidationError({"document_type": [f"Must be one of: {', '.join(DocumentType.values)}"]})
    refs = _Refs([line for document in documents for line in document.get("lines") or []])
    errors: dict[str, list[str]] = {}
    drafts: list[tuple[StockDocument, list[dict[str, Any]]]] = []
    for index, item in enumerate(documents):
        data = {"date": timezone.localdate(), **{key: value for key, value in item.get("data", {}).items() if key in DOCUMENT_FIELDS}}
        try:
            document = StockDocument(document_type=document_type, author=actor, **_clean_document(data, document_type=document_type))
        except ValidationError as error:
            for key, messages in error.errors.items():
                errors.setdefault(f"documents.{index}.{key}", []).extend(messages)
            continue
        lines = item.get("lines") or []
        if not lines:
            errors.setdefault(f"documents.{index}.lines", []).append("Add at least one line")
        resolved: list[dict[str, Any]] = []
        for line_index, line in enumerate(lines):
            line_errors: dict[str, list[str]] = {}
            resolved.append(_resolve_line(document, line, line_errors, refs))
            for field, messages in line_errors.items():
                errors.setdefault(f"documents.{index}.lines.{line_index}.{field}", []).extend(messages)
        drafts.append((document, resolved))
    if errors:
        raise ValidationError(errors)
    made: list[tuple[StockDocument, list[list[StockDocumentLine]]]] = []
    for index, (document, resolved) in enumerate(drafts):
        groups: list[list[StockDocumentLine]] = []
        position = 1
        for line_index, cleaned in enumerate(resolved):
            splits: list[dict[str, Any]] = [cleaned]
            product = cleaned["product"]
            if product.tracking == Tracking.LOT and cleaned.get("lot") is None:
                source = cleaned.get("from_location") or document.from_location
                if source is None:
                    raise ValidationError({f"documents.{index}.lines.{line_index}.from_location": ["Choose the location to take the goods from"]})
                factor = cleaned["quantity"] / cleaned["stock_quantity"]
                splits = [
                    {**cleaned, "lot": lot, "stock_quantity": share, "quantity": round_quantity(share * factor)}
                    for lot, share in fefo_allocation(product=product, location=source, quantity=cleaned["stock_quantity"])
                ]
            groups.append([StockDocumentLine(position=position + offset, **values) for offset, values in enumerate(splits)])
            position += len(splits)
        made.append((document, groups))
    insert_many([document for document, _groups in made])
    for document, groups in made:
        for group in groups:
            for line in group:
                line.document = document
    insert_many([line for _document, groups in made for group in groups for line in group])
    if record:
        audit.record_many(actor=actor, action=AuditAction.CREATE, entries=[
            (document, {**audit.snapshot(document), "lines": [f"{line.product.sku} × {line.stock_quantity.normalize():f}" for group in groups for line in group]})
            for document, groups in made
        ])
    return made


LINE_EDIT_FIELDS = ("quantity", "unit", "unit_cost", "lot", "lot_code", "production_date", "expiry_date", "serial", "from_location", "to_location")


def _line_text(line: StockDocumentLine) -> str:
    tracking = f" [{line.lot.code}]" if line.lot_id else (f" [{line.serial}]" if line.serial else "")
    cost = f" @ {line.unit_cost.normalize():f}" if line.unit_cost is not None else ""
    return f"{line.product.sku} × {line.quantity.normalize():f} {line.unit.code}{tracking}{cost}"


@transaction.atomic
def stock_document_update_line(*, actor: User, document_id: int, line_id: int, data: dict[str, Any]) -> StockDocumentLine:
    """Change a draft's line in place (its position stays): quantity, unit, unit cost, lot, serial, locations. Every
    rule of `stock_document_add_line` applies to the line as it would become; its product does not change (remove the
    line and add another), and an edited outgoing lot line names its lot (adding splits by first expiry, editing does
    not)."""
    document = _draft(document_id)
    line = document.lines.select_related("product", "unit", "lot").filter(pk=line_id).first()
    if line is None:
        raise NotFound(f"Line {line_id} not found in this document")
    errors: dict[str, list[str]] = {}
    product = data.get("product")
    if (product not in (None, "") and str(getattr(product, "pk", product)) != str(line.product_id)) or data.get("barcode"):
        errors.setdefault("product", []).append("A line's product cannot change: remove the line and add another")
    changes = {field: data[field] for field in LINE_EDIT_FIELDS if field in data}
    is_count = document.document_type == DocumentType.COUNT
    merged: dict[str, Any] = {
        "product": line.product, "unit": line.unit,
        "quantity": line.counted_quantity if is_count else line.quantity,
        "unit_cost": line.unit_cost, "lot": line.lot, "serial": line.serial,
        "from_location": line.from_location_id, "to_location": line.to_location_id,
    }
    if any(field in changes for field in ("lot_code", "production_date", "expiry_date")) and "lot" not in changes:
        merged.pop("lot")  # a new lot code replaces the lot the line had
    merged.update(changes)
    cleaned = _resolve_line(document, merged, errors, _Refs([merged]))
    if not errors and line.product.tracking == Tracking.LOT and cleaned.get("lot") is None:
        errors.setdefault("lot", []).append("Choose the lot: an edited line is not split by first expiry (remove it and add it again for that)")
    if errors:
        raise ValidationError(errors)
    before = _line_text(line)
    for field in ("from_location", "to_location"):
        cleaned.setdefault(field, None)  # emptied: the document's own location applies
    for field, value in cleaned.items():
        setattr(line, field, value)
    line.save()
    after = _line_text(line)
    if after != before or changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=document, changes={"lines": [before, after]}, message="line changed")
    return line


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


# posting and reservations live in their own modules, which import this one; callers keep importing them from here,
# resolved on first use (PEP 562) so that importing any of the three first works
_MOVED = {
    "stock_document_cancel": "posting", "stock_document_post": "posting", "stock_documents_post_many": "posting", "stock_policy_from": "posting",
    "reservation_create": "reservations", "reservation_release": "reservations", "reservations_place": "reservations",
}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # and, resolved on first use, the names in _MOVED
    "StockPolicy", "ensure_open_period", "fefo_allocation", "location_create", "period_close", "period_reopen",
    "stock_document_add_line", "stock_document_add_lines", "stock_document_create", "stock_documents_create_many",
    "stock_document_remove_line", "stock_document_update", "stock_document_update_line", "virtual_location",
    "warehouse_create",
]
