"""Forms of the print-template pages. They only shape the input: `fabrika.core.printing` checks it (including
that the template compiles and renders), so the page and the API give the same messages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models.printing import PaperOrientation, PaperSize


class PrintTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    paper_size = forms.ChoiceField(label=_("Paper size"), choices=PaperSize.choices, required=False)
    orientation = forms.ChoiceField(label=_("Orientation"), choices=PaperOrientation.choices, required=False)
    is_default = forms.BooleanField(
        label=_("Default"), required=False, help_text=_("Used when this document is printed in this language")
    )
    active = forms.BooleanField(label=_("Active"), required=False)
    body = forms.CharField(
        label=_("Template (HTML)"), required=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
        help_text=_("Django template language; {% load fabrika_print %} gives money, quantity, amount_in_words, number_in_words and print_date."),
    )
    css = forms.CharField(
        label=_("CSS"), required=False, widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "code"})
    )
    comment = forms.CharField(label=_("What changed"), required=False, max_length=200)
    preview_object = forms.ChoiceField(label=_("Preview with"), required=False)

    def __init__(self, *args, preview_choices: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Every language")), *[(code, name) for code, name in settings.LANGUAGES]]
        self.fields["preview_object"].choices = [("", _("Sample data")), *[(str(pk), label) for pk, label in preview_choices or []]]

    def template_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("preview_object", None)
        data.pop("comment", None)
        return data
