"""Activity pages: my tasks, the activity card with its checklist, the form, the calendar and the iCal feed."""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.permissions import can
from fabrika.core.statuses import company_time_zone, company_today
from fabrika.core.ui.cards import CardField, display, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors, validate_field_response
from fabrika.parties.selectors import counterparty_get_for_user

from . import ical, selectors_activities, services_activities
from .forms_activities import ActivityForm
from .models import Activity, ActivityPriority
from .selectors_leads import lead_get_for_user


def _require(request, action: str) -> None:
    if not can(request.user, Activity, action):
        raise DjangoPermissionDenied


def _get(request, pk: int) -> Activity:
    try:
        return selectors_activities.activity_get_for_user(request.user, pk)
    except NotFound:
        raise Http404


def _errors_text(error: DomainError) -> str:
    return "; ".join(m for ms in error.field_errors().values() for m in ms) or error.message


@login_required
def task_list(request):
    _require(request, "view")
    when = request.GET.get("when", "open")
    when = when if when in selectors_activities.TASK_FILTERS else "open"
    priority = request.GET.get("priority", "")
    priority = priority if priority in ActivityPriority.values else ""
    tasks = list(selectors_activities.my_tasks(request.user, when=when, priority=priority)[:500])
    now = timezone.now()
    context = {
        "tasks": tasks,
        "when": when,
        "priority": priority,
        "now": now,
        "filters": [("overdue", _("Overdue")), ("today", _("Today")), ("week", _("This week")), ("open", _("All open")), ("done", _("Done"))],
        "priorities": ActivityPriority.choices,
    }
    return render(request, "crm/activities/task_list.html", context)


def _link_initial(request) -> dict:
    """Links for a new activity from the card it was started on (?counterparty=, ?lead=, ?deal=), scope-checked."""
    links: dict = {}
    try:
        if request.GET.get("counterparty"):
            links["counterparty"] = counterparty_get_for_user(request.user, request.GET["counterparty"])
        if request.GET.get("lead"):
            links["lead"] = lead_get_for_user(request.user, request.GET["lead"])
        if request.GET.get("deal"):
            from .selectors_pipelines import deal_get_for_user

            links["deal"] = deal_get_for_user(request.user, request.GET["deal"])
    except NotFound:
        raise Http404
    return links


def _form_page(request, form, instance: Activity | None, links: dict):
    context = {
        "form": form,
        "object": instance,
        "links": links,
        "form_title": str(instance) if instance else _("New activity"),
        "validate_url": reverse("crm:activity_validate", args=[instance.pk]) if instance else reverse("crm:activity_validate_new"),
        "cancel_url": instance.get_absolute_url() if instance else reverse("crm:task_list"),
    }
    return render(request, "crm/activities/activity_form.html", context, status=400 if form.is_bound and form.errors else 200)


@login_required
def activity_create(request):
    _require(request, "add")
    links = _link_initial(request)
    form = ActivityForm(request.POST or None, initial={"responsible": request.user, "kind": request.GET.get("kind", "task")})
    if request.method == "POST" and form.is_valid():
        try:
            activity = services_activities.activity_create(actor=request.user, data={**form.service_data(), **links}, checklist=form.checklist_items())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Activity “%(subject)s” created.") % {"subject": activity.subject})
            return redirect(activity.get_absolute_url())
    return _form_page(request, form, None, links)


@login_required
def activity_edit(request, pk: int):
    _require(request, "change")
    activity = _get(request, pk)
    form = ActivityForm(request.POST or None, instance=activity)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services_activities.activity_update(actor=request.user, activity=activity, data=form.service_data())
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Activity “%(subject)s” saved.") % {"subject": activity.subject})
            return redirect(activity.get_absolute_url())
    return _form_page(request, form, activity, {})


@login_required
@require_POST
def activity_validate(request, pk: int | None = None):
    _require(request, "change" if pk else "add")
    instance = _get(request, pk) if pk else None
    form = ActivityForm(request.POST, instance=instance)
    return validate_field_response(request, form, validate=lambda valid: services_activities.activity_validate(data=valid.service_data(), existing=instance))


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else display(None)


