"""Sales order writes: create and edit a draft, lines priced by the pricing engine with special discounts and their
approval, confirm (credit limit, stock reservations, the deal follows), cancel. Every function runs in one transaction
and records an audit row; rules in docs/design/sales.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fabrika.catalog.enums import Tracking
from fabrika.catalog.models import Product, Unit
from fabrika.catalog.selectors import conversion_factor, product_by_barcode
from fabrika.core import audit, events, numbering
from fabrika.core.audit import AuditAction
from fabrika.core.db import update_many
from fabrika.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from fabrika.core.models import Currency, ExchangeRate, User
from fabrika.core.selectors import company_settings
from fabrika.crm.models import Deal
from fabrika.crm.selectors_pipelines import deal_get_for_user
from fabrika.inventory import locks
from fabrika.inventory.enums import ReservationStatus
from fabrika.inventory.models import Lot, Reservation, SerialNumber, Warehouse
from fabrika.inventory.reservations import reservation_release, reservations_place
from fabrika.parties.models import Contact, Counterparty

from .credit import credit_check
from .deals import order_deal_follow
from .models import DiscountApproval, OrderStatus, SalesOrder, SalesOrderLine, Shipment, ShipmentStatus
from .selectors_orders import client_purchases, warehouse_location_ids
from .totals import ZERO, LineTerms, line_amounts, round_money

NUMBER_TYPE = "sales_order"
HUNDRED = Decimal(100)
MAX_AMOUNT = Decimal("99999999999")  # 11 digits before the point: (15, 4) quantities and (15, 2) money fit
QUANTITY_STEP = Decimal("0.0001")

ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.DONE, OrderStatus.CANCELLED}),
    OrderStatus.DONE: frozenset({OrderStatus.CONFIRMED}),  # a cancelled shipment or invoice reopens it (progress.py)
    OrderStatus.CANCELLED: frozenset(),
}
HEADER_FIELDS = (
    "counterparty", "contact", "deal", "responsible", "warehouse", "date", "currency", "exchange_rate", "price_type_code",
    "prices_include_tax", "expected_ship_date", "notes",
)
LINE_FIELDS = ("product", "barcode", "unit", "quantity", "price", "manual_discount_percent", "description")


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"


class ApprovalPending(Conflict):
    code = "approval_pending"


# ----------------------------------------------------------------------------------------------- helpers


def ensure_transition(current: str, target: str) -> None:
    if target not in ORDER_TRANSITIONS.get(current, frozenset()):
        raise InvalidTransition(
            _("A %(current)s order cannot become %(target)s") % {
                "current": OrderStatus(current).label.lower(), "target": OrderStatus(target).label.lower(),
            },
            current=current, target=target,
        )


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _decimal(errors: dict, field: str, value: Any, *, places: int, allow_zero: bool = True, maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    if value is None or value == "":
        _add(errors, field, _("This field is required"))
        return None
    if isinstance(value, bool):
        _add(errors, field, _("Enter a number"))
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        _add(errors, field, _("Enter a number"))
        return None
    if not number.is_finite():
        _add(errors, field, _("Enter a number"))
    elif number < 0 or (number == 0 and not allow_zero):
        _add(errors, field, _("Must be zero or more") if allow_zero else _("Must be greater than zero"))
    elif number.normalize().as_tuple().exponent < -places:  # type: ignore[operator]
        _add(errors, field, _("At most %(places)d decimal places") % {"places": places})
    elif number > maximum:
        _add(errors, field, _("At most %(maximum)s") % {"maximum": f"{maximum.normalize():f}"})
    else:
        return number
    return None


def _date(errors: dict, field: str, value: Any, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            _add(errors, field, _("This field is required"))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        _add(errors, field, _("Enter a date as YYYY-MM-DD"))
        return None


def _instance(errors: dict, field: str, model, value, *, queryset=None):
    """The row with this id (or the instance itself); an error naming the field when there is none."""
    if value in (None, ""):
        return None
    if isinstance(value, model):
        return value
    queryset = queryset if queryset is not None else model.objects.all()
    found = queryset.filter(pk=value).first() if str(value).isdigit() else None
    if found is None:
        _add(errors, field, _("Unknown %(what)s %(value)s") % {"what": model._meta.verbose_name, "value": value})
    return found


def _locked_order(order_id) -> SalesOrder:
    order = SalesOrder.objects.select_for_update().filter(pk=order_id).select_related("counterparty").first() if str(order_id).isdigit() else None
    if order is None:
        raise NotFound(_("Sales order %(id)s not found") % {"id": order_id})
    return order


def _draft(order_id) -> SalesOrder:
    order = _locked_order(order_id)
    if order.status != OrderStatus.DRAFT:
        raise InvalidTransition(
            _("Order %(number)s is %(status)s: only a draft can be changed") % {"number": order.number, "status": order.get_status_display().lower()},
            current=order.status,
        )
    return order


def _exchange_rate(errors: dict, currency: str, on: dt.date | None) -> Decimal:
    base = company_settings().base_currency
    if not currency or currency == base or on is None:
        return Decimal(1)
    rate = ExchangeRate.objects.filter(currency__code=currency, date__lte=on).order_by("-date").first()
    if rate is None:
        _add(errors, "exchange_rate", _("No exchange rate of %(currency)s on or before %(date)s: enter one") % {"currency": currency, "date": on.isoformat()})
        return Decimal(1)
    return (rate.rate / rate.nominal).quantize(Decimal("0.000001"))


def _price_type(code: str):
    if not code:
        return None
    from fabrika.pricing.models import PriceType

    return PriceType.objects.filter(code=code, is_active=True).first()


def _pricing_engine():
    """The pricing engine module, or None where the pricing app has no engine (orders then take explicit prices)."""
    try:
        from fabrika.pricing import engine
    except ImportError:  # pragma: no cover - the engine ships with the pricing app
        return None
    return engine


def discount_limit(user: User) -> Decimal:
    """The largest special discount % the user may give without approval (pricing: per user or role)."""
    engine = _pricing_engine()
    if engine is None:  # pragma: no cover
        return HUNDRED if user.is_superuser else ZERO
    return Decimal(engine.manual_discount_limit(user=user))


# ----------------------------------------------------------------------------------------------- header


def _clean_order(actor: User, data: dict[str, Any], *, existing: SalesOrder | None) -> dict[str, Any]:
    unknown = sorted(set(data) - set(HEADER_FIELDS))
    errors: dict[str, list[str]] = {name: [_("Unknown field")] for name in unknown}
    cleaned: dict[str, Any] = {}
    deal = None
    if "deal" in data:
        if data["deal"] not in (None, ""):
            try:
                deal = data["deal"] if isinstance(data["deal"], Deal) else deal_get_for_user(actor, data["deal"])
            except NotFound:
                _add(errors, "deal", _("Unknown deal %(value)s") % {"value": data["deal"]})
        cleaned["deal"] = deal
    elif existing is not None:
        deal = existing.deal
    # the client: given, else the deal's
    if "counterparty" in data or existing is None:
        value = data.get("counterparty") or (deal.counterparty_id if deal else None)
        counterparty = _instance(errors, "counterparty", Counterparty, value)
        if value in (None, ""):
            _add(errors, "counterparty", _("Choose the client"))
        elif counterparty is not None and not counterparty.is_active:
            _add(errors, "counterparty", _("%(name)s is archived") % {"name": counterparty.name})
        cleaned["counterparty"] = counterparty
    counterparty = cleaned.get("counterparty") or (existing.counterparty if existing else None)
    if deal is not None and counterparty is not None and deal.counterparty_id != counterparty.pk:
        _add(errors, "deal", _("The deal %(deal)s is with another client") % {"deal": deal.number})
    if "contact" in data or (existing is None and deal is not None):
        value = data.get("contact") if "contact" in data else (deal.contact_id if deal else None)
        contact = _instance(errors, "contact", Contact, value)
        if contact is not None and counterparty is not None and contact.counterparty_id != counterparty.pk:
            _add(errors, "contact", _("The contact does not belong to the client"))
        cleaned["contact"] = contact
    if "responsible" in data or existing is None:
        value = data.get("responsible")
        responsible = _instance(errors, "responsible", User, value, queryset=User.objects.filter(is_active=True)) if value not in (None, "") else (
            existing.responsible if existing else actor
        )
        cleaned["responsible"] = responsible
    if "warehouse" in data or existing is None:
        value = data.get("warehouse")
        active = Warehouse.objects.filter(is_active=True)
        if value in (None, ""):
            only = list(active[:2])
            if len(only) == 1 and existing is None:
                cleaned["warehouse"] = only[0]
            else:
                _add(errors, "warehouse", _("Choose the warehouse the goods ship from"))
        else:
            cleaned["warehouse"] = _instance(errors, "warehouse", Warehouse, value, queryset=active)
    if "date" in data or existing is None:
        cleaned["date"] = _date(errors, "date", data.get("date"), required=False) or (existing.date if existing else timezone.localdate())
    if "expected_ship_date" in data:
        cleaned["expected_ship_date"] = _date(errors, "expected_ship_date", data.get("expected_ship_date"), required=False)
    on = cleaned.get("date") or (existing.date if existing else None)
    if cleaned.get("expected_ship_date") and on and cleaned["expected_ship_date"] < on:
        _add(errors, "expected_ship_date", _("Must not be before the order date"))
    # price type and currency: given, else the client's price type (its currency and tax mode), else the company's
    if "price_type_code" in data or existing is None:
        code = str(data.get("price_type_code") or (counterparty.price_type_code if counterparty else "") or "").strip()
        price_type = _price_type(code)
        if code and price_type is None and data.get("price_type_code"):
            _add(errors, "price_type_code", _("Unknown price type %(code)s") % {"code": code})
        cleaned["price_type_code"] = price_type.code if price_type else ""
        if "prices_include_tax" not in data and price_type is not None:
            cleaned["prices_include_tax"] = price_type.prices_include_tax
    else:
        price_type = _price_type(existing.price_type_code)
    if "prices_include_tax" in data:
        value = data["prices_include_tax"]
        if not isinstance(value, bool):
            _add(errors, "prices_include_tax", _("Enter true or false"))
        cleaned["prices_include_tax"] = bool(value)
    if "currency" in data or existing is None:
        default = (deal.currency.code if deal is not None and deal.currency_id else "") or (price_type.currency if price_type else "")
        currency = str(data.get("currency") or default or company_settings().base_currency).strip().upper()
        if not Currency.objects.filter(code=currency).exists() and currency != company_settings().base_currency:
            _add(errors, "currency", _("Unknown currency %(code)s") % {"code": currency})
        cleaned["currency"] = currency
    currency = cleaned.get("currency") or (existing.currency if existing else "")
    if data.get("exchange_rate") not in (None, ""):
        rate = _decimal(errors, "exchange_rate", data["exchange_rate"], places=6, allow_zero=False, maximum=Decimal("999999999"))
        cleaned["exchange_rate"] = rate if currency != company_settings().base_currency else Decimal(1)
    elif "currency" in cleaned or "date" in cleaned:
        cleaned["exchange_rate"] = _exchange_rate(errors, currency, on)
    if "notes" in data:
        notes = data.get("notes") or ""
        if not isinstance(notes, str):
            _add(errors, "notes", _("Must be text"))
        elif len(notes) > 5000:
            _add(errors, "notes", _("At most %(limit)d characters") % {"limit": 5000})
        cleaned["notes"] = notes if isinstance(notes, str) else ""
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def sales_order_create(*, actor: User, data: dict[str, Any]) -> SalesOrder:
    """A draft order (from a deal: client, contact and currency come from it). Numbered at creation."""
    cleaned = _clean_order(actor, data, existing=None)
    order = SalesOrder(author=actor, **cleaned)
    order.number = numbering.next_number(NUMBER_TYPE, on=order.date)
    order.save()
    audit.record(actor=actor, action=AuditAction.CREATE, target=order, changes=audit.snapshot(order))
    events.record_event("sales.order.created", target=order, payload=_payload(order))
    return order


@transaction.atomic
def sales_order_update(*, actor: User, order_id: int, data: dict[str, Any]) -> SalesOrder:
    """Change a draft's header. A new price type, currency or date re-prices the lines from the engine."""
    order = _draft(order_id)
    cleaned = _clean_order(actor, data, existing=order)
    before = audit.snapshot(order)
    for field, value in cleaned.items():
        setattr(order, field, value)
    order.save()
    changes = audit.diff(before, audit.snapshot(order))
    if {"price_type_code", "currency", "date", "counterparty", "prices_include_tax"} & set(changes):
        for line in order.lines.select_related("product", "unit"):
            _reprice(order, line, keep_price=not ({"price_type_code", "currency", "counterparty"} & set(changes)))
    _recalculate(order)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=order, changes=changes)
    return order


