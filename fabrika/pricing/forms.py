"""Pricing forms: they parse what people type; the services check the rules and their errors go beside the fields."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.catalog.models import Product
from fabrika.core.models import User
from fabrika.core.ui.autocomplete import AutocompleteSelect
from fabrika.parties.models import Counterparty, Segment

from .models import DiscountKind, PriceType

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


def group_choices() -> list[tuple[int, str]]:
    from fabrika.catalog.views import group_tree

    return [(pk, "\u2003" * depth + name) for pk, name, depth in group_tree()]


class PriceTypeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=50)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="RUB")
    prices_include_tax = forms.BooleanField(label=gettext_lazy("Prices include tax"), required=False, initial=True)
    is_retail = forms.BooleanField(label=gettext_lazy("Retail (discounts are shown against it)"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class PriceListForm(forms.Form):
    price_type = forms.ModelChoiceField(label=gettext_lazy("Price type"), queryset=PriceType.objects.all())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False, help_text=gettext_lazy("Empty: the price type's currency"))
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=gettext_lazy("Valid to"), widget=DATE, required=False, help_text=gettext_lazy("Empty: until a newer list starts"))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["price_type_id"] = data.pop("price_type").pk
        return data


class PriceListCopyForm(forms.Form):
    valid_from = forms.DateField(label=gettext_lazy("New list valid from"), widget=DATE)
    valid_to = forms.DateField(label=gettext_lazy("Valid to"), widget=DATE, required=False)
    percent_change = forms.CharField(label=gettext_lazy("Change prices by, %"), max_length=20, initial="0", widget=forms.TextInput(attrs=DECIMAL),
                                     help_text=gettext_lazy("Negative to lower the prices"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class ItemAddForm(forms.Form):
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.filter(is_active=True),
                                     widget=AutocompleteSelect("products"))
    price = forms.CharField(label=gettext_lazy("Price"), max_length=20, widget=forms.TextInput(attrs=DECIMAL))

    def service_data(self) -> dict:
        return {"product_id": self.cleaned_data["product"].pk, "price": self.cleaned_data["price"]}


class ItemPriceForm(forms.Form):
    price = forms.CharField(label=gettext_lazy("Price"), max_length=20, widget=forms.TextInput(attrs=DECIMAL))


class DiscountRuleForm(forms.Form):
    """One form for every kind: the view keeps the fields the kind uses (KIND_FIELDS)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    counterparty = forms.ModelChoiceField(label=gettext_lazy("Client"), queryset=Counterparty.objects.all(), required=False,
                                          widget=AutocompleteSelect("counterparties"))
    percent = forms.CharField(label=gettext_lazy("Discount, %"), max_length=20, required=False, widget=forms.TextInput(attrs=DECIMAL))
    period_days = forms.CharField(label=gettext_lazy("Period, days"), max_length=10, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    min_amount = forms.CharField(label=gettext_lazy("Minimum purchases in the previous period"), max_length=20, required=False,
                                 widget=forms.TextInput(attrs=DECIMAL))
    tiers = forms.CharField(
        label=gettext_lazy("Tiers"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One tier per line: the threshold and the percent, e.g. “5: 3” then “10: 5”; thresholds strictly increasing."),
    )
    products = forms.CharField(label=gettext_lazy("Products (SKUs)"), required=False, max_length=5000,
                               help_text=gettext_lazy("SKUs separated by commas; empty with no groups: every product"))
    groups = forms.TypedMultipleChoiceField(label=gettext_lazy("Product groups (with their subgroups)"), required=False, coerce=int,
                                            widget=forms.SelectMultiple(attrs={"size": 6}))
    segments = forms.ModelMultipleChoiceField(label=gettext_lazy("Client segments"), queryset=Segment.objects.all(), required=False,
                                              help_text=gettext_lazy("Empty: every client"))
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=DATE)
    valid_to = forms.DateField(label=gettext_lazy("Valid to"), widget=DATE, required=False)
    priority = forms.IntegerField(label=gettext_lazy("Priority"), initial=0, help_text=gettext_lazy("Of two discounts with the same percent the higher priority wins"))
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    description = forms.CharField(label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    KIND_FIELDS = {
        DiscountKind.PERSONAL: ("counterparty", "percent", "products", "groups"),
        DiscountKind.PROMOTION: ("percent", "products", "groups", "segments"),
        DiscountKind.QUANTITY: ("tiers", "products", "groups", "segments"),
        DiscountKind.VOLUME: ("period_days", "min_amount", "percent", "products", "groups", "segments"),
        DiscountKind.CUMULATIVE: ("period_days", "tiers", "products", "groups", "segments"),
    }
    KIND_SPECIFIC = ("counterparty", "percent", "period_days", "min_amount", "tiers", "products", "groups", "segments")

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["groups"].choices = group_choices()
        if not self.is_bound and "valid_from" not in self.initial:
            self.initial["valid_from"] = timezone.localdate()
        keep = self.KIND_FIELDS.get(kind, ())
        for name in self.KIND_SPECIFIC:
            if name not in keep:
                del self.fields[name]
        if kind == DiscountKind.QUANTITY:
            self.fields["tiers"].label = _("Tiers: minimum quantity (stock unit) → %")
        elif kind == DiscountKind.CUMULATIVE:
            self.fields["tiers"].label = _("Tiers: purchases over the period → %")

    def clean_products(self) -> list[int]:
        skus = [sku.strip() for sku in re.split(r"[,;\s]+", self.cleaned_data.get("products") or "") if sku.strip()]
        found = dict(Product.objects.filter(sku__in=skus).values_list("sku", "pk"))
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            raise forms.ValidationError(_("Unknown SKUs: %(skus)s") % {"skus": ", ".join(unknown)})
        return [found[sku] for sku in skus]

    def clean_tiers(self) -> list[dict]:
        rows = []
        for number, line in enumerate((self.cleaned_data.get("tiers") or "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part for part in re.split(r"[:;=→\s]+", line.strip().rstrip("%")) if part]
            if len(parts) != 2:
                raise forms.ValidationError(_("Line %(n)d: write the threshold and the percent, e.g. “10: 5”.") % {"n": number})
            rows.append({"threshold": parts[0].replace(",", "."), "percent": parts[1].rstrip("%").replace(",", ".")})
        return rows

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        result = {"kind": self.kind}
        for name in ("name", "description", "valid_from", "valid_to", "priority", "is_active", "percent", "period_days", "min_amount", "tiers"):
            if name in data:
                result[name] = data[name]
        if "counterparty" in data:
            result["counterparty_id"] = data["counterparty"].pk if data["counterparty"] else None
        if "products" in data:
            result["product_ids"] = data["products"]
        if "groups" in data:
            result["group_ids"] = list(data["groups"])
        if "segments" in data:
            result["segment_ids"] = [segment.pk for segment in data["segments"]]
        return result

    @classmethod
    def initial_for(cls, rule) -> dict:
        return {
            "name": rule.name, "description": rule.description, "counterparty": rule.counterparty_id,
            "percent": f"{rule.percent.normalize():f}", "period_days": rule.period_days or "",
            "min_amount": f"{rule.min_amount.normalize():f}" if rule.min_amount is not None else "",
            "tiers": "\n".join(f"{t.threshold.normalize():f}: {t.percent.normalize():f}" for t in rule.tiers.all()),
            "products": ", ".join(product.sku for product in rule.products.all()),
            "groups": [group.pk for group in rule.groups.all()], "segments": [segment.pk for segment in rule.segments.all()],
            "valid_from": rule.valid_from, "valid_to": rule.valid_to, "priority": rule.priority, "is_active": rule.is_active,
        }


class DiscountLimitForm(forms.Form):
    user = forms.ModelChoiceField(label=gettext_lazy("User"), queryset=User.objects.filter(is_active=True).order_by("username"), required=False)
    group = forms.ModelChoiceField(label=gettext_lazy("Role"), queryset=Group.objects.order_by("name"), required=False)
    max_percent = forms.CharField(label=gettext_lazy("Maximum special discount, %"), max_length=20, widget=forms.TextInput(attrs=DECIMAL))

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"user_id": data["user"].pk if data.get("user") else None, "group_id": data["group"].pk if data.get("group") else None,
                "max_percent": data["max_percent"]}


class PriceCheckForm(forms.Form):
    counterparty = forms.ModelChoiceField(label=gettext_lazy("Client"), queryset=Counterparty.objects.all(), required=False,
                                          widget=AutocompleteSelect("counterparties"))
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.all(), widget=AutocompleteSelect("products"))
    quantity = forms.DecimalField(label=gettext_lazy("Quantity (stock unit)"), initial=1, min_value=0, max_digits=15, decimal_places=4,
                                  widget=forms.TextInput(attrs=DECIMAL))
    date = forms.DateField(label=gettext_lazy("Date"), widget=DATE, required=False)
    price_type = forms.ChoiceField(label=gettext_lazy("Price type"), required=False)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False, help_text=gettext_lazy("Empty: the price type's currency"))

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .selectors import price_type_choices

        self.fields["price_type"].choices = [("", _("The client's (retail when none)"))] + price_type_choices()
        if actor is not None:
            from fabrika.parties.selectors import counterparty_queryset_for_user

            self.fields["counterparty"].queryset = counterparty_queryset_for_user(actor)

    def on(self) -> dt.date:
        return self.cleaned_data.get("date") or timezone.localdate()
