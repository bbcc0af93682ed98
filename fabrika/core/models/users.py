from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    OWN = "own", _("Own records")
    DEPARTMENT = "department", _("Department's records")
    ALL = "all", _("All records")


SCOPE_RANK = {Scope.OWN: 0, Scope.DEPARTMENT: 1, Scope.ALL: 2}


class Department(models.Model):
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent department"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        "core.User", verbose_name=_("head"), null=True, blank=True, on_delete=models.SET_NULL, related_name="headed_departments"
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="department_unique_name_in_parent")]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> set[int]:
        """This department and every department below it (one query per level)."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(Department.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            frontier = [i for i in frontier if i not in ids]
            ids.update(frontier)
        return ids


class User(AbstractUser):
    department = models.ForeignKey(
        Department, verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    position = models.CharField(_("position"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    is_external = models.BooleanField(_("external user"), default=False, help_text=_("Dealers, expeditors and other partners."))

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class RoleProfile(models.Model):
    """Extends a Django group (a role) with the scope of records its members see."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="profile", verbose_name=_("role"))
    scope = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.OWN)
    description = models.TextField(_("description"), blank=True)
    discount_limit_percent = models.DecimalField(_("manual discount limit, %"), max_digits=5, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("role profile")
        verbose_name_plural = _("role profiles")

    def __str__(self) -> str:
        return f"{self.group.name} ({self.get_scope_display()})"


class ApiToken(models.Model):
    """A personal API token: the secret is shown once and only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginFailure(models.Model):
    """Failed login attempts, used to throttle guessing (by username and by address)."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")

    def __str__(self) -> str:
        return f"{self.username} from {self.ip_address or '?'} at {self.at:%Y-%m-%d %H:%M:%S}"
