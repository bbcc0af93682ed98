from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from fabrika.core.errors import NotFound, PermissionDenied, ValidationError
from fabrika.core.permissions import can

from . import selectors, services
from .forms import CounterpartyForm
from .models import Counterparty


def _require(request, action: str) -> None:
    if not can(request.user, Counterparty, action):
        raise DjangoPermissionDenied


def _get(request, pk: int) -> Counterparty:
    try:
        return selectors.counterparty_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


@login_required
def counterparty_list(request):
    _require(request, "view")
    search = request.GET.get("q", "").strip()
    rows = selectors.counterparty_list_for_user(request.user, search=search)[:200]
    return render(request, "parties/counterparty_list.html", {"rows": rows, "q": search})


@login_required
def counterparty_detail(request, pk: int):
    _require(request, "view")
    return render(request, "parties/counterparty_detail.html", {"object": _get(request, pk)})


def _save(request, form: CounterpartyForm, instance: Counterparty | None):
    data = dict(form.cleaned_data)
    try:
        if instance is None:
            return services.counterparty_create(actor=request.user, data={k: v for k, v in data.items() if v is not None or k != "responsible"})
        return services.counterparty_update(actor=request.user, counterparty_id=instance.pk, data=data)
    except (ValidationError, PermissionDenied) as error:
        for field, messages in error.field_errors().items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        if not error.field_errors():
            form.add_error(None, error.message)
        return None


@login_required
def counterparty_create(request):
    _require(request, "add")
    form = CounterpartyForm(request.POST or None, initial={"responsible": request.user})
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, None)
        if saved is not None:
            return redirect("parties:counterparty_detail", pk=saved.pk)
    return render(request, "parties/counterparty_form.html", {"form": form})


@login_required
def counterparty_edit(request, pk: int):
    _require(request, "change")
    instance = _get(request, pk)
    form = CounterpartyForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, instance)
        if saved is not None:
            return redirect("parties:counterparty_detail", pk=saved.pk)
    return render(request, "parties/counterparty_form.html", {"form": form, "object": instance})