def _payload(order: SalesOrder) -> dict[str, Any]:
    return {
        "number": order.number, "status": order.status, "counterparty_id": order.counterparty_id, "deal_id": order.deal_id,
        "total": str(order.total), "currency": order.currency,
    }


# ----------------------------------------------------------------------------------------------- lines


def _tax_rate(product: Product) -> Decimal:
    return product.vat_rate if product.vat_rate is not None else company_settings().default_vat_rate


def effective_discount(line: SalesOrderLine, automatic: Decimal) -> Decimal:
    """The larger of the automatic and the special discount; a rejected special discount does not count."""
    manual = line.manual_discount_percent if line.approval != DiscountApproval.REJECTED else ZERO
    return max(automatic, manual)


def quote_for_order(order: SalesOrder, product: Product, stock_quantity: Decimal):
    engine = _pricing_engine()
    if engine is None:  # pragma: no cover
        raise ValidationError({"price": [_("Enter the price: there is no price engine")]})
    return engine.quote_line(
        product_id=product.pk, quantity=stock_quantity, on=order.date, currency=order.currency, counterparty_id=order.counterparty_id,
        price_type_code=order.price_type_code, purchases=client_purchases(counterparty_id=order.counterparty_id),
    )


def _apply_quote(line: SalesOrderLine, quote, factor: Decimal) -> Decimal:
    """Take the engine's price, retail price and rule (per stock unit, converted to the line's unit); returns the
    engine's automatic discount %."""
    line.price = round_money(quote.price * factor)
    line.retail_price = round_money(quote.retail_price * factor)
    line.discount_rule = quote.rule[:300]
    return quote.discount_percent


