"""Sales orders and their lines.

Quantities on a line (`quantity`, `shipped_quantity`, `invoiced_quantity`, `returned_quantity`, `reserved_quantity`)
are in the line's unit; `stock_quantity` is `quantity` in the product's stock unit. Money is in the order's currency:
`price` is the unit price as entered (with tax when the order's prices include tax, otherwise without), `retail_price`
the retail list price the discount is shown against, `amount` = quantity × price − discount (rounded per line), and
`net_amount` + `tax_amount` = `total` (rounding rules in docs/design/sales.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

QUANTITY = {"max_digits": 15, "decimal_places": 4}
MONEY = {"max_digits": 15, "decimal_places": 2}
PRICE = {"max_digits": 15, "decimal_places": 2}
PERCENT = {"max_digits": 7, "decimal_places": 4}


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class DiscountApproval(models.TextChoices):
    NOT_NEEDED = "not_needed", _("Not needed")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class SalesOrder(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    date = models.DateField(_("date"))
    counterparty = models.ForeignKey("parties.Counterparty", verbose_name=_("client"), on_delete=models.PROTECT, related_name="sales_orders")
    contact = models.ForeignKey("parties.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    deal = models.ForeignKey("crm.Deal", verbose_name=_("deal"), on_delete=models.PROTECT, null=True, blank=True, related_name="sales_orders")
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey("inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=15, decimal_places=6, default=1)
    price_type_code = models.CharField(_("price type"), max_length=50, blank=True)
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    expected_ship_date = models.DateField(_("expected shipment"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    retail_total = models.DecimalField(_("at retail prices"), default=0, **MONEY)
    discount_total = models.DecimalField(_("discount"), default=0, **MONEY)
    net_total = models.DecimalField(_("net"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    credit_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("credit limit overridden by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["status", "date"], name="sales_order_status_date_idx"),
            models.Index(fields=["counterparty", "date"], name="sales_order_party_date_idx"),
            models.Index(fields=["responsible", "status"], name="sales_order_resp_idx"),
        ]
        permissions = [
            ("confirm_salesorder", _("Can confirm sales orders")),
            ("override_credit_limit", _("Can confirm an order over the client's credit limit")),
            ("approve_discount", _("Can approve discounts above the manager's limit")),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft order #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("sales:order_detail", args=[self.pk])


class SalesOrderLine(models.Model):
    order = models.ForeignKey(SalesOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("catalog.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    stock_quantity = models.DecimalField(_("quantity in stock unit"), **QUANTITY)
    retail_price = models.DecimalField(_("retail price"), default=0, **PRICE)
    price = models.DecimalField(_("price"), **PRICE)
    discount_percent = models.DecimalField(_("discount, %"), default=0, **PERCENT)
    discount_amount = models.DecimalField(_("discount"), default=0, **MONEY)
    discount_rule = models.CharField(_("discount rule"), max_length=300, blank=True)  # what the engine applied, for people
    manual_discount_percent = models.DecimalField(_("special discount, %"), default=0, **PERCENT)
    approval = models.CharField(_("discount approval"), max_length=12, choices=DiscountApproval.choices, default=DiscountApproval.NOT_NEEDED)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    tax_rate = models.DecimalField(_("tax rate, %"), default=0, max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), default=0, **MONEY)
    net_amount = models.DecimalField(_("net"), default=0, **MONEY)
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    reserved_quantity = models.DecimalField(_("reserved"), default=0, **QUANTITY)
    shipped_quantity = models.DecimalField(_("shipped"), default=0, **QUANTITY)
    invoiced_quantity = models.DecimalField(_("invoiced"), default=0, **QUANTITY)
    returned_quantity = models.DecimalField(_("returned"), default=0, **QUANTITY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="sales_line_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="sales_line_price_not_negative"),
            models.CheckConstraint(condition=Q(shipped_quantity__gte=0) & Q(invoiced_quantity__gte=0), name="sales_line_progress_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity.normalize():f}"
