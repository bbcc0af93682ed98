"""How pricing shows numbers, percents, dates and a discount rule's terms — shared by the pages and the cards
other apps' records get (pricing/cards.py)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from .models import DiscountKind, DiscountRule


def number_text(value: Decimal | None, places: int | None = None) -> str:
    if value is None:
        return ""
    if places is None:
        value = value.normalize()
        return formats.number_format(value if value == value.to_integral() else value, use_l10n=True) if value else "0"
    return formats.number_format(value, places, use_l10n=True)


def percent_text(value: Decimal | None) -> str:
    return f"{number_text(value)} %" if value is not None else ""


def date_text(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def rule_terms(rule: DiscountRule) -> str:
    """What the rule gives, in one line: "7 %", "5+ → 3 %; 10+ → 5 %", "≥ 60 000 in 30 days → 6 %"."""
    tiers = "; ".join(f"{number_text(t.threshold)}+ → {percent_text(t.percent)}" for t in rule.tiers.all())
    if rule.kind == DiscountKind.QUANTITY:
        return tiers
    if rule.kind == DiscountKind.CUMULATIVE:
        return _("%(tiers)s (last %(days)s days)") % {"tiers": tiers, "days": rule.period_days}
    if rule.kind == DiscountKind.VOLUME:
        return _("%(percent)s when the previous %(days)s days reached %(amount)s") % {
            "percent": percent_text(rule.percent), "days": rule.period_days, "amount": number_text(rule.min_amount, 2)}
    return percent_text(rule.percent)
