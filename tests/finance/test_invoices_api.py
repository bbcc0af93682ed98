"""Invoices, credit notes and schedules over the API: create/post/cancel, 422 naming fields, scope 404, permission 403."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from fabrika.finance.models import CreditNote, Invoice, PaymentScheduleItem

from .conftest import INVOICE_DAY

D = Decimal
pytestmark = pytest.mark.django_db
BASE = "/api/v1/finance"


def _post(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def test_invoice_from_order_post_and_cancel(order, accountant, api_client):
    client = api_client(accountant)
    chair_line = order.lines.get(product__sku="CHAIR")
    payload = {"order_id": order.pk, "date": INVOICE_DAY.isoformat(), "lines": [{"order_line_id": chair_line.pk, "quantity": "2"}]}
    created = _post(client, f"{BASE}/invoices/from-order", payload, HTTP_IDEMPOTENCY_KEY="inv-1")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["total"], body["tax_total"], len(body["lines"])) == ("draft", "2000.00", "333.33", 1)
    replay = _post(client, f"{BASE}/invoices/from-order", payload, HTTP_IDEMPOTENCY_KEY="inv-1")
    assert replay.status_code == 201 and replay.json()["id"] == body["id"]
    assert Invoice.objects.count() == 1
    posted = _post(client, f"{BASE}/invoices/{body['id']}/post", {"due_date": "2026-04-15"})
    assert posted.status_code == 200, posted.content
    assert (posted.json()["status"], posted.json()["due_date"], posted.json()["open_amount"]) == ("posted", "2026-04-15", "2000.00")
    listed = client.get(f"{BASE}/invoices", {"direction": "out", "open_only": "true"})
    assert [row["id"] for row in listed.json()["items"]] == [body["id"]]
    cancelled = _post(client, f"{BASE}/invoices/{body['id']}/cancel", {"date": "2026-03-20"})
    assert cancelled.json()["status"] == "cancelled"


def test_bad_input_is_422_naming_the_field_and_changes_nothing(order, client_party, accountant, api_client):
    client = api_client(accountant)
    chair_line = order.lines.get(product__sku="CHAIR")
    over = _post(client, f"{BASE}/invoices/from-order", {"order_id": order.pk, "lines": [{"order_line_id": chair_line.pk, "quantity": "9"}]})
    assert over.status_code == 422
    assert "lines.0.quantity" in json.dumps(over.json())
    bad = _post(client, f"{BASE}/invoices", {"counterparty_id": client_party.pk, "lines": [{"description": "Work", "quantity": "1", "price": "1.234"}]})
    assert bad.status_code == 422 and "lines.0.price" in json.dumps(bad.json())
    schema = _post(client, f"{BASE}/invoices", {"counterparty_id": "x"})
    assert schema.status_code == 422
    assert Invoice.objects.count() == 0


def test_supplier_invoice_patch_and_lines(supplier, chair, accountant, api_client):
    client = api_client(accountant)
    created = _post(client, f"{BASE}/invoices", {"direction": "in", "counterparty_id": supplier.pk, "date": INVOICE_DAY.isoformat(),
                                                 "supplier_reference": "WS-1", "prices_include_tax": False,
                                                 "lines": [{"product_id": chair.pk, "quantity": "2", "price": "600.00"}]})
    assert created.status_code == 201, created.content
    invoice_id = created.json()["id"]
    line = _post(client, f"{BASE}/invoices/{invoice_id}/lines", {"description": "Delivery", "quantity": "1", "price": "100", "tax_rate": "20"})
    assert line.status_code == 201 and line.json()["total"] == "120.00"
    patched = client.patch(f"{BASE}/invoices/{invoice_id}", data=json.dumps({"notes": "March"}), content_type="application/json")
    assert patched.json()["total"] == "1560.00"
    removed = client.delete(f"{BASE}/invoices/{invoice_id}/lines/{line.json()['id']}")
    assert removed.status_code == 204
    assert client.get(f"{BASE}/invoices/{invoice_id}").json()["total"] == "1440.00"


def test_credit_notes_api(order, make_invoice, accountant, api_client):
    client = api_client(accountant)
    invoice = make_invoice(order)
    too_much = _post(client, f"{BASE}/credit-notes/from-invoice", {"invoice_id": invoice.pk, "lines": [{"invoice_line_id": invoice.lines.first().pk, "quantity": "5"}]})
    assert too_much.status_code == 422 and CreditNote.objects.count() == 0
    created = _post(client, f"{BASE}/credit-notes/from-invoice", {"invoice_id": invoice.pk, "full": True, "date": INVOICE_DAY.isoformat()})
    assert created.status_code == 201, created.content
    note_id = created.json()["id"]
    posted = _post(client, f"{BASE}/credit-notes/{note_id}/post", {})
    assert (posted.json()["status"], posted.json()["total"]) == ("posted", "8500.00")
    assert client.get(f"{BASE}/invoices/{invoice.pk}").json()["credited_amount"] == "8500.00"
    cancelled = _post(client, f"{BASE}/credit-notes/{note_id}/cancel", {})
    assert cancelled.json()["status"] == "cancelled"


def test_schedule_api(order, accountant, manager, api_client):
    client = api_client(manager)
    done = client.put(f"{BASE}/schedules", data=json.dumps({"order_id": order.pk, "items": [
        {"kind": "prepayment", "due_date": "2026-03-10", "percent": "30"}, {"due_date": "2026-04-10"}]}), content_type="application/json")
    assert done.status_code == 200, done.content
    assert [item["amount"] for item in done.json()["items"]] == ["2550.00", "5950.00"]
    bad = client.put(f"{BASE}/schedules", data=json.dumps({"order_id": order.pk, "items": [{"due_date": "2026-03-01", "amount": "8500.00"}]}),
                     content_type="application/json")
    assert bad.status_code == 422 and "items.0.due_date" in json.dumps(bad.json())
    assert PaymentScheduleItem.objects.count() == 2
    generated = _post(api_client(accountant), f"{BASE}/schedules/generate", {"order_id": order.pk, "prepayment_percent": "0", "instalments": 2})
    assert [item["amount"] for item in generated.json()["items"]] == ["4250.00", "4250.00"]


def test_scope_and_permissions(order, make_invoice, other_manager, manager, api_client, storekeeper):
    invoice = make_invoice(order)
    # the order's manager sees the invoice; another manager (scope own) gets 404
    assert api_client(manager).get(f"{BASE}/invoices/{invoice.pk}").status_code == 200
    assert api_client(other_manager).get(f"{BASE}/invoices/{invoice.pk}").status_code == 404
    assert api_client(other_manager).get(f"{BASE}/invoices").json()["items"] == []
    # a manager may view but not post or cancel invoices; a storekeeper may not even list them
    assert _post(api_client(manager), f"{BASE}/invoices/{invoice.pk}/cancel", {}).status_code == 403
    assert _post(api_client(manager), f"{BASE}/invoices/from-order", {"order_id": order.pk}).status_code == 403
    assert api_client(storekeeper).get(f"{BASE}/invoices").status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "posted" and Invoice.objects.count() == 1
