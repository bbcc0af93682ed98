"""Timers (rows with `due_at` fired by the worker loop) and the worker heartbeat. Engine: fabrika/core/timers.py."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Timer", "TimerStatus", "WorkerHeartbeat"]


class TimerStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


# A timer waiting to fire: pending, or failed with a retry still to come.
OPEN_TIMER_STATUSES = (TimerStatus.PENDING, TimerStatus.FAILED)


class Timer(models.Model):
    """Something to do at `due_at` (a reminder, an SLA deadline, a process wait). Fired exactly once by
    `fabrika.core.timers.fire_due_timers`; a handler error marks it failed and schedules a retry."""

    kind = models.CharField(_("kind"), max_length=100, db_index=True)
    due_at = models.DateTimeField(_("due at"), db_index=True)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    dedupe_key = models.CharField(_("deduplication key"), max_length=200, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=TimerStatus.choices, default=TimerStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="timer_status_due_idx"),
            models.Index(fields=["content_type", "object_id", "kind"], name="timer_target_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status__in=["pending", "failed"]) & Q(dedupe_key__isnull=False),
                name="timer_open_dedupe_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def target(self) -> models.Model | None:
        """The record the timer is about, or None (no target, or the record was deleted since)."""
        if self.content_type_id is None or not self.object_id:
            return None
        model = self.content_type.model_class()
        if model is None:
            return None
        return model._default_manager.filter(pk=self.object_id).first()


class WorkerHeartbeat(models.Model):
    """One row per worker process (`run_worker`), touched on every loop; /healthz reads the freshest."""

    name = models.CharField(_("worker"), max_length=200, unique=True)
    host = models.CharField(_("host"), max_length=200)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started"))
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.name