def _automatic_of(order: SalesOrder, line: SalesOrderLine) -> Decimal:
    """The engine's automatic discount of a stored line. A line with no rule has none; when the stored discount is
    larger than the special one it is the automatic one; otherwise (the special discount won) the engine is asked."""
    if not line.discount_rule:
        return ZERO
    manual = line.manual_discount_percent if line.approval != DiscountApproval.REJECTED else ZERO
    if line.discount_percent > manual:
        return line.discount_percent
    try:
        return quote_for_order(order, line.product, line.stock_quantity).discount_percent
    except DomainError:
        return ZERO


def _amounts(order: SalesOrder, line: SalesOrderLine) -> None:
    terms = LineTerms(price=line.price, discount_percent=line.discount_percent, tax_rate=line.tax_rate, prices_include_tax=order.prices_include_tax)
    amounts = line_amounts(terms, line.quantity)
    line.discount_amount, line.amount, line.net_amount = amounts.discount, amounts.amount, amounts.net
    line.tax_amount, line.total = amounts.tax, amounts.total


def _recalculate(order: SalesOrder) -> None:
    """Store the order's totals: sums of its lines (no second rounding); the discount is counted against retail."""
    retail = discount = net = tax = total = ZERO
    for line in order.lines.all():
        line_retail = round_money(line.quantity * line.retail_price)
        retail += line_retail
        discount += line_retail - line.amount
        net += line.net_amount
        tax += line.tax_amount
        total += line.total
    order.retail_total, order.discount_total, order.net_total, order.tax_total, order.total = retail, discount, net, tax, total
    order.save(update_fields=["retail_total", "discount_total", "net_total", "tax_total", "total", "updated_at"])


