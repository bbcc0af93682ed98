"""Webhook administration pages (list, create, card with delivery log, edit, delete, re-send) and /healthz."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import webhooks
from .errors import DomainError, NotFound
from .health import health_report
from .models.webhooks import WebhookDeliveryStatus, WebhookEndpoint
from .permissions import can

DELIVERIES_PER_PAGE = 50


class WebhookEndpointForm(forms.Form):
    """Only shapes the input: the service checks it (so the API and the page give the same messages)."""

    url = forms.CharField(label=gettext_lazy("URL"), required=False, widget=forms.URLInput(attrs={"placeholder": "https://"}))
    description = forms.CharField(label=gettext_lazy("Description"), required=False)
    event_types = forms.CharField(
        label=gettext_lazy("Event types"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "Separated by commas or spaces, e.g. record.created, record.changed; record.* for every record event, "
            "* for every event."
        ),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


def _require(request, action: str) -> None:
    if not can(request.user, WebhookEndpoint, action):
        raise DjangoPermissionDenied


def _get(endpoint_id: int) -> WebhookEndpoint:
    try:
        return webhooks.webhook_endpoint_get(endpoint_id)
    except NotFound:
        raise Http404


def _show_errors(form: forms.Form, error: DomainError) -> None:
    for field, field_messages in error.field_errors().items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


@login_required
def webhook_list(request):
    _require(request, "view")
    return render(
        request,
        "core/events/webhook_list.html",
        {"endpoints": webhooks.webhook_endpoint_list(), "can_add": can(request.user, WebhookEndpoint, "add")},
    )


@login_required
def webhook_create(request):
    _require(request, "add")
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhooks.webhook_endpoint_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Webhook created. Copy its signing secret to the receiving system."))
            return redirect("core:webhook_detail", endpoint_id=endpoint.pk)
    return render(request, "core/events/webhook_form.html", {"form": form, "title": _("New webhook")})


@login_required
def webhook_edit(request, endpoint_id: int):
    _require(request, "change")
    endpoint = _get(endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": ", ".join(endpoint.event_types),
        "is_active": endpoint.is_active,
    }
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.webhook_endpoint_update(actor=request.user, endpoint_id=endpoint.pk, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Webhook saved."))
            return redirect("core:webhook_detail", endpoint_id=endpoint.pk)
    return render(request, "core/events/webhook_form.html", {"form": form, "object": endpoint, "title": _("Edit webhook")})


@login_required
def webhook_detail(request, endpoint_id: int):
    _require(request, "view")
    endpoint = _get(endpoint_id)
    status = request.GET.get("status", "")
    if status not in WebhookDeliveryStatus.values:
        status = ""
    page = Paginator(webhooks.webhook_deliveries(endpoint=endpoint, status=status), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/events/webhook_detail.html",
        {
            "object": endpoint,
            "page": page,
            "status": status,
            "statuses": WebhookDeliveryStatus.choices,
            "can_change": can(request.user, WebhookEndpoint, "change"),
            "can_delete": can(request.user, WebhookEndpoint, "delete"),
        },
    )


@login_required
@require_POST
def webhook_delete(request, endpoint_id: int):
    _require(request, "delete")
    endpoint = _get(endpoint_id)
    webhooks.webhook_endpoint_delete(actor=request.user, endpoint_id=endpoint.pk)
    messages.success(request, _("Webhook %(url)s deleted.") % {"url": endpoint.url})
    return redirect("core:webhook_list")


@login_required
@require_POST
def webhook_rotate_secret(request, endpoint_id: int):
    _require(request, "change")
    endpoint = _get(endpoint_id)
    webhooks.webhook_endpoint_rotate_secret(actor=request.user, endpoint_id=endpoint.pk)
    messages.success(request, _("A new signing secret was generated; the old one no longer verifies."))
    return redirect("core:webhook_detail", endpoint_id=endpoint.pk)


@login_required
@require_POST
def webhook_delivery_resend(request, endpoint_id: int, delivery_id: int):
    _require(request, "change")
    endpoint = _get(endpoint_id)
    try:
        delivery = webhooks.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        webhooks.webhook_delivery_resend(actor=request.user, delivery_id=delivery.pk)
    except NotFound:
        raise Http404
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Delivery %(id)s queued to be sent again.") % {"id": delivery.pk})
    return redirect("core:webhook_detail", endpoint_id=endpoint.pk)


@never_cache
@require_GET
def healthz(request):
    body, status = health_report()
    return JsonResponse(body, status=status)
