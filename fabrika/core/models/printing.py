"""Printed-form templates: Django template source kept in the database and edited by an administrator.

A PrintTemplate belongs to a printable document type registered in `fabrika.core.printing` (its `document_type`,
e.g. "inventory.receipt_note"). Every save writes a PrintTemplateVersion with the full source, so earlier versions
can be read and restored. Services: fabrika/core/printing.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = ["PaperOrientation", "PaperSize", "PrintTemplate", "PrintTemplateVersion"]


class PaperSize(models.TextChoices):
    A4 = "A4", "A4"
    A5 = "A5", "A5"
    LETTER = "letter", _("Letter")


class PaperOrientation(models.TextChoices):
    PORTRAIT = "portrait", _("Portrait")
    LANDSCAPE = "landscape", _("Landscape")


class PrintTemplate(models.Model):
    document_type = models.CharField(
        _("document type"), max_length=100, help_text=_("The printable document, e.g. inventory.receipt_note")
    )
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(
        _("language"), max_length=10, blank=True, help_text=_("Empty: used for every language without its own template")
    )
    body = models.TextField(_("template (HTML)"))
    css = models.TextField(_("CSS"), blank=True)
    paper_size = models.CharField(_("paper size"), max_length=10, choices=PaperSize.choices, default=PaperSize.A4)
    orientation = models.CharField(
        _("orientation"), max_length=10, choices=PaperOrientation.choices, default=PaperOrientation.PORTRAIT
    )
    is_default = models.BooleanField(_("default"), default=True)
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("print template")
        verbose_name_plural = _("print templates")
        ordering = ["document_type", "language", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "language"], condition=Q(is_default=True), name="print_template_one_default"
            ),
        ]
        indexes = [models.Index(fields=["document_type", "active"], name="print_template_type_idx")]

    def __str__(self) -> str:
        return self.name


class PrintTemplateVersion(models.Model):
    """The full state of a template after one save. Append-only."""

    template = models.ForeignKey(
        PrintTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    body = models.TextField(_("template (HTML)"))
    css = models.TextField(_("CSS"), blank=True)
    paper_size = models.CharField(_("paper size"), max_length=10, choices=PaperSize.choices)
    orientation = models.CharField(_("orientation"), max_length=10, choices=PaperOrientation.choices)
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("saved by"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)

    class Meta:
        verbose_name = _("print template version")
        verbose_name_plural = _("print template versions")
        ordering = ["template", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="print_template_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.version}"
