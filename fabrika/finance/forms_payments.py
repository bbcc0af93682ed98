"""Forms of payments and settlements. They only shape the input; the services check every rule and their errors are
shown beside the fields (fabrika.core.ui.forms.apply_errors)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fabrika.core import importer
from fabrika.core.errors import ValidationError
from fabrika.core.permissions import scoped
from fabrika.core.ui.autocomplete import use_autocomplete
from fabrika.parties.selectors import counterparty_queryset_for_user
from fabrika.parties.validation import normalise_name

from .models import Direction, Invoice, PaymentMethod

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=[
        (Direction.OUTGOING, _("Received from a client")), (Direction.INCOMING, _("Paid to a supplier"))])
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    date = forms.DateField(label=_("Date"), widget=DATE)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), queryset=None)
    amount = forms.CharField(label=_("Amount"), max_length=20)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False, help_text=_("Empty: the base currency"))
    exchange_rate = forms.CharField(label=_("Exchange rate"), max_length=20, required=False)
    order = forms.IntegerField(label=_("Sales order (prepayment)"), required=False, widget=forms.HiddenInput)
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counterparty"].queryset = counterparty_queryset_for_user(actor).filter(is_active=True).order_by("name")
        use_autocomplete(self.fields["counterparty"], "counterparties")
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"] = timezone.localdate()

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["counterparty"] = data["counterparty"].pk if data.get("counterparty") else None
        return data


class PostForm(forms.Form):
    ALLOCATION_CHOICES = [("auto", _("To open invoices, oldest due date first")), ("none", _("Keep it all as an advance"))]
    allocation = forms.ChoiceField(label=_("Allocate"), choices=ALLOCATION_CHOICES, initial="auto", widget=forms.RadioSelect)


class AllocateForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int, choices=())
    amount = forms.CharField(label=_("Amount"), max_length=20)
    date = forms.DateField(label=_("Date"), widget=DATE, required=False)

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [
            (invoice.pk, f"{invoice.number} · {invoice.date:%Y-%m-%d} · {invoice.open_amount} {invoice.currency}") for invoice in invoices
        ]


class CancelForm(forms.Form):
    date = forms.DateField(label=_("Cancellation date"), widget=DATE, required=False, help_text=_("Empty: today"))


class CreditLimitForm(forms.Form):
    credit_limit = forms.CharField(label=_("Credit limit"), max_length=20, required=False, help_text=_("Empty: no limit"))


class PeriodForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DATE)
    date_to = forms.DateField(label=_("To"), widget=DATE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            self.add_error("date_from", _("The period's start is after its end"))
        return cleaned


# ----------------------------------------------------------------------------------------------- bank statement


class StatementUploadForm(forms.Form):
    file = forms.FileField(label=_("Bank statement"), help_text=_(
        "CSV (or .xlsx); the first row names the columns: date, counterparty (tax ID or name), amount, currency, "
        "direction (in: money received, out: money paid; empty: by the amount's sign), reference, invoice (number, optional)"))


class StatementPostForm(forms.Form):
    """The uploaded file carried from the preview to the posting (read and checked again there)."""

    content = forms.CharField(widget=forms.HiddenInput)
    file_name = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def file_content(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["content"], validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("Upload the statement again"))

    @staticmethod
    def carry(content: bytes, file_name: str) -> StatementPostForm:
        return StatementPostForm(initial={"content": base64.b64encode(content).decode("ascii"), "file_name": file_name})


STATEMENT_FIELDS = (
    importer.ImportField("date", _("Date"), required=True, aliases=("payment date", "value date", "дата", "дата платежа")),
    importer.ImportField("tax_id", _("Tax ID"), aliases=("inn", "инн", "taxid", "vat id")),
    importer.ImportField("counterparty", _("Counterparty"), aliases=(
        "name", "counterparty name", "counterparty tax id or name", "payer", "payee", "контрагент", "плательщик", "получатель")),
    importer.ImportField("amount", _("Amount"), required=True, aliases=("sum", "сумма")),
    importer.ImportField("currency", _("Currency"), aliases=("валюта",)),
    importer.ImportField("direction", _("Direction"), aliases=("in/out", "type", "направление")),
    importer.ImportField("reference", _("Bank reference"), aliases=("reference", "document number", "номер документа", "номер")),
    importer.ImportField("purpose", _("Purpose"), aliases=("description", "назначение", "назначение платежа")),
    importer.ImportField("invoice", _("Invoice"), aliases=("invoice number", "счет", "счёт", "номер счета")),
)
RECEIVED = {"in", "incoming", "received", "credit", "+", "приход", "поступление"}
PAID = {"out", "outgoing", "paid", "debit", "-", "расход", "списание"}


@dataclass
class StatementLine:
    """A row of the statement: its cells, the payment row for the batch service (None when it cannot be built), what
    it resolved to, and its errors as text."""

    row: int
    cells: dict[str, str]
    data: dict | None = None
    counterparty: object = None
    invoice: Invoice | None = None
    errors: list[str] = field(default_factory=list)
    plan: str = ""


def _statement_date(text: str) -> dt.date | None:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _statement_amount(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def read_statement(*, actor, content: bytes, file_name: str) -> list[StatementLine]:
    """The statement's rows as payment rows for fabrika.finance.batch_payments, each counterparty (by tax ID, else by
    name) and invoice (by number, of that counterparty and side) resolved in the actor's scope with one read each.
    Raises ValidationError on `file` when the file cannot be read or lacks a required column."""
    table = importer.read_table(content, file_name)
    fields = list(STATEMENT_FIELDS)
    mapping = importer.guess_mapping(table.columns, fields)
    named = set(mapping.values())
    missing = [str(item.label) for item in fields if item.required and item.name not in named]
    if not named & {"counterparty", "tax_id"}:
        missing.append(str(_("Counterparty")))
    if missing:
        raise ValidationError({"file": [gettext("The statement has no column for: %(fields)s") % {"fields": ", ".join(missing)}]})
    lines = [
        StatementLine(row=number, cells={name: cells[index] for index, (_column, name) in enumerate(mapping.items()) if name})
        for number, cells in table.rows
    ]
    parties = _statement_parties(actor, lines)
    invoices = _statement_invoices(actor, lines)
    claimed: dict[int, Decimal] = {}
    for line in lines:
        _statement_line(line, parties, invoices, claimed)
    return lines


def _statement_parties(actor, lines: list[StatementLine]) -> list:
    keys = {line.cells.get(name, "").strip() for line in lines for name in ("tax_id", "counterparty")} - {""}
    if not keys:
        return []
    normalised = {normalise_name(key) for key in keys} - {""}
    return list(counterparty_queryset_for_user(actor).filter(Q(tax_id__in=keys) | Q(name__in=keys) | Q(name_key__in=normalised)))


def _statement_invoices(actor, lines: list[StatementLine]) -> list[Invoice]:
    numbers = {line.cells.get("invoice", "").strip() for line in lines} - {""}
    if not numbers:
        return []
    return list(scoped(Invoice.objects.filter(number__in=numbers), actor, responsible_field="counterparty__responsible"))


def _statement_line(line: StatementLine, parties: list, invoices: list[Invoice], claimed: dict[int, Decimal]) -> None:
    cells = line.cells
    date = _statement_date(cells.get("date", ""))
    if date is None:
        line.errors.append(gettext("Date: enter a date as YYYY-MM-DD or DD.MM.YYYY"))
    amount = _statement_amount(cells.get("amount", ""))
    if amount is None:
        line.errors.append(gettext("Amount: enter a number"))
    direction_text = cells.get("direction", "").strip().casefold()
    if direction_text in RECEIVED:
        direction = Direction.OUTGOING
    elif direction_text in PAID:
        direction = Direction.INCOMING
    elif not direction_text:
        direction = Direction.INCOMING if amount is not None and amount < 0 else Direction.OUTGOING
    else:
        direction = None
        line.errors.append(gettext("Direction: enter in (money received) or out (money paid)"))
    if amount is not None and amount < 0 and direction_text:
        line.errors.append(gettext("Amount: a negative amount needs an empty direction"))
    tax_id, name = cells.get("tax_id", "").strip(), cells.get("counterparty", "").strip()
    found = _match_party(parties, tax_id=tax_id, name=name)
    if not (tax_id or name):
        line.errors.append(gettext("Counterparty: give the tax ID or the name"))
    elif not found:
        line.errors.append(gettext("Counterparty: no counterparty with the tax ID or name “%(value)s”") % {"value": tax_id or name})
    elif len(found) > 1:
        line.errors.append(gettext("Counterparty: %(count)d counterparties match “%(value)s”: give the tax ID") % {
            "count": len(found), "value": tax_id or name})
    else:
        line.counterparty = found[0]
    number = cells.get("invoice", "").strip()
    if number and line.counterparty is not None and direction is not None:
        line.invoice = next((invoice for invoice in invoices if invoice.number == number and invoice.counterparty_id == line.counterparty.pk
                             and invoice.direction == direction), None)
        if line.invoice is None:
            line.errors.append(gettext("Invoice: %(counterparty)s has no invoice %(number)s") % {"counterparty": line.counterparty.name, "number": number})
    if line.errors:
        return
    amount = abs(amount)
    line.data = {
        "direction": direction, "method": PaymentMethod.BANK, "date": date, "counterparty": line.counterparty.pk, "amount": str(amount),
        "currency": cells.get("currency", ""), "reference": cells.get("reference", ""), "purpose": cells.get("purpose", ""),
    }
    if line.invoice is not None:
        # the amount goes to the named invoice as far as it is open (after the statement's earlier rows naming it); the rest is an advance
        invoice = line.invoice
        left = invoice.open_amount - claimed.get(invoice.pk, Decimal(0))
        if left <= 0:
            line.errors.append(gettext("Invoice: %(number)s has nothing left to pay") % {"number": invoice.number})
            line.data = None
            return
        share = min(amount, left)
        claimed[invoice.pk] = claimed.get(invoice.pk, Decimal(0)) + share
        line.data["allocations"] = [{"invoice_id": invoice.pk, "amount": str(share)}]


def _match_party(parties: list, *, tax_id: str, name: str) -> list:
    if tax_id:
        return [party for party in parties if party.tax_id == tax_id]
    by_tax_id = [party for party in parties if party.tax_id and party.tax_id == name]
    if by_tax_id:
        return by_tax_id
    exact = [party for party in parties if party.name.casefold() == name.casefold()]
    if exact:
        return exact
    key = normalise_name(name)
    return [party for party in parties if key and (party.name_key or normalise_name(party.name)) == key]
