"""Inventory forms: warehouses, locations, stock document headers and lines, reservations, period close.

They only shape the input; the services check every rule and their errors are shown beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fabrika.catalog.enums import Tracking
from fabrika.catalog.models import Product, Unit, UnitConversion
from fabrika.core.ui.autocomplete import use_autocomplete
from fabrika.parties.selectors import counterparty_queryset_for_user

from .enums import DOCUMENT_ROUTES, INCOMING_TYPES, VALUED_KINDS, DocumentType, LocationKind
from .models import Location, Lot, StockDocument, StockDocumentLine

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LocationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Location) -> str:
        return str(obj)


class WarehouseForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16)
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=500, required=False)


class LocationForm(forms.Form):
    parent = LocationChoiceField(label=_("Inside"), queryset=Location.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Code"), max_length=32, required=False, help_text=_("e.g. the bin label A-01-02"))

    def __init__(self, *args, warehouse, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Location.objects.filter(warehouse=warehouse, kind=LocationKind.INTERNAL).order_by("path")


def _internal_locations():
    return Location.objects.filter(kind__in=list(VALUED_KINDS), is_active=True).select_related("warehouse").order_by("path")


class DocumentForm(forms.Form):
    """The header of a stock document; which fields show depends on the document type (its route)."""

    date = forms.DateField(label=_("Date"), widget=DATE)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=None, required=False)
    from_location = LocationChoiceField(label=_("From"), queryset=Location.objects.none(), required=False)
    to_location = LocationChoiceField(label=_("To"), queryset=Location.objects.none(), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False, help_text=_("Empty: the base currency"))
    exchange_rate = forms.DecimalField(
        label=_("Exchange rate"), max_digits=15, decimal_places=6, required=False,
        help_text=_("Empty: the rate on the document date"),
    )
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False, help_text=_("e.g. the sales order it serves"))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, document_type: str, actor, instance: StockDocument | None = None, **kwargs):
        if instance is not None and not (args and args[0]) and not kwargs.get("data"):
            kwargs["initial"] = {
                "date": instance.date, "counterparty": instance.counterparty_id, "from_location": instance.from_location_id,
                "to_location": instance.to_location_id, "currency": instance.currency,
                "exchange_rate": instance.exchange_rate if instance.exchange_rate != 1 else None,
                "reference": instance.reference, "notes": instance.notes,
            }
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.document_type = document_type
        source, target = DOCUMENT_ROUTES[document_type]
        for name, allowed in (("from_location", source), ("to_location", target)):
            if allowed is None:
                self.fields[name].queryset = _internal_locations()
                self.fields[name].required = True
            elif len(allowed) > 1:
                self.fields[name].queryset = Location.objects.filter(kind__in=allowed).order_by("path")
                self.fields[name].help_text = _("Empty: %(default)s") % {"default": LocationKind(allowed[0]).label}
            else:
                del self.fields[name]
        if document_type == DocumentType.COUNT:
            self.fields["from_location"].label = _("Counted location")
            del self.fields["to_location"]
        if document_type not in INCOMING_TYPES:
            del self.fields["currency"], self.fields["exchange_rate"]
        if document_type in (DocumentType.TRANSFER, DocumentType.WRITE_OFF, DocumentType.COUNT):
            del self.fields["counterparty"]
        else:
            parties = counterparty_queryset_for_user(actor).filter(is_active=True)
            if document_type in (DocumentType.RECEIPT, DocumentType.SUPPLIER_RETURN):
                parties = parties.filter(is_supplier=True)
            else:
                parties = parties.filter(Q(is_client=True) | Q(is_dealer=True))
            self.fields["counterparty"].queryset = parties.order_by("name")
            roles = "supplier" if document_type in (DocumentType.RECEIPT, DocumentType.SUPPLIER_RETURN) else "client,dealer"
            use_autocomplete(self.fields["counterparty"], "counterparties", params={"roles": roles})
            self.fields["counterparty"].label = _("Supplier") if document_type in (DocumentType.RECEIPT, DocumentType.SUPPLIER_RETURN) else _("Customer")

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("counterparty", "from_location", "to_location"):
            if name in data:
                data[name] = data[name].pk if data[name] is not None else None
        if "exchange_rate" in data and data["exchange_rate"] is None:
            data["exchange_rate"] = ""
        return data


class LineForm(forms.Form):
    """A document line for one product: the fields its tracking and the document type need."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.CharField(label=_("Quantity"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=None)
    unit_cost = forms.CharField(label=_("Unit cost"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    lot = forms.ModelChoiceField(label=_("Lot"), queryset=Lot.objects.none(), required=False, empty_label=_("First expiry first"))
    lot_code = forms.CharField(label=_("Lot"), max_length=64, required=False)
    production_date = forms.DateField(label=_("Production date"), required=False, widget=DATE)
    expiry_date = forms.DateField(label=_("Expiry date"), required=False, widget=DATE, help_text=_("Empty: production date + shelf life"))
    serial = forms.CharField(label=_("Serial number"), max_length=100, required=False)

    def __init__(self, *args, document: StockDocument, product: Product | None, line: StockDocumentLine | None = None, **kwargs):
        if line is not None:  # changing a line: its values are the form's starting point
            kwargs.setdefault("initial", line_initial(document, line))
            product = line.product
        super().__init__(*args, **kwargs)
        self.document, self.item, self.line = document, product, line  # not "product": templates would find the field of that name
        kind = document.document_type
        incoming = kind in INCOMING_TYPES
        if kind == DocumentType.COUNT:
            self.fields["quantity"].label = _("Counted quantity")
        if not incoming and kind != DocumentType.COUNT:
            del self.fields["unit_cost"]
        elif kind == DocumentType.RECEIPT:
            self.fields["unit_cost"].required = True
        if product is None:
            return
        units = {product.stock_unit_id}
        for from_id, to_id in UnitConversion.objects.filter(Q(product=product) | Q(product__isnull=True)).filter(
            Q(from_unit=product.stock_unit_id) | Q(to_unit=product.stock_unit_id)
        ).values_list("from_unit_id", "to_unit_id"):
            units |= {from_id, to_id}
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=units).order_by("code")
        default_unit = product.purchase_unit_id if kind == DocumentType.RECEIPT and product.purchase_unit_id in units else product.stock_unit_id
        self.fields["unit"].initial = default_unit
        self.initial.setdefault("product", product.pk)
        if product.tracking != Tracking.SERIAL:
            del self.fields["serial"]
        else:
            self.initial.setdefault("quantity", "1")
        if product.tracking != Tracking.LOT:
            del self.fields["lot"], self.fields["lot_code"], self.fields["production_date"], self.fields["expiry_date"]
        elif incoming or kind == DocumentType.COUNT:
            del self.fields["lot"]
        else:
            self.fields["lot"].queryset = Lot.objects.filter(product=product).order_by("expiry_date", "code")
            del self.fields["lot_code"], self.fields["production_date"], self.fields["expiry_date"]

    def service_data(self) -> dict[str, Any]:
        data = {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
        for name in ("unit", "lot"):
            if name in data:
                data[name] = data[name].pk
        return data


def line_initial(document: StockDocument, line: StockDocumentLine) -> dict[str, Any]:
    quantity = line.counted_quantity if document.document_type == DocumentType.COUNT else line.quantity
    return {
        "product": line.product_id, "quantity": f"{quantity.normalize():f}" if quantity is not None else "", "unit": line.unit_id,
        "unit_cost": f"{line.unit_cost.normalize():f}" if line.unit_cost is not None else "", "lot": line.lot_id,
        "lot_code": line.lot.code if line.lot_id else "", "production_date": line.lot.production_date if line.lot_id else None,
        "expiry_date": line.lot.expiry_date if line.lot_id else None, "serial": line.serial,
    }


class ReservationForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    location = LocationChoiceField(label=_("Location"), queryset=Location.objects.none())
    quantity = forms.CharField(label=_("Quantity"), max_length=20, required=False)
    serial = forms.CharField(label=_("Serial number"), max_length=100, required=False)

    def __init__(self, *args, product_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(pk__in=list(product_ids)).order_by("sku")
        self.fields["location"].queryset = _internal_locations()


class PeriodCloseForm(forms.Form):
    month = forms.DateField(
        label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=_("That month and every month before it are closed"),
    )
