"""Catalog forms. They only shape the input; every rule is the service's, whose errors show beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .enums import GroupValuation, ProductKind, Tracking
from .models import Product, ProductGroup, Unit


def _pk(value) -> int | None:
    return value.pk if value is not None else None


def parse_attributes(text: str) -> dict[str, str]:
    """"name: value" lines (or "name = value") as a dict; blank lines are skipped."""
    result: dict[str, str] = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line:
            continue
        separator = ":" if ":" in line else "="
        if separator not in line:
            raise forms.ValidationError(_("Write each attribute as “name: value” on its own line: %(line)s") % {"line": line})
        name, value = (part.strip() for part in line.split(separator, 1))
        if not name:
            raise forms.ValidationError(_("An attribute needs a name: %(line)s") % {"line": line})
        result[name] = value
    return result


def attributes_text(attributes: dict | None) -> str:
    return "\n".join(f"{name}: {value}" for name, value in (attributes or {}).items())


class ProductForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices, initial=ProductKind.MATERIAL)
    group = forms.ModelChoiceField(label=_("Group"), queryset=ProductGroup.objects.order_by("name"), required=False)
    stock_unit = forms.ModelChoiceField(label=_("Stock unit"), queryset=Unit.objects.order_by("code"))
    purchase_unit = forms.ModelChoiceField(label=_("Purchase unit"), queryset=Unit.objects.order_by("code"), required=False)
    tracking = forms.ChoiceField(label=_("Tracking"), choices=Tracking.choices, initial=Tracking.NONE)
    shelf_life_days = forms.IntegerField(label=_("Shelf life, days"), required=False, min_value=1, max_value=36500)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attributes = forms.CharField(
        label=_("Attributes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: name: value"),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, instance: Product | None = None, **kwargs):
        if instance is not None and not kwargs.get("data") and not (args and args[0]):
            kwargs["initial"] = {
                "sku": instance.sku, "name": instance.name, "kind": instance.kind, "group": instance.group_id,
                "stock_unit": instance.stock_unit_id, "purchase_unit": instance.purchase_unit_id, "tracking": instance.tracking,
                "shelf_life_days": instance.shelf_life_days, "description": instance.description,
                "attributes": attributes_text(instance.attributes), "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["sku"].widget.attrs["autofocus"] = True

    def clean_attributes(self) -> dict[str, str]:
        return parse_attributes(self.cleaned_data.get("attributes", ""))

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("group", "stock_unit", "purchase_unit"):
            if name in data:
                data[name] = _pk(data[name])
        return data


class BarcodeForm(forms.Form):
    code = forms.CharField(label=_("Barcode"), max_length=64, widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    unit = forms.ModelChoiceField(
        label=_("Packing unit"), queryset=Unit.objects.order_by("code"), required=False,
        help_text=_("Leave empty when the barcode stands for one stock unit"),
    )


class ProductGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    parent = forms.ModelChoiceField(label=_("Parent group"), queryset=ProductGroup.objects.order_by("name"), required=False)
    valuation_method = forms.ChoiceField(label=_("Valuation method"), choices=GroupValuation.choices, required=False)

    def service_data(self) -> dict[str, Any]:
        return {**self.cleaned_data, "parent": _pk(self.cleaned_data.get("parent"))}


class UnitForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=16)
    name = forms.CharField(label=_("Name"), max_length=100)
    decimal_places = forms.IntegerField(label=_("Decimal places"), min_value=0, max_value=4, initial=0)


class UnitConversionForm(forms.Form):
    from_unit = forms.ModelChoiceField(label=_("From unit"), queryset=Unit.objects.order_by("code"))
    factor = forms.DecimalField(label=_("Factor"), max_digits=15, decimal_places=6, help_text=_("1 from-unit = factor × to-unit"))
    to_unit = forms.ModelChoiceField(label=_("To unit"), queryset=Unit.objects.order_by("code"))
