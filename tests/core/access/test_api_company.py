from __future__ import annotations

import pytest

from fabrika.core import services_access
from fabrika.core.models import AuditEntry, Currency, ExchangeRate
from fabrika.core.selectors import company_settings

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_company_settings_get_and_patch(admin_user, api_client):
    client = api_client(admin_user)
    assert client.get("/api/v1/core/company").json() == {
        "name": "My company", "base_currency": "RUB", "country": "RU", "time_zone": "Europe/Moscow",
        "fiscal_year_start_month": 1, "default_valuation_method": "fifo", "allow_negative_stock": False,
    }
    response = client.patch("/api/v1/core/company", {"name": "Robokids", "default_valuation_method": "average", "allow_negative_stock": True}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["name"] == "Robokids"
    assert response.json()["allow_negative_stock"] is True
    entry = AuditEntry.objects.get(action="update", content_type__model="companysettings")
    assert entry.changes == {"name": ["My company", "Robokids"], "default_valuation_method": ["fifo", "average"], "allow_negative_stock": [False, True]}


def test_company_settings_patch_refuses_with_field_errors_and_changes_nothing(admin_user, api_client):
    response = api_client(admin_user).patch("/api/v1/core/company", {"country": "SU", "time_zone": "Moscow"}, content_type=JSON)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "country": ["Enter an ISO 3166 two-letter country code, e.g. RU, DE, US"],
        "time_zone": ["Enter a time zone from the IANA database, e.g. Europe/Moscow"],
    }
    assert (company_settings().country, company_settings().time_zone) == ("RU", "Europe/Moscow")
    bad_type = api_client(admin_user).patch("/api/v1/core/company", {"fiscal_year_start_month": "May"}, content_type=JSON)
    assert bad_type.status_code == 422
    assert list(bad_type.json()["errors"]) == ["fiscal_year_start_month"]


def test_company_settings_are_for_administrators_only(make_user, api_client):
    manager = api_client(make_user("Sales manager"))
    assert manager.get("/api/v1/core/company").status_code == 403
    response = manager.patch("/api/v1/core/company", {"name": "Mine"}, content_type=JSON)
    assert response.status_code == 403
    assert company_settings().name == "My company"
    director = api_client(make_user("Director"))
    assert director.get("/api/v1/core/company").status_code == 200
    assert director.patch("/api/v1/core/company", {"name": "Mine"}, content_type=JSON).status_code == 403
    assert company_settings().name == "My company"


def test_currencies_and_rates_through_the_api(admin_user, api_client):
    client = api_client(admin_user)
    created = client.post("/api/v1/core/currencies", {"code": "usd"}, content_type=JSON)
    assert created.status_code == 201
    assert {key: value for key, value in created.json().items() if key != "id"} == {"code": "USD", "name": "US Dollar", "symbol": "$", "minor_unit": 2}
    assert [c["code"] for c in client.get("/api/v1/core/currencies").json()] == ["USD"]
    for date, rate in (("2026-01-10", "90.5"), ("2026-01-20", 92.25)):
        assert client.post("/api/v1/core/currencies/USD/rates", {"date": date, "rate": rate}, content_type=JSON).status_code == 201
    rates = client.get("/api/v1/core/currencies/usd/rates").json()
    assert [(r["currency"], r["date"], r["rate"], r["nominal"]) for r in rates] == [
        ("USD", "2026-01-20", "92.250000", 1), ("USD", "2026-01-10", "90.500000", 1)
    ]
    assert len(client.get("/api/v1/core/currencies/USD/rates", {"date_from": "2026-01-15"}).json()) == 1
    assert client.get("/api/v1/core/exchange-rate", {"currency": "USD", "date": "2026-01-15"}).json() == {
        "currency": "USD", "date": "2026-01-15", "rate": "90.500000"
    }
    missing = client.get("/api/v1/core/exchange-rate", {"currency": "USD", "date": "2025-12-31"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "exchange_rate_missing"
    assert missing.json()["detail"] == "No exchange rate for USD on or before 2025-12-31; add one under Currencies"


def test_rate_and_currency_refusals_through_the_api(admin_user, api_client):
    client = api_client(admin_user)
    usd = services_access.currency_create(actor=admin_user, data={"code": "USD"})
    services_access.exchange_rate_add(actor=admin_user, currency_id=usd.pk, data={"date": "2026-01-10", "rate": "90"})
    duplicate = client.post("/api/v1/core/currencies/USD/rates", {"date": "2026-01-10", "rate": "-3"}, content_type=JSON)
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == {
        "date": ["USD already has a rate on 2026-01-10; there is one rate per currency per day"],
        "rate": ["The rate must be greater than 0"],
    }
    not_a_number = client.post("/api/v1/core/currencies/USD/rates", {"date": "2026-01-11", "rate": "lots"}, content_type=JSON)
    assert not_a_number.status_code == 422
    assert list(not_a_number.json()["errors"]) == ["rate"]
    assert client.post("/api/v1/core/currencies/XXX/rates", {"date": "2026-01-11", "rate": "1"}, content_type=JSON).status_code == 404
    bad_code = client.post("/api/v1/core/currencies", {"code": "DOLLAR"}, content_type=JSON)
    assert bad_code.status_code == 422
    assert bad_code.json()["errors"] == {"code": ["At most 3 characters"]}
    assert ExchangeRate.objects.count() == 1
    assert Currency.objects.count() == 1


def test_currency_writes_need_permissions(make_user, api_client):
    manager = api_client(make_user("Sales manager"))
    assert manager.get("/api/v1/core/currencies").status_code == 403
    assert manager.post("/api/v1/core/currencies", {"code": "USD"}, content_type=JSON).status_code == 403
    director = api_client(make_user("Director"))
    assert director.get("/api/v1/core/currencies").status_code == 200
    assert director.post("/api/v1/core/currencies", {"code": "USD"}, content_type=JSON).status_code == 403
    assert Currency.objects.count() == 0