def _approval_for(line: SalesOrderLine, actor: User, *, manual_changed: bool) -> None:
    if not manual_changed:
        return
    if line.manual_discount_percent > 0 and line.manual_discount_percent > discount_limit(actor):
        line.approval, line.approved_by = DiscountApproval.PENDING, None
    else:
        line.approval, line.approved_by = DiscountApproval.NOT_NEEDED, None


def _reprice(order: SalesOrder, line: SalesOrderLine, *, keep_price: bool) -> None:
    """Ask the engine again (quantity-dependent discounts, a new price type); a price typed by hand stays when `keep_price`."""
    factor = line.stock_quantity / line.quantity
    automatic = _automatic_of(order, line) if keep_price else _apply_quote(line, quote_for_order(order, line.product, line.stock_quantity), factor)
    line.discount_percent = effective_discount(line, automatic)
    _amounts(order, line)
    line.save()


def _clean_line(order: SalesOrder, data: dict[str, Any], errors: dict, *, existing: SalesOrderLine | None) -> dict[str, Any]:
    for name in sorted(set(data) - set(LINE_FIELDS)):
        _add(errors, name, _("Unknown field"))
    cleaned: dict[str, Any] = {}
    product = existing.product if existing else None
    unit = None
    if data.get("barcode"):
        try:
            product, unit = product_by_barcode(str(data["barcode"]).strip())
        except NotFound as error:
            _add(errors, "barcode", error.message)
    elif "product" in data or existing is None:
        if data.get("product") in (None, ""):
            _add(errors, "product", _("Choose the product"))
        product = _instance(errors, "product", Product, data.get("product"))
    if product is not None and not product.is_active:
        _add(errors, "product", _("%(sku)s is archived") % {"sku": product.sku})
    cleaned["product"] = product
    if data.get("unit") not in (None, ""):
        unit = _instance(errors, "unit", Unit, data["unit"])
    elif unit is None:
        unit = existing.unit if existing is not None and product == existing.product else (product.stock_unit if product else None)
    cleaned["unit"] = unit
    if "quantity" in data or existing is None:
        quantity = _decimal(errors, "quantity", data.get("quantity", "1" if data.get("barcode") else None), places=4, allow_zero=False)
    else:
        quantity = existing.quantity
    if quantity is not None and unit is not None and quantity % Decimal(1).scaleb(-unit.decimal_places) != 0:
        if unit.decimal_places == 0:
            _add(errors, "quantity", _("%(unit)s must be a whole number") % {"unit": unit.code})
        else:
            _add(errors, "quantity", _("%(unit)s allows at most %(places)d decimal places") % {"unit": unit.code, "places": unit.decimal_places})
    cleaned["quantity"] = quantity
    if data.get("price") not in (None, ""):
        cleaned["price"] = _decimal(errors, "price", data["price"], places=2)
    if "manual_discount_percent" in data:
        value = data["manual_discount_percent"]
        cleaned["manual_discount_percent"] = ZERO if value in (None, "") else _decimal(
            errors, "manual_discount_percent", value, places=4, maximum=HUNDRED
        )
    if "description" in data:
        description = data.get("description") or ""
        if not isinstance(description, str) or len(description) > 300:
            _add(errors, "description", _("At most %(limit)d characters") % {"limit": 300})
        cleaned["description"] = str(description)[:300]
    if product is not None and unit is not None and quantity is not None and not errors:
        try:
            factor = conversion_factor(product=product, unit=unit)
        except ValidationError as error:
            errors.update(error.errors)
        else:
            stock_quantity = (quantity * factor).quantize(QUANTITY_STEP)
            if stock_quantity == 0:
                _add(errors, "quantity", _("Too small: rounds to zero in the stock unit"))
            elif stock_quantity > MAX_AMOUNT:
                _add(errors, "quantity", _("Too large"))
            cleaned["stock_quantity"], cleaned["factor"] = stock_quantity, factor
    return cleaned


