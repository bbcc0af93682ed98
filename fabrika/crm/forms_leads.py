"""Lead forms: they only shape input; the services check every rule and their errors are shown beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.core.models import User
from fabrika.parties.models import Counterparty

from .models import Lead, LeadStatus, Pipeline, PublicForm

LEAD_FIELDS = ["name", "company_name", "tax_id", "phone", "email", "message", "responsible"]


class LeadForm(forms.ModelForm):
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=User.objects.filter(is_active=True), required=False)

    class Meta:
        model = Lead
        fields = LEAD_FIELDS
        widgets = {"message": forms.Textarea(attrs={"rows": 3}), "phone": forms.TextInput(attrs={"inputmode": "tel"}), "email": forms.TextInput(attrs={"inputmode": "email"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("email", "phone", "tax_id", "company_name", "message"):
            self.fields[name].required = False

    def _post_clean(self):  # model validation is the service's job
        pass

    def service_data(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if name in LEAD_FIELDS}
        if data.get("responsible") is None:
            data.pop("responsible", None)
        return data


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[(s.value, s.label) for s in LeadStatus if s != LeadStatus.CONVERTED])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class LeadConvertForm(forms.Form):
    create_deal = forms.BooleanField(label=_("Create a deal"), required=False, initial=True)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True), required=False)
    deal_title = forms.CharField(label=_("Deal title"), required=False, max_length=300)
    counterparty = forms.ModelChoiceField(
        label=_("Existing counterparty"), queryset=Counterparty.objects.none(), required=False,
        help_text=_("Leave empty to reuse a matching counterparty automatically or create a new one."),
    )

    def __init__(self, *args, counterparties=None, **kwargs):
        super().__init__(*args, **kwargs)
        if counterparties is not None:
            self.fields["counterparty"].queryset = counterparties


class PublicFormForm(forms.ModelForm):
    responsible = forms.ModelChoiceField(label=_("Responsible"), queryset=User.objects.filter(is_active=True), required=False)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.filter(is_active=True), required=False)

    class Meta:
        model = PublicForm
        fields = ["title", "slug", "responsible", "pipeline", "allowed_origins", "success_message", "is_active"]
        widgets = {"allowed_origins": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def _post_clean(self):
        pass

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class PublicLeadForm(forms.Form):
    """The public form a visitor fills in; `website` is the honeypot, hidden from people."""

    name = forms.CharField(label=_("Your name"), max_length=300)
    company_name = forms.CharField(label=_("Company"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    message = forms.CharField(label=_("Message"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))
