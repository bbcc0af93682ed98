"""Ledger pages: the chart of accounts (list, card with a statement, create, edit, delete), the journal (list with
filters and export, entry card with its source document), manual entries with reversal, and the trial balance with
XLSX export and the reconciliation warning. Views are thin: the services write, the selectors read."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.core import audit
from fabrika.core.errors import DomainError, NotFound
from fabrika.core.models.audit import AuditAction
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.models import Counterparty

from . import selectors, services
from .checks import reconciliation_differences
from .forms import AccountForm, ManualEntryForm, ManualLineFormSet, PeriodForm, ReverseForm
from .models import Account, AccountKind, JournalEntry, JournalLine

ZERO = Decimal(0)


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def amount(value) -> str:
    if value in (None, ""):
        return ""
    return formats.number_format(value, 2, use_l10n=True, force_grouping=True)


def _short_date(value: dt.date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def _month_start(today: dt.date) -> dt.date:
    return today.replace(day=1)


def _period(request) -> tuple[PeriodForm, dt.date, dt.date]:
    """The period from ?date_from=&date_to= (this month by default); invalid input shows on the form."""
    today = timezone.localdate()
    data = {"date_from": request.GET.get("date_from") or _month_start(today).isoformat(), "date_to": request.GET.get("date_to") or today.isoformat()}
    form = PeriodForm(data)
    if form.is_valid():
        return form, form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    return form, _month_start(today), today


# ----------------------------------------------------------------------------------------------- accounts


def _account_url(account: Account) -> str:
    return reverse("ledger:account_detail", args=[account.pk])


ACCOUNT_LIST = ListConfig(
    entity="ledger.account",
    model=Account,
    title=gettext_lazy("Chart of accounts"),
    queryset=lambda actor: selectors.account_list().annotate(used=Exists(JournalLine.objects.filter(account=OuterRef("pk")))),
    url_name="ledger:account_list",
    create_url_name="ledger:account_create",
    detail_url=_account_url,
    columns=(
        Column("code", gettext_lazy("Code"), sort="code", link=True),
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("kind", gettext_lazy("Kind"), value=lambda a: a.get_kind_display(), sort="kind"),
        Column("tracks_counterparty", gettext_lazy("Per counterparty"), value=lambda a: _("Yes") if a.tracks_counterparty else "", export=lambda a: a.tracks_counterparty),
        Column("standard", gettext_lazy("Standard"), value=lambda a: _("Yes") if a.key else "", export=lambda a: a.key or ""),
        Column("is_active", gettext_lazy("Active"), value=lambda a: _("Yes") if a.is_active else _("No"), export=lambda a: a.is_active, sort="is_active"),
        Column("used", gettext_lazy("Has entries"), value=lambda a: _("Yes") if a.used else "", export=lambda a: a.used),
    ),
    default_columns=("code", "name", "kind", "tracks_counterparty", "standard", "is_active"),
    default_sort="code",
    search_fields=("code", "name"),
    filters=(
        Filter("kind", gettext_lazy("Kind"), lookup="kind", choices=AccountKind.choices),
        Filter("active", gettext_lazy("Active"), lookup="is_active", kind="boolean"),
        Filter("per_counterparty", gettext_lazy("Per counterparty"), lookup="tracks_counterparty", kind="boolean"),
    ),
)


@login_required
def account_list(request):
    _require(request, Account, "view")
    return list_view(request, ACCOUNT_LIST, template="ledger/account_list.html")


def _account(pk: int) -> Account:
    try:
        return selectors.account_get(pk)
    except NotFound:
        raise Http404 from None


def _account_form_page(request, form: AccountForm, account: Account | None):
    return render(request, "core/ui/form.html", {
        "form": form,
        "form_title": _("Edit account %(code)s") % {"code": account.code} if account else _("New account"),
        "cancel_url": _account_url(account) if account else reverse("ledger:account_list"),
    })


@login_required
def account_create(request):
    _require(request, Account, "add")
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Account %(account)s created.") % {"account": account})
            return redirect(_account_url(account))
    return _account_form_page(request, form, None)


@login_required
def account_edit(request, pk: int):
    _require(request, Account, "change")
    account = _account(pk)
    form = AccountForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if not form.fields[name].disabled}
        try:
            account = services.account_update(actor=request.user, account_id=account.pk, data=data)
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Account %(account)s saved.") % {"account": account})
            return redirect(_account_url(account))
    return _account_form_page(request, form, account)


@login_required
def account_delete(request, pk: int):
    _require(request, Account, "delete")
    account = _account(pk)
    if request.method != "POST":
        return redirect(_account_url(account))
    try:
        services.account_delete(actor=request.user, account_id=account.pk)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(_account_url(account))
    messages.success(request, _("Account %(account)s deleted.") % {"account": account})
    return redirect("ledger:account_list")


@login_required
def account_detail(request, pk: int):
    _require(request, Account, "view")
    account = _account(pk)
    period_form, date_from, date_to = _period(request)
    party_id = request.GET.get("counterparty") or ""
    party = Counterparty.objects.filter(pk=party_id).first() if party_id.isdigit() and account.tracks_counterparty else None
    statement = selectors.account_statement(
        account_id=account.pk, date_from=date_from, date_to=date_to, counterparty_id=party.pk if party else None
    )
    rows = [
        {
            "date": _short_date(row["line"].date), "entry_url": reverse("ledger:entry_detail", args=[row["entry"].pk]),
            "document": row["entry"].source_number or row["entry"].source_type,
            "memo": row["line"].memo or row["entry"].memo,
            "counterparty": row["line"].counterparty.name if row["line"].counterparty else "",
            "debit": amount(row["line"].debit) if row["line"].debit else "",
            "credit": amount(row["line"].credit) if row["line"].credit else "",
            "balance": amount(row["balance"]),
        }
        for row in statement["rows"]
    ]
    used = JournalLine.objects.filter(account=account).exists()
    fields = [
        CardField(_("Code"), account.code),
        CardField(_("Name"), account.name),
        CardField(_("Kind"), account.get_kind_display()),
        CardField(_("Kept per counterparty"), _("Yes") if account.tracks_counterparty else _("No")),
        CardField(_("Standard account"), _("Yes, used by the posting rules") if account.key else _("No")),
        CardField(_("Active"), _("Yes") if account.is_active else _("No")),
        CardField(_("Balance today"), amount(selectors.account_balance(key=account.code))),
    ]
    context = {
        "object": account,
        "card_title": str(account),
        "card_subtitle": account.get_kind_display(),
        "card_fields": fields,
        "back_url": reverse("ledger:account_list"),
        "timeline": record_timeline(account, labels=field_labels(Account, "ledger.account")),
        "period_form": period_form,
        "party": party,
        "statement": statement,
        "opening": amount(statement["opening"]),
        "closing": amount(statement["closing"]),
        "debit_total": amount(statement["debit"]),
        "credit_total": amount(statement["credit"]),
        "rows": rows,
        "can_change": can(request.user, Account, "change"),
        "can_delete": can(request.user, Account, "delete") and not account.key and not used,
    }
    return render(request, "ledger/account_detail.html", context)


# ----------------------------------------------------------------------------------------------- journal


def _entry_url(entry: JournalEntry) -> str:
    return reverse("ledger:entry_detail", args=[entry.pk])


def _account_choices(actor):
    return [(a.pk, str(a)) for a in selectors.account_list()]


def _source_type_choices(actor):
    return [(value, _source_label(value)) for value in selectors.source_types()]


def _source_label(source_type: str) -> str:
    from django.apps import apps

    if source_type == services.MANUAL_SOURCE:
        return _("Manual entry")
    try:
        return str(apps.get_model(source_type)._meta.verbose_name).capitalize()
    except (LookupError, ValueError):
        return source_type


def _counterparty_filter(queryset, value: str):
    return queryset.filter(pk__in=JournalLine.objects.filter(counterparty_id=value).values("entry_id"))


def _account_filter(queryset, value: str):
    return queryset.filter(pk__in=JournalLine.objects.filter(account_id=value).values("entry_id"))


def _counterparty_choices(actor):
    ids = JournalLine.objects.filter(counterparty__isnull=False).order_by().values("counterparty_id")
    from fabrika.core.permissions import scoped

    return [(c.pk, c.name) for c in scoped(Counterparty.objects.filter(pk__in=ids), actor).order_by("name")]


ENTRY_LIST = ListConfig(
    entity="ledger.journalentry",
    model=JournalEntry,
    title=gettext_lazy("Journal"),
    queryset=lambda actor: selectors.entry_list(),
    url_name="ledger:entry_list",
    create_url_name="ledger:entry_create",
    detail_url=_entry_url,
    columns=(
        Column("date", gettext_lazy("Date"), value=lambda e: _short_date(e.date), export=lambda e: e.date, sort="date", link=True),
        Column("source_number", gettext_lazy("Document"), value=lambda e: e.source_number or "—", sort="source_number", link=True),
        Column("source_type", gettext_lazy("Source"), value=lambda e: _source_label(e.source_type), sort="source_type"),
        Column("memo", gettext_lazy("Memo"), sort="memo"),
        Column("total", gettext_lazy("Amount"), value=lambda e: amount(e.total), export=lambda e: e.total, sort="total"),
        Column("reverses", gettext_lazy("Reverses"), value=lambda e: str(e.reverses.source_number or e.reverses_id) if e.reverses_id else ""),
        Column("author", gettext_lazy("Author"), value=lambda e: str(e.author), sort="author__username"),
    ),
    default_columns=("date", "source_number", "source_type", "memo", "total"),
    default_sort="-date",
    search_fields=("source_number", "memo"),
    filters=(
        Filter("date", gettext_lazy("Date"), lookup="date", kind="date_range"),
        Filter("account", gettext_lazy("Account"), lookup="", apply=_account_filter, choices=_account_choices),
        Filter("counterparty", gettext_lazy("Counterparty"), lookup="", apply=_counterparty_filter, choices=_counterparty_choices),
        Filter("source", gettext_lazy("Source"), lookup="source_type", choices=_source_type_choices),
    ),
)


@login_required
def entry_list(request):
    _require(request, JournalEntry, "view")
    return list_view(request, ENTRY_LIST, template="ledger/entry_list.html", context={
        "can_view_accounts": can(request.user, Account, "view"),
    })


def _entry(pk: int) -> JournalEntry:
    try:
        return selectors.entry_get(pk)
    except NotFound:
        raise Http404 from None


@login_required
def entry_detail(request, pk: int):
    _require(request, JournalEntry, "view")
    entry = _entry(pk)
    document, document_url = selectors.source_document(entry)
    lines = list(entry.lines.all())
    reversals = list(entry.reversals.all())
    fields = [
        CardField(_("Date"), _short_date(entry.date)),
        CardField(_("Source"), _source_label(entry.source_type)),
        CardField(_("Document"), entry.source_number or str(document or "—"), url=document_url),
        CardField(_("Memo"), entry.memo or "—"),
        CardField(_("Amount"), amount(entry.total)),
        CardField(_("Author"), str(entry.author)),
        CardField(_("Created"), formats.date_format(timezone.localtime(entry.created_at), "SHORT_DATETIME_FORMAT")),
    ]
    if entry.reverses_id:
        fields.append(CardField(_("Reverses"), str(entry.reverses), url=_entry_url(entry.reverses)))
    related = [RelatedList(
        title=_("Reversals"), headers=[_("Date"), _("Document"), _("Amount")],
        rows=[RelatedRow(cells=[_short_date(r.date), r.source_number, amount(r.total)], url=_entry_url(r)) for r in reversals],
        empty_text=_("Not reversed."),
    )] if reversals or entry.source_type == services.MANUAL_SOURCE else []
    can_reverse = (
        can(request.user, JournalEntry, "add") and entry.source_type == services.MANUAL_SOURCE
        and not entry.reverses_id and not reversals
    )
    reverse_form = ReverseForm(request.POST or None, initial={"date": timezone.localdate()}) if can_reverse else None
    if request.method == "POST":
        _require(request, JournalEntry, "add")
        if reverse_form is None:
            messages.error(request, _("This entry cannot be reversed here."))
            return redirect(_entry_url(entry))
        if reverse_form.is_valid():
            try:
                reversal = services.manual_entry_reverse(actor=request.user, entry_id=entry.pk, date=reverse_form.cleaned_data["date"])
            except DomainError as error:
                apply_errors(reverse_form, error)
            else:
                messages.success(request, _("Entry %(number)s reversed.") % {"number": entry.source_number})
                return redirect(_entry_url(reversal))
    context = {
        "object": entry,
        "card_title": _("Journal entry %(number)s") % {"number": entry.source_number or entry.pk},
        "card_subtitle": _short_date(entry.date),
        "card_fields": fields,
        "related_lists": related,
        "back_url": reverse("ledger:entry_list"),
        "timeline": record_timeline(entry, labels=field_labels(JournalEntry, "ledger.journalentry")),
        "lines": [
            {
                "account": line.account, "account_url": _account_url(line.account),
                "counterparty": line.counterparty.name if line.counterparty else "",
                "debit": amount(line.debit) if line.debit else "", "credit": amount(line.credit) if line.credit else "",
                "memo": line.memo,
            }
            for line in lines
        ],
        "debit_total": amount(sum((line.debit for line in lines), ZERO)),
        "credit_total": amount(sum((line.credit for line in lines), ZERO)),
        "reverse_form": reverse_form,
    }
    return render(request, "ledger/entry_detail.html", context)


def _line_error_key(key: str) -> tuple[int, str] | None:
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


@login_required
def entry_create(request):
    _require(request, JournalEntry, "add")
    form = ManualEntryForm(request.POST or None, initial={"date": timezone.localdate()})
    formset = ManualLineFormSet(request.POST or None, prefix="lines", form_kwargs={"actor": request.user})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = [
            {
                "account": line["account"].code if line.get("account") else "",  # codes are unique; the service reads codes first
                "debit": line.get("debit"), "credit": line.get("credit"),
                "counterparty": line["counterparty"].pk if line.get("counterparty") else None, "memo": line.get("memo") or "",
            }
            for line in formset.cleaned_data
        ]
        try:
            entry = services.manual_entry_create(
                actor=request.user, date=form.cleaned_data["date"], memo=form.cleaned_data["memo"], lines=lines
            )
        except DomainError as error:
            for key, errors in error.field_errors().items():
                place = _line_error_key(key)
                for message in errors:
                    if place is not None and place[0] < len(formset.forms):
                        line_form = formset.forms[place[0]]
                        line_form.add_error(place[1] if place[1] in line_form.fields else None, message)
                    elif key in form.fields:
                        form.add_error(key, message)
                    else:
                        form.add_error(None, message)
            if not error.field_errors():
                form.add_error(None, error.message)
        else:
            messages.success(request, _("Entry %(number)s posted.") % {"number": entry.source_number})
            return redirect(_entry_url(entry))
    return render(request, "ledger/entry_form.html", {"form": form, "formset": formset})


# ----------------------------------------------------------------------------------------------- trial balance


def _trial_balance_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Trial balance"))[:31]
    sheet.append([str(_("Trial balance"))])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"{report['date_from'].isoformat()} – {report['date_to'].isoformat()}"])
    headers = [_("Code"), _("Account"), _("Opening debit"), _("Opening credit"), _("Debit"), _("Credit"), _("Closing debit"), _("Closing credit")]
    sheet.append([str(header) for header in headers])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    keys = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit", "closing_credit")
    for row in report["rows"]:
        sheet.append([row["account"].code, row["account"].name, *(row[key] for key in keys)])
        for cell in sheet[sheet.max_row][:2]:
            cell.data_type = "s"
    sheet.append(["", str(_("Total")), *(report["totals"][key] for key in keys)])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=4, min_col=3, max_col=8):
        for cell in row:
            cell.number_format = "#,##0.00"
    sheet.column_dimensions["A"].width = 10
    sheet.column_dimensions["B"].width = 36
    for letter in "CDEFGH":
        sheet.column_dimensions[letter].width = 15
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@login_required
def trial_balance(request):
    _require(request, Account, "view")
    period_form, date_from, date_to = _period(request)
    report = selectors.trial_balance(date_from=date_from, date_to=date_to)
    if request.GET.get("export") == "xlsx" and period_form.is_valid():
        body = _trial_balance_xlsx(report)
        audit.record(
            actor=request.user, action=AuditAction.EXPORT, message=f"ledger.trial_balance {date_from}–{date_to}: {len(report['rows'])} rows to XLSX",
            changes={"report": "ledger.trial_balance", "format": "xlsx", "rows": len(report["rows"]), "date_from": date_from, "date_to": date_to},
        )
        response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="trial-balance-{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"'
        return response
    keys = ("opening_debit", "opening_credit", "debit", "credit", "closing_debit", "closing_credit")
    warnings = [
        {"label": check.label, "difference": amount(difference)}
        for check, difference in reconciliation_differences()
        if difference
    ]
    context = {
        "period_form": period_form,
        "date_from": date_from,
        "date_to": date_to,
        "rows": [
            {"account": row["account"], "url": _account_url(row["account"]) + f"?date_from={date_from}&date_to={date_to}",
             "cells": [amount(row[key]) if row[key] else "" for key in keys]}
            for row in report["rows"]
        ],
        "totals": [amount(report["totals"][key]) for key in keys],
        "balanced": all(report["totals"][a] == report["totals"][b] for a, b in (("opening_debit", "opening_credit"), ("debit", "credit"), ("closing_debit", "closing_credit"))),
        "warnings": warnings,
        "export_query": f"date_from={date_from}&date_to={date_to}&export=xlsx",
    }
    return render(request, "ledger/trial_balance.html", context)
