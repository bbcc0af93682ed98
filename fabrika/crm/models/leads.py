"""CRM leads: enquiries from the public web form, the API, imports or typed in by hand, qualified and converted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

__all__ = ["Lead", "LeadSource", "LeadStatus", "PublicForm", "PublicFormHit"]


class LeadSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    WEB_FORM = "web_form", _("Web form")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class Lead(models.Model):
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, default=LeadSource.MANUAL)
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    status_reason = models.CharField(_("reason"), max_length=500, blank=True)
    name = models.CharField(_("name"), max_length=300)
    company_name = models.CharField(_("company"), max_length=300, blank=True)
    tax_id = models.CharField(_("tax ID"), max_length=32, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    message = models.TextField(_("message"), blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="crm_leads"
    )
    public_form = models.ForeignKey(
        "crm.PublicForm", verbose_name=_("web form"), on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    source_details = models.JSONField(_("source details"), default=dict, blank=True)  # utm_*, page, referrer, ip
    converted_counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("converted to counterparty"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_contact = models.ForeignKey(
        "parties.Contact", verbose_name=_("converted to contact"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_deal = models.ForeignKey(
        "crm.Deal", verbose_name=_("converted to deal"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["responsible", "status"], name="crm_lead_responsible_idx"),
            models.Index(fields=["status", "created_at"], name="crm_lead_status_created_idx"),
            models.Index(fields=["created_at"], name="crm_lead_created_idx"),
        ]
        permissions = [
            ("convert_lead", _("Can convert a lead into a counterparty and a deal")),
            ("manage_publicform", _("Can manage public lead forms")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("crm:lead_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"L-{self.pk}" if self.pk else ""


class PublicForm(models.Model):
    """An embeddable web form: its submissions become leads of the form's responsible user."""

    slug = models.SlugField(_("address"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="crm_public_forms"
    )
    pipeline = models.ForeignKey(
        "crm.Pipeline", verbose_name=_("pipeline"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    allowed_origins = models.TextField(_("allowed origins"), blank=True, help_text=_("One per line, e.g. https://example.com; empty allows any site."))
    success_message = models.CharField(_("thank-you message"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class PublicFormHit(models.Model):
    """One submission attempt to a public form from a client address: the rate limit counts these rows."""

    public_form = models.ForeignKey(PublicForm, on_delete=models.CASCADE, related_name="hits")
    ip_address = models.CharField(max_length=45)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["ip_address", "at"], name="crm_formhit_ip_at_idx")]

    def __str__(self) -> str:
        return f"{self.ip_address} {self.at:%Y-%m-%d %H:%M}"
