"""Counterparties with their contacts, addresses, bank accounts and directories (positions, segments, tags).

Roles are one indexed boolean per role (a fixed list from the issue): a filter "suppliers" is a plain indexed
WHERE on SQLite and PostgreSQL alike, and `roles` gives them as a list for forms and the API.

`price_type_code` and `discount_group` are codes, not foreign keys: parties sits below pricing in the dependency
order, so pricing maps these codes to its own price types and discount rules (PriceType.code, discount group code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
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


# role code -> boolean column holding it
ROLE_FIELDS: dict[str, str] = {
    PartyRole.CLIENT: "is_client",
    PartyRole.SUPPLIER: "is_supplier",
    PartyRole.DEALER: "is_dealer",
    PartyRole.DISTRIBUTOR: "is_distributor",
    PartyRole.POINT_OF_SALE: "is_point_of_sale",
    PartyRole.CARRIER: "is_carrier",
    PartyRole.SERVICE_PROVIDER: "is_service_provider",
}


class Directory(models.Model):
    """A small list an administrator edits: positions, segments, tags."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Position(Directory):
    class Meta(Directory.Meta):
        verbose_name = _("position")
        verbose_name_plural = _("positions")


class Segment(Directory):
    class Meta(Directory.Meta):
        verbose_name = _("segment")
        verbose_name_plural = _("segments")


class Tag(Directory):
    class Meta(Directory.Meta):
        verbose_name = _("tag")
        verbose_name_plural = _("tags")


class Counterparty(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices, default=PartyKind.ORGANISATION)
    name = models.CharField(_("name"), max_length=300)
    full_name = models.CharField(_("full legal name"), max_length=500, blank=True)
    # `name` normalised for duplicate matching (validation.normalise_name), written by the services
    name_key = models.CharField(_("name for matching"), max_length=300, blank=True, editable=False, db_index=True)
    is_client = models.BooleanField(_("client"), default=False, db_index=True)
    is_supplier = models.BooleanField(_("supplier"), default=False, db_index=True)
    is_dealer = models.BooleanField(_("dealer / partner"), default=False, db_index=True)
    is_distributor = models.BooleanField(_("distributor"), default=False, db_index=True)
    is_point_of_sale = models.BooleanField(_("point of sale"), default=False, db_index=True)
    is_carrier = models.BooleanField(_("carrier"), default=False, db_index=True)
    is_service_provider = models.BooleanField(_("service provider"), default=False, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("head office"), on_delete=models.PROTECT, null=True, blank=True, related_name="branches"
    )
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO code of the tax ID's country"))
    tax_id = models.CharField(_("tax ID"), max_length=32, blank=True, db_index=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    segments = models.ManyToManyField(Segment, verbose_name=_("segments"), blank=True, related_name="counterparties")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="counterparties")
    price_type_code = models.CharField(_("price type"), max_length=50, blank=True, db_index=True)
    discount_group = models.CharField(_("discount group"), max_length=50, blank=True, db_index=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=15, decimal_places=2, null=True, blank=True,
        help_text=_("Most the client may owe, in the base currency, including the order being confirmed; empty: no limit"),
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("responsible"), on_delete=models.PROTECT, related_name="counterparties"
    )
    is_own_company = models.BooleanField(
        _("our company"), default=False,
        help_text=_("The company itself: printed forms take the seller's requisites (tax ID, KPP, bank account) from it"),
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
        constraints = [
            models.UniqueConstraint(fields=["is_own_company"], condition=models.Q(is_own_company=True), name="party_one_own_company"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("parties:counterparty_detail", args=[self.pk])

    @property
    def roles(self) -> list[str]:
        return [role for role, field in ROLE_FIELDS.items() if getattr(self, field)]

    @property
    def roles_display(self) -> str:
        return ", ".join(str(PartyRole(role).label) for role in self.roles)


class Contact(models.Model):
    counterparty = models.ForeignKey(
        Counterparty, verbose_name=_("counterparty"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    position = models.ForeignKey(
        Position, verbose_name=_("position"), on_delete=models.PROTECT, null=True, blank=True, related_name="contacts"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_primary", "name", "id"]

    def __str__(self) -> str:
        return self.name


class AddressKind(models.TextChoices):
    LEGAL = "legal", _("Legal")
    POSTAL = "postal", _("Postal")
    DELIVERY = "delivery", _("Delivery")


class Address(models.Model):
    counterparty = models.ForeignKey(
        Counterparty, verbose_name=_("counterparty"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AddressKind.choices, default=AddressKind.LEGAL)
    country = models.CharField(_("country"), max_length=2, blank=True)
    region = models.CharField(_("region"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=60, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    raw = models.TextField(_("address as entered"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["kind", "id"]

    def __str__(self) -> str:
        parts = [self.postcode, self.region, self.city, self.street, self.building]
        return ", ".join(part for part in parts if part) or self.raw


class BankAccount(models.Model):
    counterparty = models.ForeignKey(
        Counterparty, verbose_name=_("counterparty"), on_delete=models.CASCADE, related_name="bank_accounts"
    )
    bank_name = models.CharField(_("bank"), max_length=200)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account = models.CharField(_("account"), max_length=34)
    correspondent_account = models.CharField(_("correspondent account"), max_length=34, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["-is_default", "bank_name", "id"]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.account}"
