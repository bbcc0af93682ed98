"""Printed forms of settlements: the reconciliation statement ("finance.reconciliation_statement").

The printed record is a counterparty and a period (`StatementPeriod`); printed through the generic print URL
(/print/finance.reconciliation_statement/<counterparty id>.pdf) the period is the current year up to today. The
context is plain data (see `reconciliation_context`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fabrika.core import audit, mailing, printing
from fabrika.core.errors import ValidationError
from fabrika.core.models.audit import AuditAction
from fabrika.parties.models import Counterparty

from .models import Payment
from .selectors_settlements import reconciliation, settlement_counterparty_for_user

RECONCILIATION_STATEMENT = "finance.reconciliation_statement"


@dataclass(frozen=True)
class StatementPeriod:
    counterparty: Counterparty
    date_from: dt.date
    date_to: dt.date

    @property
    def pk(self) -> int:
        return self.counterparty.pk


def default_period(counterparty: Counterparty, today: dt.date | None = None) -> StatementPeriod:
    today = today or timezone.localdate()
    return StatementPeriod(counterparty, today.replace(month=1, day=1), today)


def _period(obj) -> StatementPeriod:
    return obj if isinstance(obj, StatementPeriod) else default_period(obj)


def labels() -> dict:
    return {
        "title": _("Reconciliation statement"),
        "between": _("of mutual settlements between"),
        "and": _("and"),
        "period_from": _("for the period from"),
        "period_to": _("to"),
        "date": _("Date"),
        "document": _("Document"),
        "debit": _("Debit"),
        "credit": _("Credit"),
        "opening": _("Opening balance"),
        "turnover": _("Turnover for the period"),
        "closing": _("Closing balance"),
        "in_favour_of": _("The balance is in favour of"),
        "settled": _("No debt on either side"),
        "on": _("on"),
        "tax_id": _("Tax ID"),
        "kpp": _("KPP"),
        "signature": _("signature"),
        "full_name": _("full name"),
        "for_side": _("For"),
    }


def reconciliation_context(obj) -> dict:
    period = _period(obj)
    statement = reconciliation(counterparty=period.counterparty, date_from=period.date_from, date_to=period.date_to)
    party = period.counterparty
    return {
        "labels": labels(),
        "counterparty": {"name": party.name, "full_name": party.full_name or party.name, "tax_id": party.tax_id, "kpp": party.kpp,
                         "city": party.city},
        "date_from": period.date_from,
        "date_to": period.date_to,
        "opening_balance": statement.opening,
        "opening_debit": max(statement.opening, Decimal(0)),
        "opening_credit": max(-statement.opening, Decimal(0)),
        "rows": [
            {"date": row["date"], "kind": str(row["kind"]), "document": row["document"], "debit": row["debit"], "credit": row["credit"],
             "is_cancellation": row["is_cancellation"]}
            for row in statement.rows
        ],
        "debit_total": statement.debit_total,
        "credit_total": statement.credit_total,
        "closing_balance": statement.closing,
        "closing_debit": max(statement.closing, Decimal(0)),
        "closing_credit": max(-statement.closing, Decimal(0)),
    }


def sample_context() -> dict:
    return {
        "labels": labels(),
        "counterparty": {"name": "Robokids School", "full_name": "Robokids School LLC", "tax_id": "7707083893", "kpp": "773601001",
                         "city": "Moscow"},
        "date_from": dt.date(2026, 1, 1),
        "date_to": dt.date(2026, 3, 31),
        "opening_balance": Decimal("1000.00"), "opening_debit": Decimal("1000.00"), "opening_credit": Decimal("0"),
        "rows": [
            {"date": dt.date(2026, 2, 1), "kind": "Invoice", "document": "INV-2026-00001", "debit": Decimal("8500.00"),
             "credit": Decimal("0"), "is_cancellation": False},
            {"date": dt.date(2026, 2, 10), "kind": "Payment", "document": "PR-2026-00001", "debit": Decimal("0"),
             "credit": Decimal("9500.00"), "is_cancellation": False},
        ],
        "debit_total": Decimal("8500.00"), "credit_total": Decimal("9500.00"),
        "closing_balance": Decimal("0.00"), "closing_debit": Decimal("0"), "closing_credit": Decimal("0"),
    }


def _get_for_user(user, object_id):
    return settlement_counterparty_for_user(user, object_id)


def statement_pdf(period: StatementPeriod, *, actor, language: str | None = None) -> bytes:
    """The reconciliation statement of a period as PDF (the print is written to the audit log of the counterparty)."""
    rendered = printing.render_html(RECONCILIATION_STATEMENT, period, language=language)
    pdf = printing.html_to_pdf(rendered.html)
    audit.record(
        actor=actor, action=AuditAction.EXPORT, target=period.counterparty,
        changes={"print": RECONCILIATION_STATEMENT, "format": "pdf", "date_from": period.date_from, "date_to": period.date_to},
        message=f"{RECONCILIATION_STATEMENT}: printed to PDF",
    )
    return pdf


printing.register(printing.PrintableDocument(
    code=RECONCILIATION_STATEMENT,
    name=gettext_lazy("Reconciliation statement"),
    model=Payment,
    build_context=reconciliation_context,
    sample_context=sample_context,
    get_for_user=_get_for_user,
    template_name="finance/print/reconciliation_statement.html",
))


def _statement_for_mail(counterparty: Counterparty, params) -> StatementPeriod:
    """The period of the statement page (date_from, date_to in the query) or the default one."""
    period = default_period(counterparty)
    values = {}
    for name in ("date_from", "date_to"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                raise ValidationError({name: [_("Enter a date as YYYY-MM-DD")]})
    date_to = values.get("date_to", period.date_to)
    date_from = values.get("date_from", date_to.replace(month=1, day=1))
    if date_from > date_to:
        raise ValidationError({"date_from": [_("The period's start is after its end")]})
    return StatementPeriod(counterparty, date_from, date_to)


mailing.register_object_preparer(RECONCILIATION_STATEMENT, _statement_for_mail)
