"""Sales plans: how much each manager should win per month (in the base currency)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["SalesPlan"]


class SalesPlan(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("manager"), on_delete=models.CASCADE, related_name="+")
    # Always the first day of the month (services_plans.parse_month). Not a CheckConstraint: on SQLite `month__day`
    # compiles to Django's django_date_extract(), which a plain sqlite3 connection (backup, restore) does not know.
    month = models.DateField(_("month"), help_text=_("The first day of the month"))
    amount = models.DecimalField(_("plan"), max_digits=15, decimal_places=2)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["month", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="crm_sales_plan_user_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="crm_sales_plan_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m}: {self.amount}"
