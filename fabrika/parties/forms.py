from __future__ import annotations

from django import forms

from fabrika.core.models import User

from .models import Counterparty


class CounterpartyForm(forms.ModelForm):
    """Only shapes the input; every rule is checked by the service, whose errors are shown beside the fields."""

    responsible = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False)

    class Meta:
        model = Counterparty
        fields = ["kind", "name", "is_client", "is_supplier", "is_dealer", "tax_id", "email", "phone", "city", "responsible", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3}), "email": forms.TextInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].label = Counterparty._meta.get_field("responsible").verbose_name
        for name in ("name",):
            self.fields[name].required = True
        self.fields["email"].required = False

    def _post_clean(self):  # model validation is the service's job
        pass
