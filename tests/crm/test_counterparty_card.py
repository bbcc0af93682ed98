"""The CRM's additions to a counterparty's card: activity buttons, its deals and open tasks — within the user's scope."""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from fabrika.crm.services_activities import activity_create
from fabrika.crm.services_pipelines import deal_create


def test_counterparty_card_shows_deals_tasks_and_activity_buttons(web_client, manager, client_party, pipeline):
    # given a deal and an open task of the client
    deal_create(actor=manager, pipeline=pipeline, title="Class kits", counterparty=client_party, amount=Decimal("1000.00"))
    activity_create(actor=manager, data={"kind": "task", "subject": "Call about the kits", "responsible": manager, "counterparty": client_party})
    # when the manager opens the client's card
    page = web_client(manager).get(reverse("parties:counterparty_detail", args=[client_party.pk]))
    # then the CRM sections and buttons are there
    html = page.content.decode()
    assert page.status_code == 200
    assert "Class kits" in html and "Call about the kits" in html
    assert f"{reverse('crm:activity_create')}?counterparty={client_party.pk}&amp;kind=task" in html


def test_counterparty_card_hides_deals_outside_the_scope(web_client, manager, other_manager, client_party, pipeline):
    # given the manager's own deal and another manager's deal with the same client
    deal_create(actor=manager, pipeline=pipeline, title="Own deal", counterparty=client_party)
    deal_create(actor=other_manager, pipeline=pipeline, title="Foreign deal", counterparty=client_party)
    # when the manager (scope: own) opens the client's card
    html = web_client(manager).get(reverse("parties:counterparty_detail", args=[client_party.pk])).content.decode()
    # then only the own deal is listed
    assert "Own deal" in html
    assert "Foreign deal" not in html


def test_counterparty_card_without_crm_permissions_shows_no_crm_buttons(web_client, make_user, client_party):
    storekeeper = make_user("Storekeeper", username="store")
    page = web_client(storekeeper).get(reverse("parties:counterparty_detail", args=[client_party.pk]))
    assert page.status_code in (200, 404)
    assert "Log an activity" not in page.content.decode()