@login_required
def activity_detail(request, pk: int):
    _require(request, "view")
    activity = _get(request, pk)
    fields = [
        CardField(_("Kind"), activity.get_kind_display()),
        CardField(_("Status"), activity.get_status_display()),
        CardField(_("Priority"), activity.get_priority_display()),
        CardField(_("Assignee"), str(activity.responsible)),
        CardField(_("Author"), str(activity.author)),
        CardField(_("Starts"), _when(activity.starts_at)),
        CardField(_("Ends"), _when(activity.ends_at)),
        CardField(_("Due"), _when(activity.due_at)),
        CardField(_("Description"), display(activity.body)),
    ]
    if activity.counterparty_id:
        fields.append(CardField(_("Counterparty"), str(activity.counterparty), url=reverse("parties:counterparty_detail", args=[activity.counterparty_id])))
    if activity.contact_id:
        fields.append(CardField(_("Contact"), str(activity.contact)))
    if activity.lead_id:
        fields.append(CardField(_("Lead"), str(activity.lead), url=activity.lead.get_absolute_url()))
    if activity.deal_id:
        fields.append(CardField(_("Deal"), str(activity.deal)))
    context = {
        "object": activity,
        "card_title": activity.subject,
        "card_subtitle": f"{activity.get_kind_display()} · {activity.get_status_display()}",
        "card_fields": fields,
        "related_lists": [],
        "timeline": record_timeline(activity, labels=field_labels(Activity, "crm.activity")),
        "back_url": reverse("crm:task_list"),
        "checklist": list(activity.checklist.all()),
        "can_change": can(request.user, Activity, "change"),
    }
    return render(request, "crm/activities/activity_detail.html", context)


@login_required
@require_POST
def activity_action(request, pk: int, action: str):
    _require(request, "change")
    activity = _get(request, pk)
    run = {"close": services_activities.task_close, "cancel": services_activities.activity_cancel, "reopen": services_activities.activity_reopen}.get(action)
    if run is None:
        raise Http404
    try:
        if action == "close":
            run(actor=request.user, task=activity)
        else:
            run(actor=request.user, activity=activity)
    except DomainError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, _("Activity updated."))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/crm/") else activity.get_absolute_url())


@login_required
@require_POST
def checklist_add(request, pk: int):
    _require(request, "change")
    activity = _get(request, pk)
    try:
        services_activities.checklist_item_add(actor=request.user, activity=activity, text=request.POST.get("text", ""))
    except DomainError as error:
        messages.error(request, _errors_text(error))
    return redirect(activity.get_absolute_url())


@login_required
@require_POST
def checklist_toggle(request, item_pk: int):
    _require(request, "change")
    try:
        item = selectors_activities.checklist_item_get_for_user(request.user, item_pk)
    except NotFound:
        raise Http404
    item = services_activities.checklist_item_set_done(actor=request.user, item=item, done=request.POST.get("done") in {"on", "1", "true"})
    if request.htmx:
        return render(request, "crm/activities/_checklist_item.html", {"item": item, "can_change": True})
    return redirect(item.activity.get_absolute_url())


# --- calendar and iCal ----------------------------------------------------------------------------------------


def _month(value: str, today: dt.date) -> dt.date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        return today.replace(day=1)


@login_required
def calendar_view(request):
    _require(request, "view")
    zone = company_time_zone()
    today = company_today()
    first = _month(request.GET.get("month", ""), today)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start = dt.datetime.combine(weeks[0][0], dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(weeks[-1][-1] + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    by_day: dict[dt.date, list[Activity]] = {}
    for item in selectors_activities.calendar_items(request.user, start=start, end=end):
        moment = timezone.localtime(item.starts_at or item.due_at, zone)
        by_day.setdefault(moment.date(), []).append(item)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    feed = services_activities.calendar_feed_for(user=request.user)
    context = {
        "month": first,
        "weeks": [[{"date": day, "items": by_day.get(day, []), "other": day.month != first.month, "today": day == today} for day in week] for week in weeks],
        "previous": f"{previous:%Y-%m}",
        "following": f"{following:%Y-%m}",
        "feed_url": request.build_absolute_uri(reverse("crm:ical_feed", args=[feed.token])),
    }
    return render(request, "crm/activities/calendar.html", context)


@login_required
@require_POST
def ical_regenerate(request):
    services_activities.calendar_feed_regenerate(actor=request.user)
    messages.success(request, _("A new calendar address was made; the old one no longer works."))
    return redirect("crm:calendar")


def ical_feed(request, token: str):
    """The secret-address iCal feed: no login (calendar apps cannot log in); the token is the credential."""
    try:
        feed = selectors_activities.calendar_feed_by_token(token)
    except NotFound:
        raise Http404
    now = timezone.now()
    items = selectors_activities.feed_items(feed.user, since=now - dt.timedelta(days=90))
    body = ical.calendar(items, name=_("Fabrika: %(user)s") % {"user": feed.user.get_username()}, host=request.get_host().split(":")[0], stamp=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
