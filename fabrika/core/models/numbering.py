from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NumberSequence(models.Model):
    """How documents of one type are numbered, e.g. pattern "{prefix}-{year}-{number}" → SO-2026-00042."""

    document_type = models.CharField(_("document type"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    prefix = models.CharField(_("prefix"), max_length=20, blank=True)
    pattern = models.CharField(
        _("pattern"),
        max_length=100,
        default="{prefix}-{year}-{number}",
        help_text=_("Placeholders: {prefix}, {year}, {yy}, {month}, {number}"),
    )
    padding = models.PositiveSmallIntegerField(_("digits"), default=5)
    yearly_reset = models.BooleanField(_("restart every year"), default=True)

    class Meta:
        verbose_name = _("numbering sequence")
        verbose_name_plural = _("numbering sequences")
        ordering = ["document_type"]

    def __str__(self) -> str:
        return self.name or self.document_type


class NumberCounter(models.Model):
    """The last number issued for a sequence in a year (year 0 when the sequence never resets)."""

    sequence = models.ForeignKey(NumberSequence, on_delete=models.CASCADE, related_name="counters")
    year = models.PositiveIntegerField()
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sequence", "year"], name="number_counter_unique_year")]

    def __str__(self) -> str:
        return f"{self.sequence_id}/{self.year}: {self.last_value}"
