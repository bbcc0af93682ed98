"""Stock reports on a worked example: three receipts at different costs, an issue, a transfer and a back-dated
receipt (FIFO). Exact figures in the JSON, the page and the XLSX cells."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from fabrika.core.models import AuditEntry

D = Decimal
MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def example(ledger, main, second):
    product = ledger.product(sku="BOARD")
    ledger.receive(product, 10, "2.50", to=main, date=MARCH + dt.timedelta(days=1))
    ledger.receive(product, 10, "3.00", to=main, date=MARCH + dt.timedelta(days=3))
    ledger.receive(product, 10, "3.20", to=main, date=MARCH + dt.timedelta(days=5))
    ledger.issue(product, 15, source=main, date=MARCH + dt.timedelta(days=6))
    ledger.transfer(product, 5, source=main, to=second, date=MARCH + dt.timedelta(days=7))
    ledger.receive(product, 10, "2.00", to=main, date=MARCH)  # back-dated: the issue now takes 10 × 2.00 + 5 × 2.50
    return product


def _get(client, key, **params):
    response = client.get(f"/api/v1/inventory/stock-reports/{key}", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_on_hand_at_a_past_date_and_now_per_location(example, storekeeper, api_client, main, second):
    client = api_client(storekeeper)
    before_issue = _get(client, "on_hand", at="2026-03-06")
    assert [(r["sku"], r["location"], r["quantity"], r["value"]) for r in before_issue["rows"]] == [("BOARD", "MAIN", "40.0000", "107.00")]
    now = _get(client, "on_hand", at="2026-03-31")
    assert [(r["location"], r["quantity"], r["value"]) for r in now["rows"]] == [("MAIN", "20.0000", "62.00"), ("WH2", "5.0000", "12.50")]
    assert now["totals"] == {"quantity": "25.0000", "value": "74.50"}
    only_second = _get(client, "on_hand", at="2026-03-31", warehouse=str(second.warehouse_id))
    assert only_second["totals"] == {"quantity": "5.0000", "value": "12.50"}


def test_turnover_opening_plus_in_minus_out_is_closing(example, storekeeper, api_client, main):
    client = api_client(storekeeper)
    company = _get(client, "turnover", date_from="2026-03-02", date_to="2026-03-31")
    (row,) = company["rows"]
    assert (row["opening_quantity"], row["opening_value"]) == ("10.0000", "20.00")
    assert (row["in_quantity"], row["in_value"]) == ("30.0000", "87.00")  # the transfer stays inside: neither in nor out
    assert (row["out_quantity"], row["out_value"]) == ("15.0000", "32.50")
    assert (row["closing_quantity"], row["closing_value"]) == ("25.0000", "74.50")
    (main_row,) = _get(client, "turnover", date_from="2026-03-02", date_to="2026-03-31", warehouse=str(main.warehouse_id))["rows"]
    assert (main_row["out_quantity"], main_row["out_value"], main_row["closing_quantity"], main_row["closing_value"]) == ("20.0000", "45.00", "20.0000", "62.00")
    for r in (row, main_row):
        assert D(r["opening_quantity"]) + D(r["in_quantity"]) - D(r["out_quantity"]) == D(r["closing_quantity"])
        assert D(r["opening_value"]) + D(r["in_value"]) - D(r["out_value"]) == D(r["closing_value"])


def test_valuation_and_xlsx_cells_hold_the_same_numbers(example, storekeeper, api_client):
    client = api_client(storekeeper)
    valuation = _get(client, "valuation", at="2026-03-31")
    assert [(r["quantity"], r["unit_cost"], r["value"], r["method"]) for r in valuation["rows"]] == [("25.0000", "2.980000", "74.50", "fifo")]
    response = client.get("/api/v1/inventory/stock-reports/turnover", {"date_from": "2026-03-02", "date_to": "2026-03-31", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "Turnover sheet" and "2026-03-02" in sheet["A2"].value
    assert sheet["A3"].value == "SKU" and sheet["D3"].value == "Opening quantity"
    assert [sheet.cell(row=4, column=c).value for c in range(1, 12)] == ["BOARD", "Product BOARD", "pcs", 10, 20, 30, 87, 15, 32.5, 25, 74.5]
    assert isinstance(sheet["K4"].value, float | int) and sheet["K4"].number_format == "#,##0.00"
    assert sheet["A5"].value == "Total" and sheet["K5"].value == 74.5
    entry = AuditEntry.objects.get(action="export")
    assert entry.changes["report"] == "inventory.turnover" and entry.changes["rows"] == 1


def test_bad_filters_are_422_naming_the_field(example, storekeeper, api_client, web_client):
    client = api_client(storekeeper)
    response = client.get("/api/v1/inventory/stock-reports/turnover", {"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert response.status_code == 422 and "date_to" in response.json()["errors"]
    assert client.get("/api/v1/inventory/stock-reports/on_hand", {"at": "yesterday"}).json()["errors"]["at"]
    assert client.get("/api/v1/inventory/stock-reports/nope").status_code == 422
    page = web_client(storekeeper).get("/inventory/reports/turnover/", {"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert page.status_code == 422 and "Must be on or after" in page.content.decode()


def test_expiring_lots_and_serial_history(ledger, main, storekeeper, api_client):
    milk = ledger.product(sku="MILK", tracking="lot")
    ledger.receive(milk, 5, "1.00", to=main, date=MARCH, lot_code="L1", expiry_date="2026-03-10")
    ledger.receive(milk, 7, "1.10", to=main, date=MARCH, lot_code="L2", expiry_date="2026-06-01")
    robot = ledger.product(sku="ROBOT", tracking="serial")
    ledger.receive(robot, 1, "900", to=main, date=MARCH, serial="SN-1")
    ledger.issue(robot, 1, source=main, date=MARCH + dt.timedelta(days=2), serial="SN-1")
    client = api_client(storekeeper)
    expiring = _get(client, "expiring", on="2026-03-05", within_days="30")
    assert [(r["lot"], r["days_left"], r["quantity"], r["value"]) for r in expiring["rows"]] == [("L1", 5, "5.0000", "5.00")]
    history = _get(client, "serial", serial="SN-1")
    assert [(r["date"], r["to_location"]) for r in history["rows"]][0][0] == "2026-03-01"
    assert len(history["rows"]) == 2 and history["parameters"]["in_stock"] is False


def test_pages_render_with_totals_and_need_permission(example, storekeeper, web_client, make_user):
    client = web_client(storekeeper)
    assert client.get("/inventory/reports/").status_code == 200
    page = client.get("/inventory/reports/on_hand/", {"at": "2026-03-31"})
    assert page.status_code == 200 and "74.50" in page.content.decode()
    export = client.get("/inventory/reports/on_hand/", {"at": "2026-03-31", "format": "xlsx"})
    assert load_workbook(io.BytesIO(export.content)).active["A6"].value == "Total"
    assert web_client(make_user("Sales manager")).get("/inventory/reports/").status_code == 403
