"""Statuses and reminders on any record, and the in-app notifications they raise.

A status catalogue per record type (StatusDefinition, entity = "app_label.model_name"); RecordStatus rows are the
append-only history of the statuses set on a record: the current status on a date is the one with the latest
`effective_from` on or before that date (ties: the one set last). Services: fabrika/core/statuses.py and
fabrika/core/notifications.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["Notification", "RecordStatus", "ReminderDigest", "StatusDefinition", "StatusKind"]


class StatusKind(models.TextChoices):
    INFO = "info", _("Information")
    REMIND = "remind", _("Reminder")
    CLOSED = "closed", _("Closed")


class StatusDefinition(models.Model):
    """One status an administrator offers for a record type. Deactivate rather than delete once used."""

    entity = models.CharField(_("record type"), max_length=100)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=StatusKind.choices, default=StatusKind.INFO)
    colour = models.CharField(_("colour"), max_length=7, default="#616e7c", help_text=_("#RRGGBB"))
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        ordering = ["entity", "order", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "name"], name="status_definition_unique_name")
        ]
        indexes = [models.Index(fields=["entity", "active", "order"], name="status_definition_entity_idx")]

    def __str__(self) -> str:
        return self.name


class RecordStatus(models.Model):
    """A status set on a record from a date. Never edited: a new status replaces it from its own date."""

    content_type = models.ForeignKey(
        ContentType, verbose_name=_("record type"), on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.CharField(_("record id"), max_length=64)
    definition = models.ForeignKey(
        StatusDefinition, verbose_name=_("status"), on_delete=models.PROTECT, related_name="record_statuses"
    )
    effective_from = models.DateField(_("effective from"))
    note = models.TextField(_("note"), blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"))
    notified_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("record status")
        verbose_name_plural = _("record statuses")
        ordering = ["-effective_from", "-set_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "effective_from"], name="record_status_target_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.definition} ({self.effective_from:%Y-%m-%d})"


class Notification(models.Model):
    """An in-app notification (the bell). `url` leads to the record it is about, when it has a page."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=50, default="reminder")
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("record type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    record_status = models.ForeignKey(
        RecordStatus,
        verbose_name=_("status"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]
        constraints = [
            # A reminder notifies once per status, whatever fires it.
            models.UniqueConstraint(
                fields=["record_status", "recipient"],
                condition=Q(record_status__isnull=False),
                name="notification_once_per_status",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ReminderDigest(models.Model):
    """The e-mail digest of due reminders sent to a user on a date: at most one per user per day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateField(_("date"))
    reminder_count = models.PositiveIntegerField(_("reminders"), default=0)
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("reminder digest")
        verbose_name_plural = _("reminder digests")
        ordering = ["-date", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="reminder_digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.user} {self.date:%Y-%m-%d}"
