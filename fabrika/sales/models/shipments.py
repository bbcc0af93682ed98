"""Shipments (each posts an inventory issue) and returns from clients (each posts a customer return)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .orders import MONEY, QUANTITY


class ShipmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


class Shipment(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.DRAFT)
    order = models.ForeignKey("sales.SalesOrder", verbose_name=_("order"), on_delete=models.PROTECT, related_name="shipments")
    date = models.DateField(_("date"))
    stock_document = models.OneToOneField(
        "inventory.StockDocument", verbose_name=_("stock document"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    remind_after_months = models.PositiveSmallIntegerField(_("remind after, months"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    net_total = models.DecimalField(_("net"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    cost = models.DecimalField(_("cost"), default=0, **MONEY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["status", "date"], name="shipment_status_date_idx")]

    def __str__(self) -> str:
        return self.number or _("Draft shipment #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("sales:shipment_detail", args=[self.pk])


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("sales.SalesOrderLine", verbose_name=_("order line"), on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    lot = models.ForeignKey("inventory.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    net_amount = models.DecimalField(_("net"), default=0, **MONEY)
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    cost = models.DecimalField(_("cost"), null=True, blank=True, **MONEY)
    invoiced_quantity = models.DecimalField(_("invoiced"), default=0, **QUANTITY)

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_line.product} × {self.quantity.normalize():f}"


class SalesReturn(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.DRAFT)
    order = models.ForeignKey("sales.SalesOrder", verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    stock_document = models.OneToOneField(
        "inventory.StockDocument", verbose_name=_("stock document"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    net_total = models.DecimalField(_("net"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("return from client")
        verbose_name_plural = _("returns from clients")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return self.number or _("Draft return #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("sales:return_detail", args=[self.pk])


class SalesReturnLine(models.Model):
    sales_return = models.ForeignKey(SalesReturn, verbose_name=_("return"), on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("sales.SalesOrderLine", verbose_name=_("order line"), on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    lot = models.ForeignKey("inventory.Lot", verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    net_amount = models.DecimalField(_("net"), default=0, **MONEY)
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_return_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.order_line.product} × {self.quantity.normalize():f}"
