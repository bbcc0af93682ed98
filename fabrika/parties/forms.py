from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.core.models import User
from fabrika.core.ui.forms import add_custom_fields, custom_values

from .models import ROLE_FIELDS, AddressKind, Contact, Counterparty, PartyRole, Position, Segment, Tag
from .services import ENTITY

FIELDS = [
    "kind", "name", "full_name", "parent", "country", "tax_id", "kpp", "registration_number", "email", "phone", "website",
    "city", "segments", "tags", "price_type_code", "discount_group", "responsible", "notes", "is_own_company",
]


class CounterpartyForm(forms.ModelForm):
    """Only shapes the input; every rule is checked by the service, whose errors are shown beside the fields.

    The entity's custom fields are appended as "custom_<code>" fields."""

    roles = forms.MultipleChoiceField(label=_("Roles"), choices=PartyRole.choices, required=False, widget=forms.CheckboxSelectMultiple)
    responsible = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)
    parent = forms.ModelChoiceField(label=_("Head office"), queryset=Counterparty.objects.filter(is_active=True), required=False)
    segments = forms.ModelMultipleChoiceField(label=_("Segments"), queryset=Segment.objects.filter(is_active=True), required=False)
    tags = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.filter(is_active=True), required=False)
    force = forms.BooleanField(label=_("Create anyway: it is not a duplicate"), required=False)

    class Meta:
        model = Counterparty
        fields = [*FIELDS, "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "email": forms.TextInput(attrs={"inputmode": "email"}), "phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def __init__(self, *args, show_force: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["kind", "name", "roles"])
        self.fields["responsible"].label = Counterparty._meta.get_field("responsible").verbose_name
        self.fields["name"].required = True
        self.fields["email"].required = False
        if self.instance.pk:
            self.fields["roles"].initial = self.instance.roles
            self.fields["parent"].queryset = Counterparty.objects.filter(is_active=True).exclude(pk=self.instance.pk)
            del self.fields["force"]
        else:
            del self.fields["is_active"]  # a new counterparty is active
            if not show_force:
                del self.fields["force"]
        add_custom_fields(self, ENTITY, custom=self.instance.custom if self.instance.pk else {})

    def _post_clean(self):  # model validation is the service's job
        pass

    def service_data(self) -> dict[str, Any]:
        """What the valid part of the form gives the service (custom values under "custom")."""
        data = {name: value for name, value in self.cleaned_data.items() if name in self._meta.fields}
        if self.instance.pk is None and data.get("responsible") is None:
            data.pop("responsible", None)  # the service makes the author responsible
        for name in ("segments", "tags"):
            data[name] = list(data.get(name) or [])
        data["roles"] = [role for role in self.cleaned_data.get("roles") or [] if role in ROLE_FIELDS]
        data["custom"] = custom_values(self, ENTITY)
        return data


class ContactForm(forms.ModelForm):
    position = forms.ModelChoiceField(label=_("Position"), queryset=Position.objects.filter(is_active=True), required=False)
    email = forms.CharField(label=_("E-mail"), required=False, widget=forms.TextInput(attrs={"inputmode": "email"}))  # checked by the service

    class Meta:
        model = Contact
        fields = ["name", "position", "phone", "email", "note", "is_primary"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2}), "email": forms.TextInput(attrs={"inputmode": "email"}), "phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def _post_clean(self):
        pass


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices)
    raw = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Paste the address: its parts are filled in where they can be recognised"))
    country = forms.CharField(label=_("Country"), required=False)
    region = forms.CharField(label=_("Region"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    street = forms.CharField(label=_("Street"), required=False)
    building = forms.CharField(label=_("Building"), required=False)
    postcode = forms.CharField(label=_("Postcode"), required=False)


class BankAccountForm(forms.Form):
    bank_name = forms.CharField(label=_("Bank"))
    bic = forms.CharField(label=_("BIC"), required=False)
    account = forms.CharField(label=_("Account"))
    correspondent_account = forms.CharField(label=_("Correspondent account"), required=False)
    currency = forms.CharField(label=_("Currency"), required=False)
    is_default = forms.BooleanField(label=_("Default"), required=False)


class MergeForm(forms.Form):
    duplicate = forms.IntegerField(label=_("Duplicate to merge into this counterparty (its number)"))


class DirectoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
