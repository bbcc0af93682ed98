"""Forms of payments and settlements. They only shape the input; the services check every rule and their errors are
shown beside the fields (fabrika.core.ui.forms.apply_errors)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fabrika.core.ui.autocomplete import use_autocomplete
from fabrika.parties.selectors import counterparty_queryset_for_user

from .models import Direction, PaymentMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=[
        (Direction.OUTGOING, _("Received from a client")), (Direction.INCOMING, _("Paid to a supplier"))])
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    date = forms.DateField(label=_("Date"), widget=DATE)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=None)
    amount = forms.CharField(label=_("Amount"), max_length=20)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False, help_text=_("Empty: the base currency"))
    exchange_rate = forms.CharField(label=_("Exchange rate"), max_length=20, required=False)
    order = forms.IntegerField(label=_("Sales order (prepayment)"), required=False, widget=forms.HiddenInput)
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterparty"].queryset = counterparty_queryset_for_user(actor).filter(is_active=True).order_by("name")
        use_autocomplete(self.fields["counterparty"], "counterparties")
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"] = timezone.localdate()

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["counterparty"] = data["counterparty"].pk if data.get("counterparty") else None
        return data


class PostForm(forms.Form):
    ALLOCATION_CHOICES = [("auto", _("To open invoices, oldest due date first")), ("none", _("Keep it all as an advance"))]
    allocation = forms.ChoiceField(label=_("Allocate"), choices=ALLOCATION_CHOICES, initial="auto", widget=forms.RadioSelect)


class AllocateForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())
    amount = forms.CharField(label=_("Amount"), max_length=20)
    date = forms.DateField(label=_("Date"), widget=DATE, required=False)

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [
            (invoice.pk, f"{invoice.number} · {invoice.date:%Y-%m-%d} · {invoice.open_amount} {invoice.currency}") for invoice in invoices
        ]


class CancelForm(forms.Form):
    date = forms.DateField(label=_("Cancellation date"), widget=DATE, required=False, help_text=_("Empty: today"))


class CreditLimitForm(forms.Form):
    credit_limit = forms.CharField(label=_("Credit limit"), max_length=20, required=False, help_text=_("Empty: no limit"))


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DATE)
    date_to = forms.DateField(label=_("To"), widget=DATE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_from", _("The period's start is after its end"))
        return cleaned
