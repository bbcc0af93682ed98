"""Forms of sales orders: the header and a line. They only shape the input; the services check every rule and their
errors are shown beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fabrika.catalog.models import Product, Unit, UnitConversion
from fabrika.core.models import User
from fabrika.core.ui.autocomplete import use_autocomplete
from fabrika.inventory.models import Warehouse
from fabrika.parties.models import Contact
from fabrika.parties.selectors import counterparty_queryset_for_user

from .models import SalesOrder

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
HEADER_FORM_FIELDS = ("counterparty", "contact", "warehouse", "date", "currency", "price_type_code", "responsible", "expected_ship_date", "notes")


class OrderForm(forms.Form):
    """The header of a sales order; `deal` is carried when the order is made from a deal."""

    counterparty = forms.ModelChoiceField(label=_("Client"), queryset=None)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.filter(is_active=True).order_by("code"))
    date = forms.DateField(label=_("Date"), widget=DATE)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False, help_text=_("Empty: the price type's or the base currency"))
    price_type_code = forms.CharField(label=_("Price type"), max_length=50, required=False, help_text=_("Empty: the client's price type"))
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=User.objects.filter(is_active=True).order_by("username"), required=False)
    expected_ship_date = forms.DateField(label=_("Expected shipment"), widget=DATE, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    deal = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, actor, instance: SalesOrder | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "counterparty": instance.counterparty_id, "contact": instance.contact_id, "warehouse": instance.warehouse_id,
                "date": instance.date, "currency": instance.currency, "price_type_code": instance.price_type_code,
                "responsible": instance.responsible_id, "expected_ship_date": instance.expected_ship_date, "notes": instance.notes,
                "deal": instance.deal_id,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["counterparty"].queryset = counterparty_queryset_for_user(actor).filter(is_active=True).order_by("name")
        use_autocomplete(self.fields["counterparty"], "counterparties", params={"roles": "client,dealer"})
        party = self.data.get("counterparty") or self.initial.get("counterparty")
        if party and str(party).isdigit():
            self.fields["contact"].queryset = Contact.objects.filter(counterparty_id=party).order_by("pk")
        if instance is not None:
            del self.fields["deal"]

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in HEADER_FORM_FIELDS:
            value = self.cleaned_data.get(name)
            data[name] = value.pk if hasattr(value, "pk") else value
        if not data.get("responsible"):
            data.pop("responsible")
        if self.instance is None:
            if self.cleaned_data.get("deal"):
                data["deal"] = self.cleaned_data["deal"]
            for name in ("currency", "price_type_code", "expected_ship_date"):
                if data.get(name) in (None, ""):
                    data.pop(name)
        data["notes"] = data.get("notes") or ""
        return data


class LineForm(forms.Form):
    """A line for one product: quantity and unit, the price (empty: from the price list) and a special discount."""

    product = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.CharField(label=_("Quantity"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False, empty_label=None)
    price = forms.CharField(label=_("Price"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
                            help_text=_("Empty: the price list's price and discount"))
    manual_discount_percent = forms.CharField(label=_("Special discount, %"), max_length=10, required=False,
                                              widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def __init__(self, *args, product: Product | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = product  # not "product": templates would find the field of that name
        if product is None:
            return
        units = {product.stock_unit_id}
        for from_id, to_id in UnitConversion.objects.filter(Q(product=product) | Q(product__isnull=True)).filter(
            Q(from_unit=product.stock_unit_id) | Q(to_unit=product.stock_unit_id)
        ).values_list("from_unit_id", "to_unit_id"):
            units |= {from_id, to_id}
        self.fields["unit"].queryset = Unit.objects.filter(pk__in=units).order_by("code")
        self.fields["unit"].initial = product.stock_unit_id
        self.initial.setdefault("product", product.pk)

    def service_data(self) -> dict[str, Any]:
        data = {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}
        if "unit" in data:
            data["unit"] = data["unit"].pk
        return data


class LineEditForm(forms.Form):
    """Change a draft's line: quantity, price, special discount, description."""

    quantity = forms.CharField(label=_("Quantity"), max_length=20)
    price = forms.CharField(label=_("Price"), max_length=20, required=False, help_text=_("Empty: keep the price, or ask the price list again when the quantity changes"))
    manual_discount_percent = forms.CharField(label=_("Special discount, %"), max_length=10, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)

    def service_data(self, line) -> dict[str, Any]:
        data: dict[str, Any] = {"quantity": self.cleaned_data["quantity"], "description": self.cleaned_data.get("description") or ""}
        if self.cleaned_data.get("price"):
            data["price"] = self.cleaned_data["price"]
        data["manual_discount_percent"] = self.cleaned_data.get("manual_discount_percent") or "0"
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
