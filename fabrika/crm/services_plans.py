"""Writes of sales plans: a year's grid of monthly amounts per manager, set in one transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from fabrika.core import audit
from fabrika.core.errors import ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction

from .models import SalesPlan

MAX_AMOUNT = Decimal("9999999999999.99")


def parse_month(value: Any, *, field: str = "month") -> dt.date:
    """"2026-03", "2026-03-01" or a date → the first day of that month."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value or "").strip()
    try:
        year, month = (int(part) for part in text.split("-")[:2])
        return dt.date(year, month, 1)
    except (ValueError, TypeError):
        raise ValidationError({field: [_("Enter a month as YYYY-MM")]}) from None


def _amount(value: Any, field: str) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise ValidationError({field: [_("Enter a number")]}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: [_("The plan cannot be negative")]})
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: [_("At most 13 digits and 2 decimal places")]})
    return amount


@transaction.atomic
def sales_plans_set(*, actor: User, entries: list[dict[str, Any]]) -> list[SalesPlan]:
    """Set plans: each entry is {"user": id, "month": "YYYY-MM", "amount": "123.45" or "" (empty removes the plan)}.
    Every entry is checked before anything is written; errors are keyed "entries.<index>.<field>"."""
    errors: dict[str, list[str]] = {}
    parsed: list[tuple[int, dt.date, Decimal | None]] = []
    user_ids = {entry.get("user") for entry in entries if isinstance(entry, dict)}
    known = set(User.objects.filter(pk__in=[u for u in user_ids if isinstance(u, int)], is_active=True).values_list("pk", flat=True))
    for index, entry in enumerate(entries):
        prefix = f"entries.{index}"
        if not isinstance(entry, dict):
            errors[prefix] = [_("Expected an object with user, month and amount")]
            continue
        try:
            month = parse_month(entry.get("month"), field=f"{prefix}.month")
            amount = _amount(entry.get("amount"), f"{prefix}.amount")
        except ValidationError as invalid:
            errors.update(invalid.errors)
            continue
        if entry.get("user") not in known:
            errors[f"{prefix}.user"] = [_("Unknown or inactive user")]
            continue
        parsed.append((entry["user"], month, amount))
    if errors:
        raise ValidationError(errors)
    saved: list[SalesPlan] = []
    for user_id, month, amount in parsed:
        plan = SalesPlan.objects.select_for_update().filter(user_id=user_id, month=month).first()
        if amount is None:
            if plan is not None:
                audit.record(actor=actor, action=AuditAction.DELETE, target=plan, changes={"amount": plan.amount, "month": month})
                plan.delete()
            continue
        if plan is None:
            plan = SalesPlan.objects.create(user_id=user_id, month=month, amount=amount, updated_by=actor)
            audit.record(actor=actor, action=AuditAction.CREATE, target=plan, changes={"user": user_id, "month": month, "amount": amount})
        elif plan.amount != amount:
            audit.record(actor=actor, action=AuditAction.UPDATE, target=plan, changes={"amount": [plan.amount, amount]})
            plan.amount, plan.updated_by = amount, actor
            plan.save(update_fields=["amount", "updated_by", "updated_at"])
        saved.append(plan)
    return saved
