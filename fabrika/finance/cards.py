"""What finance adds to a counterparty's card: a link to its settlements (balance, ageing, reconciliation) and its
latest invoices, within the user's scope."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from fabrika.core.ui.cards import CardAction, RelatedList, RelatedRow
from fabrika.parties.models import Counterparty

from .selectors_invoices import invoice_queryset_for_user

LIMIT = 10


def _money(value, currency: str) -> str:
    return f"{formats.number_format(value, 2, use_l10n=True, force_grouping=True)} {currency}"


def settlement_actions(record, user) -> Iterable[CardAction]:
    if isinstance(record, Counterparty) and user.has_perm("finance.view_payment"):
        return [CardAction(_("Settlements"), reverse("finance:settlement_detail", args=[record.pk]))]
    return []


def invoice_related(record, user) -> Iterable[RelatedList]:
    if not isinstance(record, Counterparty) or not user.has_perm("finance.view_invoice"):
        return []
    invoices = invoice_queryset_for_user(user).filter(counterparty=record).order_by("-date", "-id")[:LIMIT]
    return [RelatedList(
        title=_("Invoices"),
        headers=(_("Number"), _("Date"), _("Status"), _("Total"), _("Open")),
        rows=[RelatedRow(
            cells=(str(invoice), formats.date_format(invoice.date, "SHORT_DATE_FORMAT"), invoice.get_status_display(),
                   _money(invoice.total, invoice.currency), _money(invoice.open_amount, invoice.currency)),
            url=reverse("finance:invoice_detail", args=[invoice.pk]),
        ) for invoice in invoices],
        more_url=f"{reverse('finance:invoice_list')}?{urlencode({'q': record.name})}",
    )]
