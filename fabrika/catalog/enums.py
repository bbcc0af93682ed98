"""Catalog choices."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProductKind(models.TextChoices):
    MATERIAL = "material", _("Material")
    SEMI_FINISHED = "semi_finished", _("Semi-finished product")
    FINISHED_GOOD = "finished_good", _("Finished good")
    GOODS_FOR_RESALE = "goods_for_resale", _("Goods for resale")
    SERVICE = "service", _("Service")
    KIT = "kit", _("Kit")


# Kinds that never sit in a warehouse: services are not goods; a kit is sold as a set and its components move.
NON_STOCK_KINDS = frozenset({ProductKind.SERVICE, ProductKind.KIT})


class Tracking(models.TextChoices):
    NONE = "none", _("No tracking")
    LOT = "lot", _("By lot")
    SERIAL = "serial", _("By serial number")


class GroupValuation(models.TextChoices):
    INHERIT = "", _("Inherit (parent group or company default)")
    FIFO = "fifo", _("FIFO batches")
    AVERAGE = "average", _("Moving average")
