"""Invoices (to clients and from suppliers), credit notes and payment schedules.

Money is in the document's currency; `exchange_rate` converts to the base currency for the journal.
An invoice's open amount is `total − paid_amount − credited_amount`; `paid_amount` is the sum of the payment
allocations made to it and `credited_amount` the sum of its posted credit notes (kept in the same transaction).
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
RATE = {"max_digits": 15, "decimal_places": 6}


class Direction(models.TextChoices):
    OUTGOING = "out", _("To a client")  # we bill / we receive the money
    INCOMING = "in", _("From a supplier")  # we are billed / we pay


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


class ScheduleKind(models.TextChoices):
    PREPAYMENT = "prepayment", _("Prepayment")
    INSTALMENT = "instalment", _("Instalment")


class Invoice(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTGOING)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    counterparty = models.ForeignKey("parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, related_name="invoices")
    contact = models.ForeignKey("parties.Contact", verbose_name=_("contact"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    order = models.ForeignKey("sales.SalesOrder", verbose_name=_("sales order"), on_delete=models.PROTECT, null=True, blank=True, related_name="invoices")
    supplier_reference = models.CharField(_("supplier's number"), max_length=60, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), default=1, **RATE)
    prices_include_tax = models.BooleanField(_("prices include tax"), default=True)
    net_total = models.DecimalField(_("net"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=0, **MONEY)
    credited_amount = models.DecimalField(_("credited"), default=0, **MONEY)
    notes = models.TextField(_("notes"), blank=True)
    responsible = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancellation_date = models.DateField(_("cancellation date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["direction", "status", "date"], name="invoice_dir_status_date_idx"),
            models.Index(fields=["counterparty", "date"], name="invoice_party_date_idx"),
            models.Index(fields=["due_date"], name="invoice_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(paid_amount__gte=0) & Q(credited_amount__gte=0), name="invoice_settled_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number or _("Draft invoice #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("finance:invoice_detail", args=[self.pk])

    @property
    def open_amount(self):
        return self.total - self.paid_amount - self.credited_amount


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    order_line = models.ForeignKey("sales.SalesOrderLine", verbose_name=_("order line"), on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines")
    shipment_line = models.ForeignKey("sales.ShipmentLine", verbose_name=_("shipment line"), on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey("catalog.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    price = models.DecimalField(_("price"), **PRICE)
    discount_percent = models.DecimalField(_("discount, %"), default=0, **PERCENT)
    tax_rate = models.DecimalField(_("tax rate, %"), default=0, max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), default=0, **MONEY)
    net_amount = models.DecimalField(_("net"), default=0, **MONEY)
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity.normalize():f}"


class PaymentScheduleItem(models.Model):
    """One expected payment of an order or an invoice: a prepayment (percent of the total) or a dated instalment."""

    order = models.ForeignKey("sales.SalesOrder", verbose_name=_("sales order"), on_delete=models.CASCADE, null=True, blank=True, related_name="schedule")
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, null=True, blank=True, related_name="schedule")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=12, choices=ScheduleKind.choices, default=ScheduleKind.INSTALMENT)
    due_date = models.DateField(_("due date"))
    percent = models.DecimalField(_("percent"), null=True, blank=True, max_digits=7, decimal_places=4)
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), default=0, **MONEY)

    class Meta:
        verbose_name = _("scheduled payment")
        verbose_name_plural = _("payment schedule")
        ordering = ["position", "due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(order__isnull=False) | Q(invoice__isnull=False), name="schedule_item_has_document"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="schedule_item_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.due_date.isoformat()} {self.amount}"

    @property
    def open_amount(self):
        return max(self.amount - self.paid_amount, 0)

    @property
    def state(self) -> str:
        """paid (in full), overdue (due date passed), due (today) or planned."""
        from django.utils import timezone

        if self.amount - self.paid_amount <= 0:
            return "paid"
        today = timezone.localdate()
        return "overdue" if self.due_date < today else "due" if self.due_date == today else "planned"

    @property
    def state_label(self) -> str:
        return str({"paid": _("Paid"), "overdue": _("Overdue"), "due": _("Due today"), "planned": _("Planned")}[self.state])


class CreditNote(models.Model):
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    date = models.DateField(_("date"))
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="credit_notes")
    counterparty = models.ForeignKey("parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, related_name="credit_notes")
    sales_return = models.ForeignKey("sales.SalesReturn", verbose_name=_("return"), on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes")
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(_("exchange rate"), default=1, **RATE)
    net_total = models.DecimalField(_("net"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    # set when posted: total × rate, except the note that leaves its invoice nothing open, which takes what is left of
    # the invoice's base total (services_invoices.credit_note_post), so a closed invoice is settled to the kopeck
    base_total = models.DecimalField(_("total in the base currency"), null=True, blank=True, **MONEY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return self.number or _("Draft credit note #%(id)s") % {"id": self.pk}

    def get_absolute_url(self) -> str:
        return reverse("finance:credit_note_detail", args=[self.pk])


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, verbose_name=_("credit note"), on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, verbose_name=_("invoice line"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    description = models.CharField(_("description"), max_length=300, blank=True)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    price = models.DecimalField(_("price"), **PRICE)
    tax_rate = models.DecimalField(_("tax rate, %"), default=0, max_digits=5, decimal_places=2)
    net_amount = models.DecimalField(_("net"), default=0, **MONEY)
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="credit_note_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity.normalize():f}"
