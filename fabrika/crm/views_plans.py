"""Sales plan pages: the plan-versus-actual report with charts, and the yearly grid where heads set the plans."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from fabrika.core.errors import ValidationError
from fabrika.core.models import User
from fabrika.core.permissions import can, scoped

from .api_plans import parse_responsible, parse_year
from .models import SalesPlan
from .reports_plans import plan_vs_actual
from .selectors_pipelines import responsible_choices
from .services_plans import sales_plans_set

CHART_HEIGHT = 120


def _require(request, action: str) -> None:
    if not can(request.user, SalesPlan, action):
        raise DjangoPermissionDenied


def _share(value: Decimal | None, largest: Decimal) -> int:
    """A bar's length in percent of the chart's scale."""
    if not value or not largest:
        return 0
    return max(1, int(value * 100 / largest))


@login_required
def plan_report(request):
    _require(request, "view")
    errors: dict[str, list[str]] = {}
    try:
        year = parse_year(request.GET.get("year"))
        responsible = parse_responsible(request.GET.get("responsible"))
    except ValidationError as invalid:
        errors, year, responsible = invalid.field_errors(), parse_year(None), None
    report = plan_vs_actual(actor=request.user, year=year, responsible=responsible)
    manager_scale = max([max(row.plan, row.actual) for row in report.rows] or [Decimal(0)])
    managers = [
        {"row": row, "plan_bar": _share(row.plan, manager_scale), "actual_bar": _share(row.actual, manager_scale)} for row in report.rows
    ]
    month_scale = max([max(cell.plan or 0, cell.actual) for cell in report.totals] or [Decimal(0)])
    columns = [
        {"cell": cell, "x": index * 100, "plan_height": _share(cell.plan, month_scale) * CHART_HEIGHT // 100,
         "actual_height": _share(cell.actual, month_scale) * CHART_HEIGHT // 100}
        for index, cell in enumerate(report.totals)
    ]
    return render(
        request, "crm/plans/report.html",
        {"report": report, "managers": managers, "columns": columns, "chart_height": CHART_HEIGHT, "errors": errors,
         "params": request.GET, "year": year, "responsible_choices": responsible_choices(),
         "can_change": can(request.user, SalesPlan, "change")},
        status=400 if errors else 200,
    )


def plan_managers(actor: User):
    """Who gets a plan: active users in the actor's scope who may create deals."""
    sellers = (
        Q(groups__permissions__codename="add_deal", groups__permissions__content_type__app_label="crm")
        | Q(user_permissions__codename="add_deal", user_permissions__content_type__app_label="crm")
    )
    return scoped(User.objects.filter(is_active=True).filter(sellers), actor, responsible_field="pk").distinct().order_by("last_name", "first_name", "username")


@login_required
def plan_edit(request):
    _require(request, "change")
    year = parse_year(request.GET.get("year") if request.method == "GET" else request.POST.get("year"))
    managers = list(plan_managers(request.user))
    months = list(range(1, 13))
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    if request.method == "POST":
        entries = []
        for manager in managers:
            for month in months:
                name = f"plan_{manager.pk}_{month}"
                values[name] = request.POST.get(name, "").strip()
                entries.append({"user": manager.pk, "month": f"{year}-{month:02d}", "amount": values[name]})
        try:
            sales_plans_set(actor=request.user, entries=entries)
        except ValidationError as invalid:
            for key, messages_ in invalid.errors.items():
                parts = key.split(".")  # entries.<index>.<field>
                if len(parts) == 3 and parts[1].isdigit():
                    index = int(parts[1])
                    errors[f"plan_{managers[index // 12].pk}_{index % 12 + 1}"] = messages_
                else:
                    errors[key] = messages_
        else:
            messages.success(request, _("Sales plans for %(year)s saved") % {"year": year})
            return redirect(f"{reverse('crm:plan_report')}?year={year}")
    else:
        for plan in SalesPlan.objects.filter(month__year=year, user__in=managers):
            values[f"plan_{plan.user_id}_{plan.month.month}"] = f"{plan.amount:f}"
    rows = [
        {"user": manager, "cells": [{"name": f"plan_{manager.pk}_{month}", "value": values.get(f"plan_{manager.pk}_{month}", ""),
                                     "errors": errors.get(f"plan_{manager.pk}_{month}", []), "month": month} for month in months]}
        for manager in managers
    ]
    return render(request, "crm/plans/edit.html", {"year": year, "rows": rows, "months": months, "errors": errors},
                  status=400 if errors else 200)
