"""Posted invoices and credit notes for the payments tests, built as ORM rows plus the journal entry the invoice
posting rule writes (so these tests do not depend on the invoices services); a foreign-currency document posts its
amounts × its exchange rate, rounded to kopecks (a credit note takes its invoice's rate):

    client invoice:        Dr receivables(cp) total / Cr revenue net / Cr vat_output tax
    supplier invoice:      Dr grni net / Dr vat_input tax / Cr payables(cp) total
    credit note to client: Dr revenue net / Dr vat_output tax / Cr receivables(cp) total
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from fabrika.finance.models import CreditNote, Direction, DocumentStatus, Invoice, PaymentScheduleItem
from fabrika.ledger.services import EntryLine, Source, journal_post

D = Decimal
_counter = {"invoice": 0, "credit": 0}


def _base(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def _split(total: Decimal, rate: Decimal = Decimal(20)) -> tuple[Decimal, Decimal]:
    tax = (total * rate / (100 + rate)).quantize(D("0.01"))
    return total - tax, tax


def posted_invoice(
    *, counterparty, actor, total, date: dt.date, due_date: dt.date | None = None, direction: str = Direction.OUTGOING,
    currency: str = "RUB", exchange_rate="1", responsible=None, schedule: list[tuple[dt.date, str]] | None = None,
) -> Invoice:
    total, rate = D(str(total)), D(str(exchange_rate))
    net, tax = _split(total)
    _counter["invoice"] += 1
    prefix = "INV" if direction == Direction.OUTGOING else "SINV"
    invoice = Invoice.objects.create(
        number=f"{prefix}-{_counter['invoice']:05d}-{Invoice.objects.count() + 1}", direction=direction, status=DocumentStatus.POSTED,
        date=date, due_date=due_date, counterparty=counterparty, currency=currency, exchange_rate=rate, net_total=net, tax_total=tax,
        total=total, responsible=responsible or counterparty.responsible, author=actor,
    )
    party = counterparty.pk
    total, tax = _base(total, rate), _base(tax, rate)
    net = total - tax
    if direction == Direction.OUTGOING:
        lines = [EntryLine("receivables", debit=total, counterparty_id=party), EntryLine("revenue", credit=net, counterparty_id=party),
                 EntryLine("vat_output", credit=tax)]
    else:
        lines = [EntryLine("grni", debit=net), EntryLine("vat_input", debit=tax), EntryLine("payables", credit=total, counterparty_id=party)]
    journal_post(actor=actor, date=date, source=Source.of(invoice), lines=lines)
    for position, (due, amount) in enumerate(schedule or [], start=1):
        PaymentScheduleItem.objects.create(invoice=invoice, position=position, due_date=due, amount=D(amount))
    return invoice


def posted_credit_note(*, invoice: Invoice, actor, total, date: dt.date, trim: bool = False) -> CreditNote:
    """A posted credit note as credit_note_post leaves it: with `trim`, the invoice's payments over what is left of it
    become advances again; the note that then leaves a foreign-currency invoice nothing open takes what is left of
    the invoice's base total (its rounding), so the closed invoice is settled to the kopeck."""
    from fabrika.finance.services_payments import invoice_allocations_trim, invoice_base_left_now

    amount = D(str(total))
    net, tax = _split(amount)
    _counter["credit"] += 1
    note = CreditNote.objects.create(
        number=f"CN-{_counter['credit']:05d}-{CreditNote.objects.count() + 1}", status=DocumentStatus.POSTED, date=date, invoice=invoice,
        counterparty=invoice.counterparty, currency=invoice.currency, exchange_rate=invoice.exchange_rate, net_total=net, tax_total=tax,
        total=amount, base_total=_base(amount, invoice.exchange_rate), author=actor,
    )
    invoice.credited_amount += amount
    invoice.save(update_fields=["credited_amount"])
    if trim:
        invoice_allocations_trim(actor=actor, invoice_id=invoice.pk, date=date)
    invoice.refresh_from_db()
    if invoice.exchange_rate != 1 and invoice.open_amount == 0:
        note.base_total += invoice_base_left_now(invoice)
        note.save(update_fields=["base_total"])
    party = invoice.counterparty_id
    total, tax = note.base_total, _base(tax, invoice.exchange_rate)
    net = total - tax
    if invoice.direction == Direction.OUTGOING:
        lines = [EntryLine("revenue", debit=net, counterparty_id=party), EntryLine("vat_output", debit=tax), EntryLine("receivables", credit=total, counterparty_id=party)]
    else:
        lines = [EntryLine("payables", debit=total, counterparty_id=party), EntryLine("grni", credit=net), EntryLine("vat_input", credit=tax)]
    journal_post(actor=actor, date=date, source=Source.of(note), lines=lines)
    return note
