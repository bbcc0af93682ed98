"""Views of the UI kit: the generic list page (used by each entity's list view), saved views and global search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can

from . import exports, services
from .autocomplete import autocomplete_choices
from .lists import COLUMNS_PARAM, EXPORT_PARAM, PAGE_PARAM, VIEW_PARAM, ListConfig, ListState, bulk_action_for
from .search import global_search
from .selectors import saved_views_for_user

RESULTS_TARGET = "list-results"


def _active_view(request: HttpRequest, views: list) -> tuple[Any, QueryDict]:
    """The saved view to apply (asked for by ?view=<id>, or the default one when the list is opened bare)."""
    params = request.GET
    wanted = params.get(VIEW_PARAM, "")
    view = None
    if wanted and wanted != "0":
        view = next((v for v in views if str(v.pk) == wanted), None)
    elif not params:
        view = next((v for v in views if v.is_default), None)
    if view is None:
        return None, params
    applied = QueryDict(view.query, mutable=True)
    if view.columns:
        applied.setlist(COLUMNS_PARAM, view.columns)
    for key in (PAGE_PARAM, EXPORT_PARAM):
        if key in params:
            applied[key] = params[key]
    return view, applied


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _allowed(user, config: ListConfig, action) -> bool:
    """A bulk action's permission: an action on the list's model ("change"), or a full permission on another app's
    model ("finance.add_invoice") for an action that makes documents there."""
    if "." in action.permission:
        return user.is_authenticated and user.has_perm(action.permission)
    return can(user, config.model, action.permission)


def _bulk(request: HttpRequest, config: ListConfig) -> HttpResponse:
    back = _next_url(request, reverse(config.url_name))
    action = bulk_action_for(config, request.POST.get("action", ""))
    if action is None or not _allowed(request.user, config, action):
        messages.error(request, _("Choose an action you are allowed to run."))
        return redirect(back)
    raw_ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
    ids = list(config.queryset(request.user).filter(pk__in=raw_ids).values_list("pk", flat=True))
    if not ids:
        messages.error(request, _("Tick at least one row first."))
        return redirect(back)
    try:
        result = action.run(actor=request.user, ids=ids, value=request.POST.get(f"value_{action.key}", ""))
    except DomainError as error:
        messages.error(request, "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message)
        return redirect(back)
    changed, note = result if isinstance(result, tuple) else (result, "")
    messages.success(request, _("%(action)s: %(count)d record(s) changed.") % {"action": action.label, "count": changed})
    if note:
        messages.warning(request, note)
    return redirect(back)


def list_view(
    request: HttpRequest, config: ListConfig, *, template: str = "core/ui/list.html", context: dict | None = None
) -> HttpResponse:
    """The whole list page for `config`: GET renders (or exports, or refreshes the results for htmx), POST runs a
    bulk action on the ticked rows. The caller has already checked that the user may view the entity."""
    if request.method == "POST":
        return _bulk(request, config)
    views = list(saved_views_for_user(request.user, entity=config.entity))
    active_view, params = _active_view(request, views)
    state = ListState(config, request.user, params)
    file_format = params.get(EXPORT_PARAM, "")
    if file_format:
        try:
            return exports.export_response(state, file_format=file_format)
        except DomainError as error:  # nothing exported: say why above the list
            messages.error(request, "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message)
    page = state.page(params.get(PAGE_PARAM))
    detail_url = config.detail_url
    rows = [
        {
            "pk": row.pk,
            "url": detail_url(row) if detail_url else "",
            "cells": [{"value": column.display(row), "link": column.link} for column in state.columns],
        }
        for row in page.object_list
    ]
    bulk_actions = [
        {"action": action, "choices": action.value_choices(request.user) if action.value_choices else None}
        for action in config.bulk_actions
        if _allowed(request.user, config, action)
    ]
    sort_links = state.sort_links()
    ctx = {
        "config": config,
        "state": state,
        "page": page,
        "rows": rows,
        "list_url": reverse(config.url_name),
        "saved_views": views,
        "active_view": active_view,
        "bulk_actions": bulk_actions,
        "headers": [{"column": column, "link": sort_links.get(column.key)} for column in state.columns],
        "page_query": state.query_string(drop={PAGE_PARAM, VIEW_PARAM}),
        "export_links": [(fmt, state.query_string(drop={PAGE_PARAM, VIEW_PARAM}, **{EXPORT_PARAM: fmt})) for fmt in config.export_formats],
        "saved_query": state.saved_query(),
        "can_create": bool(config.create_url_name) and can(request.user, config.model, "add"),
        "results_target": RESULTS_TARGET,
        **(context or {}),
    }
    if request.htmx and request.htmx.target == RESULTS_TARGET:
        return render(request, "core/ui/_list_results.html", ctx)
    return render(request, template, ctx)


@login_required
@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    back = _next_url(request, reverse("core:home"))
    try:
        view = services.saved_view_save(
            actor=request.user,
            entity=request.POST.get("entity", ""),
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            columns=request.POST.getlist(COLUMNS_PARAM),
            is_default=request.POST.get("is_default") in {"on", "true", "1"},
        )
    except DomainError as error:
        messages.error(request, "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message)
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{back.split('?')[0]}?{VIEW_PARAM}={view.pk}")


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    back = _next_url(request, reverse("core:home"))
    try:
        services.saved_view_delete(actor=request.user, saved_view_id=pk)
    except NotFound:
        messages.error(request, _("That saved view does not exist."))
        return redirect(back)
    messages.success(request, _("View deleted."))
    return redirect(back.split("?")[0] + f"?{VIEW_PARAM}=0")


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Global search over every entity the user may view (scoped); the top bar shows the short htmx version."""
    query = (request.GET.get("q") or "").strip()
    short = bool(request.htmx) and request.htmx.target == "topbar-search-results"
    groups = global_search(request.user, query, limit=5 if short else 20)
    context = {"q": query, "groups": groups, "too_short": 0 < len(query) < 2}
    if short:
        return render(request, "core/ui/_search_results.html", context)
    return render(request, "core/ui/search.html", context)


@login_required
def autocomplete(request: HttpRequest, source: str) -> JsonResponse:
    """Matches for an AutocompleteSelect: [{"value", "label"}]; 403 when the user may not see the entity."""
    params = {key: value for key, value in request.GET.items() if key != "q"}
    try:
        choices = autocomplete_choices(request.user, source, request.GET.get("q", ""), params=params)
    except NotFound:
        raise Http404 from None
    except DomainError as refused:
        return JsonResponse({"detail": refused.message}, status=refused.status)
    if choices is None:
        raise DjangoPermissionDenied
    return JsonResponse([{"value": value, "label": label} for value, label in choices], safe=False)
