"""Catalog data: units, groups, products and their barcodes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .enums import NON_STOCK_KINDS, GroupValuation, ProductKind, Tracking


class Unit(models.Model):
    """A unit of measure. `decimal_places` is how finely it may be entered (0 for pieces, 3 for kilograms)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    decimal_places = models.PositiveSmallIntegerField(_("decimal places"), default=0)

    class Meta:
        verbose_name = _("unit of measure")
        verbose_name_plural = _("units of measure")
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(decimal_places__lte=4), name="unit_decimal_places_max_4")]

    def __str__(self) -> str:
        return self.code


class UnitConversion(models.Model):
    """1 `from_unit` = `factor` × `to_unit`; for one product (a box of 12 pieces) or, without product, for all."""

    product = models.ForeignKey(
        "catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE, null=True, blank=True, related_name="conversions"
    )
    from_unit = models.ForeignKey(Unit, verbose_name=_("from unit"), on_delete=models.PROTECT, related_name="+")
    to_unit = models.ForeignKey(Unit, verbose_name=_("to unit"), on_delete=models.PROTECT, related_name="+")
    factor = models.DecimalField(_("factor"), max_digits=15, decimal_places=6)

    class Meta:
        verbose_name = _("unit conversion")
        verbose_name_plural = _("unit conversions")
        constraints = [
            models.CheckConstraint(condition=Q(factor__gt=0), name="unit_conversion_factor_positive"),
            models.UniqueConstraint(
                fields=["product", "from_unit", "to_unit"], condition=Q(product__isnull=False), name="unit_conversion_unique_product"
            ),
            models.UniqueConstraint(
                fields=["from_unit", "to_unit"], condition=Q(product__isnull=True), name="unit_conversion_unique_global"
            ),
        ]

    def __str__(self) -> str:
        return f"1 {self.from_unit} = {self.factor.normalize()} {self.to_unit}"


class ProductGroup(models.Model):
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent group"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    valuation_method = models.CharField(
        _("valuation method"), max_length=10, choices=GroupValuation.choices, default=GroupValuation.INHERIT, blank=True
    )

    class Meta:
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=ProductKind.choices, default=ProductKind.MATERIAL)
    group = models.ForeignKey(
        ProductGroup, verbose_name=_("group"), on_delete=models.PROTECT, null=True, blank=True, related_name="products"
    )
    stock_unit = models.ForeignKey(Unit, verbose_name=_("stock unit"), on_delete=models.PROTECT, related_name="+")
    purchase_unit = models.ForeignKey(
        Unit, verbose_name=_("purchase unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tracking = models.CharField(_("tracking"), max_length=10, choices=Tracking.choices, default=Tracking.NONE)
    shelf_life_days = models.PositiveIntegerField(_("shelf life, days"), null=True, blank=True)
    vat_rate = models.DecimalField(
        _("VAT rate, %"), max_digits=5, decimal_places=2, null=True, blank=True, help_text=_("Empty: the company's default rate")
    )
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku", "id"]
        indexes = [
            models.Index(fields=["name"], name="product_name_idx"),
            models.Index(fields=["group", "sku"], name="product_group_sku_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(shelf_life_days__isnull=True) | Q(tracking=Tracking.LOT), name="product_shelf_life_only_for_lots"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def is_stockable(self) -> bool:
        return self.kind not in NON_STOCK_KINDS


class Barcode(models.Model):
    """A barcode of a product, optionally of a packing unit (scanning a box barcode enters 1 box)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(_("barcode"), max_length=64, unique=True)
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("barcode")
        verbose_name_plural = _("barcodes")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

