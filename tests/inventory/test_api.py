from __future__ import annotations

import json

from django.contrib.auth.models import Permission

from fabrika.inventory.models import StockDocument, StockDocumentLine, StockMove

from .conftest import balance


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def test_receipt_and_issue_through_the_api(storekeeper, api_client, main, pcs):
    client = api_client(storekeeper)
    # a product
    response = post(client, "/api/v1/catalog/products", {"sku": "MOTOR", "name": "Motor", "stock_unit_id": pcs.pk})
    assert response.status_code == 201, response.content
    product_id = response.json()["id"]
    # a receipt: create, add a line, post
    document = post(client, "/api/v1/inventory/documents", {"document_type": "receipt", "date": "2026-03-02", "to_location_id": main.pk}).json()
    response = post(client, f"/api/v1/inventory/documents/{document['id']}/lines", {"product_id": product_id, "quantity": "4", "unit_cost": "12.50"})
    assert response.status_code == 201, response.content
    assert response.json()[0]["stock_quantity"] == "4.0000"
    response = post(client, f"/api/v1/inventory/documents/{document['id']}/post")
    assert response.status_code == 200, response.content
    posted = response.json()
    assert posted["status"] == "posted" and posted["total_value"] == "50.00" and posted["number"]
    # an issue of more than there is: 409 problem+json naming what is available; nothing moves
    issue = post(client, "/api/v1/inventory/documents", {"document_type": "issue", "date": "2026-03-03", "from_location_id": main.pk}).json()
    post(client, f"/api/v1/inventory/documents/{issue['id']}/lines", {"product_id": product_id, "quantity": "5"})
    response = post(client, f"/api/v1/inventory/documents/{issue['id']}/post")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_stock"
    assert StockMove.objects.count() == 1
    # reports
    on_hand = client.get("/api/v1/inventory/reports/on-hand", {"group_by": "product"}).json()
    assert on_hand == [{"product_id": product_id, "warehouse_id": None, "location_id": None, "lot_id": None, "quantity": "4.0000", "value": "50.00"}]
    valuation = client.get("/api/v1/inventory/reports/valuation").json()
    assert valuation["total_value"] == "50.00" and valuation["items"][0]["unit_cost"] == "12.500000"
    turnover = client.get("/api/v1/inventory/reports/turnover", {"date_from": "2026-03-01", "date_to": "2026-03-31"}).json()
    assert turnover[0]["in_quantity"] == "4.0000" and turnover[0]["closing_value"] == "50.00"
    # cancel the receipt
    response = post(client, f"/api/v1/inventory/documents/{document['id']}/cancel", {"date": "2026-03-04"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_bad_line_is_422_naming_the_field(storekeeper, api_client, main, pcs):
    client = api_client(storekeeper)
    document = post(client, "/api/v1/inventory/documents", {"document_type": "receipt", "to_location_id": main.pk}).json()
    response = post(client, f"/api/v1/inventory/documents/{document['id']}/lines", {"product_id": 9999, "quantity": "x"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"product", "quantity", "unit_cost"}
    assert StockDocumentLine.objects.count() == 0
    response = client.get("/api/v1/inventory/reports/on-hand", {"group_by": "colour"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["group_by"]


def test_permissions_and_scope(make_user, api_client, storekeeper, main, pcs):
    # a sales manager without inventory permissions is refused
    outsider = make_user("Sales manager")
    response = api_client(outsider).get("/api/v1/inventory/documents")
    assert response.status_code == 403
    # a user who may view and add documents but has the "own" scope sees only their own
    clerk = make_user("Sales manager")
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_stockdocument", "add_stockdocument", "change_stockdocument"]))
    document = post(api_client(storekeeper), "/api/v1/inventory/documents", {"document_type": "receipt", "to_location_id": main.pk}).json()
    client = api_client(clerk)
    assert client.get(f"/api/v1/inventory/documents/{document['id']}").status_code == 404
    assert client.get("/api/v1/inventory/documents").json()["items"] == []
    # and may not post even their own draft without the post permission
    own = post(client, "/api/v1/inventory/documents", {"document_type": "receipt", "to_location_id": main.pk}).json()
    assert post(client, f"/api/v1/inventory/documents/{own['id']}/post").status_code == 403
    assert StockDocument.objects.get(pk=own["id"]).status == "draft"


def test_barcode_scan_adds_a_line(storekeeper, api_client, main, pcs):
    client = api_client(storekeeper)
    product = post(client, "/api/v1/catalog/products", {"sku": "CASE", "name": "Case", "stock_unit_id": pcs.pk}).json()
    assert post(client, f"/api/v1/catalog/products/{product['id']}/barcodes", {"code": "2000000000015"}).status_code == 201
    assert client.get("/api/v1/catalog/products/by-barcode/2000000000015").json()["product"]["sku"] == "CASE"
    document = post(client, "/api/v1/inventory/documents", {"document_type": "receipt", "to_location_id": main.pk}).json()
    response = post(client, f"/api/v1/inventory/documents/{document['id']}/lines", {"barcode": "2000000000015", "unit_cost": "3"})
    assert response.status_code == 201, response.content
    assert response.json()[0]["product_id"] == product["id"] and response.json()[0]["quantity"] == "1.0000"
    post(client, f"/api/v1/inventory/documents/{document['id']}/post")
    from fabrika.catalog.models import Product

    assert balance(Product.objects.get(sku="CASE"), main)[0] == 1


def test_a_repeated_document_create_with_the_same_key_creates_one_document(storekeeper, api_client, main):
    client = api_client(storekeeper)
    body = json.dumps({"document_type": "receipt", "date": "2026-03-02", "to_location_id": main.pk})
    first = client.post("/api/v1/inventory/documents", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rcpt-1")
    again = client.post("/api/v1/inventory/documents", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rcpt-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"] and again["Idempotency-Replayed"] == "true"
    other = json.dumps({"document_type": "receipt", "date": "2026-03-03", "to_location_id": main.pk})
    assert client.post("/api/v1/inventory/documents", other, content_type="application/json", HTTP_IDEMPOTENCY_KEY="rcpt-1").status_code == 422
    assert StockDocument.objects.count() == 1
