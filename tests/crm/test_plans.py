"""Sales plan versus actual: plans per manager per month, won deals counted in the month they were won."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fabrika.core.errors import ValidationError
from fabrika.core.models import Department, User
from fabrika.crm.models import Deal, SalesPlan
from fabrika.crm.reports_plans import plan_vs_actual
from fabrika.crm.services_pipelines import deal_create, deal_move
from fabrika.crm.services_plans import sales_plans_set


def _won(actor, pipeline, stages, party, amount: str, on: dt.datetime) -> Deal:
    deal = deal_create(actor=actor, pipeline=pipeline, title=f"Deal {amount}", counterparty=party, amount=Decimal(amount))
    deal_move(actor=actor, deal=deal, stage=stages["Won"], reason="price")
    Deal.objects.filter(pk=deal.pk).update(closed_at=on)
    return deal


@pytest.fixture
def sales_department(head, manager, other_manager):
    department = Department.objects.create(name="Sales", head=head)
    User.objects.filter(pk__in=[head.pk, manager.pk, other_manager.pk]).update(department=department)
    return department


@pytest.fixture
def year_data(sales_department, head, manager, other_manager, pipeline, stages, client_party):
    sales_plans_set(actor=head, entries=[
        {"user": manager.pk, "month": "2026-03", "amount": "1000.00"},
        {"user": manager.pk, "month": "2026-04", "amount": "500"},
        {"user": other_manager.pk, "month": "2026-03", "amount": "800"},
    ])
    march = timezone.make_aware(dt.datetime(2026, 3, 10, 12))
    _won(manager, pipeline, stages, client_party, "700.00", march)
    _won(manager, pipeline, stages, client_party, "450.50", march)
    _won(manager, pipeline, stages, client_party, "999.00", timezone.make_aware(dt.datetime(2025, 12, 31, 12)))  # last year
    deal_create(actor=manager, pipeline=pipeline, title="Still open", counterparty=client_party, amount=Decimal("5000"))
    _won(other_manager, pipeline, stages, client_party, "200.00", timezone.make_aware(dt.datetime(2026, 4, 2, 12)))


def test_plan_versus_actual_per_manager_per_month(year_data, manager, other_manager, admin_user):
    report = plan_vs_actual(actor=admin_user, year=2026)
    rows = {row.user.pk: row for row in report.rows}
    march, april = rows[manager.pk].cells[2], rows[manager.pk].cells[3]
    assert (march.plan, march.actual, march.percent) == (Decimal("1000.00"), Decimal("1150.50"), Decimal("115.1"))
    assert (april.plan, april.actual, april.percent) == (Decimal("500.00"), Decimal(0), Decimal("0.0"))
    assert rows[manager.pk].plan == Decimal("1500.00") and rows[manager.pk].actual == Decimal("1150.50")
    assert rows[other_manager.pk].cells[3].actual == Decimal("200.00") and rows[other_manager.pk].cells[3].plan is None
    assert report.totals[2].plan == Decimal("1800.00") and report.totals[2].actual == Decimal("1150.50")


def test_a_manager_sees_only_own_plan_and_deals(year_data, manager):
    report = plan_vs_actual(actor=manager, year=2026)
    assert [row.user.pk for row in report.rows] == [manager.pk]


def test_bad_plans_are_refused_and_nothing_changes(sales_department, head, manager):
    sales_plans_set(actor=head, entries=[{"user": manager.pk, "month": "2026-01", "amount": "10"}])
    with pytest.raises(ValidationError) as refused:
        sales_plans_set(actor=head, entries=[
            {"user": manager.pk, "month": "2026-01", "amount": "20"},
            {"user": manager.pk, "month": "2026-02", "amount": "-5"},
            {"user": manager.pk, "month": "March", "amount": "5"},
        ])
    assert set(refused.value.errors) == {"entries.1.amount", "entries.2.month"}
    assert list(SalesPlan.objects.values_list("month", "amount")) == [(dt.date(2026, 1, 1), Decimal("10.00"))]


def test_an_empty_amount_removes_the_plan(sales_department, head, manager):
    sales_plans_set(actor=head, entries=[{"user": manager.pk, "month": "2026-01", "amount": "10"}])
    sales_plans_set(actor=head, entries=[{"user": manager.pk, "month": "2026-01", "amount": ""}])
    assert not SalesPlan.objects.exists()


def test_api_sets_plans_and_reports(api_client, head, manager, year_data):
    client = api_client(head)
    answer = client.put("/api/v1/crm/sales-plans", {"entries": [{"user": manager.pk, "month": "2026-05", "amount": "300.00"}]}, content_type="application/json")
    assert answer.status_code == 200 and answer.json() == [{"user_id": manager.pk, "month": "2026-05", "amount": "300.00"}]
    bad = client.put("/api/v1/crm/sales-plans", {"entries": [{"user": manager.pk, "month": "2026-05", "amount": "x"}]}, content_type="application/json")
    assert bad.status_code == 422 and "entries.0.amount" in bad.json()["errors"]
    report = client.get("/api/v1/crm/reports/plan-vs-actual?year=2026").json()
    mine = next(row for row in report["managers"] if row["user_id"] == manager.pk)
    assert mine["months"][2] == {"month": "2026-03", "plan": "1000.00", "actual": "1150.50", "percent": "115.1"}
    assert mine["months"][4]["plan"] == "300.00"


def test_api_refuses_plan_changes_to_sales_managers(api_client, manager):
    answer = api_client(manager).put("/api/v1/crm/sales-plans", {"entries": [{"user": manager.pk, "month": "2026-05", "amount": "1"}]}, content_type="application/json")
    assert answer.status_code == 403
    assert not SalesPlan.objects.exists()


def test_plan_pages(web_client, head, manager, year_data):
    browser = web_client(head)
    page = browser.get(reverse("crm:plan_report") + "?year=2026")
    assert page.status_code == 200 and b"plan-table" in page.content
    assert b"1,150.50" in page.content or b"1150.50" in page.content
    grid = browser.get(reverse("crm:plan_edit") + "?year=2026")
    assert grid.status_code == 200 and f'name="plan_{manager.pk}_3" value="1000.00"'.encode() in grid.content
    refused = browser.post(reverse("crm:plan_edit"), {"year": "2026", f"plan_{manager.pk}_3": "-1"})
    assert refused.status_code == 400 and b"cannot be negative" in refused.content
    assert SalesPlan.objects.get(user=manager, month=dt.date(2026, 3, 1)).amount == Decimal("1000.00")
    saved = browser.post(reverse("crm:plan_edit"), {"year": "2026", f"plan_{manager.pk}_3": "1200", f"plan_{manager.pk}_4": "500"})
    assert saved.status_code == 302
    assert SalesPlan.objects.get(user=manager, month=dt.date(2026, 3, 1)).amount == Decimal("1200.00")
    assert web_client(manager).get(reverse("crm:plan_edit")).status_code == 403


def test_api_refuses_plans_for_users_outside_the_scope(api_client, sales_department, head, make_user):
    stranger = make_user("Sales manager", username="stranger")
    answer = api_client(head).put("/api/v1/crm/sales-plans", {"entries": [{"user": stranger.pk, "month": "2026-05", "amount": "1"}]}, content_type="application/json")
    assert answer.status_code == 422 and "entries.0.user" in answer.json()["errors"]
    assert not SalesPlan.objects.exists()
