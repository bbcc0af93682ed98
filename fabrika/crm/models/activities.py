"""CRM activities: calls, meetings, e-mails, notes and tasks linked to counterparties, contacts, leads and deals."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

__all__ = ["Activity", "ActivityKind", "ActivityPriority", "ActivityStatus", "CalendarFeed", "ChecklistItem"]


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    NOTE = "note", _("Note")
    TASK = "task", _("Task")


class ActivityPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Activity(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices, default=ActivityKind.TASK)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=ActivityPriority.choices, default=ActivityPriority.NORMAL)
    status = models.CharField(_("status"), max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    # The assignee is the activity's responsible user: scopes filter on it.
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="crm_activities"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="crm_activities_authored"
    )
    counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    contact = models.ForeignKey(
        "parties.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    lead = models.ForeignKey("crm.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    deal = models.ForeignKey("crm.Deal", verbose_name=_("deal"), on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["responsible", "status", "due_at"], name="crm_activity_due_idx"),
            models.Index(fields=["responsible", "starts_at"], name="crm_activity_start_idx"),
            models.Index(fields=["counterparty", "created_at"], name="crm_activity_party_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(starts_at__isnull=False),
                name="crm_activity_end_needs_start",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("crm:activity_detail", args=[self.pk])

    @property
    def assignee(self):
        return self.responsible

    @property
    def is_open(self) -> bool:
        return self.status == ActivityStatus.OPEN


class ChecklistItem(models.Model):
    activity = models.ForeignKey(Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("text"), max_length=300)
    done = models.BooleanField(_("done"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A user's secret iCal feed address; regenerating the token invalidates the old address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="crm_calendar_feed")
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
