"""Inventory choices and the document state machine."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LocationKind(models.TextChoices):
    INTERNAL = "internal", _("Internal (warehouse, zone, bin)")
    TRANSIT = "transit", _("In transit")
    SUPPLIER = "supplier", _("Suppliers")
    CUSTOMER = "customer", _("Customers")
    PRODUCTION = "production", _("Production / internal use")
    SCRAP = "scrap", _("Scrap")
    INVENTORY_LOSS = "inventory_loss", _("Inventory loss and surplus")


# Locations whose stock we own and value: balances, FIFO layers and averages live here.
VALUED_KINDS = frozenset({LocationKind.INTERNAL, LocationKind.TRANSIT})
VIRTUAL_KINDS = tuple(kind for kind in LocationKind if kind != LocationKind.INTERNAL)


class DocumentType(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ISSUE = "issue", _("Issue")
    TRANSFER = "transfer", _("Transfer")
    WRITE_OFF = "write_off", _("Write-off")
    COUNT = "count", _("Inventory count")
    CUSTOMER_RETURN = "customer_return", _("Return from customer")
    SUPPLIER_RETURN = "supplier_return", _("Return to supplier")


# Where a document type's goods come from and go to: a location kind, or None for "an internal location the user picks".
DOCUMENT_ROUTES: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...] | None]] = {
    DocumentType.RECEIPT: ((LocationKind.SUPPLIER,), None),
    DocumentType.ISSUE: (None, (LocationKind.CUSTOMER, LocationKind.PRODUCTION)),
    DocumentType.TRANSFER: (None, None),
    DocumentType.WRITE_OFF: (None, (LocationKind.SCRAP, LocationKind.INVENTORY_LOSS)),
    DocumentType.COUNT: (None, None),
    DocumentType.CUSTOMER_RETURN: ((LocationKind.CUSTOMER,), None),
    DocumentType.SUPPLIER_RETURN: (None, (LocationKind.SUPPLIER,)),
}

INCOMING_TYPES = frozenset({DocumentType.RECEIPT, DocumentType.CUSTOMER_RETURN})


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")
    CANCELLED = "cancelled", _("Cancelled")


DOCUMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    DocumentStatus.DRAFT: frozenset({DocumentStatus.POSTED, DocumentStatus.CANCELLED}),
    DocumentStatus.POSTED: frozenset({DocumentStatus.CANCELLED}),
    DocumentStatus.CANCELLED: frozenset(),
}


class ValuationMethod(models.TextChoices):
    FIFO = "fifo", _("FIFO batches")
    AVERAGE = "average", _("Moving average")


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RELEASED = "released", _("Released")
    FULFILLED = "fulfilled", _("Fulfilled")
