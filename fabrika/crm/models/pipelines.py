"""CRM pipelines and deals: any number of pipelines, each with ordered stages; deals move between stages.

A pipeline's own deal fields are custom fields of the entity "crm.deal" with the context "pipeline:<id>"
(fabrika.core.custom_fields). A stage names the fields a deal must have filled to enter it and its automation
(a task on entering, a reminder after N days, moving on when the stage task is closed).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Deal", "DealStageHistory", "Pipeline", "PipelinePurpose", "Stage", "StageKind", "StageOrderEvent"]


class PipelinePurpose(models.TextChoices):
    SALES = "sales", _("Sales")
    PROCUREMENT = "procurement", _("Procurement")
    SERVICE = "service", _("Service")
    DEALER_ONBOARDING = "dealer_onboarding", _("Dealer onboarding")
    CUSTOM = "custom", _("Custom")


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=150, unique=True)
    purpose = models.CharField(_("purpose"), max_length=30, choices=PipelinePurpose.choices, default=PipelinePurpose.SALES)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def custom_context(self) -> str:
        """The custom-field context of this pipeline's own deal fields."""
        return f"pipeline:{self.pk}"


class StageOrderEvent(models.TextChoices):
    """When a deal follows its sales order into a stage (Stage.order_event)."""

    NONE = "", _("(none)")
    ORDER_CONFIRMED = "order_confirmed", _("order confirmed")
    ORDER_SHIPPED = "order_shipped", _("order shipped")
    ORDER_INVOICED = "order_invoiced", _("order invoiced")
    ORDER_PAID = "order_paid", _("order paid")


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=150)
    order = models.PositiveIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#6c757d",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB"))],
    )
    required_fields = models.JSONField(
        _("fields required to enter"),
        default=list,
        blank=True,
        help_text=_('Standard deal fields (e.g. "amount") and custom fields as "custom.<code>"'),
    )
    # Automation: on entering, create a task for a user or a role, due in N hours.
    task_on_enter = models.BooleanField(_("create a task on entering"), default=False)
    task_title = models.CharField(_("task title"), max_length=200, blank=True)
    task_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("task for user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    task_role = models.ForeignKey(
        "auth.Group", verbose_name=_("task for role"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    task_due_hours = models.PositiveIntegerField(_("task due in, hours"), null=True, blank=True)
    advance_on_task_close = models.BooleanField(_("move to the next stage when the stage task is closed"), default=False)
    # Automation: remind the responsible when a deal stays longer than N days.
    remind_after_days = models.PositiveIntegerField(_("remind after, days in stage"), null=True, blank=True)
    # Automation: the deal follows its sales order (fabrika/sales/deals.py).
    order_event = models.CharField(
        _("move here when the deal's order is"), max_length=20, choices=StageOrderEvent.choices, blank=True, default="",
        help_text=_("The deal moves to this stage when its sales order reaches this point"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="crm_stage_name_unique"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="crm_stage_probability_max"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class Deal(models.Model):
    number = models.CharField(_("number"), max_length=40, unique=True)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals")
    title = models.CharField(_("title"), max_length=300)
    counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, related_name="deals"
    )
    contact = models.ForeignKey(
        "parties.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    amount = models.DecimalField(_("amount"), max_digits=15, decimal_places=2, null=True, blank=True)
    currency = models.ForeignKey(
        "core.Currency", verbose_name=_("currency"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="deals"
    )
    stage_entered_at = models.DateTimeField(_("in the stage since"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    won_reason = models.CharField(_("won reason"), max_length=300, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "stage"], name="crm_deal_pipeline_stage_idx"),
            models.Index(fields=["responsible", "created_at"], name="crm_deal_responsible_idx"),
            models.Index(fields=["counterparty"], name="crm_deal_counterparty_idx"),
            models.Index(fields=["created_at"], name="crm_deal_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0) | models.Q(amount__isnull=True), name="crm_deal_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class DealStageHistory(models.Model):
    """One stay of a deal in a stage: entered, left (null while it is still there) and who moved it in."""

    deal = models.ForeignKey(Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_history")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="history")
    from_stage = models.ForeignKey(
        Stage, verbose_name=_("from stage"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("moved by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    stage_task_id = models.PositiveBigIntegerField(_("stage task"), null=True, blank=True)

    class Meta:
        verbose_name = _("deal stage history")
        verbose_name_plural = _("deal stage history")
        ordering = ["deal", "entered_at", "id"]
        indexes = [
            models.Index(fields=["stage", "entered_at"], name="crm_dsh_stage_entered_idx"),
            models.Index(fields=["deal", "left_at"], name="crm_dsh_deal_left_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} → {self.stage}"

    def duration_seconds(self, now=None) -> int:
        from django.utils import timezone

        end = self.left_at or now or timezone.now()
        return max(0, int((end - self.entered_at).total_seconds()))