def _check_money(line: SalesOrderLine) -> None:
    if round_money(line.quantity * line.price) > MAX_AMOUNT or round_money(line.quantity * line.retail_price) > MAX_AMOUNT:
        raise ValidationError({"quantity": [_("The line's amount is too large")]})


@transaction.atomic
def sales_order_add_line(*, actor: User, order_id: int, data: dict[str, Any]) -> SalesOrderLine:
    """Add a line: the price from the engine unless given, the engine's discount and rule, the product's tax rate; a
    special discount above the actor's limit waits for approval."""
    order = _draft(order_id)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_line(order, data, errors, existing=None)
    if errors:
        raise ValidationError(errors)
    product, factor = cleaned["product"], cleaned.pop("factor")
    position = (order.lines.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    line = SalesOrderLine(order=order, position=position, tax_rate=_tax_rate(product), **{k: v for k, v in cleaned.items() if k != "price"})
    automatic = ZERO
    if "price" in cleaned:
        line.price = line.retail_price = cleaned["price"]
    else:
        automatic = _apply_quote(line, quote_for_order(order, product, line.stock_quantity), factor)
    _approval_for(line, actor, manual_changed=line.manual_discount_percent > 0)
    line.discount_percent = effective_discount(line, automatic)
    _check_money(line)
    _amounts(order, line)
    line.save()
    _recalculate(order)
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=order, message="line added",
        changes={"lines": [None, f"{product.sku} × {line.quantity.normalize():f} @ {line.price}"]},
    )
    return line


def _line_of(order: SalesOrder, line_id) -> SalesOrderLine:
    line = order.lines.select_related("product", "unit").filter(pk=line_id).first() if str(line_id).isdigit() else None
    if line is None:
        raise NotFound(_("Line %(id)s not found in order %(number)s") % {"id": line_id, "number": order.number})
    return line


@transaction.atomic
def sales_order_update_line(*, actor: User, order_id: int, line_id: int, data: dict[str, Any]) -> SalesOrderLine:
    """Change a draft's line. A new product, unit or quantity asks the engine again unless a price is given."""
    order = _draft(order_id)
    line = _line_of(order, line_id)
    errors: dict[str, list[str]] = {}
    cleaned = _clean_line(order, data, errors, existing=line)
    if errors:
        raise ValidationError(errors)
    before = audit.snapshot(line)
    factor = cleaned.pop("factor")
    automatic = _automatic_of(order, line)
    requote = "price" not in cleaned and (
        cleaned["product"] != line.product or cleaned["unit"] != line.unit or cleaned["quantity"] != line.quantity
    )
    product_changed = cleaned["product"] != line.product
    for field in ("product", "unit", "quantity", "stock_quantity", "description"):
        if field in cleaned:
            setattr(line, field, cleaned[field])
    if product_changed:
        line.tax_rate = _tax_rate(line.product)
    if "price" in cleaned:
        line.price = line.retail_price = cleaned["price"]
        line.discount_rule, automatic = "", ZERO
    elif requote:
        try:
            quote = quote_for_order(order, line.product, line.stock_quantity)
        except DomainError:
            if product_changed:
                raise
            quote = None  # no price list for the new quantity's date: the line keeps its price
        if quote is not None:
            automatic = _apply_quote(line, quote, factor)
    manual_changed = "manual_discount_percent" in cleaned and cleaned["manual_discount_percent"] != line.manual_discount_percent
    if "manual_discount_percent" in cleaned:
        line.manual_discount_percent = cleaned["manual_discount_percent"]
    _approval_for(line, actor, manual_changed=manual_changed)
    line.discount_percent = effective_discount(line, automatic)
    _check_money(line)
    _amounts(order, line)
    line.save()
    _recalculate(order)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=order, message="line changed", changes=audit.diff(before, audit.snapshot(line)))
    return line


@transaction.atomic
def sales_order_remove_line(*, actor: User, order_id: int, line_id: int) -> SalesOrder:
    order = _draft(order_id)
    line = _line_of(order, line_id)
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=order, message="line removed",
        changes={"lines": [f"{line.product.sku} × {line.quantity.normalize():f}", None]},
    )
    line.delete()
    _recalculate(order)
    return order


