"""Administrator-defined custom fields. Values live in each entity's `custom` JSONField, keyed by the field's code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CustomFieldDefinition", "CustomFieldType"]


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")
    MULTICHOICE = "multichoice", _("Multiple choice")
    FILE = "file", _("File")
    LINK = "link", _("Link to a record")


class CustomFieldDefinition(models.Model):
    """One custom field of an entity ("app_label.model_name"), optionally limited to a context ("pipeline:<id>").

    Written only by fabrika.core.services_custom_fields; read through fabrika.core.custom_fields.
    `choices` is a list of {"value", "label"}; `default` is kept in the stored JSON form of the field's type.
    """

    entity = models.CharField(_("entity"), max_length=100)
    context = models.CharField(_("context"), max_length=100, blank=True, help_text=_("Empty: every record of the entity"))
    code = models.CharField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=150)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    default = models.JSONField(_("default value"), null=True, blank=True)
    target_entity = models.CharField(_("linked entity"), max_length=100, blank=True)
    decimal_places = models.PositiveSmallIntegerField(_("decimal places"), null=True, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    show_in_list = models.BooleanField(_("show in lists"), default=False)
    filterable = models.BooleanField(_("filterable"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "context", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "context", "code"], name="custom_field_code_unique"),
        ]
        indexes = [models.Index(fields=["entity", "is_active", "order"], name="custom_field_entity_idx")]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"

    def choice_label(self, value: str) -> str:
        for choice in self.choices or []:
            if choice.get("value") == value:
                return str(choice.get("label") or value)
        return str(value)

    @property
    def choice_values(self) -> list[str]:
        return [str(choice.get("value")) for choice in self.choices or []]
