"""What pricing adds to a counterparty's card: the client's price type and the discount rules written for them
(personal ones, and other rules narrowed to a segment the client is in) that are active and not expired."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fabrika.core.ui.cards import RelatedList, RelatedRow
from fabrika.parties.models import Counterparty

from .display import date_text, rule_terms
from .models import DiscountKind, DiscountRule, PriceType
from .selectors import discount_rule_list

HEADERS = (_("Price type or discount"), _("Kind"), _("Terms"), _("Valid"))


def _price_type_row(record: Counterparty) -> RelatedRow:
    code = record.price_type_code
    price_type = PriceType.objects.filter(code=code).first() if code else PriceType.objects.filter(is_retail=True).first()
    if price_type is None:
        return RelatedRow(cells=(code or _("Retail"), _("Price type"), _("no such price type") if code else _("no retail price type yet"), ""))
    terms = _("prices include tax") if price_type.prices_include_tax else _("prices exclude tax")
    name = f"{price_type.name} ({price_type.code})" if code else _("%(name)s — the default for clients without a price type") % {"name": price_type.name}
    return RelatedRow(cells=(name, _("Price type"), f"{price_type.currency}, {terms}", ""),
                      url=reverse("pricing:price_type_detail", args=[price_type.pk]))


def _rules_for(record: Counterparty) -> list[DiscountRule]:
    today = timezone.localdate()
    segments = list(record.segments.values_list("pk", flat=True))
    return list(
        discount_rule_list(active=True)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .filter(Q(counterparty=record) | (Q(counterparty__isnull=True) & Q(segments__in=segments)))
        .exclude(Q(kind=DiscountKind.PERSONAL) & ~Q(counterparty=record))
        .distinct()
        .order_by("kind", "-priority", "id")
    )


def pricing_related(record, user) -> Iterable[RelatedList]:
    if not isinstance(record, Counterparty) or not record.is_client or not user.has_perm("pricing.view_discountrule"):
        return []
    rows = [_price_type_row(record)]
    for rule in _rules_for(record):
        valid = f"{date_text(rule.valid_from)} – {date_text(rule.valid_to) if rule.valid_to else '…'}"
        rows.append(RelatedRow(cells=(rule.name, rule.get_kind_display(), rule_terms(rule), valid),
                               url=reverse("pricing:discount_rule_detail", args=[rule.pk])))
    return [RelatedList(title=_("Prices and discounts"), headers=HEADERS, rows=rows, more_url=reverse("pricing:discount_rule_list"))]