def _decide(*, actor: User, order_id: int, line_id: int, approve: bool) -> SalesOrderLine:
    if not actor.has_perm("sales.approve_discount"):
        raise PermissionDenied(_("Your role does not allow approving discounts"))
    order = _draft(order_id)
    line = _line_of(order, line_id)
    automatic = _automatic_of(order, line)
    if line.approval != DiscountApproval.PENDING:
        raise InvalidTransition(
            _("The special discount of this line is not awaiting approval (%(state)s)") % {"state": line.get_approval_display().lower()},
            current=line.approval,
        )
    limit = discount_limit(actor)
    if approve and line.manual_discount_percent > limit:
        raise PermissionDenied(
            _("Your limit is %(limit)s%%: a special discount of %(percent)s%% needs someone with a higher limit") % {
                "limit": f"{limit.normalize():f}", "percent": f"{line.manual_discount_percent.normalize():f}",
            },
            code="discount_above_limit", limit=str(limit),
        )
    line.approval = DiscountApproval.APPROVED if approve else DiscountApproval.REJECTED
    line.approved_by = actor
    line.discount_percent = effective_discount(line, automatic)
    _amounts(order, line)
    line.save()
    _recalculate(order)
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=order, message="discount approved" if approve else "discount rejected",
        changes={"line": line.pk, "manual_discount_percent": str(line.manual_discount_percent), "approval": [DiscountApproval.PENDING, line.approval]},
    )
    events.record_event(
        "sales.order.discount_approved" if approve else "sales.order.discount_rejected", target=order,
        payload={**_payload(order), "line_id": line.pk},
    )
    return line


def sales_order_line_approve(*, actor: User, order_id: int, line_id: int) -> SalesOrderLine:
    """Approve a line's special discount: needs sales.approve_discount and a limit at least the line's discount."""
    with transaction.atomic():
        return _decide(actor=actor, order_id=order_id, line_id=line_id, approve=True)


def sales_order_line_reject(*, actor: User, order_id: int, line_id: int) -> SalesOrderLine:
    """Reject a line's special discount: the line keeps only the automatic discount."""
    with transaction.atomic():
        return _decide(actor=actor, order_id=order_id, line_id=line_id, approve=False)


# ----------------------------------------------------------------------------------------------- confirm and cancel


@dataclass
class ReservationPlan:
    """What one order reserves: `items` and `serials` as reservations_place takes them, `reserved` per line id (stock unit)."""

    order: SalesOrder
    items: list[tuple[int, int, int, int | None, Decimal]] = dataclass_field(default_factory=list)
    serials: dict[int, SerialNumber] = dataclass_field(default_factory=dict)
    reserved: dict[int, Decimal] = dataclass_field(default_factory=dict)


def plan_reservations(requests: list[tuple[SalesOrder, list[tuple[SalesOrderLine, Decimal]]]]) -> list[ReservationPlan]:
    """Decide what each (order, [(line, quantity in the stock unit)]) reserves at its order's warehouse, orders in the
    given order (each takes what the ones before it left, as if confirmed one after another): lots by first expiry
    (lots without an expiry date and untracked stock last), then location by location (id order); a serial-tracked
    line reserves that many serial numbers (the lowest free ones, as the shipment suggests them). What is not there
    stays a backorder. Nothing is written: reservations_place writes each plan.

    The products' balance rows are locked first (in one fixed order, so two confirmations never deadlock) and
    availability is read from them, so two orders never reserve the same unit. One read per table for all orders."""
    plans = [ReservationPlan(order=order) for order, _needs in requests]
    wanted = [
        (plan, [(line, quantity) for line, quantity in needs if quantity > 0 and line.product.is_stockable])
        for plan, (_order, needs) in zip(plans, requests, strict=True)
    ]
    wanted = [(plan, needs) for plan, needs in wanted if needs]
    if not wanted:
        return plans
    locations = {warehouse_id: set(warehouse_location_ids(warehouse_id)) for warehouse_id in sorted({plan.order.warehouse_id for plan, _n in wanted})}
    all_locations = set().union(*locations.values())
    all_needs = [need for _plan, needs in wanted for need in needs]
    free: dict[int, list[list]] = {}  # product id: [location id, lot id, free quantity, balance id] rows
    for balance_id, product_id, location_id, lot_id, quantity, _value, _cost, already in locks.lock_balances({line.product_id for line, _q in all_needs}):
        if location_id in all_locations and quantity > already:
            free.setdefault(product_id, []).append([location_id, lot_id, quantity - already, balance_id])
    lot_ids = {row[1] for rows in free.values() for row in rows if row[1] is not None}
    expiry = dict(Lot.objects.filter(pk__in=lot_ids).values_list("pk", "expiry_date")) if lot_ids else {}
    last_day = dt.date.max
    for rows in free.values():  # first expiry first (lots without a date last), then location id, then lot id
        rows.sort(key=lambda row: (expiry.get(row[1]) or last_day, row[0], row[1] or 0))
    free_serials = _free_serials(all_needs, all_locations)
    serial_candidates: dict[tuple[int, int], list[SerialNumber]] = {}  # (warehouse id, product id): free serials there
    for plan, needs in wanted:
        here = locations[plan.order.warehouse_id]
        for line, needed in needs:
            rows_of_product = [row for row in free.get(line.product_id, []) if row[0] in here]  # the same row lists: takes show
            taken = ZERO
            if line.product.tracking == Tracking.SERIAL:
                rows = {row[0]: row for row in rows_of_product if row[1] is None}
                key = (plan.order.warehouse_id, line.product_id)
                if key not in serial_candidates:
                    serial_candidates[key] = [serial for serial in free_serials.get(line.product_id, []) if serial.location_id in here]
                candidates = serial_candidates[key]
                while needed >= 1 and candidates:
                    serial = candidates.pop(0)
                    row = rows.get(serial.location_id)
                    if row is None or row[2] < 1:
                        continue
                    plan.serials[len(plan.items)] = serial
                    plan.items.append((row[3], line.product_id, row[0], None, Decimal(1)))
                    row[2] -= 1
                    needed -= 1
                    taken += 1
                plan.reserved[line.pk] = plan.reserved.get(line.pk, ZERO) + taken
                continue
            for row in rows_of_product:
                if needed <= 0:
                    break
                take = min(needed, row[2])
                if take <= 0:
                    continue
                plan.items.append((row[3], line.product_id, row[0], row[1], take))
                row[2] -= take
                needed -= take
                taken += take
            plan.reserved[line.pk] = plan.reserved.get(line.pk, ZERO) + taken
    return plans


