from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change that caused it (transactional outbox)."""

    event_type = models.CharField(_("event"), max_length=100, db_index=True)
    aggregate = models.CharField(_("record type"), max_length=100, blank=True)
    aggregate_id = models.CharField(_("record id"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")
        ordering = ["id"]
        indexes = [models.Index(fields=["aggregate", "aggregate_id", "id"], name="outbox_aggregate_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate}#{self.aggregate_id}"
