from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ValuationMethod(models.TextChoices):
    FIFO = "fifo", _("FIFO batches")
    AVERAGE = "average", _("Moving average")


class Currency(models.Model):
    code = models.CharField(_("code"), max_length=3, unique=True, help_text=_("ISO 4217, e.g. RUB, EUR"))
    name = models.CharField(_("name"), max_length=100)
    symbol = models.CharField(_("symbol"), max_length=8, blank=True)
    minor_unit = models.PositiveSmallIntegerField(_("decimal places"), default=2)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ExchangeRate(models.Model):
    """How many units of the base currency one unit (times `nominal`) of `currency` costs on `date`."""

    currency = models.ForeignKey(Currency, on_delete=models.CASCADE, related_name="rates", verbose_name=_("currency"))
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=15, decimal_places=6)
    nominal = models.PositiveIntegerField(_("nominal"), default=1)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchange_rate_unique_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"


class CompanySettings(models.Model):
    """The single row of company-wide settings (pk=1), edited in the UI."""

    name = models.CharField(_("company name"), max_length=200, default="My company")
    base_currency = models.CharField(_("base currency"), max_length=3, default="RUB")
    country = models.CharField(_("country"), max_length=2, default="RU", help_text=_("ISO 3166 alpha-2"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    fiscal_year_start_month = models.PositiveSmallIntegerField(_("fiscal year starts in month"), default=1)
    default_valuation_method = models.CharField(
        _("default stock valuation"), max_length=10, choices=ValuationMethod.choices, default=ValuationMethod.FIFO
    )
    allow_negative_stock = models.BooleanField(_("allow negative stock (moving average only)"), default=False)
    default_vat_rate = models.DecimalField(_("default VAT rate, %"), max_digits=5, decimal_places=2, default=20)

    class Meta:
        verbose_name = _("company settings")
        verbose_name_plural = _("company settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="company_fiscal_month_range",
            )
        ]

    def __str__(self) -> str:
        return self.name
