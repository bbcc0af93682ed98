"""Catalog API: units, conversions, product groups, products and barcodes. Mounted at /api/v1/catalog/."""

from __future__ import annotations

from ninja import Router, Status

from fabrika.core.idempotency import idempotent
from fabrika.core.pagination import Page, paginate
from fabrika.core.permissions import require

from . import selectors, services
from .models import Product, ProductGroup, Unit, UnitConversion
from .schemas import (
    BarcodeIn,
    BarcodeLookupOut,
    BarcodeOut,
    ProductGroupIn,
    ProductGroupOut,
    ProductGroupPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
    UnitConversionIn,
    UnitConversionOut,
    UnitIn,
    UnitOut,
)

router = Router(tags=["catalog"])


def _ids_to_fields(data: dict, names: tuple[str, ...]) -> dict:
    for name in names:
        if f"{name}_id" in data:
            data[name] = data.pop(f"{name}_id")
    return data


@router.get("/units", response=list[UnitOut])
def unit_list(request):
    require(request.user, Unit, "view")
    return list(Unit.objects.order_by("code"))


@router.post("/units", response={201: UnitOut})
@idempotent
def unit_create(request, payload: UnitIn):
    require(request.user, Unit, "add")
    return Status(201, services.unit_create(actor=request.user, **payload.dict()))


@router.post("/conversions", response={201: UnitConversionOut})
@idempotent
def conversion_create(request, payload: UnitConversionIn):
    require(request.user, UnitConversion, "add")
    return Status(201, services.unit_conversion_create(
        actor=request.user, from_unit=payload.from_unit_id, to_unit=payload.to_unit_id, factor=payload.factor,
        product=payload.product_id,
    ))


@router.get("/groups", response=list[ProductGroupOut])
def group_list(request):
    require(request.user, ProductGroup, "view")
    return list(ProductGroup.objects.order_by("name", "id"))


@router.post("/groups", response={201: ProductGroupOut})
@idempotent
def group_create(request, payload: ProductGroupIn):
    require(request.user, ProductGroup, "add")
    return Status(201, services.product_group_create(actor=request.user, data=_ids_to_fields(payload.dict(), ("parent",))))


@router.patch("/groups/{group_id}", response=ProductGroupOut)
def group_update(request, group_id: int, payload: ProductGroupPatch):
    require(request.user, ProductGroup, "change")
    group = selectors.product_group_get(group_id)
    return services.product_group_update(
        actor=request.user, group_id=group.pk, data=_ids_to_fields(payload.dict(exclude_unset=True), ("parent",))
    )


@router.get("/products", response=Page[ProductOut])
def product_list(
    request, search: str = "", group_id: int | None = None, kind: str = "", active: bool | None = None,
    cursor: str | None = None, limit: int = 50,
):
    require(request.user, Product, "view")
    queryset = selectors.product_list(search=search, group_id=group_id, kind=kind, active=active)
    return paginate(queryset, cursor=cursor, limit=limit)


@router.get("/products/by-barcode/{code}", response=BarcodeLookupOut)
def product_by_barcode(request, code: str):
    require(request.user, Product, "view")
    product, unit = selectors.product_by_barcode(code)
    return {"product": product, "unit_id": unit.pk, "unit": unit.code}


@router.get("/products/{product_id}", response=ProductOut)
def product_detail(request, product_id: int):
    require(request.user, Product, "view")
    return selectors.product_get(product_id)


@router.post("/products", response={201: ProductOut})
@idempotent
def product_create(request, payload: ProductIn):
    require(request.user, Product, "add")
    data = _ids_to_fields(payload.dict(), ("group", "stock_unit", "purchase_unit"))
    return Status(201, selectors.product_get(services.product_create(actor=request.user, data=data).pk))


@router.patch("/products/{product_id}", response=ProductOut)
def product_update(request, product_id: int, payload: ProductPatch):
    require(request.user, Product, "change")
    product = selectors.product_get(product_id)
    data = _ids_to_fields(payload.dict(exclude_unset=True), ("group", "stock_unit", "purchase_unit"))
    services.product_update(actor=request.user, product_id=product.pk, data=data)
    return selectors.product_get(product.pk)


@router.get("/products/{product_id}/barcodes", response=list[BarcodeOut])
def barcode_list(request, product_id: int):
    require(request.user, Product, "view")
    return list(selectors.product_get(product_id).barcodes.order_by("code"))


@router.post("/products/{product_id}/barcodes", response={201: BarcodeOut})
@idempotent
def barcode_add(request, product_id: int, payload: BarcodeIn):
    require(request.user, Product, "change")
    product = selectors.product_get(product_id)
    return Status(201, services.barcode_add(actor=request.user, product_id=product.pk, code=payload.code, unit=payload.unit_id))
