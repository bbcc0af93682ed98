from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PartyKind(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation")
    INDIVIDUAL = "individual", _("Individual")


class PartyRole(models.TextChoices):
    CLIENT = "client", _("Client")
    SUPPLIER = "supplier", _("Supplier")
    DEALER = "dealer", _("Dealer / partner")
    DISTRIBUTOR = "distributor", _("Distributor")
    POINT_OF_SALE = "point_of_sale", _("Point of sale")
    CARRIER = "carrier", _("Carrier")
    SERVICE_PROVIDER = "service_provider", _("Service provider")


class Counterparty(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices, default=PartyKind.ORGANISATION)
    name = models.CharField(_("name"), max_length=300)
    is_client = models.BooleanField(_("client"), default=False)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    is_dealer = models.BooleanField(_("dealer / partner"), default=False)
    tax_id = models.CharField(_("tax ID"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="counterparties"
    )
    is_active = models.BooleanField(_("active"), default=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("counterparty")
        verbose_name_plural = _("counterparties")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["responsible", "name"], name="party_responsible_name_idx"),
            models.Index(fields=["created_at"], name="party_created_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def roles_display(self) -> str:
        names = [str(label) for flag, label in (
            (self.is_client, PartyRole.CLIENT.label),
            (self.is_supplier, PartyRole.SUPPLIER.label),
            (self.is_dealer, PartyRole.DEALER.label),
        ) if flag]
        return ", ".join(names)
