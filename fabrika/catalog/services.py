"""Catalog writes: units, conversions, groups, products, barcodes. Each runs in one transaction with an audit row."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from fabrika.core import audit, events
from fabrika.core.errors import NotFound, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction

from .enums import GroupValuation, ProductKind, Tracking
from .models import Barcode, Product, ProductGroup, Unit, UnitConversion
from .selectors import product_group_descendant_ids

PRODUCT_FIELDS = (
    "sku", "name", "kind", "group", "stock_unit", "purchase_unit", "tracking", "shelf_life_days", "description",
    "attributes", "custom", "is_active",
)


def _text(errors: dict, data: dict, field: str, *, limit: int, required: bool) -> str:
    value = (data.get(field) or "").strip() if isinstance(data.get(field, ""), str | type(None)) else None
    if value is None:
        errors.setdefault(field, []).append("Must be text")
        return ""
    if required and not value:
        errors.setdefault(field, []).append("This field is required")
    elif len(value) > limit:
        errors.setdefault(field, []).append(f"At most {limit} characters")
    return value


def _decimal(errors: dict, field: str, value: Any, *, positive: bool = True) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors.setdefault(field, []).append("Enter a number")
        return None
    if not number.is_finite() or (positive and number <= 0):
        errors.setdefault(field, []).append("Must be greater than zero")
        return None
    return number


def _instance(errors: dict, field: str, model, value, *, required: bool):
    if value is None or value == "":
        if required:
            errors.setdefault(field, []).append("This field is required")
        return None
    if isinstance(value, model):
        return value
    found = model.objects.filter(pk=value).first() if str(value).isdigit() else None
    if found is None:
        errors.setdefault(field, []).append(f"Unknown {model._meta.verbose_name} {value}")
    return found


@transaction.atomic
def unit_create(*, actor: User, code: str, name: str, decimal_places: int = 0) -> Unit:
    errors: dict[str, list[str]] = {}
    data = {"code": code, "name": name}
    code = _text(errors, data, "code", limit=16, required=True)
    name = _text(errors, data, "name", limit=100, required=True)
    if not isinstance(decimal_places, int) or not 0 <= decimal_places <= 4:
        errors.setdefault("decimal_places", []).append("Must be a whole number from 0 to 4")
    if code and Unit.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(f"A unit with the code {code} already exists")
    if errors:
        raise ValidationError(errors)
    unit = Unit.objects.create(code=code, name=name, decimal_places=decimal_places)
    audit.record(actor=actor, action=AuditAction.CREATE, target=unit, changes=audit.snapshot(unit))
    return unit


@transaction.atomic
def unit_conversion_create(
    *, actor: User, from_unit: Unit | int, to_unit: Unit | int, factor: Decimal | str, product: Product | int | None = None
) -> UnitConversion:
    errors: dict[str, list[str]] = {}
    source = _instance(errors, "from_unit", Unit, from_unit, required=True)
    target = _instance(errors, "to_unit", Unit, to_unit, required=True)
    item = _instance(errors, "product", Product, product, required=False)
    number = _decimal(errors, "factor", factor)
    if number is not None and (number.normalize().as_tuple().exponent < -6 or number >= Decimal("1e9")):  # type: ignore[operator]
        errors.setdefault("factor", []).append("At most 9 digits before and 6 after the decimal point")
    if source is not None and source == target:
        errors.setdefault("to_unit", []).append("Choose a different unit from the one converted")
    if source and target and not errors:
        pairs = UnitConversion.objects.filter(product=item, from_unit__in=[source, target], to_unit__in=[source, target])
        if pairs.exists():
            errors.setdefault("to_unit", []).append(f"A conversion between {source.code} and {target.code} already exists")
    if errors:
        raise ValidationError(errors)
    conversion = UnitConversion.objects.create(product=item, from_unit=source, to_unit=target, factor=number)
    audit.record(actor=actor, action=AuditAction.CREATE, target=conversion, changes=audit.snapshot(conversion))
    return conversion


def _product_has_stock_moves(product_ids) -> bool:
    from fabrika.inventory.models import StockMove  # inventory sits above catalog; a read-only check

    return StockMove.objects.filter(product_id__in=list(product_ids)).exists()


def _clean_group(data: dict[str, Any], *, existing: ProductGroup | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in data or existing is None:
        cleaned["name"] = _text(errors, data, "name", limit=200, required=True)
    if "parent" in data:
        parent = _instance(errors, "parent", ProductGroup, data["parent"], required=False)
        if parent is not None and existing is not None and parent.pk in product_group_descendant_ids(existing.pk):
            errors.setdefault("parent", []).append("A group cannot be placed inside itself or its subgroups")
        cleaned["parent"] = parent
    if "valuation_method" in data:
        method = data["valuation_method"] or ""
        if method not in GroupValuation.values:
            errors.setdefault("valuation_method", []).append("Must be one of: fifo, average, or empty to inherit")
        cleaned["valuation_method"] = method
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def product_group_create(*, actor: User, data: dict[str, Any]) -> ProductGroup:
    group = ProductGroup.objects.create(**_clean_group(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=group, changes=audit.snapshot(group))
    return group


@transaction.atomic
def product_group_update(*, actor: User, group_id: int, data: dict[str, Any]) -> ProductGroup:
    group = ProductGroup.objects.select_for_update().get(pk=group_id)
    cleaned = _clean_group(data, existing=group)
    before = audit.snapshot(group)
    changes_method = "valuation_method" in cleaned and cleaned["valuation_method"] != group.valuation_method
    changes_parent = "parent" in cleaned and (cleaned["parent"].pk if cleaned["parent"] else None) != group.parent_id
    if changes_method or changes_parent:
        subtree = product_group_descendant_ids(group.pk)
        if _product_has_stock_moves(Product.objects.filter(group_id__in=subtree).values_list("id", flat=True)):
            raise ValidationError(
                {"valuation_method" if changes_method else "parent": [
                    "Products of this group already have stock moves; their valuation method cannot change"
                ]}
            )
    for field, value in cleaned.items():
        setattr(group, field, value)
    group.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, target=group, changes=audit.diff(before, audit.snapshot(group)))
    return group


def _clean_product(data: dict[str, Any], *, existing: Product | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    creating = existing is None
    if "sku" in data or creating:
        cleaned["sku"] = _text(errors, data, "sku", limit=64, required=True)
        if cleaned["sku"] and Product.objects.filter(sku=cleaned["sku"]).exclude(pk=existing.pk if existing else None).exists():
            errors.setdefault("sku", []).append(f"The SKU {cleaned['sku']} is already used by another product")
    if "name" in data or creating:
        cleaned["name"] = _text(errors, data, "name", limit=300, required=True)
    if "description" in data:
        cleaned["description"] = _text(errors, data, "description", limit=10000, required=False)
    if "kind" in data or creating:
        cleaned["kind"] = data.get("kind") or ProductKind.MATERIAL
        if cleaned["kind"] not in ProductKind.values:
            errors.setdefault("kind", []).append(f"Must be one of: {', '.join(ProductKind.values)}")
    if "tracking" in data or creating:
        cleaned["tracking"] = data.get("tracking") or Tracking.NONE
        if cleaned["tracking"] not in Tracking.values:
            errors.setdefault("tracking", []).append(f"Must be one of: {', '.join(Tracking.values)}")
    if "group" in data:
        cleaned["group"] = _instance(errors, "group", ProductGroup, data["group"], required=False)
    if "stock_unit" in data or creating:
        cleaned["stock_unit"] = _instance(errors, "stock_unit", Unit, data.get("stock_unit"), required=True)
    if "purchase_unit" in data:
        cleaned["purchase_unit"] = _instance(errors, "purchase_unit", Unit, data["purchase_unit"], required=False)
    if "shelf_life_days" in data:
        days = data["shelf_life_days"]
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days <= 0 or days > 36500):
            errors.setdefault("shelf_life_days", []).append("Must be a whole number of days from 1 to 36500")
        cleaned["shelf_life_days"] = days
    for json_field in ("attributes", "custom"):
        if json_field in data:
            value = data[json_field] if data[json_field] is not None else {}
            if not isinstance(value, dict):
                errors.setdefault(json_field, []).append("Must be an object of name → value")
            cleaned[json_field] = value
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    tracking = cleaned.get("tracking", existing.tracking if existing else Tracking.NONE)
    shelf_life = cleaned.get("shelf_life_days", existing.shelf_life_days if existing else None)
    if shelf_life is not None and tracking != Tracking.LOT:
        errors.setdefault("shelf_life_days", []).append("Shelf life applies only to lot-tracked products")
    kind = cleaned.get("kind", existing.kind if existing else ProductKind.MATERIAL)
    if kind in (ProductKind.SERVICE, ProductKind.KIT) and tracking != Tracking.NONE:
        errors.setdefault("tracking", []).append("Services and kits are not kept in stock and cannot be tracked")
    if existing is not None and not errors:
        locked = [f for f in ("stock_unit", "tracking", "kind") if f in cleaned and getattr(existing, f) != cleaned[f]]
        if locked and _product_has_stock_moves([existing.pk]):
            for field in locked:
                errors.setdefault(field, []).append("The product already has stock moves; this cannot change")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def product_create(*, actor: User, data: dict[str, Any]) -> Product:
    product = Product.objects.create(**_clean_product(data, existing=None))
    audit.record(actor=actor, action=AuditAction.CREATE, target=product, changes=audit.snapshot(product))
    events.record_event("catalog.product.created", target=product, payload={"sku": product.sku})
    return product


@transaction.atomic
def product_update(*, actor: User, product_id: int, data: dict[str, Any]) -> Product:
    product = Product.objects.select_for_update().get(pk=product_id)
    cleaned = _clean_product(data, existing=product)
    before = audit.snapshot(product)
    for field, value in cleaned.items():
        setattr(product, field, value)
    product.save()
    changes = audit.diff(before, audit.snapshot(product))
    audit.record(actor=actor, action=AuditAction.UPDATE, target=product, changes=changes)
    events.record_event("catalog.product.updated", target=product, payload={"fields": sorted(changes)})
    return product


@transaction.atomic
def barcode_add(*, actor: User, product_id: int, code: str, unit: Unit | int | None = None) -> Barcode:
    errors: dict[str, list[str]] = {}
    code = _text(errors, {"code": code}, "code", limit=64, required=True)
    product = Product.objects.select_for_update().get(pk=product_id)
    packing = _instance(errors, "unit", Unit, unit, required=False)
    if code:
        owner = Barcode.objects.select_related("product").filter(code=code).first()
        if owner is not None:
            errors.setdefault("code", []).append(f"The barcode {code} already belongs to {owner.product.sku}")
    if packing is not None and not errors:
        from .selectors import conversion_factor

        try:
            conversion_factor(product=product, unit=packing)
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    barcode = Barcode.objects.create(product=product, code=code, unit=packing)
    audit.record(actor=actor, action=AuditAction.UPDATE, target=product, changes={"barcodes": [None, code]}, message="barcode added")
    return barcode


@transaction.atomic
def barcode_remove(*, actor: User, barcode_id: int) -> None:
    barcode = Barcode.objects.select_related("product").filter(pk=barcode_id).first()
    if barcode is None:
        raise NotFound(f"Barcode {barcode_id} not found")
    audit.record(
        actor=actor, action=AuditAction.UPDATE, target=barcode.product, changes={"barcodes": [barcode.code, None]},
        message="barcode removed",
    )
    barcode.delete()
