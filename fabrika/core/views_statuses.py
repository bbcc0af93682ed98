"""Pages and htmx partials: the status catalogue (admin), statuses and attachments on a record's card, my
reminders, the department's reminders, and notifications (the bell)."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import attachments, notifications, statuses
from .errors import DomainError, NotFound, ValidationError
from .models.attachments import Attachment
from .models.statuses import RecordStatus, StatusDefinition, StatusKind
from .permissions import can
from .records import entity_of, record_for_user, record_url

NOTIFICATIONS_PER_PAGE = 100


def entity_choices() -> list[tuple[str, str]]:
    """Record types of Fabrika's own apps, for the catalogue's select."""
    choices = []
    for model in apps.get_models():
        if not model.__module__.startswith("fabrika."):
            continue
        entity = entity_of(model)
        choices.append((entity, f"{str(model._meta.verbose_name).capitalize()} ({entity})"))
    return sorted(choices, key=lambda choice: choice[1])


class StatusDefinitionForm(forms.Form):
    """Only shapes the input: the service checks it, so the API and the page give the same messages."""

    entity = forms.ChoiceField(label=gettext_lazy("Record type"), required=False)
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=StatusKind.choices,
        required=False,
        help_text=gettext_lazy(
            "A reminder notifies the record's responsible user from its date until another status replaces it."
        ),
    )
    colour = forms.CharField(
        label=gettext_lazy("Colour"), required=False, widget=forms.TextInput(attrs={"type": "color"})
    )
    order = forms.CharField(
        label=gettext_lazy("Order"), required=False, widget=forms.NumberInput(attrs={"min": 0})
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [("", "—"), *entity_choices()]


class RecordStatusForm(forms.Form):
    definition_id = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    effective_from = forms.CharField(
        label=gettext_lazy("Effective from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, entity: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["definition_id"].choices = [("", "—")] + [
            (str(definition.pk), definition.name) for definition in statuses.status_definitions_for(entity)
        ]


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"), required=False)


def _show_errors(form: forms.Form, error: DomainError) -> None:
    for field, field_messages in error.field_errors().items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors():
        form.add_error(None, error.message)


def _record(request: HttpRequest, entity: str, object_id: str) -> Model:
    try:
        return record_for_user(request.user, entity, object_id)
    except (NotFound, ValidationError):
        raise Http404


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


# --- status catalogue (admin) ---------------------------------------------------------------------------------


def _require(request: HttpRequest, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


@login_required
def status_definition_list(request):
    _require(request, StatusDefinition, "view")
    entity = request.GET.get("entity", "")
    labels = dict(entity_choices())
    rows = [
        {"definition": definition, "entity_label": labels.get(definition.entity, definition.entity)}
        for definition in statuses.status_definition_list(entity=entity)
    ]
    return render(
        request,
        "core/statuses/definition_list.html",
        {
            "rows": rows,
            "entity": entity,
            "entities": entity_choices(),
            "can_add": can(request.user, StatusDefinition, "add"),
            "can_change": can(request.user, StatusDefinition, "change"),
        },
    )


@login_required
def status_definition_create(request):
    _require(request, StatusDefinition, "add")
    initial = {
        "entity": request.GET.get("entity", ""),
        "kind": StatusKind.INFO,
        "colour": statuses.DEFAULT_COLOUR,
        "order": 0,
    }
    form = StatusDefinitionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            definition = statuses.status_definition_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Status “%(name)s” created.") % {"name": definition.name})
            return redirect(f"{reverse('core:status_definition_list')}?entity={definition.entity}")
    return render(request, "core/statuses/definition_form.html", {"form": form, "title": _("New status")})


@login_required
def status_definition_edit(request, definition_id: int):
    _require(request, StatusDefinition, "change")
    try:
        definition = statuses.status_definition_get(definition_id)
    except NotFound:
        raise Http404
    initial = {
        "entity": definition.entity,
        "name": definition.name,
        "kind": definition.kind,
        "colour": definition.colour,
        "order": definition.order,
        "active": definition.active,
    }
    form = StatusDefinitionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            statuses.status_definition_update(
                actor=request.user, definition_id=definition.pk, data=form.cleaned_data
            )
        except DomainError as error:
            _show_errors(form, error)
        else:
            messages.success(request, _("Status “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect(f"{reverse('core:status_definition_list')}?entity={definition.entity}")
    return render(
        request,
        "core/statuses/definition_form.html",
        {
            "form": form,
            "object": definition,
            "title": _("Edit status"),
            "can_delete": can(request.user, StatusDefinition, "delete"),
        },
    )


@login_required
@require_POST
def status_definition_delete(request, definition_id: int):
    _require(request, StatusDefinition, "delete")
    try:
        definition = statuses.status_definition_get(definition_id)
    except NotFound:
        raise Http404
    try:
        statuses.status_definition_delete(actor=request.user, definition_id=definition.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("core:status_definition_edit", definition_id=definition.pk)
    messages.success(request, _("Status “%(name)s” deleted.") % {"name": definition.name})
    return redirect(f"{reverse('core:status_definition_list')}?entity={definition.entity}")


# --- statuses on a record's card ------------------------------------------------------------------------------


def statuses_panel(
    request: HttpRequest, record: Model, *, form: RecordStatusForm | None = None
) -> SafeString:
    """The card's statuses section: current status, history and (with the permission) the form to set one."""
    entity = entity_of(record)
    can_set = can(request.user, RecordStatus, "add")
    if form is None and can_set:
        form = RecordStatusForm(
            entity=entity, initial={"effective_from": statuses.company_today().isoformat()}
        )
    history = list(statuses.record_status_history(record))
    today = statuses.company_today()
    current = next((item for item in history if item.effective_from <= today), None)
    context = {
        "object": record,
        "entity": entity,
        "history": history,
        "current": current,
        "form": form if can_set else None,
        "has_definitions": statuses.status_definitions_for(entity).exists(),
        "action_url": reverse("core:record_statuses", kwargs={"entity": entity, "object_id": record.pk}),
        "REMIND": StatusKind.REMIND,
    }
    return render_to_string("core/statuses/_statuses_panel.html", context, request=request)


