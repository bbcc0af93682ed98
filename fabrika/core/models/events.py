from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change that caused it (transactional outbox).

    `dispatched_at` is set once the event has been fanned out into one delivery row per subscriber (in-process
    consumers: EventDelivery; webhooks: WebhookDelivery); each delivery then progresses on its own."""

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


class EventDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed, will retry")


class EventDelivery(models.Model):
    """The progress of one in-process consumer (registered with `fabrika.core.outbox.register_event_consumer`)
    on one event: a failing consumer is retried on its own, and blocks only its own later events of that record."""

    consumer = models.CharField(_("consumer"), max_length=100)
    event = models.ForeignKey(OutboxEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="consumer_deliveries")
    status = models.CharField(_("status"), max_length=20, choices=EventDeliveryStatus.choices, default=EventDeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["event_id", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="event_delivery_due_idx")]
        constraints = [models.UniqueConstraint(fields=["consumer", "event"], name="event_delivery_unique")]

    def __str__(self) -> str:
        return f"{self.consumer} ← {self.event_id}"
