"""Price types, price lists, discount rules and managers' discount limits.

Workflow and cross-row rules (exactly one retail type, tiers strictly increasing, what each rule kind needs) live in
services.py; the engine that turns these rows into a line's price and discount is engine.py; the rules are explained
in docs/design/pricing.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

PRICE = {"max_digits": 15, "decimal_places": 2}
PERCENT = {"max_digits": 7, "decimal_places": 4}
THRESHOLD = {"max_digits": 15, "decimal_places": 4}


class PriceType(models.Model):
    """A column of prices (retail, wholesale, dealer...). A counterparty refers to one by `code`."""

    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    is_retail = models.BooleanField(_("retail"), default=False, help_text=_("The prices discounts are shown against; exactly one type is retail."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("price type")
        verbose_name_plural = _("price types")
        ordering = ["-is_retail", "code"]
        constraints = [
            models.UniqueConstraint(fields=["is_retail"], condition=Q(is_retail=True), name="pricing_one_retail_type"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PriceList(models.Model):
    """Prices of one type in one currency from `valid_from` (to `valid_to`, inclusive, when set)."""

    price_type = models.ForeignKey(PriceType, verbose_name=_("price type"), on_delete=models.PROTECT, related_name="price_lists")
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["price_type__code", "currency", "-valid_from", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["price_type", "currency", "valid_from"], name="pricing_list_type_currency_from_unique"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="pricing_list_dates_ordered"),
        ]
        indexes = [models.Index(fields=["price_type", "currency", "valid_from"], name="pricing_list_lookup_idx")]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    """The price of one product per its stock unit in a price list."""

    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price"), **PRICE)

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        ordering = ["price_list", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="pricing_item_product_unique"),
            models.CheckConstraint(condition=Q(price__gte=0), name="pricing_item_price_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "price_list"], name="pricing_item_product_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price}"


class DiscountKind(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    PROMOTION = "promotion", _("Promotion")
    QUANTITY = "quantity", _("Quantity break")
    VOLUME = "volume", _("Volume maintenance")
    CUMULATIVE = "cumulative", _("Cumulative")


# Tie-break order among discounts of equal percent and priority: a smaller number wins.
KIND_ORDER = {
    DiscountKind.PERSONAL: 0,
    DiscountKind.PROMOTION: 1,
    DiscountKind.QUANTITY: 2,
    DiscountKind.VOLUME: 3,
    DiscountKind.CUMULATIVE: 4,
}
TIERED_KINDS = (DiscountKind.QUANTITY, DiscountKind.CUMULATIVE)
PERIOD_KINDS = (DiscountKind.VOLUME, DiscountKind.CUMULATIVE)


class DiscountRule(models.Model):
    """One automatic discount. What each kind uses:

    personal    counterparty, percent; groups (each with its subgroups) or products, none = everything
    promotion   percent; products and/or groups (none = everything); segments (none = every client); the validity period
    quantity    tiers (minimum quantity in the stock unit -> percent); products and/or groups (at least one)
    volume      period_days, min_amount, percent: the client bought at least min_amount in the previous period
    cumulative  period_days, tiers (purchases over the last period_days days -> percent)
    Every kind: valid_from..valid_to (inclusive), priority (higher wins a tie), is_active; segments narrow any
    non-personal rule to clients of those segments.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=DiscountKind.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    percent = models.DecimalField(_("discount, %"), default=0, **PERCENT)
    counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("client"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    products = models.ManyToManyField("catalog.Product", verbose_name=_("products"), blank=True, related_name="+")
    groups = models.ManyToManyField("catalog.ProductGroup", verbose_name=_("product groups"), blank=True, related_name="+")
    segments = models.ManyToManyField("parties.Segment", verbose_name=_("segments"), blank=True, related_name="+")
    period_days = models.PositiveIntegerField(_("period, days"), null=True, blank=True)
    min_amount = models.DecimalField(_("minimum purchases"), null=True, blank=True, **THRESHOLD)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("discount rule")
        verbose_name_plural = _("discount rules")
        ordering = ["kind", "-priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=0) & Q(percent__lte=100), name="pricing_rule_percent_range"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="pricing_rule_dates_ordered"),
        ]
        indexes = [models.Index(fields=["is_active", "valid_from"], name="pricing_rule_active_idx")]

    def __str__(self) -> str:
        return self.name


class DiscountTier(models.Model):
    """A step of a tiered rule: from `threshold` (quantity for quantity breaks, purchases for cumulative) -> percent."""

    rule = models.ForeignKey(DiscountRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="tiers")
    threshold = models.DecimalField(_("from"), **THRESHOLD)
    percent = models.DecimalField(_("discount, %"), **PERCENT)

    class Meta:
        verbose_name = _("discount tier")
        verbose_name_plural = _("discount tiers")
        ordering = ["rule", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "threshold"], name="pricing_tier_threshold_unique"),
            models.CheckConstraint(condition=Q(percent__gte=0) & Q(percent__lte=100), name="pricing_tier_percent_range"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="pricing_tier_threshold_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold}: {self.percent}%"


class ManualDiscountLimit(models.Model):
    """The largest special discount a user (or every member of a role) may give without approval."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.OneToOneField("auth.Group", verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    max_percent = models.DecimalField(_("maximum discount, %"), **PERCENT)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("discount limit")
        verbose_name_plural = _("discount limits")
        ordering = ["group__name", "user__username", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True)) | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="pricing_limit_user_xor_group",
            ),
            models.CheckConstraint(condition=Q(max_percent__gte=0) & Q(max_percent__lte=100), name="pricing_limit_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group}: {self.max_percent}%"
