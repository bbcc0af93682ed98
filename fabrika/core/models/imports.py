"""Import jobs: one uploaded XLSX/CSV file, its column mapping, preview and the outcome of the commit."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ImportJob", "ImportMode", "ImportStatus"]


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: import only if every row is valid")
    VALID_ONLY = "valid_only", _("Only the valid rows: skip rows with errors")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Previewed")
    COMPLETED = "completed", _("Imported")
    FAILED = "failed", _("Nothing imported")


class ImportJob(models.Model):
    """Written only by the services in fabrika.core.importer."""

    entity = models.CharField(_("record type"), max_length=100, help_text=_("app_label.model_name, e.g. parties.counterparty"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    columns = models.JSONField(_("columns"), default=list)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True, help_text=_("column → field"))
    mode = models.CharField(_("mode"), max_length=20, choices=ImportMode.choices, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.UPLOADED, db_index=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    invalid_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True, help_text=_("[{row, column, field, message}]"))
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="import_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.entity}"
