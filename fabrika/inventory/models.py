"""Inventory data: locations, stock documents, the append-only move ledger, balances, FIFO layers, lots, serials,
reservations and closed periods. Workflow lives in services.py; these classes hold data and constraints."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .enums import VALUED_KINDS, DocumentStatus, DocumentType, LocationKind, ReservationStatus

QUANTITY = {"max_digits": 15, "decimal_places": 4}
UNIT_COST = {"max_digits": 15, "decimal_places": 6}
MONEY = {"max_digits": 15, "decimal_places": 2}


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Location(models.Model):
    """A place stock can be: a warehouse's root, zone or bin (internal), or a virtual counterpart of every move."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=32, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices, default=LocationKind.INTERNAL)
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, null=True, blank=True, related_name="locations"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent location"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    path = models.CharField(_("full name"), max_length=500, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=~Q(kind=LocationKind.INTERNAL), name="location_one_virtual_per_kind"),
            models.CheckConstraint(
                condition=Q(kind=LocationKind.INTERNAL, warehouse__isnull=False) | (~Q(kind=LocationKind.INTERNAL) & Q(warehouse__isnull=True)),
                name="location_internal_has_warehouse",
            ),
            models.UniqueConstraint(
                fields=["warehouse", "code"], condition=~Q(code=""), name="location_code_unique_per_warehouse"
            ),
        ]

    def __str__(self) -> str:
        return self.path or self.name

    @property
    def is_valued(self) -> bool:
        return self.kind in VALUED_KINDS


class Lot(models.Model):
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(_("lot"), max_length=64)
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["product", "expiry_date", "code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="lot_code_unique_per_product"),
            models.CheckConstraint(
                condition=Q(expiry_date__isnull=True) | Q(production_date__isnull=True) | Q(expiry_date__gte=F("production_date")),
                name="lot_expiry_after_production",
            ),
        ]
        indexes = [models.Index(fields=["expiry_date"], name="lot_expiry_idx")]

    def __str__(self) -> str:
        return self.code