def _reserve(*, actor: User, order: SalesOrder, needs: list[tuple[SalesOrderLine, Decimal]]) -> dict[int, Decimal]:
    """Reserve for each (line, quantity in the stock unit) of one order (plan_reservations); returns what was reserved
    per line id (stock unit)."""
    (plan,) = plan_reservations([(order, needs)])
    if plan.items:
        reservations_place(actor=actor, reference=order.number, items=plan.items, serials=plan.serials)
    return plan.reserved


def _free_serials(needs: list[tuple[SalesOrderLine, Decimal]], location_ids: set[int]) -> dict[int, list[SerialNumber]]:
    """{product id: its unreserved serial numbers at these locations, lowest first} for the serial-tracked lines."""
    product_ids = {line.product_id for line, _quantity in needs if line.product.tracking == Tracking.SERIAL}
    found: dict[int, list[SerialNumber]] = {}
    if product_ids:
        for serial in SerialNumber.objects.select_for_update().filter(
            product_id__in=product_ids, location_id__in=location_ids, reserved_reference=""
        ).order_by("serial", "id"):
            found.setdefault(serial.product_id, []).append(serial)
    return found


def _in_line_unit(line: SalesOrderLine, stock_quantity: Decimal) -> Decimal:
    if line.stock_quantity == line.quantity:
        return stock_quantity
    return (stock_quantity * line.quantity / line.stock_quantity).quantize(QUANTITY_STEP)


def _in_stock_unit(line: SalesOrderLine, quantity: Decimal) -> Decimal:
    if line.stock_quantity == line.quantity:
        return quantity
    return (quantity * line.stock_quantity / line.quantity).quantize(QUANTITY_STEP)


def confirm_ready(order: SalesOrder, lines: list[SalesOrderLine]) -> None:
    """Refuse to confirm an order without lines or with a special discount awaiting approval (field "lines")."""
    if not lines:
        raise ValidationError({"lines": [_("Add at least one line before confirming")]})
    pending = [line for line in lines if line.approval == DiscountApproval.PENDING]
    if pending:
        raise ApprovalPending(
            _("Special discounts await approval on lines: %(lines)s") % {
                "lines": ", ".join(f"{line.position} ({line.product.sku}, {line.manual_discount_percent.normalize():f}%)" for line in pending)
            },
            field="lines", line_ids=[line.pk for line in pending],
        )


def confirm_credit(*, actor: User, order: SalesOrder, check, override_credit_limit: bool) -> dict[str, Any]:
    """The credit limit rule of a confirmation: refused over the limit unless overridden by a user allowed to (then
    recorded on the order). Returns the start of the confirmation's audit changes."""
    changes: dict[str, Any] = {"status": [order.status, OrderStatus.CONFIRMED]}
    if check.limit is not None:  # the exposure is worked out against a limit only
        changes["credit_exposure"] = str(check.exposure)
    if check.exceeded:
        if not override_credit_limit:
            raise CreditLimitExceeded(
                _("The credit limit of %(client)s is %(limit)s %(currency)s; with this order they would owe %(exposure)s %(currency)s") % {
                    "client": order.counterparty.name, "limit": check.limit, "exposure": check.exposure,
                    "currency": company_settings().base_currency,
                },
                field="override_credit_limit", limit=str(check.limit), exposure=str(check.exposure),
                balance=str(check.balance), open_orders=str(check.open_orders), order_total=str(check.order_total),
            )
        if not actor.has_perm("sales.override_credit_limit"):
            raise PermissionDenied(_("Your role does not allow confirming an order over the client's credit limit"), field="override_credit_limit")
        order.credit_override_by = actor
        changes["credit_override"] = {"limit": str(check.limit), "exposure": str(check.exposure)}
    return changes


def confirm_apply(*, actor: User, order: SalesOrder, lines: list[SalesOrderLine], reserved: dict[int, Decimal], changes: dict[str, Any]) -> str:
    """Set the lines' reserved quantities and the order's confirmed state in memory (the caller writes them); completes
    `changes` and returns the audit message."""
    for line in lines:
        line.reserved_quantity = min(_in_line_unit(line, reserved.get(line.pk, ZERO)), line.quantity)
    order.status, order.confirmed_at, order.confirmed_by = OrderStatus.CONFIRMED, timezone.now(), actor
    changes["reserved"] = {line.product.sku: f"{line.reserved_quantity.normalize():f}/{line.quantity.normalize():f}" for line in lines}
    return "confirmed over the credit limit" if order.credit_override_by_id else "confirmed"


