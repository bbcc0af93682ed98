"""Lead pages: list, card (qualification, conversion), form with inline validation; web forms and the public endpoint."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.request_context import client_ip
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.selectors import counterparty_queryset_for_user

from . import selectors_leads, services_leads
from .forms_leads import LeadConvertForm, LeadForm, LeadStatusForm, PublicFormForm, PublicLeadForm
from .models import Lead, LeadSource, LeadStatus, PublicForm

ENTITY = "crm.lead"


def _detail_url(lead: Lead) -> str:
    return reverse("crm:lead_detail", args=[lead.pk])


LEAD_LIST = ListConfig(
    entity=ENTITY,
    model=Lead,
    title=gettext_lazy("Leads"),
    queryset=selectors_leads.lead_queryset_for_user,
    url_name="crm:lead_list",
    create_url_name="crm:lead_create",
    detail_url=_detail_url,
    columns=(
        Column("number", gettext_lazy("Number"), sort="id", link=True),
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("company_name", gettext_lazy("Company"), sort="company_name"),
        Column("status", gettext_lazy("Status"), value=lambda lead: lead.get_status_display(), sort="status"),
        Column("source", gettext_lazy("Source"), value=lambda lead: lead.get_source_display(), sort="source"),
        Column("phone", gettext_lazy("Phone")),
        Column("email", gettext_lazy("E-mail")),
        Column("responsible", gettext_lazy("Responsible"), value=lambda lead: str(lead.responsible), sort="responsible__username"),
        Column("created_at", gettext_lazy("Created"), value=lambda lead: formats.date_format(lead.created_at, "SHORT_DATE_FORMAT"), export=lambda lead: lead.created_at, sort="created_at"),
    ),
    default_columns=("number", "name", "company_name", "status", "source", "responsible", "created_at"),
    default_sort="-created_at",
    search_fields=selectors_leads.LEAD_SEARCH_FIELDS,
    filters=(
        Filter("status", gettext_lazy("Status"), lookup="status", choices=LeadStatus.choices),
        Filter("source", gettext_lazy("Source"), lookup="source", choices=LeadSource.choices),
        Filter("created", gettext_lazy("Created"), lookup="created_at", kind="date_range"),
    ),
)


def _require(request, action: str, model=Lead) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _get(request, pk: int) -> Lead:
    try:
        return selectors_leads.lead_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


@login_required
def lead_list(request):
    _require(request, "view")
    return list_view(request, LEAD_LIST)


def _card_fields(lead: Lead) -> list[CardField]:
    fields = [
        CardField(_("Status"), lead.get_status_display() + (f" — {lead.status_reason}" if lead.status_reason else "")),
        CardField(_("Source"), lead.get_source_display() + (f" ({lead.public_form})" if lead.public_form_id else "")),
        CardField(_("Company"), display(lead.company_name)),
        CardField(_("Tax ID"), display(lead.tax_id)),
        CardField(_("Phone"), display(lead.phone), url=f"tel:{lead.phone}" if lead.phone else ""),
        CardField(_("E-mail"), display(lead.email), url=f"mailto:{lead.email}" if lead.email else ""),
        CardField(_("Message"), display(lead.message)),
        CardField(_("Responsible"), str(lead.responsible)),
    ]
    if lead.source_details:
        fields.append(CardField(_("Source details"), ", ".join(f"{k}: {v}" for k, v in sorted(lead.source_details.items()))))
    if lead.converted_counterparty_id:
        fields.append(CardField(_("Counterparty"), str(lead.converted_counterparty), url=reverse("parties:counterparty_detail", args=[lead.converted_counterparty_id])))
    if lead.converted_deal_id:
        fields.append(CardField(_("Deal"), str(lead.converted_deal)))
    fields.append(CardField(_("Created"), formats.date_format(lead.created_at, "SHORT_DATETIME_FORMAT")))
    return fields


@login_required
def lead_detail(request, pk: int):
    _require(request, "view")
    lead = _get(request, pk)
    related = []
    if lead.status != LeadStatus.CONVERTED:
        duplicates = services_leads.lead_duplicates(lead)
        related.append(
            RelatedList(
                title=_("Matching counterparties"),
                headers=[_("Name"), _("Matched by"), _("Responsible")],
                rows=[RelatedRow([d.counterparty.name, ", ".join(d.reasons), str(d.counterparty.responsible)]) for d in duplicates],
                empty_text=_("No counterparty matches this lead: converting creates a new one."),
            )
        )
    context = {
        "object": lead,
        "card_title": f"{lead.number} {lead.name}",
        "card_subtitle": lead.get_status_display(),
        "card_fields": _card_fields(lead),
        "related_lists": related,
        "timeline": record_timeline(lead, labels=field_labels(Lead, ENTITY)),
        "back_url": reverse("crm:lead_list"),
        "can_change": can(request.user, Lead, "change") and lead.status != LeadStatus.CONVERTED,
        "can_convert": can(request.user, Lead, "convert") and lead.status != LeadStatus.CONVERTED,
        "status_form": LeadStatusForm(),
        "convert_form": LeadConvertForm(counterparties=counterparty_queryset_for_user(request.user)),
    }
    return render(request, "crm/leads/lead_detail.html", context)


def _form_page(request, form: LeadForm, instance: Lead | None):
    context = {
        "form": form,
        "object": instance,
        "form_title": str(instance) if instance else _("New lead"),
        "validate_url": reverse("crm:lead_validate", args=[instance.pk]) if instance else reverse("crm:lead_validate_new"),
        "cancel_url": _detail_url(instance) if instance else reverse("crm:lead_list"),
    }
    return render(request, "crm/leads/lead_form.html", context, status=400 if form.is_bound and form.errors else 200)


@login_required
def lead_create(request):
    _require(request, "add")
    form = LeadForm(request.POST or None, initial={"responsible": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            lead = services_leads.lead_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Lead “%(name)s” created.") % {"name": lead.name})
            return redirect(_detail_url(lead))
    return _form_page(request, form, None)


@login_required
def lead_edit(request, pk: int):
    _require(request, "change")
    lead = _get(request, pk)
    form = LeadForm(request.POST or None, instance=lead)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services_leads.lead_update(actor=request.user, lead=lead, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Lead “%(name)s” saved.") % {"name": lead.name})
            return redirect(_detail_url(lead))
    return _form_page(request, form, lead)


@login_required
@require_POST
def lead_validate(request, pk: int | None = None):
    _require(request, "change" if pk else "add")
    instance = _get(request, pk) if pk else None
    form = LeadForm(request.POST, instance=instance)
    return validate_field_response(request, form, validate=lambda valid: services_leads.lead_validate(data=valid.service_data(), existing=instance))


@login_required
@require_POST
def lead_status(request, pk: int):
    _require(request, "change")
    lead = _get(request, pk)
    form = LeadStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(m for ms in form.errors.values() for m in ms))
        return redirect(_detail_url(lead))
    try:
        services_leads.lead_set_status(actor=request.user, lead=lead, status=form.cleaned_data["status"], reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message)
    else:
        messages.success(request, _("Lead status changed."))
    return redirect(_detail_url(lead))


@login_required
def lead_convert(request, pk: int):
    _require(request, "convert")
    lead = _get(request, pk)
    form = LeadConvertForm(request.POST or None, counterparties=counterparty_queryset_for_user(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            lead = services_leads.lead_convert(
                actor=request.user,
                lead=lead,
                pipeline=form.cleaned_data["pipeline"],
                create_deal=form.cleaned_data["create_deal"],
                counterparty=form.cleaned_data["counterparty"],
                deal_title=form.cleaned_data["deal_title"],
            )
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Lead converted."))
            if lead.converted_deal_id:
                return redirect("crm:deal_detail", pk=lead.converted_deal_id)
            return redirect("parties:counterparty_detail", pk=lead.converted_counterparty_id)
    context = {"form": form, "object": lead, "form_title": _("Convert %(lead)s") % {"lead": lead}, "cancel_url": _detail_url(lead)}
    return render(request, "crm/leads/lead_form.html", context, status=400 if form.is_bound else 200)


# --- web forms (administration) -------------------------------------------------------------------------------


def _require_forms(request) -> None:
    if not request.user.has_perm("crm.manage_publicform"):
        raise DjangoPermissionDenied


@login_required
def public_form_list(request):
    _require_forms(request)
    forms = PublicForm.objects.select_related("responsible", "pipeline").order_by("title", "id")
    return render(request, "crm/leads/public_form_list.html", {"forms": forms})


@login_required
def public_form_edit(request, pk: int | None = None):
    _require_forms(request)
    instance = PublicForm.objects.filter(pk=pk).first() if pk else None
    if pk and instance is None:
        raise Http404
    form = PublicFormForm(request.POST or None, instance=instance, initial={"responsible": request.user})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services_leads.public_form_save(actor=request.user, data=form.service_data(), existing=instance)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Web form saved."))
            return redirect("crm:public_form_edit", pk=saved.pk)
    public_url = request.build_absolute_uri(reverse("crm:public_form", args=[instance.slug])) if instance else ""
    context = {"form": form, "object": instance, "public_url": public_url, "form_title": str(instance) if instance else _("New web form"), "cancel_url": reverse("crm:public_form_list")}
    return render(request, "crm/leads/public_form_edit.html", context, status=400 if form.is_bound and form.errors else 200)


# --- the public endpoint --------------------------------------------------------------------------------------


def _cors(response: HttpResponse, public_form: PublicForm, origin: str) -> HttpResponse:
    if origin and (not public_form.origins() or origin.rstrip("/") in public_form.origins()):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Vary"] = "Origin"
    return response


def _problem(status: int, title: str, errors: dict | None = None) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type="application/problem+json")


@csrf_exempt
def public_form(request, slug: str):
    """The embeddable form: GET shows it, POST (form fields or JSON) creates a lead. No login, no CSRF token."""
    try:
        public = selectors_leads.public_form_by_slug(slug)
    except NotFound:
        raise Http404
    origin = request.headers.get("Origin", "")
    wants_json = request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), public, origin)
    if origin and public.origins() and origin.rstrip("/") not in public.origins():
        return _problem(403, _("This site may not send this form"))
    if request.method != "POST":
        return render(request, "crm/leads/public_form.html", {"public": public, "form": PublicLeadForm()})
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return _cors(_problem(400, _("The body is not valid JSON")), public, origin)
        if not isinstance(data, dict):
            return _cors(_problem(400, _("The body must be a JSON object")), public, origin)
    else:
        data = request.POST.dict()
    form = PublicLeadForm(data)
    try:
        lead = services_leads.lead_submit_public(public_form=public, data=data, ip_address=client_ip(request) or "")
    except DomainError as error:
        if wants_json:
            status = 400 if error.status == 422 else error.status  # a visitor's bad input is a plain 400
            return _cors(_problem(status, error.message, error.field_errors()), public, origin)
        if error.status == 400 or error.status == 422:
            form.is_valid()
            apply_errors(form, error)
        else:
            form.add_error(None, error.message)
        return render(request, "crm/leads/public_form.html", {"public": public, "form": form}, status=400 if error.status == 422 else error.status)
    thanks = public.success_message or _("Thank you! We will contact you soon.")
    if wants_json:
        return _cors(JsonResponse({"ok": True, "message": thanks}, status=201), public, origin)
    del lead  # a discarded (honeypot) submission looks exactly like an accepted one
    return render(request, "crm/leads/public_form.html", {"public": public, "thanks": thanks}, status=201)
