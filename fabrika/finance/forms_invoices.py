"""Forms of the invoice pages. They only shape input: the services check every business rule and their errors are
shown beside the fields (fabrika.core.ui.forms.apply_errors)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.catalog.models import Product
from fabrika.parties.models import Counterparty

from .models import Direction


class InvoiceHeaderForm(forms.Form):
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=Counterparty.objects.none())
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    supplier_reference = forms.CharField(label=_("Supplier's number"), max_length=60, required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False, help_text=_("Empty: the base currency"))
    exchange_rate = forms.DecimalField(label=_("Exchange rate"), max_digits=15, decimal_places=6, required=False)
    prices_include_tax = forms.BooleanField(label=_("Prices include tax"), required=False, initial=True)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, direction: str, from_order: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.direction = direction
        flag = {"is_supplier": True} if direction == Direction.INCOMING else {"is_client": True}
        self.fields["counterparty"].queryset = Counterparty.objects.filter(is_active=True, **flag).order_by("name")
        if direction == Direction.OUTGOING:
            del self.fields["supplier_reference"]
        if from_order:
            for name in ("counterparty", "currency", "exchange_rate", "prices_include_tax"):
                self.fields.pop(name, None)

    def service_data(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items()}
        if "counterparty" in data:
            data["counterparty"] = data["counterparty"].pk if data["counterparty"] else None
        if data.get("exchange_rate") is None:
            data.pop("exchange_rate", None)
        return data


class FreeLineForm(forms.Form):
    """A line of a manual invoice. The product is chosen with the htmx search above the form (a hidden id here), so a
    large catalog never renders as one select."""

    product = forms.ModelChoiceField(label=_("Product or service"), queryset=Product.objects.none(), required=False, widget=forms.HiddenInput)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    quantity = forms.CharField(label=_("Quantity"), initial="1")
    price = forms.CharField(label=_("Price"))
    tax_rate = forms.CharField(label=_("Tax rate, %"), required=False, help_text=_("Empty: the product's rate or the company default"))
    discount_percent = forms.CharField(label=_("Discount, %"), required=False)

    def __init__(self, *args, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.filter(is_active=True)
        self.item = product
        if product is not None:
            self.initial.update({"product": product.pk, "description": product.name})

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["product"] = data["product"].pk if data.get("product") else None
        return {key: value for key, value in data.items() if value not in (None, "")}


class PostForm(forms.Form):
    due_date = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Empty: the last date of the payment schedule, or the date given on the invoice"))


class CancelForm(forms.Form):
    date = forms.DateField(label=_("Cancellation date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                           help_text=_("Empty: today"))


class ScheduleGenerateForm(forms.Form):
    prepayment_percent = forms.CharField(label=_("Prepayment, %"), initial="0")
    instalments = forms.IntegerField(label=_("Monthly instalments"), min_value=0, max_value=120, initial=1)
    first_due_date = forms.DateField(label=_("First instalment due"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                     help_text=_("Empty: a month after the document date"))
