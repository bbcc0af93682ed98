"""Catalog reads: product lists, barcode lookup, unit conversion and the effective valuation method."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet

from fabrika.core.db import column_in
from fabrika.core.errors import NotFound, ValidationError

from .enums import GroupValuation
from .models import Barcode, Product, ProductGroup, Unit, UnitConversion

QUANTITY = Decimal("0.0001")


def product_list(*, search: str = "", group_id: int | None = None, kind: str = "", active: bool | None = None) -> QuerySet[Product]:
    queryset = Product.objects.select_related("group", "stock_unit", "purchase_unit")
    if search:
        queryset = queryset.filter(Q(sku__icontains=search) | Q(name__icontains=search) | Q(barcodes__code=search)).distinct()
    if group_id:
        queryset = queryset.filter(group_id__in=product_group_descendant_ids(group_id))
    if kind:
        queryset = queryset.filter(kind=kind)
    if active is not None:
        queryset = queryset.filter(is_active=active)
    return queryset.order_by("sku", "id")


def product_get(product_id: int) -> Product:
    product = Product.objects.select_related("group", "stock_unit", "purchase_unit").filter(pk=product_id).first()
    if product is None:
        raise NotFound(f"Product {product_id} not found")
    return product


def product_by_barcode(code: str) -> tuple[Product, Unit]:
    """The product a scanned barcode stands for and the unit it counts in (a box barcode counts boxes)."""
    barcode = Barcode.objects.select_related("product__stock_unit", "unit").filter(code=(code or "").strip()).first()
    if barcode is None:
        raise NotFound(f"No product has the barcode {code}", code="barcode_unknown")
    return barcode.product, barcode.unit or barcode.product.stock_unit


def product_group_descendant_ids(group_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in ProductGroup.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = set(), [group_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def group_valuation_methods(*, default: str) -> dict[int, str]:
    """Effective method of every group: its own, else the nearest ancestor's, else the company default."""
    groups = {pk: (parent_id, method) for pk, parent_id, method in ProductGroup.objects.values_list("id", "parent_id", "valuation_method")}
    resolved: dict[int, str] = {}

    def resolve(pk: int, seen: frozenset[int] = frozenset()) -> str:
        if pk in resolved:
            return resolved[pk]
        parent_id, method = groups[pk]
        if method and method != GroupValuation.INHERIT:
            result = method
        elif parent_id is None or parent_id in seen or parent_id not in groups:
            result = default
        else:
            result = resolve(parent_id, seen | {pk})
        resolved[pk] = result
        return result

    for pk in groups:
        resolve(pk)
    return resolved


def valuation_methods(product_ids, *, default: str) -> dict[int, str]:
    """{product id: "fifo" | "average"} resolved through the product group chain, then the company default."""
    per_group = group_valuation_methods(default=default)
    return {
        pk: (per_group.get(group_id, default) if group_id else default)
        for pk, group_id in Product.objects.filter(column_in(Product, "id", sorted(set(product_ids)))).values_list("id", "group_id")
    }


def conversion_factor(*, product: Product, unit: Unit) -> Decimal:
    """How many stock units one `unit` of this product is. Product-specific conversions win over general ones;
    a conversion also works backwards (1 / factor)."""
    if unit.pk == product.stock_unit_id:
        return Decimal(1)
    target = product.stock_unit_id
    candidates = UnitConversion.objects.filter(Q(product=product) | Q(product__isnull=True)).filter(
        Q(from_unit=unit, to_unit_id=target) | Q(from_unit_id=target, to_unit=unit)
    )
    best: UnitConversion | None = None
    for conversion in candidates:
        if best is None or (conversion.product_id and not best.product_id):
            best = conversion
    if best is None:
        raise ValidationError(
            {"unit": [f"No conversion from {unit.code} to the stock unit {product.stock_unit.code} of {product.sku}"]}
        )
    return best.factor if best.from_unit_id == unit.pk else Decimal(1) / best.factor


def to_stock_quantity(*, product: Product, unit: Unit, quantity: Decimal) -> Decimal:
    return (quantity * conversion_factor(product=product, unit=unit)).quantize(QUANTITY, rounding=ROUND_HALF_UP)


def product_group_get(group_id: int) -> ProductGroup:
    group = ProductGroup.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound(f"Product group {group_id} not found")
    return group


def product_choices(actor, query: str, *, limit: int, params: dict[str, str]) -> list[tuple[int, str]] | None:
    """Autocomplete source (fabrika.core.ui.autocomplete): active products by SKU, name or exact barcode;
    `params["kinds"]` = "finished,goods" keeps those kinds."""
    if not actor.has_perm("catalog.view_product"):
        return None
    queryset = product_list(search=query, active=True)
    kinds = [kind for kind in (params.get("kinds") or "").split(",") if kind]
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    return [(pk, f"{sku} · {name}") for pk, sku, name in queryset.values_list("pk", "sku", "name")[:limit]]