CONFIRMED_EVENT = "sales.order.confirmed"


@transaction.atomic
def sales_order_confirm(*, actor: User, order_id: int, override_credit_limit: bool = False) -> SalesOrder:
    """Confirm a draft: refused while a special discount awaits approval, or when the client's credit limit would be
    exceeded (unless a user allowed to overrides it); reserves the stock there is; the deal follows. Many drafts at
    once: batch_orders.sales_orders_confirm (the same rules and steps)."""
    order = _locked_order(order_id)
    ensure_transition(order.status, OrderStatus.CONFIRMED)
    lines = list(order.lines.select_related("product").order_by("position", "id"))
    confirm_ready(order, lines)
    Counterparty.objects.select_for_update().filter(pk=order.counterparty_id).first()  # one credit check per client at a time
    changes = confirm_credit(actor=actor, order=order, check=credit_check(order=order), override_credit_limit=override_credit_limit)
    reserved = _reserve(actor=actor, order=order, needs=[(line, line.stock_quantity) for line in lines])
    message = confirm_apply(actor=actor, order=order, lines=lines, reserved=reserved, changes=changes)
    update_many(lines, ["reserved_quantity"])
    order.save(update_fields=["status", "confirmed_at", "confirmed_by", "credit_override_by", "updated_at"])
    audit.record(actor=actor, action=AuditAction.POST, target=order, changes=changes, message=message)
    events.record_event(CONFIRMED_EVENT, target=order, payload=_payload(order))
    order_deal_follow(actor=actor, order=order, event="order_confirmed")
    return order


def order_reservations_release(*, actor: User, order: SalesOrder) -> int:
    """Release the order's active reservations (its number is their reference); returns how many."""
    released = 0
    for reservation in Reservation.objects.filter(reference=order.number, status=ReservationStatus.ACTIVE).order_by("id"):
        reservation_release(actor=actor, reservation_id=reservation.pk)
        released += 1
    order.lines.filter(reserved_quantity__gt=0).update(reserved_quantity=0)
    return released


@transaction.atomic
def sales_order_cancel(*, actor: User, order_id: int, reason: str = "") -> SalesOrder:
    """Cancel a draft or a confirmed order; releases its reservations. Refused once a shipment is posted."""
    order = _locked_order(order_id)
    ensure_transition(order.status, OrderStatus.CANCELLED)
    posted = list(Shipment.objects.filter(order=order, status=ShipmentStatus.POSTED).values_list("number", flat=True))
    if posted:
        raise Conflict(
            _("Goods of this order have shipped (%(shipments)s): cancel the shipments first") % {"shipments": ", ".join(posted)},
            code="order_shipped", shipments=posted,
        )
    reason = (reason or "").strip()
    if len(reason) > 300:
        raise ValidationError({"reason": [_("At most %(limit)d characters") % {"limit": 300}]})
    released = order_reservations_release(actor=actor, order=order)
    previous = order.status
    order.status, order.cancelled_at = OrderStatus.CANCELLED, timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.CANCEL, target=order, changes={"status": [previous, order.status], "reservations_released": released},
                 message=reason)
    events.record_event("sales.order.cancelled", target=order, payload=_payload(order))
    return order


@transaction.atomic
def sales_order_reserve_more(*, actor: User, order_id: int) -> SalesOrder:
    """Reserve what a confirmed order still lacks (its backorder), e.g. after new goods came in."""
    order = _locked_order(order_id)
    if order.status != OrderStatus.CONFIRMED:
        raise InvalidTransition(_("Only a confirmed order reserves stock"), current=order.status)
    order_backorder_reserve(actor=actor, order=order, lines=list(order.lines.select_related("product").order_by("position", "id")))
    return order


def order_backorder_reserve(*, actor: User, order: SalesOrder, lines: list[SalesOrderLine], message: str = "reserved more") -> list[SalesOrderLine]:
    """Reserve for each line of a locked, confirmed order what is neither shipped nor reserved, from the free stock of
    its warehouse; returns the lines whose reservation grew (audited on the order)."""
    needs = [(line, _in_stock_unit(line, line.quantity - line.shipped_quantity - line.reserved_quantity)) for line in lines]
    reserved = _reserve(actor=actor, order=order, needs=needs)
    changed = []
    for line in lines:
        if reserved.get(line.pk):
            line.reserved_quantity = min(line.reserved_quantity + _in_line_unit(line, reserved[line.pk]), line.quantity)
            changed.append(line)
    if changed:
        update_many(changed, ["reserved_quantity"])
        audit.record(actor=actor, action=AuditAction.UPDATE, target=order, message=message,
                     changes={"reserved": {line.product.sku: f"{line.reserved_quantity.normalize():f}" for line in changed}})
    return changed
