"""Activity form: it only shapes input; the service checks every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fabrika.core.models import User

from .models import Activity

ACTIVITY_FIELDS = ["kind", "subject", "body", "starts_at", "ends_at", "due_at", "priority", "responsible"]
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(forms.ModelForm):
    responsible = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.filter(is_active=True), required=False)
    checklist = forms.CharField(label=_("Checklist"), required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=_("One item per line."))

    class Meta:
        model = Activity
        fields = ACTIVITY_FIELDS
        widgets = {"body": forms.Textarea(attrs={"rows": 4}), "starts_at": DATETIME_WIDGET, "ends_at": DATETIME_WIDGET, "due_at": DATETIME_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("body", "starts_at", "ends_at", "due_at"):
            self.fields[name].required = False
        if self.instance.pk:
            del self.fields["checklist"]

    def _post_clean(self):
        pass

    def service_data(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if name in ACTIVITY_FIELDS}
        if data.get("responsible") is None:
            data.pop("responsible", None)
        return data

    def checklist_items(self) -> list[str]:
        return [line for line in (self.cleaned_data.get("checklist") or "").splitlines() if line.strip()]
