from __future__ import annotations

import pytest
from django.urls import reverse

from fabrika.crm.models import Deal
from fabrika.crm.services_pipelines import deal_create

pytestmark = pytest.mark.django_db


def test_board_shows_columns_with_count_and_sum(manager, web_client, pipeline, stages, client_party):
    deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="1500")
    response = web_client(manager).get(reverse("crm:kanban", args=[pipeline.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kits" in body and "Negotiation" in body
    assert f'data-testid="stage-{stages["New"].pk}-totals"><span class="count">1</span>' in body


def test_drop_into_stage_with_empty_required_fields_is_refused_with_their_names(manager, web_client, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    response = web_client(manager).post(
        reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Negotiation"].pk}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="kanban-board"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "kanban-error" in body and "amount" in body and "expected close" in body
    deal.refresh_from_db()
    assert deal.stage == stages["New"]


def test_drop_succeeds_when_fields_are_filled(manager, web_client, pipeline, stages, client_party):
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="5")
    response = web_client(manager).post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Proposal"].pk}, HTTP_HX_REQUEST="true")
    assert "kanban-notice" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]


def test_moving_someone_elses_deal_is_404(manager, other_manager, web_client, pipeline, stages, client_party):
    deal = deal_create(actor=other_manager, pipeline=pipeline, title="Theirs", counterparty=client_party, amount="5")
    response = web_client(manager).post(reverse("crm:deal_move", args=[deal.pk]), {"stage": stages["Proposal"].pk})
    assert response.status_code == 404
    assert Deal.objects.get(pk=deal.pk).stage == stages["New"]
    assert "Theirs" not in web_client(manager).get(reverse("crm:kanban", args=[pipeline.pk])).content.decode()


def test_board_filters_by_amount(manager, web_client, pipeline, client_party):
    deal_create(actor=manager, pipeline=pipeline, title="Small one", counterparty=client_party, amount="10")
    deal_create(actor=manager, pipeline=pipeline, title="Big one", counterparty=client_party, amount="1000")
    body = web_client(manager).get(reverse("crm:kanban", args=[pipeline.pk]), {"amount_min": "100"}).content.decode()
    assert "Big one" in body and "Small one" not in body


def test_deal_form_creates_and_shows_errors(manager, web_client, pipeline, client_party):
    client = web_client(manager)
    url = reverse("crm:deal_create", args=[pipeline.pk])
    bad = client.post(url, {"title": "", "counterparty": client_party.pk})
    assert bad.status_code == 200 and Deal.objects.count() == 0
    ok = client.post(url, {"title": "Kits", "counterparty": client_party.pk, "amount": "12.50", "responsible": manager.pk})
    deal = Deal.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("crm:deal_detail", args=[deal.pk])
    card = client.get(ok["Location"]).content.decode()
    assert deal.number in card and "Stage history" in card


def test_deal_list_and_pipeline_pages_render(admin_user, manager, web_client, pipeline, client_party):
    deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    assert "Kits" in web_client(manager).get(reverse("crm:deal_list")).content.decode()
    assert web_client(admin_user).get(reverse("crm:pipeline_list")).status_code == 200
    assert "Negotiation" in web_client(admin_user).get(reverse("crm:pipeline_detail", args=[pipeline.pk])).content.decode()
    assert web_client(manager).get(reverse("crm:stage_create", args=[pipeline.pk])).status_code == 403


def test_stage_form_saves_automation(admin_user, web_client, pipeline, stages):
    response = web_client(admin_user).post(
        reverse("crm:stage_edit", args=[stages["New"].pk]),
        {"name": "New", "kind": "open", "probability": "10", "color": "#112233", "required_fields": ["amount"], "remind_after_days": "2"},
    )
    assert response.status_code == 302
    stages["New"].refresh_from_db()
    assert stages["New"].remind_after_days == 2 and stages["New"].required_fields == ["amount"] and stages["New"].color == "#112233"