@login_required
@require_http_methods(["GET", "POST"])
def record_statuses(request, entity: str, object_id: str):
    record = _record(request, entity, object_id)
    form = None
    if request.method == "POST":
        _require(request, RecordStatus, "add")
        form = RecordStatusForm(request.POST, entity=entity_of(record))
        form.is_valid()
        try:
            statuses.record_status_set(
                actor=request.user,
                record=record,
                definition_id=request.POST.get("definition_id"),
                effective_from=request.POST.get("effective_from"),
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            _show_errors(form, error)
        else:
            form = None
            if not request.htmx:
                messages.success(request, _("Status set."))
                return redirect(_safe_next(request, record_url(record) or reverse("core:reminders_mine")))
        if form is not None and not request.htmx:
            return render(
                request,
                "core/statuses/record_page.html",
                {"object": record, "panel": statuses_panel(request, record, form=form)},
            )
    panel = statuses_panel(request, record, form=form)
    if request.htmx:
        return HttpResponse(panel)
    return render(request, "core/statuses/record_page.html", {"object": record, "panel": panel})


# --- attachments on a record's card ---------------------------------------------------------------------------


def _may_attach(request: HttpRequest, record: Model, action: str) -> bool:
    return can(request.user, type(record), "change") or can(request.user, Attachment, action)


def attachments_panel(
    request: HttpRequest, record: Model, *, form: AttachmentForm | None = None
) -> SafeString:
    entity = entity_of(record)
    may_add = _may_attach(request, record, "add")
    context = {
        "object": record,
        "entity": entity,
        "items": list(attachments.attachments_for_record(record)),
        "form": (form or AttachmentForm()) if may_add else None,
        "may_delete": _may_attach(request, record, "delete"),
        "action_url": reverse("core:record_attachments", kwargs={"entity": entity, "object_id": record.pk}),
        "max_size": attachments.human_size(attachments.max_bytes()),
        "extensions": ", ".join(attachments.allowed_extensions()),
        "accept": ",".join(f".{extension}" for extension in attachments.allowed_extensions()),
    }
    return render_to_string("core/statuses/_attachments_panel.html", context, request=request)


@login_required
@require_http_methods(["GET", "POST"])
def record_attachments(request, entity: str, object_id: str):
    record = _record(request, entity, object_id)
    form = None
    if request.method == "POST":
        if not _may_attach(request, record, "add"):
            raise DjangoPermissionDenied
        form = AttachmentForm(request.POST, request.FILES)
        form.is_valid()
        try:
            attachments.attachment_upload(actor=request.user, record=record, upload=request.FILES.get("file"))
        except DomainError as error:
            _show_errors(form, error)
        else:
            form = None
            if not request.htmx:
                messages.success(request, _("File attached."))
                return redirect(_safe_next(request, record_url(record) or reverse("core:home")))
        if form is not None and not request.htmx:
            return render(
                request,
                "core/statuses/record_page.html",
                {"object": record, "panel": attachments_panel(request, record, form=form)},
            )
    panel = attachments_panel(request, record, form=form)
    if request.htmx:
        return HttpResponse(panel)
    return render(request, "core/statuses/record_page.html", {"object": record, "panel": panel})


@login_required
def attachment_download(request, attachment_id: int):
    try:
        attachment, _record_ = attachments.attachment_get_for_user(request.user, attachment_id)
    except NotFound:
        raise Http404
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.mime_type or None,
    )


