"""E-mail a printed document from a card: `core:email_document` (printed form code + record id).

GET shows the form prefilled with the record's contact e-mail, a subject and a short text (as a fragment for htmx,
a whole page otherwise); POST sends the PDF (fabrika.core.mailing) and goes back to the card, or shows the errors
beside the fields. The record is fetched exactly as for printing: the printed form's model "view" permission and the
record's scope (404 otherwise). Extra query parameters (e.g. a statement's period) are kept for the printed form.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import mailing, printing
from .errors import DomainError, NotFound, ValidationError
from .ui.forms import apply_errors

KEPT_PARAMS = ("date_from", "date_to", "language")


class EmailDocumentForm(forms.Form):
    to = forms.CharField(label=gettext_lazy("To"), max_length=1000, help_text=gettext_lazy("Several addresses: separate them with commas"))
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=mailing.MAX_SUBJECT)
    body = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=mailing.MAX_BODY)
    next = forms.CharField(widget=forms.HiddenInput, required=False)


def _back_url(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return "/"


@login_required
def email_document(request: HttpRequest, code: str, object_id: int) -> HttpResponse:
    try:
        record = printing.printable_object_for_user(request.user, code, object_id)
    except (NotFound, ValidationError):
        raise Http404
    params = request.POST if request.method == "POST" else request.GET
    try:
        obj = mailing.prepare_object(code, record, params)
    except DomainError as error:
        return render(request, "core/printing/cannot_print.html", {"message": error.message}, status=error.status)
    document = printing.printable_document(code)
    kept = {name: params.get(name) for name in KEPT_PARAMS if params.get(name)}
    if request.method == "POST":
        form = EmailDocumentForm(request.POST)
        if form.is_valid():
            try:
                mailing.document_email_send(
                    actor=request.user, template_key=code, obj=obj, to=form.cleaned_data["to"], subject=form.cleaned_data["subject"],
                    body=form.cleaned_data["body"], language=kept.get("language"),
                )
            except DomainError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("%(document)s sent to %(to)s.") % {"document": document.name, "to": form.cleaned_data["to"]})
                back = _back_url(request, form.cleaned_data.get("next") or "")
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = back
                    return response
                return redirect(back)
    else:
        form = EmailDocumentForm(initial={
            "to": mailing.default_recipient(code, obj),
            "subject": mailing.default_subject(code, obj),
            "body": _("Good day,\n\nplease find %(document)s attached.\n\nBest regards,\n%(name)s") % {
                "document": document.name, "name": request.user.get_full_name() or request.user.get_username()},
            "next": request.GET.get("next") or request.META.get("HTTP_REFERER", ""),
        })
    context = {"form": form, "document": document, "record": record, "code": code, "object_id": object_id, "kept": kept}
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "core/email_document_form.html", context, status=status)
    return render(request, "core/email_document.html", context, status=status)
