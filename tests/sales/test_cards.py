"""The sales app on lower apps' cards: a client's card lists its orders and offers "New order"; a deal's card offers
"Create order" prefilled from the deal and lists the orders made from it — all within the user's scope."""

from __future__ import annotations

from django.urls import reverse

from fabrika.crm.services_pipelines import deal_create, pipeline_create


def test_client_card_lists_own_orders_and_offers_a_new_one(web_client, manager, other_manager, client_party, make_order, chair):
    mine = make_order([(chair, 1, "100.00")], confirm=False)
    theirs = make_order([(chair, 1, "100.00")], confirm=False, actor=other_manager, responsible=other_manager.pk)
    html = web_client(manager).get(reverse("parties:counterparty_detail", args=[client_party.pk])).content.decode()
    assert mine.number in html and theirs.number not in html
    assert f"{reverse('sales:order_create')}?counterparty={client_party.pk}" in html
    form = web_client(manager).get(f"{reverse('sales:order_create')}?counterparty={client_party.pk}").content.decode()
    assert f'value="{client_party.pk}" selected' in form


def test_deal_card_creates_an_order_from_the_deal(web_client, manager, client_party, make_order, chair, admin_user):
    pipeline = pipeline_create(actor=admin_user, data={"name": "Sales", "purpose": "sales"}, stages=[{"name": "New"}, {"name": "Won", "kind": "won"}])
    deal = deal_create(actor=manager, pipeline=pipeline, title="Chairs for the school", counterparty=client_party)
    order = make_order([(chair, 2, "100.00")], confirm=False, deal=deal.pk)
    html = web_client(manager).get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert f"{reverse('sales:order_create')}?deal={deal.pk}" in html
    assert order.number in html


def test_no_sales_buttons_without_sales_permissions(web_client, make_user, client_party):
    service = make_user("Service engineer", username="fixer")
    html = web_client(service).get(reverse("parties:counterparty_detail", args=[client_party.pk])).content.decode()
    assert "New order" not in html
