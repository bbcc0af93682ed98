"""/api/v1/crm: sales plans per manager per month, and the plan-versus-actual report."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from ninja import Query, Router, Schema

from fabrika.core.errors import ValidationError
from fabrika.core.models import User
from fabrika.core.permissions import require, scoped

from .models import SalesPlan
from .reports_plans import PlanReport, plan_vs_actual
from .services_plans import sales_plans_set

router = Router(tags=["crm"])


class PlanEntryIn(Schema):
    user: int
    month: str  # YYYY-MM
    amount: str | None = None  # empty or null removes the plan


class PlansIn(Schema):
    entries: list[PlanEntryIn]


class PlanOut(Schema):
    user_id: int
    month: str
    amount: str


class YearQuery(Schema):
    year: int | None = None
    responsible: int | None = None


def parse_year(value: Any) -> int:
    if value in (None, ""):
        return timezone.localdate().year
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"year": ["Enter a year, e.g. 2026"]}) from None
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": ["Enter a year between 2000 and 2100"]})
    return year


def parse_responsible(value: Any) -> User | None:
    if value in (None, ""):
        return None
    user = User.objects.filter(pk=int(value)).first() if str(value).isdigit() else None
    if user is None:
        raise ValidationError({"responsible": ["No such user"]})
    return user


def _plan_out(plan: SalesPlan) -> dict:
    return {"user_id": plan.user_id, "month": f"{plan.month:%Y-%m}", "amount": str(plan.amount)}


@router.get("/sales-plans", response=list[PlanOut])
def sales_plan_list(request, query: Query[YearQuery]):
    require(request.user, SalesPlan, "view")
    year = parse_year(query.year)
    plans = scoped(SalesPlan.objects.filter(month__year=year), request.user, responsible_field="user").order_by("user_id", "month")
    return [_plan_out(plan) for plan in plans]


@router.put("/sales-plans", response=list[PlanOut])
def sales_plan_set(request, payload: PlansIn):
    require(request.user, SalesPlan, "change")
    allowed = set(scoped(User.objects.all(), request.user, responsible_field="pk").values_list("pk", flat=True))
    outside = {f"entries.{index}.user": ["Outside your scope"] for index, entry in enumerate(payload.entries) if entry.user not in allowed}
    if outside:
        raise ValidationError(outside)
    plans = sales_plans_set(actor=request.user, entries=[entry.dict() for entry in payload.entries])
    return [_plan_out(plan) for plan in plans]


def report_out(report: PlanReport) -> dict:
    def cell(item) -> dict:
        return {
            "month": f"{item.month:%Y-%m}", "plan": None if item.plan is None else str(item.plan), "actual": str(item.actual),
            "percent": None if item.percent is None else str(item.percent),
        }

    return {
        "year": report.year,
        "currency": report.currency,
        "unconverted_deals": report.unconverted,
        "plan": str(report.plan),
        "actual": str(report.actual),
        "managers": [
            {"user_id": row.user.pk, "name": row.user.get_full_name() or row.user.username, "plan": str(row.plan),
             "actual": str(row.actual), "percent": None if row.percent is None else str(row.percent),
             "months": [cell(item) for item in row.cells]}
            for row in report.rows
        ],
        "totals": [cell(item) for item in report.totals],
    }


@router.get("/reports/plan-vs-actual", response=dict)
def plan_vs_actual_report(request, query: Query[YearQuery]):
    require(request.user, SalesPlan, "view")
    report = plan_vs_actual(actor=request.user, year=parse_year(query.year), responsible=parse_responsible(query.responsible))
    return report_out(report)


__all__ = ["router", "parse_year", "parse_responsible", "report_out"]
