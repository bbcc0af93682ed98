"""Forms of the access pages. They only shape the input: every rule is checked by services_access, whose errors
are shown beside the fields (so the pages and the API give the same messages)."""

from __future__ import annotations

import calendar

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from . import services_access
from .models import Department, Scope, User
from .models.audit import AuditAction
from .models.company import ValuationMethod

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _mark_required(form: forms.Form, *names: str) -> None:
    """Show the required star on fields the service requires (the form itself leaves the check to the service)."""
    for name in names:
        form.fields[name].widget.attrs["aria-required"] = "true"
        form.fields[name].show_required = True  # type: ignore[attr-defined]


class UserForm(forms.Form):
    username = forms.CharField(label=_("Username"), required=False, max_length=300)
    first_name = forms.CharField(label=_("First name"), required=False, max_length=300)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=300)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=500, widget=forms.EmailInput)
    position = forms.CharField(label=_("Position"), required=False, max_length=400)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=64)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.order_by("name"), required=False)
    roles = forms.ModelMultipleChoiceField(
        label=_("Roles"), queryset=Group.objects.order_by("name"), required=False, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty: the user sets a password through the “Forgot your password?” link."),
    )

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Browser's language")), *settings.LANGUAGES]
        if not creating:
            del self.fields["password"]
        _mark_required(self, "username")

    @staticmethod
    def initial_for(user: User) -> dict:
        return {
            "username": user.username, "first_name": user.first_name, "last_name": user.last_name, "email": user.email,
            "position": user.position, "phone": user.phone, "department": user.department_id,
            "roles": list(user.groups.values_list("pk", flat=True)), "language": user.language, "is_active": user.is_active,
        }


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=300)
    scope = forms.ChoiceField(
        label=_("Scope"), choices=Scope.choices, help_text=_("Which records with a responsible user the role's members see.")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    discount_limit_percent = forms.CharField(
        label=_("Manual discount limit, %"), required=False, max_length=20, help_text=_("From 0 to 100.")
    )
    permissions = forms.TypedMultipleChoiceField(label=_("Permissions"), required=False, coerce=int)

    def __init__(self, *args, permission_ids: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(pk, pk) for pk in sorted(permission_ids)]
        _mark_required(self, "name")


class DepartmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=400)
    parent = forms.ModelChoiceField(label=_("Parent department"), queryset=Department.objects.order_by("name"), required=False)
    head = forms.ModelChoiceField(label=_("Head"), queryset=User.objects.filter(is_active=True).order_by("username"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _mark_required(self, "name")


def _month_choices() -> list[tuple[int, str]]:
    return [(number, f"{number} — {calendar.month_name[number]}") for number in range(1, 13)]


class CompanySettingsForm(forms.Form):
    name = forms.CharField(
        label=_("Company name"), required=False, max_length=400,
        help_text=_("The company's tax ID, KPP, address and bank account are kept on its counterparty card: mark it “our company”."),
    )
    base_currency = forms.CharField(label=_("Base currency"), required=False, max_length=10, help_text=_("ISO 4217 code, e.g. RUB, EUR"))
    country = forms.ChoiceField(label=_("Country"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)
    fiscal_year_start_month = forms.TypedChoiceField(label=_("Fiscal year starts in month"), coerce=int, choices=_month_choices)
    default_valuation_method = forms.ChoiceField(label=_("Default stock valuation"), choices=ValuationMethod.choices)
    allow_negative_stock = forms.BooleanField(
        label=_("Allow negative stock"), required=False, help_text=_("Possible only with moving-average valuation.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        countries = sorted(services_access.country_names().items(), key=lambda item: item[1])
        self.fields["country"].choices = [(code, f"{name} ({code})") for code, name in countries]
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(services_access.time_zone_names())]
        _mark_required(self, "name", "base_currency", "country", "time_zone")


class CurrencyForm(forms.Form):
    code = forms.CharField(label=_("Code"), required=False, max_length=10, help_text=_("ISO 4217, e.g. USD"))
    name = forms.CharField(label=_("Name"), required=False, max_length=200, help_text=_("Empty: the ISO name."))
    symbol = forms.CharField(label=_("Symbol"), required=False, max_length=16)
    minor_unit = forms.CharField(label=_("Decimal places"), required=False, max_length=4, help_text=_("Empty: as ISO 4217 says."))

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            _mark_required(self, "code")
        else:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code of an existing currency cannot be changed.")


class ExchangeRateForm(forms.Form):
    date = forms.CharField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.CharField(label=_("Rate"), required=False, max_length=30, help_text=_("Base-currency units for the nominal."))
    nominal = forms.CharField(label=_("Nominal"), required=False, max_length=10, initial="1")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _mark_required(self, "date", "rate")


class NumberSequenceForm(forms.Form):
    document_type = forms.CharField(label=_("Document type"), required=False, max_length=100, help_text=_("e.g. sales_order"))
    name = forms.CharField(label=_("Name"), required=False, max_length=400)
    prefix = forms.CharField(label=_("Prefix"), required=False, max_length=40)
    pattern = forms.CharField(
        label=_("Pattern"), required=False, max_length=200, help_text=_("Placeholders: {prefix}, {year}, {yy}, {month}, {number}")
    )
    padding = forms.CharField(label=_("Digits"), required=False, max_length=4, help_text=_("The number is padded with zeros to this length."))
    yearly_reset = forms.BooleanField(label=_("Restart every year"), required=False)

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            _mark_required(self, "document_type")
        else:
            del self.fields["document_type"]
        _mark_required(self, "pattern")


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=300, help_text=_("What uses it, e.g. “1C exchange”."))


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(label=_("User"), queryset=User.objects.order_by("username"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Record type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    text = forms.CharField(label=_("Text"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("Any")), *AuditAction.choices]
        types = []
        for content_type in ContentType.objects.order_by("app_label", "model"):
            model = content_type.model_class()
            if model is None:
                continue
            types.append((f"{content_type.app_label}.{content_type.model}", str(model._meta.verbose_name).capitalize()))
        self.fields["object_type"].choices = [("", _("Any")), *sorted(types, key=lambda item: item[1])]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned
