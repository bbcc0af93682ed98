"""Ledger forms: an account of the chart, and a manual journal entry (a header and a formset of lines)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.core.permissions import scoped
from fabrika.core.ui.autocomplete import use_autocomplete
from fabrika.parties.models import Counterparty

from .models import Account, AccountKind


class AccountForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=AccountKind.choices)
    tracks_counterparty = forms.BooleanField(
        label=_("Kept per counterparty"), required=False,
        help_text=_("Every line on the account then names a counterparty (receivables, payables, advances)."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, account: Account | None = None, **kwargs):
        if account is not None and not kwargs.get("initial"):
            kwargs["initial"] = {
                "code": account.code, "name": account.name, "kind": account.kind,
                "tracks_counterparty": account.tracks_counterparty, "is_active": account.is_active,
            }
        super().__init__(*args, **kwargs)
        if account is None:
            del self.fields["is_active"]
        elif account.key:
            self.fields["kind"].disabled = True
            self.fields["tracks_counterparty"].disabled = True
            self.fields["is_active"].disabled = True
            self.fields["is_active"].help_text = _("A standard account stays active: the posting rules use it.")


class ManualEntryForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    memo = forms.CharField(label=_("Memo"), max_length=300, required=False)


class ManualLineForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Account"), queryset=Account.objects.none(), required=False)
    debit = forms.DecimalField(label=_("Debit"), max_digits=15, decimal_places=2, min_value=0, required=False)
    credit = forms.DecimalField(label=_("Credit"), max_digits=15, decimal_places=2, min_value=0, required=False)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=Counterparty.objects.none(), required=False)
    memo = forms.CharField(label=_("Memo"), max_length=300, required=False)

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.filter(is_active=True).order_by("code")
        self.fields["counterparty"].queryset = scoped(Counterparty.objects.all(), actor) if actor is not None else Counterparty.objects.none()
        use_autocomplete(self.fields["counterparty"], "counterparties")


ManualLineFormSet = forms.formset_factory(ManualLineForm, extra=0, min_num=2, max_num=100, validate_min=False, validate_max=True)


class ReverseForm(forms.Form):
    date = forms.DateField(label=_("Reversal date"), widget=forms.DateInput(attrs={"type": "date"}))


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", _("The end of the period is before its start"))
        return cleaned
