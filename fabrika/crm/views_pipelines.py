"""Pipeline, stage and deal pages: pipeline settings, the kanban board (SortableJS + htmx), deal list, card and
form with inline validation, and the funnel report. Every write goes through services_pipelines."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.core import custom_fields
from fabrika.core.errors import DomainError, NotFound, ValidationError
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view

from . import selectors_pipelines as selectors
from . import services_pipelines as services
from .api_pipelines import parse_funnel_params
from .forms_pipelines import DealForm, PipelineForm, StageForm, stage_initial
from .models.pipelines import Deal, Pipeline, Stage, StageKind
from .reports_pipelines import funnel_report


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _pipeline(pk) -> Pipeline:
    try:
        return selectors.pipeline_get(pk)
    except NotFound:
        raise Http404


def _stage(pk) -> Stage:
    try:
        return selectors.stage_get(pk)
    except NotFound:
        raise Http404


def _deal(request, pk) -> Deal:
    try:
        return selectors.deal_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _money(value) -> str:
    return "" if value is None else formats.number_format(value, 2, use_l10n=True, force_grouping=True)


# --- pipelines ------------------------------------------------------------------------------------------------


@login_required
def pipeline_list(request):
    _require(request, Pipeline, "view")
    pipelines = selectors.pipeline_list(include_inactive=can(request.user, Pipeline, "change"))
    return render(
        request,
        "crm/pipelines/pipeline_list.html",
        {"pipelines": pipelines, "can_add": can(request.user, Pipeline, "add"), "can_change": can(request.user, Pipeline, "change")},
    )


@login_required
def pipeline_detail(request, pk: int):
    _require(request, Pipeline, "view")
    pipeline = _pipeline(pk)
    labels = dict(services.required_field_choices(pipeline))
    stages = [
        {"stage": stage, "required": [labels.get(key, key) for key in stage.required_fields or []]}
        for stage in pipeline.stages.select_related("task_assignee", "task_role").order_by("order", "id")
    ]
    return render(
        request,
        "crm/pipelines/pipeline_detail.html",
        {
            "pipeline": pipeline,
            "stages": stages,
            "deal_fields": custom_fields.definitions_for(services.DEAL_ENTITY, context=pipeline.custom_context),
            "custom_fields_url": reverse("core:custom_field_create") + "?entity=crm.deal",
            "can_change": can(request.user, Pipeline, "change"),
            "can_delete": can(request.user, Pipeline, "delete"),
            "can_manage_fields": request.user.has_perm("core.add_customfielddefinition"),
        },
    )


def _pipeline_form_page(request, form, pipeline: Pipeline | None):
    return render(
        request,
        "core/ui/form.html",
        {
            "form": form,
            "form_title": pipeline.name if pipeline else _("New pipeline"),
            "cancel_url": reverse("crm:pipeline_detail", args=[pipeline.pk]) if pipeline else reverse("crm:pipeline_list"),
        },
    )


@login_required
def pipeline_create(request):
    _require(request, Pipeline, "add")
    form = PipelineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_create(actor=request.user, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Pipeline “%(name)s” created. Add its stages.") % {"name": pipeline.name})
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return _pipeline_form_page(request, form, None)


@login_required
def pipeline_edit(request, pk: int):
    _require(request, Pipeline, "change")
    pipeline = _pipeline(pk)
    initial = {"name": pipeline.name, "purpose": pipeline.purpose, "description": pipeline.description, "is_active": pipeline.is_active}
    form = PipelineForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.pipeline_update(actor=request.user, pipeline=pipeline, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Pipeline “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return _pipeline_form_page(request, form, pipeline)


@login_required
def pipeline_delete(request, pk: int):
    _require(request, Pipeline, "delete")
    pipeline = _pipeline(pk)
    error = ""
    if request.method == "POST":
        try:
            services.pipeline_delete(actor=request.user, pipeline=pipeline)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": pipeline.name})
            return redirect("crm:pipeline_list")
    return render(request, "core/ui/confirm_delete.html", {"object": pipeline, "error": error, "cancel_url": reverse("crm:pipeline_detail", args=[pk])})


# --- stages ---------------------------------------------------------------------------------------------------


def _stage_form_page(request, form, pipeline: Pipeline, stage: Stage | None):
    return render(
        request,
        "core/ui/form.html",
        {
            "form": form,
            "form_title": _("Stage “%(name)s”") % {"name": stage.name} if stage else _("New stage of “%(pipeline)s”") % {"pipeline": pipeline.name},
            "cancel_url": reverse("crm:pipeline_detail", args=[pipeline.pk]),
        },
    )


@login_required
def stage_create(request, pk: int):
    _require(request, Stage, "add")
    pipeline = _pipeline(pk)
    form = StageForm(request.POST or None, pipeline=pipeline)
    if request.method == "POST" and form.is_valid():
        try:
            stage = services.stage_create(actor=request.user, pipeline=pipeline, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return _stage_form_page(request, form, pipeline, None)


@login_required
def stage_edit(request, pk: int):
    _require(request, Stage, "change")
    stage = _stage(pk)
    form = StageForm(request.POST or None, pipeline=stage.pipeline, initial=stage_initial(stage))
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_update(actor=request.user, stage=stage, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Stage “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("crm:pipeline_detail", pk=stage.pipeline_id)
    return _stage_form_page(request, form, stage.pipeline, stage)


@login_required
def stage_delete(request, pk: int):
    _require(request, Stage, "delete")
    stage = _stage(pk)
    error = ""
    if request.method == "POST":
        try:
            services.stage_delete(actor=request.user, stage=stage)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, _("Stage “%(name)s” deleted.") % {"name": stage.name})
            return redirect("crm:pipeline_detail", pk=stage.pipeline_id)
    return render(request, "core/ui/confirm_delete.html", {"object": stage, "error": error, "cancel_url": reverse("crm:pipeline_detail", args=[stage.pipeline_id])})


# --- kanban ---------------------------------------------------------------------------------------------------


def _board_context(request, pipeline: Pipeline, params, *, error: str = "", notice: str = "", failed_deal: Deal | None = None) -> dict:
    filter_errors: dict[str, list[str]] = {}
    try:
        filters = selectors.parse_deal_filters(params, pipeline=pipeline)
    except ValidationError as invalid:
        filter_errors = invalid.field_errors()
        filters = selectors.DealFilters(pipeline=pipeline)
    try:
        columns = selectors.kanban_columns(request.user, filters)
    except ValidationError as invalid:  # a bad custom-field filter
        filter_errors.update(invalid.field_errors())
        columns = selectors.kanban_columns(request.user, selectors.DealFilters(pipeline=pipeline))
    list_definitions = custom_fields.list_definitions(services.DEAL_ENTITY, context=pipeline.custom_context)
    for column in columns:
        for deal in column.deals:
            deal.card_custom = [
                (definition.label, custom_fields.display_value(definition, (deal.custom or {}).get(definition.code)))
                for definition in list_definitions
                if (deal.custom or {}).get(definition.code) not in (None, "", [])
            ]
    return {
        "pipeline": pipeline,
        "pipelines": selectors.pipeline_list(),
        "columns": columns,
        "params": params,
        "filter_errors": filter_errors,
        "responsible_choices": selectors.responsible_choices(),
        "custom_filters": custom_fields.filter_definitions(services.DEAL_ENTITY, context=pipeline.custom_context),
        "error": error,
        "notice": notice,
        "failed_deal": failed_deal,
        "can_move": can(request.user, Deal, "change"),
        "can_add": can(request.user, Deal, "add"),
        "query": params.urlencode() if hasattr(params, "urlencode") else "",
    }


@login_required
def kanban(request, pk: int):
    _require(request, Deal, "view")
    pipeline = _pipeline(pk)
    context = _board_context(request, pipeline, request.GET)
    if request.htmx and request.htmx.target == "kanban-board":
        return render(request, "crm/pipelines/_board.html", context)
    return render(request, "crm/pipelines/kanban.html", context)


@login_required
@require_POST
def deal_move(request, pk: int):
    """Move a deal to another stage (kanban drop or the card's "move" form). htmx gets the board re-rendered from
    the database (with the refusal message when the move was refused); a plain form post redirects."""
    _require(request, Deal, "change")
    deal = _deal(request, pk)
    error = notice = ""
    try:
        stage = selectors.stage_get(request.POST.get("stage"), pipeline=deal.pipeline)
        services.deal_move(actor=request.user, deal=deal, stage=stage, reason=request.POST.get("reason", ""))
    except NotFound:
        error = _("Choose a stage of the deal's pipeline")
    except DomainError as refused:
        error = refused.message
    else:
        notice = _("Deal %(number)s moved to “%(stage)s”.") % {"number": deal.number, "stage": stage.name}
    if request.htmx:
        params = request.GET.copy()
        response = render(request, "crm/pipelines/_board.html", _board_context(request, deal.pipeline, params, error=error, notice=notice, failed_deal=deal if error else None))
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, notice)
    return redirect(request.POST.get("next") or reverse("crm:deal_detail", args=[deal.pk]))


# --- deal list ------------------------------------------------------------------------------------------------


def _deal_url(deal: Deal) -> str:
    return reverse("crm:deal_detail", args=[deal.pk])


def _amount_filter(queryset, value: str):
    bounds = {"lt100k": (None, 100000), "100k-1m": (100000, 1000000), "gte1m": (1000000, None)}[value]
    if bounds[0] is not None:
        queryset = queryset.filter(amount__gte=bounds[0])
    if bounds[1] is not None:
        queryset = queryset.filter(amount__lt=bounds[1])
    return queryset


DEAL_LIST = ListConfig(
    entity=services.DEAL_ENTITY,
    model=Deal,
    title=gettext_lazy("Deals"),
    queryset=selectors.deal_queryset_for_user,
    url_name="crm:deal_list",
    detail_url=_deal_url,
    columns=(
        Column("number", gettext_lazy("Number"), sort="number", link=True),
        Column("title", gettext_lazy("Title"), sort="title", link=True),
        Column("pipeline", gettext_lazy("Pipeline"), value=lambda d: d.pipeline.name, sort="pipeline__order"),
        Column("stage", gettext_lazy("Stage"), value=lambda d: d.stage.name, sort="stage__order"),
        Column("counterparty", gettext_lazy("Counterparty"), value=lambda d: d.counterparty.name, sort="counterparty__name"),
        Column("amount", gettext_lazy("Amount"), value=lambda d: _money(d.amount), export=lambda d: d.amount, sort="amount"),
        Column("currency", gettext_lazy("Currency"), value=lambda d: d.currency.code if d.currency_id else ""),
        Column("expected_close", gettext_lazy("Expected close"), value=lambda d: formats.date_format(d.expected_close, "SHORT_DATE_FORMAT") if d.expected_close else "", export=lambda d: d.expected_close, sort="expected_close"),
        Column("responsible", gettext_lazy("Responsible"), value=lambda d: str(d.responsible), sort="responsible__username"),
        Column("stage_entered_at", gettext_lazy("In the stage since"), value=lambda d: formats.date_format(d.stage_entered_at, "SHORT_DATE_FORMAT"), export=lambda d: d.stage_entered_at, sort="stage_entered_at"),
        Column("created_at", gettext_lazy("Created"), value=lambda d: formats.date_format(d.created_at, "SHORT_DATE_FORMAT"), export=lambda d: d.created_at, sort="created_at"),
    ),
    default_columns=("number", "title", "pipeline", "stage", "counterparty", "amount", "responsible"),
    default_sort="-created_at",
    search_fields=selectors.DEAL_SEARCH_FIELDS,
    filters=(
        Filter("pipeline", gettext_lazy("Pipeline"), lookup="pipeline_id", choices=lambda actor: [(p.pk, p.name) for p in selectors.pipeline_list()]),
        Filter("stage_kind", gettext_lazy("State"), lookup="stage__kind", choices=StageKind.choices),
        Filter("responsible", gettext_lazy("Responsible"), lookup="responsible_id", choices=lambda actor: selectors.responsible_choices()),
        Filter(
            "amount",
            gettext_lazy("Amount"),
            lookup="",
            apply=_amount_filter,
            choices=(("lt100k", gettext_lazy("under 100 000")), ("100k-1m", gettext_lazy("100 000 – 1 000 000")), ("gte1m", gettext_lazy("1 000 000 and more"))),
        ),
        Filter("created", gettext_lazy("Created"), lookup="created_at", kind="date_range"),
    ),
)


@login_required
def deal_list(request):
    _require(request, Deal, "view")
    pipelines = list(selectors.pipeline_list())
    return list_view(request, DEAL_LIST, template="crm/pipelines/deal_list.html", context={"pipelines": pipelines, "can_add_deal": can(request.user, Deal, "add")})


# --- deal card and form ---------------------------------------------------------------------------------------


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": rest // 60}


@login_required
def deal_detail(request, pk: int):
    _require(request, Deal, "view")
    deal = _deal(request, pk)
    fields = [
        CardField(_("Pipeline"), deal.pipeline.name, url=reverse("crm:kanban", args=[deal.pipeline_id])),
        CardField(_("Stage"), f"{deal.stage.name} ({deal.stage.probability}%)"),
        CardField(_("Counterparty"), deal.counterparty.name, url=reverse("parties:counterparty_detail", args=[deal.counterparty_id])),
        CardField(_("Contact"), display(deal.contact.name if deal.contact_id else "")),
        CardField(_("Amount"), display(f"{_money(deal.amount)} {deal.currency.code if deal.currency_id else ''}".strip() if deal.amount is not None else "")),
        CardField(_("Expected close"), display(deal.expected_close)),
        CardField(_("Responsible"), str(deal.responsible)),
        CardField(_("In the stage since"), formats.date_format(deal.stage_entered_at, "SHORT_DATETIME_FORMAT")),
    ]
    if deal.closed_at:
        fields.append(CardField(_("Closed"), formats.date_format(deal.closed_at, "SHORT_DATETIME_FORMAT")))
    if deal.won_reason:
        fields.append(CardField(_("Won reason"), deal.won_reason))
    if deal.lost_reason:
        fields.append(CardField(_("Lost reason"), deal.lost_reason))
    for definition in custom_fields.definitions_for(services.DEAL_ENTITY, context=deal.pipeline.custom_context):
        fields.append(CardField(definition.label, display(custom_fields.display_value(definition, (deal.custom or {}).get(definition.code)))))
    history = selectors.deal_history(deal)
    related = [
        RelatedList(
            title=_("Stage history"),
            headers=[_("Stage"), _("Entered"), _("Left"), _("Time in stage"), _("Moved by"), _("Reason")],
            rows=[
                RelatedRow([
                    row.stage.name,
                    formats.date_format(row.entered_at, "SHORT_DATETIME_FORMAT"),
                    formats.date_format(row.left_at, "SHORT_DATETIME_FORMAT") if row.left_at else "—",
                    _duration(row.duration_seconds()),
                    str(row.actor) if row.actor_id else _("automation"),
                    row.reason,
                ])
                for row in history
            ],
            empty_text=_("No stage history."),
        )
    ]
    context = {
        "object": deal,
        "card_title": f"{deal.number} · {deal.title}",
        "card_subtitle": deal.counterparty.name,
        "card_fields": fields,
        "related_lists": related,
        "timeline": record_timeline(deal, labels=field_labels(Deal, services.DEAL_ENTITY)),
        "back_url": reverse("crm:kanban", args=[deal.pipeline_id]),
        "stages": deal.pipeline.stages.order_by("order", "id"),
        "can_change": can(request.user, Deal, "change"),
        "can_delete": can(request.user, Deal, "delete"),
    }
    return render(request, "crm/pipelines/deal_detail.html", context)


def _deal_form_page(request, form: DealForm, pipeline: Pipeline, deal: Deal | None):
    return render(
        request,
        "core/ui/form.html",
        {
            "form": form,
            "form_title": f"{deal.number} · {deal.title}" if deal else _("New deal in “%(pipeline)s”") % {"pipeline": pipeline.name},
            "validate_url": reverse("crm:deal_validate", args=[deal.pk]) if deal else reverse("crm:deal_validate_new", args=[pipeline.pk]),
            "cancel_url": _deal_url(deal) if deal else reverse("crm:kanban", args=[pipeline.pk]),
        },
    )


@login_required
def deal_create(request, pk: int):
    _require(request, Deal, "add")
    pipeline = _pipeline(pk)
    initial = {"responsible": request.user.pk, "stage": request.GET.get("stage") or None}
    form = DealForm(request.POST or None, request.FILES or None, pipeline=pipeline, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            deal = services.deal_create(actor=request.user, pipeline=pipeline, stage=form.cleaned_data.get("stage"), **data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Deal %(number)s created.") % {"number": deal.number})
            return redirect(_deal_url(deal))
    return _deal_form_page(request, form, pipeline, None)


@login_required
def deal_edit(request, pk: int):
    _require(request, Deal, "change")
    deal = _deal(request, pk)
    form = DealForm(request.POST or None, request.FILES or None, pipeline=deal.pipeline, instance=deal)
    if request.method == "POST" and form.is_valid():
        try:
            services.deal_update(actor=request.user, deal=deal, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Deal %(number)s saved.") % {"number": deal.number})
            return redirect(request.GET.get("next") or _deal_url(deal))
    return _deal_form_page(request, form, deal.pipeline, deal)


@login_required
@require_POST
def deal_validate_new(request, pk: int):
    _require(request, Deal, "add")
    pipeline = _pipeline(pk)
    form = DealForm(request.POST, pipeline=pipeline)
    return validate_field_response(
        request, form, validate=lambda valid: services.deal_validate(pipeline=pipeline, data=valid.service_data(), actor=request.user)
    )


@login_required
@require_POST
def deal_validate(request, pk: int):
    _require(request, Deal, "change")
    deal = _deal(request, pk)
    form = DealForm(request.POST, pipeline=deal.pipeline, instance=deal)
    return validate_field_response(
        request, form, validate=lambda valid: services.deal_validate(pipeline=deal.pipeline, data=valid.service_data(), actor=request.user, existing=deal)
    )


@login_required
def deal_delete(request, pk: int):
    _require(request, Deal, "delete")
    deal = _deal(request, pk)
    error = ""
    if request.method == "POST":
        try:
            services.deal_delete(actor=request.user, deal=deal)
        except DomainError as refused:
            error = refused.message
        else:
            messages.success(request, _("Deal %(number)s deleted.") % {"number": deal.number})
            return redirect("crm:kanban", pk=deal.pipeline_id)
    return render(request, "core/ui/confirm_delete.html", {"object": deal, "error": error, "cancel_url": _deal_url(deal)})


# --- funnel report --------------------------------------------------------------------------------------------


@login_required
def funnel(request, pk: int):
    _require(request, Deal, "view")
    pipeline = _pipeline(pk)
    errors: dict[str, list[str]] = {}
    try:
        values = parse_funnel_params(request.GET)
        report = funnel_report(actor=request.user, pipeline=pipeline, **values)
    except ValidationError as invalid:
        errors = invalid.field_errors()
        report = funnel_report(actor=request.user, pipeline=pipeline)
    return render(
        request,
        "crm/pipelines/funnel.html",
        {
            "pipeline": pipeline,
            "pipelines": selectors.pipeline_list(),
            "report": report,
            "errors": errors,
            "params": request.GET,
            "responsible_choices": selectors.responsible_choices(),
        },
        status=200 if not errors else 400,
    )
