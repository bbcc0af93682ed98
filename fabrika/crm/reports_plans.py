"""Sales plan versus actual, per manager per month of a year.

Actual = the amounts of deals won in that month (entered a won stage: `closed_at` in the month) whose responsible
is the manager, in the base currency: a deal in another currency is converted at the rate of its closing day; a deal
whose currency has no rate is counted in `unconverted` and left out of the sums, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from fabrika.core.errors import DomainError
from fabrika.core.models import User
from fabrika.core.permissions import scoped
from fabrika.core.selectors import company_settings
from fabrika.core.selectors_access import exchange_rate_on

from .models import SalesPlan, StageKind
from .selectors_pipelines import deal_queryset_for_user

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass
class PlanCell:
    month: dt.date
    plan: Decimal | None = None
    actual: Decimal = ZERO

    @property
    def percent(self) -> Decimal | None:
        if not self.plan:
            return None
        return (self.actual * 100 / self.plan).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class PlanRow:
    user: User
    cells: list[PlanCell]

    @property
    def plan(self) -> Decimal:
        return sum((cell.plan or ZERO for cell in self.cells), ZERO)

    @property
    def actual(self) -> Decimal:
        return sum((cell.actual for cell in self.cells), ZERO)

    @property
    def percent(self) -> Decimal | None:
        return PlanCell(self.cells[0].month, self.plan, self.actual).percent if self.plan else None


@dataclass
class PlanReport:
    year: int
    months: list[dt.date]
    rows: list[PlanRow]
    currency: str
    unconverted: int = 0
    totals: list[PlanCell] = field(default_factory=list)

    @property
    def plan(self) -> Decimal:
        return sum((row.plan for row in self.rows), ZERO)

    @property
    def actual(self) -> Decimal:
        return sum((row.actual for row in self.rows), ZERO)

    @property
    def largest(self) -> Decimal:
        """The largest monthly plan or actual of any manager: the charts' full scale."""
        values = [value for row in self.rows for cell in row.cells for value in (cell.plan or ZERO, cell.actual)]
        return max(values, default=ZERO)


def plan_vs_actual(*, actor: User, year: int, responsible: User | None = None) -> PlanReport:
    months = [dt.date(year, month, 1) for month in range(1, 13)]
    base = company_settings().base_currency
    plans = scoped(SalesPlan.objects.filter(month__year=year).select_related("user"), actor, responsible_field="user")
    start = timezone.make_aware(dt.datetime(year, 1, 1))
    end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    won = (
        deal_queryset_for_user(actor)
        .filter(stage__kind=StageKind.WON, closed_at__gte=start, closed_at__lt=end, amount__isnull=False)
        .select_related("responsible", "currency")
    )
    if responsible is not None:
        plans = plans.filter(user=responsible)
        won = won.filter(responsible=responsible)
    users: dict[int, User] = {}
    planned: dict[tuple[int, dt.date], Decimal] = {}
    for plan in plans:
        users[plan.user_id] = plan.user
        planned[(plan.user_id, plan.month)] = plan.amount
    actual: dict[tuple[int, dt.date], Decimal] = defaultdict(lambda: ZERO)
    unconverted = 0
    for deal in won:
        closed = timezone.localtime(deal.closed_at).date()
        amount = deal.amount
        if deal.currency_id and deal.currency.code != base:
            try:
                amount = (amount * exchange_rate_on(currency_code=deal.currency.code, on_date=closed)).quantize(CENT, rounding=ROUND_HALF_UP)
            except DomainError:
                unconverted += 1
                continue
        users[deal.responsible_id] = deal.responsible
        actual[(deal.responsible_id, closed.replace(day=1))] += amount
    rows = [
        PlanRow(user=user, cells=[PlanCell(month, planned.get((user.pk, month)), actual.get((user.pk, month), ZERO)) for month in months])
        for user in sorted(users.values(), key=lambda u: (u.get_full_name() or u.username).lower())
    ]
    totals = [
        PlanCell(month, sum((row.cells[index].plan or ZERO for row in rows), ZERO) or None, sum((row.cells[index].actual for row in rows), ZERO))
        for index, month in enumerate(months)
    ]
    return PlanReport(year=year, months=months, rows=rows, currency=base, unconverted=unconverted, totals=totals)
