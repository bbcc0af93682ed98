"""Payments received and made, and their allocation to invoices.

A posted payment's `amount` is split into allocations (each to one open invoice of the same counterparty and
direction); what is not allocated (`amount − allocated_amount`) is an advance, kept on the advances account until a
later allocation uses it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .invoices import MONEY, RATE, Direction, DocumentStatus  # noqa: F401


class PaymentMethod(models.TextChoices):
    BANK = "bank", _("Bank transfer")
    CASH = "cash", _("Cash")


class Payment(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTGOING,
                                 help_text=_("To a client: money we receive; from a supplier: money we pay"))
    method = models.CharField(_("method"), max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.BANK)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    date = models.DateField(_("date"))
    counterparty = models.ForeignKey("parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, related_name="payments")
    order = models.ForeignKey("sales.SalesOrder", verbose_name=_("sales order"), on_delete=models.PROTECT, null=True, blank=True, related_name="payments")
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), default=1, **RATE)
    amount = models.DecimalField(_("amount"), **MONEY)
    allocated_amount = models.DecimalField(_("allocated"), default=0, **MONEY)
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    purpose = models.CharField(_("purpose"), max_length=300, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancellation_date = models.DateField(_("cancellation date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["direction", "status", "date"], name="payment_dir_status_date_idx"),
            models.Index(fields=["counterparty", "date"], name="payment_party_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(allocated_amount__gte=0) & Q(allocated_amount__lte=models.F("amount")), name="payment_allocated_within_amount"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft payment #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("finance:payment_detail", args=[self.pk])

    @property
    def unallocated_amount(self):
        return self.amount - self.allocated_amount


class PaymentAllocation(models.Model):
    payment = models.ForeignKey(Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey("finance.Invoice", verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="allocations")
    date = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    # The part of the invoice's base-currency amount this allocation settles, and the exchange difference against the
    # payment's base-currency value of `amount` (positive: a gain for the company); both 0 in the base currency.
    settled_base = models.DecimalField(_("settled in base currency"), default=0, **MONEY)
    exchange_difference = models.DecimalField(_("exchange difference"), default=0, **MONEY)
    is_active = models.BooleanField(_("active"), default=True)  # False once the payment or the invoice is cancelled
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")
        ordering = ["date", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self) -> str:
        return f"{self.payment} → {self.invoice}: {self.amount}"

    def get_absolute_url(self) -> str:
        return reverse("finance:payment_detail", args=[self.payment_id])