class SerialNumber(models.Model):
    """One unit of a serial-tracked product. `location` is always where it is now (a customer's location once sold)."""

    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="serials")
    serial = models.CharField(_("serial number"), max_length=100)
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="serials")
    reserved_reference = models.CharField(_("reserved for"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("serial number")
        verbose_name_plural = _("serial numbers")
        ordering = ["product", "serial"]
        constraints = [models.UniqueConstraint(fields=["product", "serial"], name="serial_unique_per_product")]
        indexes = [models.Index(fields=["serial"], name="serial_lookup_idx")]

    def __str__(self) -> str:
        return self.serial


class StockDocument(models.Model):
    document_type = models.CharField(_("type"), max_length=20, choices=DocumentType.choices)
    number = models.CharField(_("number"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT)
    date = models.DateField(_("date"))
    counterparty = models.ForeignKey(
        "parties.Counterparty", verbose_name=_("counterparty"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="stock_documents",
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    exchange_rate = models.DecimalField(_("exchange rate"), default=1, **UNIT_COST)
    from_location = models.ForeignKey(
        Location, verbose_name=_("from location"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, verbose_name=_("to location"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=64, blank=True, help_text=_("e.g. the sales order it serves"))
    notes = models.TextField(_("notes"), blank=True)
    total_value = models.DecimalField(_("value"), default=0, **MONEY)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("posted by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("cancelled by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancellation_date = models.DateField(_("cancellation date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stock document")
        verbose_name_plural = _("stock documents")
        ordering = ["-date", "-id"]
        permissions = [
            ("post_stockdocument", _("Can post stock documents")),
            ("cancel_stockdocument", _("Can cancel posted stock documents")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["document_type", "number"], condition=~Q(number=""), name="stock_document_number_unique"),
            models.CheckConstraint(condition=Q(exchange_rate__gt=0), name="stock_document_rate_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "date"], name="stock_document_status_date_idx"),
            models.Index(fields=["reference"], name="stock_document_reference_idx"),
        ]

    def __str__(self) -> str:
        # the label from the choices enum: get_document_type_display() rebuilds the choices dict on every call
        try:
            label = DocumentType(self.document_type).label
        except ValueError:
            label = self.document_type
        return f"{label} {self.number or _('(draft)')}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("inventory:document_detail", args=[self.pk])


class StockDocumentLine(models.Model):
    document = models.ForeignKey(StockDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("catalog.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    stock_quantity = models.DecimalField(_("quantity in stock unit"), **QUANTITY)
    counted_quantity = models.DecimalField(_("counted quantity"), null=True, blank=True, **QUANTITY)
    expected_quantity = models.DecimalField(_("quantity on record"), null=True, blank=True, **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **UNIT_COST)
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    from_location = models.ForeignKey(
        Location, verbose_name=_("from location"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_location = models.ForeignKey(
        Location, verbose_name=_("to location"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cost = models.DecimalField(_("cost"), null=True, blank=True, **MONEY)

    class Meta:
        verbose_name = _("stock document line")
        verbose_name_plural = _("stock document lines")
        ordering = ["document", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_line_quantity_not_negative"),
            models.CheckConstraint(condition=Q(unit_cost__isnull=True) | Q(unit_cost__gte=0), name="stock_line_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class StockMove(models.Model):
    """One append-only ledger entry: `quantity` of a product went from one location to another, worth `value`.

    `adjustment_value` is a revaluation booked at `to_location` by this move (the moving-average correction of
    negative stock at the next receipt). Costs of later moves change only through a back-dated repost."""

    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    serial = models.ForeignKey(
        SerialNumber, verbose_name=_("serial number"), on_delete=models.PROTECT, null=True, blank=True, related_name="moves"
    )
    from_location = models.ForeignKey(Location, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_cost = models.DecimalField(_("unit cost"), **UNIT_COST)
    value = models.DecimalField(_("value"), **MONEY)
    adjustment_value = models.DecimalField(_("revaluation"), default=0, **MONEY)
    document = models.ForeignKey(
        StockDocument, verbose_name=_("document"), on_delete=models.PROTECT, null=True, blank=True, related_name="moves"
    )
    line = models.ForeignKey(
        StockDocumentLine, verbose_name=_("line"), on_delete=models.PROTECT, null=True, blank=True, related_name="moves"
    )
    reverses = models.ForeignKey(
        "self", verbose_name=_("reverses"), on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    date = models.DateField(_("date"))
    posted_at = models.DateTimeField(_("posted"))

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["date", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="stock_move_quantity_positive")]
        indexes = [
            models.Index(fields=["product", "date", "id"], name="stock_move_product_date_idx"),
            models.Index(fields=["date"], name="stock_move_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.quantity} {self.from_location_id}→{self.to_location_id}"


class StockBalance(models.Model):
    """On hand now per product × location × lot: the ledger sum, kept in the posting transaction."""

    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="balances")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="balances")
    quantity = models.DecimalField(_("quantity"), default=0, **QUANTITY)
    value = models.DecimalField(_("value"), default=0, **MONEY)
    reserved_quantity = models.DecimalField(_("reserved"), default=0, **QUANTITY)
    last_unit_cost = models.DecimalField(_("last unit cost"), default=0, **UNIT_COST)

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        constraints = [
            models.UniqueConstraint(fields=["product", "location"], condition=Q(lot__isnull=True), name="stock_balance_unique_no_lot"),
            models.UniqueConstraint(fields=["product", "location", "lot"], condition=Q(lot__isnull=False), name="stock_balance_unique_lot"),
            models.CheckConstraint(condition=Q(reserved_quantity__gte=0), name="stock_balance_reserved_not_negative"),
        ]
        indexes = [models.Index(fields=["location", "product"], name="stock_balance_location_idx")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.quantity}"


class CostLayer(models.Model):
    """A FIFO layer: what one incoming move brought to one location (× lot) at one unit cost, and what is left.

    A transfer moves layers: the destination gets new layers with the same cost, FIFO date and `origin` (the
    receipt layer the units came from), so traceability survives moves between locations."""

    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    move = models.ForeignKey(StockMove, verbose_name=_("incoming move"), on_delete=models.PROTECT, related_name="layers")
    origin = models.ForeignKey(
        "self", verbose_name=_("receipt layer"), on_delete=models.PROTECT, null=True, blank=True, related_name="descendants"
    )
    fifo_date = models.DateField(_("FIFO date"))
    fifo_sequence = models.BigIntegerField(_("FIFO order"))
    unit_cost = models.DecimalField(_("unit cost"), **UNIT_COST)
    original_quantity = models.DecimalField(_("quantity received"), **QUANTITY)
    original_value = models.DecimalField(_("value received"), **MONEY)
    remaining_quantity = models.DecimalField(_("quantity left"), **QUANTITY)
    remaining_value = models.DecimalField(_("value left"), **MONEY)

    class Meta:
        verbose_name = _("FIFO layer")
        verbose_name_plural = _("FIFO layers")
        ordering = ["fifo_date", "fifo_sequence", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(remaining_quantity__gte=0), name="cost_layer_remaining_not_negative"),
            models.CheckConstraint(condition=Q(remaining_quantity__lte=F("original_quantity")), name="cost_layer_remaining_le_original"),
        ]
        indexes = [
            models.Index(
                fields=["product", "location", "fifo_date", "fifo_sequence"], condition=Q(remaining_quantity__gt=0),
                name="cost_layer_open_idx",
            ),
            models.Index(fields=["product", "move"], name="cost_layer_product_move_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id}: {self.remaining_quantity} × {self.unit_cost}"


class LayerConsumption(models.Model):
    """Which layer an outgoing move took its units from: the traceability of cost and origin."""

    move = models.ForeignKey(StockMove, verbose_name=_("outgoing move"), on_delete=models.PROTECT, related_name="consumptions")
    layer = models.ForeignKey(CostLayer, verbose_name=_("layer"), on_delete=models.PROTECT, related_name="consumptions")
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    value = models.DecimalField(_("value"), **MONEY)

    class Meta:
        verbose_name = _("layer consumption")
        verbose_name_plural = _("layer consumptions")
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="layer_consumption_quantity_positive")]
        indexes = [models.Index(fields=["product", "move"], name="layer_consumption_product_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} of layer {self.layer_id}"


class Reservation(models.Model):
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    serial = models.ForeignKey(SerialNumber, verbose_name=_("serial number"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    reference = models.CharField(_("reserved for"), max_length=64)
    status = models.CharField(_("status"), max_length=12, choices=ReservationStatus.choices, default=ReservationStatus.ACTIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive")]
        indexes = [models.Index(fields=["reference", "status"], name="reservation_reference_idx")]

    def __str__(self) -> str:
        return f"{self.reference}: {self.quantity}"


class PeriodClose(models.Model):
    """A closed month: nothing may be posted on or before its last day. Closing stores a snapshot of stock."""

    month = models.DateField(_("month"), unique=True, help_text=_("the first day of the month"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed"), auto_now_add=True)

    class Meta:
        verbose_name = _("closed period")
        verbose_name_plural = _("closed periods")
        ordering = ["-month"]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class StockSnapshot(models.Model):
    """Stock on hand at the end of a closed month, so reports at a past date sum only one month of moves."""

    date = models.DateField(_("date"))
    product = models.ForeignKey("catalog.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, verbose_name=_("location"), on_delete=models.CASCADE, related_name="+")
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    value = models.DecimalField(_("value"), **MONEY)

    class Meta:
        verbose_name = _("stock snapshot")
        verbose_name_plural = _("stock snapshots")
        indexes = [models.Index(fields=["date", "product"], name="stock_snapshot_date_idx")]

    def __str__(self) -> str:
        return f"{self.date}: {self.product_id}@{self.location_id} {self.quantity}"
