"""Shipments and returns over the API: create with Idempotency-Key, patch a draft, post, cancel, errors and scope."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fabrika.inventory.models import StockDocument
from fabrika.sales.models import SalesReturn, Shipment

from . import shipment_factories as f

D = Decimal
BASE = "/api/v1/sales"


@pytest.fixture
def pump(storekeeper, main_location):
    item = f.product(storekeeper, "PUMP")
    f.receive(storekeeper, item, "10", "50.00", to=main_location)
    return item


@pytest.fixture
def pump_order(manager, client_party, warehouse, pump):
    return f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "10", "99.99", "7")])


def post(client, url, body=None, **headers):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json", **headers)


def test_create_patch_post_and_cancel(api_client, manager, storekeeper, pump_order):
    line = pump_order.lines.get()
    as_manager, as_keeper = api_client(manager), api_client(storekeeper)
    body = {"order_id": pump_order.pk, "date": "2026-03-12", "remind_after_months": 12}
    created = post(as_manager, f"{BASE}/shipments", body, HTTP_IDEMPOTENCY_KEY="ship-1")
    assert created.status_code == 201, created.content
    shipment = created.json()
    assert [(row["order_line_id"], row["quantity"]) for row in shipment["lines"]] == [(line.pk, "10.0000")]
    replay = post(as_manager, f"{BASE}/shipments", body, HTTP_IDEMPOTENCY_KEY="ship-1")
    assert replay.status_code == 201 and replay.json()["id"] == shipment["id"] and Shipment.objects.count() == 1
    patched = as_manager.patch(
        f"{BASE}/shipments/{shipment['id']}", data=json.dumps({"lines": [{"order_line_id": line.pk, "quantity": "3"}]}), content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["lines"][0]["quantity"] == "3.0000"
    # a sales manager prepares the shipment; the storekeeper posts it
    assert post(as_manager, f"{BASE}/shipments/{shipment['id']}/post").status_code == 403
    posted = post(as_keeper, f"{BASE}/shipments/{shipment['id']}/post")
    assert posted.status_code == 200, posted.content
    result = posted.json()
    assert (result["status"], result["total"], result["cost"], result["lines"][0]["total"]) == ("posted", "278.97", "150.00", "278.97")
    assert result["stock_document_number"]
    listed = as_manager.get(f"{BASE}/shipments", {"status": "posted", "counterparty_id": pump_order.counterparty_id})
    assert listed.status_code == 200 and [row["id"] for row in listed.json()["items"]] == [shipment["id"]]
    assert post(as_manager, f"{BASE}/shipments/{shipment['id']}/cancel").status_code == 403  # posted: the storekeeper's
    assert Shipment.objects.get(pk=shipment["id"]).status == "posted"
    cancelled = post(as_keeper, f"{BASE}/shipments/{shipment['id']}/cancel", {"date": "2026-03-13"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # a draft is cancelled by whoever prepared it
    draft = post(as_manager, f"{BASE}/shipments", {"order_id": pump_order.pk}).json()
    assert post(as_manager, f"{BASE}/shipments/{draft['id']}/cancel").json()["status"] == "cancelled"


def test_bad_input_is_422_naming_the_field_and_changes_nothing(api_client, manager, pump_order):
    line = pump_order.lines.get()
    response = post(api_client(manager), f"{BASE}/shipments", {"order_id": pump_order.pk, "lines": [{"order_line_id": line.pk, "quantity": "11"}]})
    assert response.status_code == 422
    problem = response.json()
    assert "lines.0.quantity" in json.dumps(problem) and "10 remaining to ship" in json.dumps(problem)
    response = post(api_client(manager), f"{BASE}/shipments", {"order_id": pump_order.pk, "lines": [{"order_line_id": line.pk, "quantity": "abc"}]})
    assert response.status_code == 422 and "Enter a number" in json.dumps(response.json())
    assert not Shipment.objects.exists()


def test_shortage_is_409_with_the_available_quantity(api_client, storekeeper, manager, client_party, warehouse, pump):
    unreserved = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "12", "10.00", "0")], reserve=False)
    keeper = api_client(storekeeper)
    shipment = post(keeper, f"{BASE}/shipments", {"order_id": unreserved.pk}).json()
    documents = StockDocument.objects.count()
    response = post(keeper, f"{BASE}/shipments/{shipment['id']}/post")
    assert response.status_code == 409
    body = json.dumps(response.json())
    assert "10 available" in body and "PUMP" in body
    assert StockDocument.objects.count() == documents
    assert Shipment.objects.get(pk=shipment["id"]).status == "draft"


def test_scope_hides_other_managers_shipments(api_client, storekeeper, other_manager, pump_order):
    shipment = post(api_client(storekeeper), f"{BASE}/shipments", {"order_id": pump_order.pk}).json()
    other = api_client(other_manager)
    assert other.get(f"{BASE}/shipments/{shipment['id']}").status_code == 404
    assert other.get(f"{BASE}/shipments").json()["items"] == []
    assert post(other, f"{BASE}/shipments", {"order_id": pump_order.pk}).status_code == 404
    assert Shipment.objects.count() == 1


def test_return_over_the_api(api_client, storekeeper, manager, pump_order):
    keeper = api_client(storekeeper)
    line = pump_order.lines.get()
    shipment = post(keeper, f"{BASE}/shipments", {"order_id": pump_order.pk, "date": "2026-03-12"}).json()
    assert post(keeper, f"{BASE}/shipments/{shipment['id']}/post").status_code == 200
    too_many = post(api_client(manager), f"{BASE}/returns", {"order_id": pump_order.pk, "lines": [{"order_line_id": line.pk, "quantity": "11"}]})
    assert too_many.status_code == 422 and not SalesReturn.objects.exists()
    created = post(api_client(manager), f"{BASE}/returns", {"order_id": pump_order.pk, "date": "2026-03-20", "reason": "Wrong size",
                                                            "lines": [{"order_line_id": line.pk, "quantity": "1"}]}, HTTP_IDEMPOTENCY_KEY="ret-1")
    assert created.status_code == 201, created.content
    posted = post(keeper, f"{BASE}/returns/{created.json()['id']}/post")
    assert posted.status_code == 200 and posted.json()["status"] == "posted" and posted.json()["total"] == "92.99"
    assert api_client(manager).get(f"{BASE}/returns").json()["items"][0]["reason"] == "Wrong size"


def test_list_and_detail_queries_do_not_grow_with_rows(api_client, storekeeper, manager, client_party, warehouse, pump):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fabrika.sales import services_shipments as services

    def ship_one():
        one = f.order(actor=manager, counterparty=client_party, warehouse=warehouse, lines=[(pump, "1", "10.00", "0")])
        services.shipment_post(actor=storekeeper, shipment_id=services.shipment_create(actor=storekeeper, order_id=one.pk, data={}).pk)

    client = api_client(manager)
    ship_one()
    client.get(f"{BASE}/shipments")  # warm-up: token and permission caches
    with CaptureQueriesContext(connection) as one_row:
        assert len(client.get(f"{BASE}/shipments").json()["items"]) == 1
    ship_one()
    ship_one()
    with CaptureQueriesContext(connection) as three_rows:
        assert len(client.get(f"{BASE}/shipments").json()["items"]) == 3
    assert len(three_rows.captured_queries) == len(one_row.captured_queries)


def test_openapi_describes_the_shipment_and_return_operations(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert sorted(paths[f"{BASE}/shipments"]) == ["get", "post"]
    assert sorted(paths[f"{BASE}/shipments/{{shipment_id}}"]) == ["get", "patch"]
    assert sorted(paths[f"{BASE}/returns/{{return_id}}/cancel"]) == ["post"]
    body = paths[f"{BASE}/shipments"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ShipmentIn"}
    assert {"order_id", "lines", "remind_after_months"} <= set(schema["components"]["schemas"]["ShipmentIn"]["properties"])
