from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fabrika.crm.reports_pipelines import funnel_report
from fabrika.crm.services_pipelines import deal_create, deal_move

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(manager, other_manager, pipeline, stages, client_party):
    a = deal_create(actor=manager, pipeline=pipeline, title="A", counterparty=client_party, amount="100")
    b = deal_create(actor=manager, pipeline=pipeline, title="B", counterparty=client_party, amount="200")
    c = deal_create(actor=manager, pipeline=pipeline, title="C", counterparty=client_party, amount="300")
    d = deal_create(actor=other_manager, pipeline=pipeline, title="D", counterparty=client_party, amount="400")
    deal_move(actor=manager, deal=a, stage=stages["Proposal"])
    deal_move(actor=manager, deal=a, stage=stages["Won"], reason="Price")
    deal_move(actor=manager, deal=b, stage=stages["Proposal"])
    deal_move(actor=manager, deal=b, stage=stages["Lost"], reason="Too slow")
    deal_move(actor=other_manager, deal=d, stage=stages["Lost"], reason="Too slow")
    return a, b, c, d


def test_funnel_conversion_amounts_and_reasons(head, admin_user, pipeline, deals):
    report = funnel_report(actor=admin_user, pipeline=pipeline)
    rows = {row.stage.name: row for row in report.stages}
    assert report.total == 4 and report.total_amount == Decimal("1000.00")
    assert (rows["New"].reached, rows["Proposal"].reached, rows["Negotiation"].reached, rows["Won"].reached) == (4, 2, 1, 1)
    assert rows["Proposal"].conversion == Decimal("50.0")
    assert rows["Won"].conversion == Decimal("100.0")
    assert rows["Lost"].reached == 2
    assert (rows["New"].current_count, rows["New"].current_amount) == (1, Decimal("300.00"))
    assert (report.won.count, report.won.amount, report.won.reasons) == (1, Decimal("100.00"), [("Price", 1)])
    assert (report.lost.count, report.lost.amount, report.lost.reasons) == (2, Decimal("600.00"), [("Too slow", 2)])
    assert report.win_rate == Decimal("33.3")
    assert rows["New"].average_seconds is not None


def test_funnel_for_a_responsible_and_scope(manager, other_manager, admin_user, pipeline, deals):
    mine = funnel_report(actor=manager, pipeline=pipeline)
    assert mine.total == 3  # the manager's scope is their own deals
    only_other = funnel_report(actor=admin_user, pipeline=pipeline, responsible=other_manager)
    assert only_other.total == 1 and only_other.lost.count == 1
    future = funnel_report(actor=admin_user, pipeline=pipeline, date_from=timezone.localdate() + dt.timedelta(days=1))
    assert future.total == 0


def test_funnel_page_and_api(admin_user, web_client, api_client, pipeline, deals):
    page = web_client(admin_user).get(reverse("crm:funnel_report", args=[pipeline.pk]))
    assert page.status_code == 200 and "Too slow" in page.content.decode()
    bad = web_client(admin_user).get(reverse("crm:funnel_report", args=[pipeline.pk]), {"date_from": "soon"})
    assert bad.status_code == 400
    data = api_client(admin_user).get(f"/api/v1/crm/pipelines/{pipeline.pk}/funnel").json()
    assert data["total"] == 4 and data["won"]["amount"] == "100.00" and data["lost"]["reasons"] == [{"reason": "Too slow", "count": 2}]
    assert [s["reached"] for s in data["stages"]] == [4, 2, 1, 1, 2]