@login_required
@require_POST
def attachment_delete(request, attachment_id: int):
    try:
        attachment, record = attachments.attachment_get_for_user(request.user, attachment_id)
    except NotFound:
        raise Http404
    if not _may_attach(request, record, "delete"):
        raise DjangoPermissionDenied
    attachments.attachment_delete(actor=request.user, attachment=attachment, record=record)
    if request.htmx:
        return HttpResponse(attachments_panel(request, record))
    messages.success(request, _("Attachment %(name)s deleted.") % {"name": attachment.original_name})
    return redirect(_safe_next(request, record_url(record) or reverse("core:home")))


# --- reminders ------------------------------------------------------------------------------------------------


@login_required
def reminders_mine(request):
    reminders = statuses.reminders_for_user(request.user)
    return render(
        request,
        "core/statuses/reminders.html",
        {
            "reminders": reminders,
            "title": _("My reminders"),
            "show_responsible": False,
            "today": statuses.company_today(),
            "is_head": bool(statuses.headed_department_user_ids(request.user)),
        },
    )


@login_required
def reminders_department(request):
    member_ids = statuses.headed_department_user_ids(request.user)
    reminders = statuses.reminders_for_department(request.user) if member_ids else []
    return render(
        request,
        "core/statuses/reminders.html",
        {
            "reminders": reminders,
            "title": _("Department reminders"),
            "show_responsible": True,
            "today": statuses.company_today(),
            "is_head": bool(member_ids),
            "department_view": True,
        },
    )


# --- notifications --------------------------------------------------------------------------------------------


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    items = list(
        notifications.notifications_for_user(request.user, unread_only=unread_only)[:NOTIFICATIONS_PER_PAGE]
    )
    return render(
        request,
        "core/statuses/notifications.html",
        {"items": items, "unread_only": unread_only, "unread": notifications.unread_count(request.user)},
    )


@never_cache
@login_required
def notification_bell(request):
    """The bell's badge, polled by htmx every 60 seconds."""
    return render(
        request, "core/statuses/_bell_badge.html", {"unread": notifications.unread_count(request.user)}
    )


@login_required
@require_POST
def notification_read(request, notification_id: int):
    """Mark one notification read; "open" also follows its link."""
    try:
        notification = notifications.notification_mark_read(
            actor=request.user, notification_id=notification_id
        )
    except NotFound:
        raise Http404
    if request.POST.get("open") and url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.url)
    return redirect(_safe_next(request, reverse("core:notification_list")))


@login_required
@require_POST
def notification_read_all(request):
    marked = notifications.notification_mark_all_read(actor=request.user)
    messages.success(request, _("%(count)d notification(s) marked read.") % {"count": marked})
    return redirect(_safe_next(request, reverse("core:notification_list")))
