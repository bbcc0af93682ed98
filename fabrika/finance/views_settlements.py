"""Settlement pages: counterparties with balances (UI kit list), a counterparty's settlement card (balance from the
ledger beside the same figure from the documents, ageing, open invoices, payments, credit limit form), the overdue
list and the reconciliation statement (HTML and PDF)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fabrika.core.errors import DomainError, NotFound
from fabrika.core.models import User
from fabrika.core.permissions import can
from fabrika.core.ui.cards import CardField, RelatedList, RelatedRow, field_labels, record_timeline
from fabrika.core.ui.forms import apply_errors
from fabrika.core.ui.lists import Column, Filter, ListConfig
from fabrika.core.ui.views import list_view
from fabrika.parties.models import Counterparty

from . import selectors_payments
from . import selectors_settlements as selectors
from . import services_payments as services
from .forms_payments import CreditLimitForm, PeriodForm
from .models import Invoice, Payment
from .printing_payments import RECONCILIATION_STATEMENT, StatementPeriod, statement_pdf
from .views_payments import amount, invoice_url, payment_url


def _require(request, model, action: str) -> None:
    if not can(request.user, model, action):
        raise DjangoPermissionDenied


def _counterparty(request, pk: int) -> Counterparty:
    try:
        return selectors.settlement_counterparty_for_user(request.user, pk)
    except NotFound:
        raise Http404


def settlement_url(counterparty) -> str:
    return reverse("finance:settlement_detail", args=[counterparty.pk])


def _money_column(key: str, label, *, sort: bool = True) -> Column:
    return Column(key, label, value=lambda c: amount(selectors.money(getattr(c, key) or 0)),
                  export=lambda c: selectors.money(getattr(c, key) or 0), sort=key if sort else "")


def _headroom(counterparty) -> str:
    headroom = selectors.credit_headroom(counterparty, selectors.money(counterparty.balance or 0))
    return "" if headroom is None else amount(headroom)


def _balance_filter(queryset, value: str):
    if value == "owes_us":
        return queryset.filter(balance__gt=0)
    if value == "we_owe":
        return queryset.filter(balance__lt=0)
    if value == "overdue":
        return queryset.filter(overdue_receivable__gt=0)
    if value == "over_limit":
        return queryset.filter(credit_limit__isnull=False, balance__gt=F("credit_limit"))
    return queryset


SETTLEMENT_LIST = ListConfig(
    entity="finance.settlement",
    model=Counterparty,
    title=gettext_lazy("Settlements"),
    queryset=lambda actor: selectors.settlement_list_for_user(actor),
    url_name="finance:settlement_list",
    detail_url=settlement_url,
    columns=(
        Column("name", gettext_lazy("Counterparty"), sort="name", link=True),
        _money_column("balance", gettext_lazy("Balance")),
        _money_column("receivable", gettext_lazy("Receivable")),
        _money_column("advances_received", gettext_lazy("Advances received")),
        _money_column("payable", gettext_lazy("Payable")),
        _money_column("advances_paid", gettext_lazy("Advances paid")),
        _money_column("overdue_receivable", gettext_lazy("Overdue (clients)")),
        _money_column("overdue_payable", gettext_lazy("Overdue (suppliers)")),
        Column("credit_limit", gettext_lazy("Credit limit"), value=lambda c: amount(c.credit_limit), export=lambda c: c.credit_limit,
               sort="credit_limit"),
        Column("headroom", gettext_lazy("Headroom"), value=_headroom),
        Column("responsible", gettext_lazy("Responsible"), value=lambda c: str(c.responsible), sort="responsible__username"),
    ),
    default_columns=("name", "balance", "receivable", "advances_received", "payable", "overdue_receivable", "credit_limit", "headroom"),
    default_sort="name",
    search_fields=("name", "full_name", "tax_id"),
    filters=(
        Filter("balance_state", gettext_lazy("Balance"), lookup="", apply=_balance_filter, choices=(
            ("owes_us", gettext_lazy("They owe us")), ("we_owe", gettext_lazy("We owe them")),
            ("overdue", gettext_lazy("Overdue debt")), ("over_limit", gettext_lazy("Over the credit limit")),
        )),
        Filter("role", gettext_lazy("Role"), lookup="", apply=lambda qs, v: qs.filter(**{f"is_{v}": True}),
               choices=(("client", gettext_lazy("Clients")), ("supplier", gettext_lazy("Suppliers")))),
    ),
)


@login_required
def settlement_list(request):
    _require(request, Payment, "view")
    return list_view(request, SETTLEMENT_LIST, template="finance/settlement_list.html")


def _at(request) -> dt.date:
    raw = (request.GET.get("at") or "").strip()
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def _settlement_context(request, counterparty: Counterparty, *, credit_form: CreditLimitForm | None = None) -> dict:
    at = _at(request)
    parts = selectors.settlement_parts(counterparty_id=counterparty.pk)
    documents = selectors.documents_balance(counterparty_id=counterparty.pk)
    ageing = selectors.ageing(counterparty_id=counterparty.pk, at=at)
    labels = selectors.bucket_labels()
    headroom = selectors.credit_headroom(counterparty, parts.balance)
    ageing_rows = [
        {"title": _("Clients owe us") if direction == "out" else _("We owe suppliers"),
         "cells": [amount(item.buckets[key]) for key in selectors.BUCKETS], "total": amount(item.total),
         "invoices": [{**row, "url": invoice_url(row["invoice"])} for row in item.invoices]}
        for direction, item in ageing.items() if item.total
    ]
    payments = list(selectors_payments.payment_list_for_user(request.user, counterparty_id=counterparty.pk)[:20])
    fields = [
        CardField(_("Balance"), amount(parts.balance) + " · " + (_("they owe us") if parts.balance > 0 else _("we owe them") if parts.balance < 0 else _("settled"))),
        CardField(_("Receivable"), amount(parts.receivable)),
        CardField(_("Advances received"), amount(parts.advances_received)),
        CardField(_("Payable"), amount(parts.payable)),
        CardField(_("Advances paid"), amount(parts.advances_paid)),
        CardField(_("Credit limit"), amount(counterparty.credit_limit) if counterparty.credit_limit is not None else _("no limit")),
        CardField(_("Headroom"), amount(headroom) if headroom is not None else "—"),
        CardField(_("Responsible"), str(counterparty.responsible)),
    ]
    related = [RelatedList(
        title=_("Payments"), headers=[_("Number"), _("Date"), _("Direction"), _("Status"), _("Amount"), _("Advance")],
        rows=[RelatedRow([p.number or _("(draft)"), formats.date_format(p.date, "SHORT_DATE_FORMAT"), p.get_direction_display(),
                          p.get_status_display(), f"{amount(p.amount)} {p.currency}",
                          amount(p.unallocated_amount) if p.status == "posted" else ""], url=payment_url(p)) for p in payments],
        empty_text=_("No payments."),
        more_url=reverse("finance:payment_list") + f"?counterparty={counterparty.pk}",
    )]
    invoices = list(Invoice.objects.filter(counterparty=counterparty).exclude(status="draft").order_by("-date", "-id")[:20])
    related.append(RelatedList(
        title=_("Invoices"), headers=[_("Number"), _("Date"), _("Direction"), _("Status"), _("Total"), _("Open")],
        rows=[RelatedRow([i.number, formats.date_format(i.date, "SHORT_DATE_FORMAT"), i.get_direction_display(), i.get_status_display(),
                          f"{amount(i.total)} {i.currency}", amount(i.open_amount) if i.status == "posted" else ""], url=invoice_url(i))
              for i in invoices],
        empty_text=_("No invoices."),
    ))
    return {
        "object": counterparty,
        "counterparty": counterparty,
        "card_title": _("Settlements with %(name)s") % {"name": counterparty.name},
        "card_fields": fields,
        "related_lists": related,
        "timeline": record_timeline(counterparty, labels=field_labels(Counterparty, "parties.counterparty"), limit=30),
        "back_url": reverse("finance:settlement_list"),
        "at": at,
        "bucket_labels": [labels[key] for key in selectors.BUCKETS],
        "ageing_rows": ageing_rows,
        "documents": documents,
        "documents_rows": [
            (_("Invoices to the client"), amount(documents.invoices_out)), (_("Payments received"), amount(-documents.payments_received)),
            (_("Credit notes to the client"), amount(-documents.credit_notes_out)),
            (_("Supplier invoices"), amount(-documents.invoices_in)), (_("Payments made"), amount(documents.payments_made)),
            (_("Credit notes from the supplier"), amount(documents.credit_notes_in)),
        ] + ([(_("Exchange differences"), amount(documents.exchange_differences))] if documents.exchange_differences else []),
        "documents_balance": amount(documents.balance),
        "ledger_balance": amount(parts.balance),
        "balances_match": documents.balance == parts.balance,
        "can_set_limit": can(request.user, Invoice, "change"),
        "credit_form": credit_form or CreditLimitForm(initial={"credit_limit": counterparty.credit_limit}),
        "can_pay": can(request.user, Payment, "add"),
        "print_code": RECONCILIATION_STATEMENT,
    }


@login_required
def settlement_detail(request, pk: int):
    _require(request, Payment, "view")
    counterparty = _counterparty(request, pk)
    return render(request, "finance/settlement_detail.html", _settlement_context(request, counterparty))


@login_required
@require_POST
def credit_limit_set(request, pk: int):
    _require(request, Invoice, "change")
    counterparty = _counterparty(request, pk)
    form = CreditLimitForm(request.POST)
    if form.is_valid():
        try:
            services.counterparty_credit_limit_set(actor=request.user, counterparty_id=counterparty.pk,
                                                   credit_limit=form.cleaned_data["credit_limit"])
        except DomainError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Credit limit saved."))
            return redirect(settlement_url(counterparty))
    counterparty.refresh_from_db()
    return render(request, "finance/settlement_detail.html", _settlement_context(request, counterparty, credit_form=form), status=422)


# ----------------------------------------------------------------------------------------------- overdue


def _min_days_filter(queryset, value: str):
    today = timezone.localdate()
    return queryset.filter(due_date__lte=today - dt.timedelta(days=int(value)))


def _responsible_choices(actor):
    ids = selectors.overdue_invoices_for_user(actor).order_by().values("responsible_id").distinct()
    return [(user.pk, str(user)) for user in User.objects.filter(pk__in=ids).order_by("username")]


def _client_choices(actor):
    ids = selectors.overdue_invoices_for_user(actor).order_by().values("counterparty_id").distinct()
    return [(party.pk, party.name) for party in Counterparty.objects.filter(pk__in=ids).order_by("name")]


def _days_overdue(invoice) -> int:
    return (timezone.localdate() - invoice.due_date).days


OVERDUE_LIST = ListConfig(
    entity="finance.overdue",
    model=Invoice,
    title=gettext_lazy("Overdue invoices"),
    queryset=lambda actor: selectors.overdue_invoices_for_user(actor),
    url_name="finance:overdue_list",
    detail_url=lambda invoice: invoice_url(invoice) or reverse("finance:settlement_detail", args=[invoice.counterparty_id]),
    columns=(
        Column("number", gettext_lazy("Invoice"), sort="number", link=True),
        Column("counterparty", gettext_lazy("Client"), value=lambda i: i.counterparty.name, sort="counterparty__name"),
        Column("date", gettext_lazy("Date"), value=lambda i: formats.date_format(i.date, "SHORT_DATE_FORMAT"), export=lambda i: i.date, sort="date"),
        Column("due_date", gettext_lazy("Due date"), value=lambda i: formats.date_format(i.due_date, "SHORT_DATE_FORMAT"),
               export=lambda i: i.due_date, sort="due_date"),
        Column("days_overdue", gettext_lazy("Days overdue"), value=_days_overdue),
        Column("total", gettext_lazy("Total"), value=lambda i: amount(i.total), export=lambda i: i.total, sort="total"),
        Column("open", gettext_lazy("Open"), value=lambda i: amount(i.open_amount), export=lambda i: i.open_amount, sort="open"),
        Column("currency", gettext_lazy("Currency"), sort="currency"),
        Column("responsible", gettext_lazy("Responsible"), value=lambda i: str(i.responsible), sort="responsible__username"),
        Column("order", gettext_lazy("Sales order"), value=lambda i: i.order.number if i.order_id else ""),
    ),
    default_columns=("number", "counterparty", "date", "due_date", "days_overdue", "total", "open", "responsible"),
    default_sort="due_date",
    search_fields=("number", "counterparty__name"),
    filters=(
        Filter("responsible", gettext_lazy("Responsible"), lookup="responsible_id", choices=_responsible_choices),
        Filter("client", gettext_lazy("Client"), lookup="counterparty_id", choices=_client_choices),
        Filter("days", gettext_lazy("Days overdue"), lookup="", apply=_min_days_filter, choices=(
            ("1", gettext_lazy("1 or more")), ("31", gettext_lazy("more than 30")), ("61", gettext_lazy("more than 60")),
            ("91", gettext_lazy("more than 90")),
        )),
    ),
)


@login_required
def overdue_list(request):
    _require(request, Invoice, "view")
    return list_view(request, OVERDUE_LIST)


# ----------------------------------------------------------------------------------------------- reconciliation


def _period_form(request, counterparty: Counterparty) -> tuple[PeriodForm, StatementPeriod | None]:
    today = timezone.localdate()
    data = request.GET if request.GET.get("date_from") or request.GET.get("date_to") else None
    form = PeriodForm(data, initial={"date_from": today.replace(month=1, day=1), "date_to": today})
    if data is None:
        return form, StatementPeriod(counterparty, today.replace(month=1, day=1), today)
    if form.is_valid():
        return form, StatementPeriod(counterparty, form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    return form, None


@login_required
def reconciliation(request, pk: int):
    _require(request, Payment, "view")
    counterparty = _counterparty(request, pk)
    form, period = _period_form(request, counterparty)
    statement = None
    if period is not None:
        statement = selectors.reconciliation(counterparty=counterparty, date_from=period.date_from, date_to=period.date_to)
    context = {
        "counterparty": counterparty, "form": form, "statement": statement, "period": period,
        "rows": [{**row, "debit": amount(row["debit"]) if row["debit"] else "", "credit": amount(row["credit"]) if row["credit"] else ""}
                 for row in (statement.rows if statement else [])],
        "figures": {
            "opening": amount(statement.opening), "debit_total": amount(statement.debit_total), "credit_total": amount(statement.credit_total),
            "closing": amount(statement.closing), "ledger_closing": amount(statement.ledger_closing),
        } if statement else {},
        "pdf_query": f"date_from={period.date_from}&date_to={period.date_to}" if period else "",
    }
    return render(request, "finance/reconciliation_statement.html", context, status=200 if period else 422)


@login_required
def reconciliation_pdf(request, pk: int):
    _require(request, Payment, "view")
    counterparty = _counterparty(request, pk)
    form, period = _period_form(request, counterparty)
    if period is None:
        return redirect(reverse("finance:reconciliation", args=[pk]) + "?" + request.GET.urlencode())
    try:
        pdf = statement_pdf(period, actor=request.user, language=request.GET.get("language") or None)
    except DomainError as error:
        return render(request, "core/printing/cannot_print.html", {"message": error.message}, status=error.status)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="reconciliation-{counterparty.pk}-{period.date_to}.pdf"'
    return response
