"""The order pages: list with filters and export, form (also from a deal), card with the line editor, approvals,
confirm with the credit limit override, cancel; scope and permissions."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.urls import reverse

from fabrika.sales.models import DiscountApproval, OrderStatus, SalesOrder, SalesOrderLine

from .conftest import ORDER_DAY


@pytest.fixture
def web(web_client, manager):
    return web_client(manager)


def test_list_shows_the_orders_in_scope_with_filters_and_export(web, web_client, other_manager, make_order, chair, table):
    draft = make_order(lines=[(chair, "1", "100")], confirm=False)
    confirmed = make_order(lines=[(table, "1", "9000")])
    page = web.get(reverse("sales:order_list"))
    assert page.status_code == 200
    body = page.content.decode()
    assert draft.number in body and confirmed.number in body and "Robokids School" in body
    filtered = web.get(reverse("sales:order_list"), {"status": "confirmed"}).content.decode()
    assert confirmed.number in filtered and draft.number not in filtered
    by_amount = web.get(reverse("sales:order_list"), {"total_min": "1000"}).content.decode()
    assert confirmed.number in by_amount and draft.number not in by_amount
    exported = web.get(reverse("sales:order_list"), {"export": "csv"})
    assert exported.status_code == 200 and confirmed.number in b"".join(exported.streaming_content if exported.streaming else [exported.content]).decode()
    assert draft.number not in web_client(other_manager).get(reverse("sales:order_list")).content.decode()


def test_create_from_a_deal_prefills_the_client(web, manager, client_party, warehouse):
    from fabrika.crm.services_pipelines import deal_create, pipeline_create

    pipeline = pipeline_create(actor=manager, data={"name": "Sales", "purpose": "sales"}, stages=[{"name": "New"}])
    deal = deal_create(actor=manager, pipeline=pipeline, title="Desks", counterparty=client_party)
    page = web.get(reverse("sales:order_create") + f"?deal={deal.pk}")
    assert page.status_code == 200 and deal.number in page.content.decode()
    response = web.post(reverse("sales:order_create") + f"?deal={deal.pk}", {
        "counterparty": client_party.pk, "warehouse": warehouse.pk, "date": "2026-03-10", "deal": deal.pk,
    })
    order = SalesOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("sales:order_detail", args=[order.pk])
    assert (order.deal, order.counterparty, order.responsible) == (deal, client_party, manager)


def test_form_errors_are_shown_and_nothing_is_saved(web, warehouse, client_party):
    response = web.post(reverse("sales:order_create"), {
        "counterparty": client_party.pk, "warehouse": warehouse.pk, "date": "2026-03-10", "currency": "XYZ",
    })
    assert response.status_code == 200 and 'id="error-currency"' in response.content.decode() and "Unknown currency XYZ" in response.content.decode()
    response = web.post(reverse("sales:order_create"), {"warehouse": warehouse.pk, "date": "2026-03-10"})
    assert response.status_code == 200 and 'id="error-counterparty"' in response.content.decode()
    assert SalesOrder.objects.count() == 0


def test_card_line_editor_adds_a_priced_line_and_refuses_bad_input(web, make_order, chair, prices):
    order = make_order(lines=[], confirm=False)
    url = reverse("sales:order_detail", args=[order.pk])
    card = web.get(url)
    assert card.status_code == 200 and "product-search" in card.content.decode()
    hits = web.get(reverse("sales:order_product_search", args=[order.pk]), {"q": "CHA"})
    assert "CHAIR" in hits.content.decode()
    form = web.get(reverse("sales:order_line_form", args=[order.pk]), {"product": chair.pk})
    assert "Price list: 1500.00 RUB" in form.content.decode() and "Spring chairs" in form.content.decode()
    bad = web.post(reverse("sales:order_line_add", args=[order.pk]), {"line-product": chair.pk, "line-quantity": "-2"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Must be greater than zero" in bad.content.decode()
    assert not order.lines.exists()
    added = web.post(reverse("sales:order_line_add", args=[order.pk]), {"line-product": chair.pk, "line-quantity": "2"}, HTTP_HX_REQUEST="true")
    assert added.status_code == 200 and "Spring chairs" in added.content.decode()
    line = order.lines.get()
    assert (line.quantity, line.price, line.discount_percent) == (D("2"), D("1500.00"), D("5"))
    order.refresh_from_db()
    assert order.total == D("2850.00")


def test_line_edit_page_and_the_approval_buttons(web, web_client, head, make_order, chair, prices):
    order = make_order(lines=[(chair, "1", "1500")], confirm=False)
    line = order.lines.get()
    edit_url = reverse("sales:order_line_edit", args=[order.pk, line.pk])
    refused = web.post(edit_url, {"quantity": "0", "manual_discount_percent": "15"})
    assert refused.status_code == 422 and SalesOrderLine.objects.get(pk=line.pk).quantity == D("1")
    assert web.post(edit_url, {"quantity": "2", "manual_discount_percent": "15"}).status_code == 302
    line.refresh_from_db()
    assert (line.quantity, line.approval) == (D("2"), DiscountApproval.PENDING)
    card = web.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert "await approval" in card and "order_line_decide" not in card
    decide = reverse("sales:order_line_decide", args=[order.pk, line.pk, "approve"])
    assert decide in web_client(head).get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert web.post(decide).status_code == 403
    assert web_client(head).post(decide).status_code == 302
    assert SalesOrderLine.objects.get(pk=line.pk).approval == DiscountApproval.APPROVED


def test_confirm_shows_the_override_only_to_permitted_users(web, web_client, director, make_order, chair, client_party):
    client_party.credit_limit = D("100.00")
    client_party.save(update_fields=["credit_limit"])
    order = make_order(lines=[(chair, "1", "1500")], confirm=False)
    url = reverse("sales:order_detail", args=[order.pk])
    card = web.get(url).content.decode()
    assert "Credit limit" in card and "override_credit_limit" not in card
    response = web.post(reverse("sales:order_confirm", args=[order.pk]), follow=True)
    assert "Not confirmed" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    boss = web_client(director)
    assert "override_credit_limit" in boss.get(url).content.decode()
    boss.post(reverse("sales:order_confirm", args=[order.pk]), {"override_credit_limit": "on"})
    order.refresh_from_db()
    assert (order.status, order.credit_override_by) == (OrderStatus.CONFIRMED, director)


def test_confirm_and_cancel_from_the_card(web, make_order, chair, table):
    order = make_order(lines=[(chair, "2", "1500"), (table, "5", "9000")], confirm=False)
    response = web.post(reverse("sales:order_confirm", args=[order.pk]), follow=True)
    assert "backorder" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    card = web.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert "Reservations" in card and "Reserve the backorder" in card
    assert web.get(reverse("sales:order_cancel", args=[order.pk])).status_code == 200
    web.post(reverse("sales:order_cancel", args=[order.pk]), {"reason": "duplicate"})
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_scope_and_permissions_on_the_pages(web_client, make_order, chair, other_manager, head, storekeeper):
    order = make_order(lines=[(chair, "1", "100")], confirm=False)
    other = web_client(other_manager)
    assert other.get(reverse("sales:order_detail", args=[order.pk])).status_code == 404
    assert other.post(reverse("sales:order_confirm", args=[order.pk])).status_code == 404
    assert web_client(head).get(reverse("sales:order_detail", args=[order.pk])).status_code == 200
    keeper = web_client(storekeeper)
    assert keeper.get(reverse("sales:order_create")).status_code == 403
    assert keeper.post(reverse("sales:order_confirm", args=[order.pk])).status_code == 403
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    assert ORDER_DAY == order.date


def test_card_and_list_queries_do_not_grow_with_lines_or_orders(web, make_order, chair, table):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    small = make_order(lines=[(chair, "1", "100")])
    big = make_order(lines=[(chair, "1", "100"), (table, "1", "200"), (chair, "2", "100"), (table, "1", "300")])

    def count(url) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert web.get(url).status_code == 200
        return len(queries)

    assert count(reverse("sales:order_detail", args=[small.pk])) == count(reverse("sales:order_detail", args=[big.pk]))
    before = count(reverse("sales:order_list"))
    for _ in range(3):
        make_order(lines=[(chair, "1", "100")], confirm=False)
    assert count(reverse("sales:order_list")) == before


def test_stage_form_sets_the_order_event(web_client, admin_user):
    from fabrika.crm.models import Stage
    from fabrika.crm.services_pipelines import pipeline_create

    pipeline = pipeline_create(actor=admin_user, data={"name": "Sales", "purpose": "sales"}, stages=[{"name": "New"}])
    web = web_client(admin_user)
    page = web.get(reverse("crm:stage_create", args=[pipeline.pk]))
    assert 'name="order_event"' in page.content.decode()
    response = web.post(reverse("crm:stage_create", args=[pipeline.pk]), {
        "name": "Shipped", "kind": "open", "probability": "90", "color": "#112233", "order_event": "order_shipped",
    })
    assert response.status_code == 302
    assert Stage.objects.get(name="Shipped").order_event == "order_shipped"
    assert "Deals come here when their order is order shipped" in web.get(reverse("crm:pipeline_detail", args=[pipeline.pk])).content.decode()
    bad = web.post(reverse("crm:stage_create", args=[pipeline.pk]), {"name": "Other", "kind": "open", "color": "#112233", "order_event": "order_lost"})
    assert bad.status_code == 200 and not Stage.objects.filter(name="Other").exists()
