from __future__ import annotations

from typing import Any

from django import forms

from fabrika.core.models import User
from fabrika.core.ui.forms import add_custom_fields, custom_values

from .models import Counterparty
from .services import ENTITY

FIELDS = ["kind", "name", "is_client", "is_supplier", "is_dealer", "tax_id", "email", "phone", "city", "responsible", "notes"]


class CounterpartyForm(forms.ModelForm):
    """Only shapes the input; every rule is checked by the service, whose errors are shown beside the fields.

    The entity's custom fields are appended as "custom_<code>" fields."""

    responsible = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)

    class Meta:
        model = Counterparty
        fields = [*FIELDS, "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "email": forms.TextInput(attrs={"inputmode": "email"}), "phone": forms.TextInput(attrs={"inputmode": "tel"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].label = Counterparty._meta.get_field("responsible").verbose_name
        self.fields["name"].required = True
        self.fields["email"].required = False
        if self.instance.pk is None:
            del self.fields["is_active"]  # a new counterparty is active
        add_custom_fields(self, ENTITY, custom=self.instance.custom if self.instance.pk else {})

    def _post_clean(self):  # model validation is the service's job
        pass

    def service_data(self) -> dict[str, Any]:
        """What the valid part of the form gives the service (custom values under "custom")."""
        data = {name: value for name, value in self.cleaned_data.items() if name in self._meta.fields}
        if self.instance.pk is None and data.get("responsible") is None:
            data.pop("responsible", None)  # the service makes the author responsible
        data["custom"] = custom_values(self, ENTITY)
        return data
