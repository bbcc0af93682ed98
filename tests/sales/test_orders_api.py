"""The /api/v1/sales/orders endpoints: create (idempotent), lines, confirm, cancel, approvals, availability, scope."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from fabrika.parties.models import Counterparty
from fabrika.sales.models import OrderStatus, SalesOrder, SalesOrderLine

BASE = "/api/v1/sales/orders"


def post(client, url, data=None, **headers):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json", **headers)


def patch(client, url, data):
    return client.patch(url, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def api(api_client, manager):
    return api_client(manager)


def test_create_add_lines_confirm_through_the_api(api, client_party, warehouse, chair, table, prices, stock):
    created = post(api, BASE, {"counterparty_id": client_party.pk, "warehouse_id": warehouse.pk, "date": "2026-03-10"}, HTTP_IDEMPOTENCY_KEY="order-1")
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["status"] == "draft" and order["number"] and order["responsible_id"] == client_party.responsible_id
    again = post(api, BASE, {"counterparty_id": client_party.pk, "warehouse_id": warehouse.pk, "date": "2026-03-10"}, HTTP_IDEMPOTENCY_KEY="order-1")
    assert again.status_code == 201 and again.json()["id"] == order["id"]
    assert SalesOrder.objects.count() == 1
    url = f"{BASE}/{order['id']}"
    line = post(api, f"{url}/lines", {"product_id": chair.pk, "quantity": "2"})
    assert line.status_code == 201, line.content
    assert line.json()["price"] == "1500.00" and line.json()["discount_percent"] == "5.0000" and line.json()["amount"] == "2850.00"
    assert post(api, f"{url}/lines", {"product_id": table.pk, "quantity": "4", "price": "8000.00"}).status_code == 201
    availability = api.get(f"{url}/availability").json()
    assert [(row["available"], row["backorder"]) for row in availability] == [("10.0000", "0"), ("3.0000", "1.0000")]
    confirmed = post(api, f"{url}/confirm", {})
    assert confirmed.status_code == 200, confirmed.content
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["total"] == "34850.00"
    assert [row["reserved_quantity"] for row in body["lines"]] == ["2.0000", "3.0000"]
    cancelled = post(api, f"{url}/cancel", {"reason": "client changed their mind"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "x"}, "quantity"),
        ({"quantity": "1", "price": "-1"}, "price"),
        ({"quantity": "1", "manual_discount_percent": "150"}, "manual_discount_percent"),
        ({"quantity": "1", "product_id": 999999}, "product"),
    ],
)
def test_bad_line_input_is_422_naming_the_field(api, make_order, chair, payload, field):
    order = make_order(lines=[(chair, "1", "100")], confirm=False)
    response = post(api, f"{BASE}/{order.pk}/lines", {"product_id": chair.pk, **payload})
    assert response.status_code == 422, response.content
    assert field in json.dumps(response.json())
    assert SalesOrderLine.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.total == D("100.00")


def test_bad_header_input_is_422_and_creates_nothing(api, warehouse, client_party):
    for payload, field in (
        ({"warehouse_id": warehouse.pk}, "counterparty"),
        ({"counterparty_id": 999999, "warehouse_id": warehouse.pk}, "counterparty"),
        ({"counterparty_id": client_party.pk, "warehouse_id": warehouse.pk, "currency": "XYZ"}, "currency"),
        ({"counterparty_id": client_party.pk, "warehouse_id": warehouse.pk, "date": "2026-03-10", "expected_ship_date": "2026-03-01"}, "expected_ship_date"),
    ):
        response = post(api, BASE, payload)
        assert response.status_code == 422, (payload, response.content)
        assert field in json.dumps(response.json())
    response = post(api, BASE, {"counterparty_id": client_party.pk, "date": "not-a-date"})
    assert response.status_code == 422
    assert SalesOrder.objects.count() == 0


def test_patch_of_a_confirmed_order_is_409(api, make_order, chair):
    order = make_order(lines=[(chair, "1", "100")])
    response = patch(api, f"{BASE}/{order.pk}", {"notes": "late"})
    assert response.status_code == 409
    line = order.lines.get()
    assert patch(api, f"{BASE}/{order.pk}/lines/{line.pk}", {"quantity": "3"}).status_code == 409
    assert api.delete(f"{BASE}/{order.pk}/lines/{line.pk}").status_code == 409
    assert SalesOrder.objects.get(pk=order.pk).notes == "" and order.lines.get().quantity == D("1")


def test_credit_limit_refusal_is_409_and_override_by_a_permitted_user(api, api_client, make_order, chair, client_party, director):
    client_party.credit_limit = D("1000.00")
    client_party.save(update_fields=["credit_limit"])
    order = make_order(lines=[(chair, "1", "1500")], confirm=False)
    refused = post(api, f"{BASE}/{order.pk}/confirm", {})
    assert refused.status_code == 409 and refused.json()["code"] == "credit_limit_exceeded"
    forbidden = post(api, f"{BASE}/{order.pk}/confirm", {"override_credit_limit": True})
    assert forbidden.status_code == 403
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT
    done = post(api_client(director), f"{BASE}/{order.pk}/confirm", {"override_credit_limit": True})
    assert done.status_code == 200 and done.json()["credit_override_by_id"] == director.pk


def test_approve_and_reject_through_the_api(api, api_client, make_order, chair, head, prices):
    order = make_order(lines=[(chair, "1", "1500"), (chair, "1", "1500")], confirm=False, discount="20")
    first, second = order.lines.order_by("position")
    assert post(api, f"{BASE}/{order.pk}/lines/{first.pk}/approve").status_code == 403
    head_api = api_client(head)
    assert post(head_api, f"{BASE}/{order.pk}/lines/{first.pk}/approve").json()["approval"] == "approved"
    rejected = post(head_api, f"{BASE}/{order.pk}/lines/{second.pk}/reject").json()
    assert (rejected["approval"], rejected["discount_percent"]) == ("rejected", "0")  # a typed price has no automatic discount
    assert post(api, f"{BASE}/{order.pk}/confirm").status_code == 200


def test_scope_another_managers_order_is_404_and_the_head_sees_it(api_client, make_order, chair, other_manager, head, manager, storekeeper):
    order = make_order(lines=[(chair, "1", "100")], confirm=False)
    other = api_client(other_manager)
    assert other.get(f"{BASE}/{order.pk}").status_code == 404
    assert patch(other, f"{BASE}/{order.pk}", {"notes": "mine"}).status_code == 404
    assert post(other, f"{BASE}/{order.pk}/confirm").status_code == 404
    assert other.get(BASE).json()["items"] == []
    assert api_client(head).get(f"{BASE}/{order.pk}").status_code == 200
    assert [row["id"] for row in api_client(head).get(BASE).json()["items"]] == [order.pk]
    # a storekeeper sees orders but may not create one
    keeper = api_client(storekeeper)
    party = Counterparty.objects.get()
    assert post(keeper, BASE, {"counterparty_id": party.pk}).status_code == 403
    assert post(keeper, f"{BASE}/{order.pk}/confirm").status_code == 403
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT and SalesOrder.objects.count() == 1


def test_list_filters(api, make_order, chair, table):
    small = make_order(lines=[(chair, "1", "100")], confirm=False)
    big = make_order(lines=[(table, "1", "9000")])
    assert [row["id"] for row in api.get(BASE, {"status": "confirmed"}).json()["items"]] == [big.pk]
    assert [row["id"] for row in api.get(BASE, {"total_max": "500"}).json()["items"]] == [small.pk]
    assert api.get(BASE, {"total_min": "abc"}).status_code == 422
