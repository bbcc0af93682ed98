"""Pricing API: CRUD of price types, lists with items, rules and limits; the quote; bad input (422 naming the field,
nothing changed); permissions (403 without pricing.add_*, 404 for a record that does not exist); idempotent creates."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fabrika.pricing.models import DiscountRule, PriceList, PriceListItem, PriceType

from .conftest import DAY, D, table_counts

pytestmark = pytest.mark.django_db
BASE = "/api/v1/pricing"


def post(client, path, body, **headers):
    return client.post(f"{BASE}{path}", data=json.dumps(body), content_type="application/json", **headers)


def patch(client, path, body):
    return client.patch(f"{BASE}{path}", data=json.dumps(body), content_type="application/json")


@pytest.fixture
def head_api(api_client, head):
    return api_client(head)


def test_price_type_and_list_lifecycle(head_api, world):
    response = post(head_api, "/price-types", {"code": "dealer", "name": "Dealer", "currency": "rub"})
    assert response.status_code == 201, response.content
    dealer = response.json()
    assert (dealer["currency"], dealer["is_retail"], dealer["prices_include_tax"]) == ("RUB", False, True)
    response = post(head_api, "/price-lists", {"price_type_id": dealer["id"], "name": "Dealer 2026", "valid_from": "2026-02-01"})
    assert response.status_code == 201 and response.json()["currency"] == "RUB"
    list_id = response.json()["id"]
    response = post(head_api, f"/price-lists/{list_id}/items", {"product_id": world.kit.pk, "price": "750.00"})
    assert response.status_code == 201 and response.json()["price"] == "750.00" and response.json()["sku"] == "KIT-1"
    item_id = response.json()["id"]
    assert patch(head_api, f"/price-lists/{list_id}/items/{item_id}", {"price": 760}).json()["price"] == "760.00"
    items = head_api.get(f"{BASE}/price-lists/{list_id}/items").json()
    assert [(i["sku"], i["price"]) for i in items] == [("KIT-1", "760.00")]
    # copy +10 %: 760 × 1.1 = 836.00
    response = post(head_api, f"/price-lists/{list_id}/copy", {"valid_from": "2026-04-01", "percent_change": "10"})
    assert response.status_code == 201, response.content
    copy_id = response.json()["id"]
    assert PriceListItem.objects.get(price_list_id=copy_id).price == D("836.00")
    quote = post(head_api, "/quote", {"product_id": world.kit.pk, "quantity": "2", "date": "2026-04-02", "price_type_code": "dealer"}).json()
    assert (quote["price"], quote["retail_price"], quote["price_type_code"]) == ("836.00", "1000.00", "dealer")
    assert head_api.delete(f"{BASE}/price-lists/{list_id}/items/{item_id}").status_code == 204
    assert head_api.delete(f"{BASE}/price-lists/{copy_id}").status_code == 204
    assert not PriceList.objects.filter(pk=copy_id).exists()


def test_quote_with_candidates(head_api, head, world):
    world.school.responsible = head
    world.school.save(update_fields=["responsible"])
    world.rule("personal", percent="7", counterparty_id=world.school.pk, group_ids=[world.robots.pk], name="School 7%")
    world.rule("quantity", group_ids=[world.kits.pk], tiers=[{"threshold": "5", "percent": "3"}], name="Kits 5+")
    response = post(head_api, "/quote", {"product_id": world.kit.pk, "quantity": "5", "counterparty_id": world.school.pk,
                                         "date": DAY.isoformat(), "currency": "RUB"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["price"], body["discount_percent"], body["rule"]) == ("1000.00", "7.0000", "School 7%")
    assert body["price_after_discount"] == "930.00" and body["difference_from_retail_percent"] == "7.00"
    assert [(c["kind"], c["percent"]) for c in body["candidates"]] == [("personal", "7.0000"), ("quantity", "3.0000")]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"product_id": 0, "quantity": "1"}, "product_id"),
        ({"product_id": "KIT", "quantity": "1"}, "product_id"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "abc"}, "quantity"),
        ({"currency": "USD"}, "product"),
        ({"price_type_code": "nope"}, "price_type_code"),
    ],
)
def test_quote_bad_input(head_api, world, body, field):
    response = post(head_api, "/quote", {"product_id": world.kit.pk, "date": DAY.isoformat(), **body})
    assert response.status_code == 422, response.content
    assert any(field in key for key in response.json()["errors"]), response.json()


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/price-types", {"code": "retail", "name": "Again", "currency": "RUB"}, "code"),
        ("/price-types", {"code": "x", "name": "X", "currency": "RUBLE"}, "currency"),
        ("/price-types", {"code": "x", "name": "", "currency": "RUB"}, "name"),
        ("/price-lists", {"price_type_id": "RETAIL", "name": "N", "valid_from": "2026-01-01"}, "price_type_id"),
        ("/price-lists", {"price_type_id": 999999, "name": "N", "valid_from": "2026-05-01"}, "price_type_id"),
        ("/price-lists", {"price_type_id": "{retail}", "name": "N", "valid_from": "2026-01-01"}, "valid_from"),  # same start
        ("/price-lists", {"price_type_id": "{retail}", "name": "N", "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "valid_to"),
        ("/price-lists/{retail_list}/items", {"product_id": "{kit}", "price": "5"}, "product_id"),  # already there
        ("/price-lists/{retail_list}/items", {"product_id": "{new}", "price": "-1"}, "price"),
        ("/price-lists/{retail_list}/items", {"product_id": "{new}", "price": "1.005"}, "price"),
        ("/discount-rules", {"kind": "bogus", "name": "N", "valid_from": "2026-01-01"}, "kind"),
        ("/discount-rules", {"kind": "promotion", "name": "N", "percent": "120", "valid_from": "2026-01-01"}, "percent"),
        ("/discount-rules", {"kind": "promotion", "name": "N", "percent": "0", "valid_from": "2026-01-01"}, "percent"),
        ("/discount-rules", {"kind": "personal", "name": "N", "percent": "5", "valid_from": "2026-01-01"}, "counterparty_id"),
        ("/discount-rules", {"kind": "quantity", "name": "N", "group_ids": ["{kits}"], "valid_from": "2026-01-01",
                             "tiers": [{"threshold": "10", "percent": "5"}, {"threshold": "5", "percent": "3"}]}, "tiers"),
        ("/discount-rules", {"kind": "quantity", "name": "N", "valid_from": "2026-01-01", "tiers": [{"threshold": "5", "percent": "3"}]}, "product_ids"),
        ("/discount-rules", {"kind": "cumulative", "name": "N", "valid_from": "2026-01-01", "tiers": [{"threshold": "5", "percent": "3"}]}, "period_days"),
        ("/discount-rules", {"kind": "volume", "name": "N", "period_days": 30, "percent": "5", "valid_from": "2026-01-01"}, "min_amount"),
        ("/discount-rules", {"kind": "promotion", "name": "N", "percent": "5", "valid_from": "2026-05-01", "valid_to": "2026-04-01"}, "valid_to"),
        ("/discount-rules", {"kind": "promotion", "name": "N", "percent": "5", "valid_from": "2026-01-01", "group_ids": [999999]}, "group_ids"),
        ("/discount-limits", {"max_percent": "5"}, "user_id"),
        ("/discount-limits", {"group_id": "{role}", "max_percent": "101"}, "max_percent"),
    ],
)
def test_create_refusals_name_the_field_and_change_nothing(head_api, world, roles, path, body, field):
    new = world.product("NEW-1", world.parts)
    names = {"retail": world.retail.pk, "retail_list": world.retail_list.pk, "kit": world.kit.pk, "new": new.pk,
             "kits": world.kits.pk, "role": roles["Sales manager"].pk}

    def fill(value):
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            return names[value[1:-1]]
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    before = table_counts()
    response = post(head_api, path.format(**names), fill(body))
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"], response.json()
    assert table_counts() == before


def test_rule_update_and_delete(head_api, world):
    response = post(head_api, "/discount-rules", {
        "kind": "quantity", "name": "Kits", "group_ids": [world.kits.pk], "valid_from": "2026-01-01",
        "tiers": [{"threshold": 5, "percent": 3}, {"threshold": "10", "percent": "5"}],
    })
    assert response.status_code == 201, response.content
    rule = response.json()
    assert [(t["threshold"], t["percent"]) for t in rule["tiers"]] == [("5.0000", "3.0000"), ("10.0000", "5.0000")]
    updated = patch(head_api, f"/discount-rules/{rule['id']}", {"tiers": [{"threshold": "3", "percent": "2"}], "priority": 4}).json()
    assert [(t["threshold"], t["percent"]) for t in updated["tiers"]] == [("3.0000", "2.0000")]
    assert (updated["priority"], updated["group_ids"]) == (4, [world.kits.pk])
    bad = patch(head_api, f"/discount-rules/{rule['id']}", {"tiers": [{"threshold": "3", "percent": "200"}]})
    assert bad.status_code == 422 and "tiers" in bad.json()["errors"]
    assert DiscountRule.objects.get(pk=rule["id"]).tiers.get().percent == D(2)
    assert head_api.delete(f"{BASE}/discount-rules/{rule['id']}").status_code == 204


def test_exactly_one_retail_type(head_api, world):
    response = patch(head_api, f"/price-types/{world.retail.pk}", {"is_retail": False})
    assert response.status_code == 422 and "is_retail" in response.json()["errors"]
    response = patch(head_api, f"/price-types/{world.wholesale.pk}", {"is_retail": True})
    assert response.status_code == 200 and response.json()["is_retail"] is True
    assert list(PriceType.objects.filter(is_retail=True).values_list("code", flat=True)) == ["wholesale"]
    assert head_api.delete(f"{BASE}/price-types/{world.wholesale.pk}").status_code == 409  # retail cannot be deleted


def test_price_type_in_use_cannot_be_deleted_or_recoded(head_api, world):
    before = table_counts()
    response = head_api.delete(f"{BASE}/price-types/{world.wholesale.pk}")
    assert response.status_code == 409
    world.wholesale_list.delete()
    response = patch(head_api, f"/price-types/{world.wholesale.pk}", {"code": "wh"})
    assert response.status_code == 422 and "code" in response.json()["errors"]  # Dealer LLC refers to it
    assert PriceType.objects.get(pk=world.wholesale.pk).code == "wholesale"
    assert table_counts()["PriceType"] == before["PriceType"]


def test_limits_crud(head_api, roles, manager):
    response = post(head_api, "/discount-limits", {"group_id": roles["Sales manager"].pk, "max_percent": "5"})
    assert response.status_code == 201 and response.json()["max_percent"] == "5.0000"
    duplicate = post(head_api, "/discount-limits", {"group_id": roles["Sales manager"].pk, "max_percent": "6"})
    assert duplicate.status_code == 422 and "group_id" in duplicate.json()["errors"]
    both = post(head_api, "/discount-limits", {"group_id": roles["Head of sales"].pk, "user_id": manager.pk, "max_percent": "6"})
    assert both.status_code == 422 and "group_id" in both.json()["errors"]
    limit_id = response.json()["id"]
    assert patch(head_api, f"/discount-limits/{limit_id}", {"max_percent": "7.5"}).json()["max_percent"] == "7.5000"
    assert head_api.delete(f"{BASE}/discount-limits/{limit_id}").status_code == 204


def test_permissions(api_client, manager, head, world, make_user):
    client = api_client(manager)  # Sales manager: pricing.view_* only
    assert client.get(f"{BASE}/price-types").status_code == 200
    assert client.get(f"{BASE}/discount-rules").status_code == 200
    assert post(client, "/quote", {"product_id": world.kit.pk, "date": DAY.isoformat()}).status_code == 200
    before = table_counts()
    assert post(client, "/price-types", {"code": "x", "name": "X", "currency": "RUB"}).status_code == 403
    assert post(client, "/price-lists", {"price_type_id": world.retail.pk, "name": "N", "valid_from": "2026-05-01"}).status_code == 403
    assert post(client, f"/price-lists/{world.retail_list.pk}/items", {"product_id": world.kit.pk, "price": "1"}).status_code == 403
    assert post(client, "/discount-rules", {"kind": "promotion", "name": "N", "percent": "5", "valid_from": "2026-01-01"}).status_code == 403
    assert post(client, "/discount-limits", {"user_id": manager.pk, "max_percent": "50"}).status_code == 403
    assert patch(client, f"/price-types/{world.retail.pk}", {"name": "Mine"}).status_code == 403
    assert client.delete(f"{BASE}/price-lists/{world.retail_list.pk}").status_code == 403
    assert table_counts() == before
    outsider = api_client(make_user("Storekeeper"))
    assert outsider.get(f"{BASE}/price-lists").status_code == 403
    assert client.get(f"{BASE}/price-lists/999999").status_code == 404
    assert client.get(f"{BASE}/price-lists/{world.wholesale_list.pk}/items").status_code == 200
    other_item = world.wholesale_list.items.first()
    head_client = api_client(head)
    assert patch(head_client, f"/price-lists/{world.retail_list.pk}/items/{other_item.pk}", {"price": "1"}).status_code == 404


def test_create_is_idempotent(head_api, world):
    body = {"price_type_id": world.retail.pk, "name": "Spring", "valid_from": "2026-04-01"}
    first = post(head_api, "/price-lists", body, HTTP_IDEMPOTENCY_KEY="spring-1")
    again = post(head_api, "/price-lists", body, HTTP_IDEMPOTENCY_KEY="spring-1")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again["Idempotency-Replayed"] == "true"
    assert PriceList.objects.filter(name="Spring").count() == 1


def test_list_filters(head_api, world):
    world.price_list(world.retail, dt.date(2026, 4, 1), {world.kit: "1"}, valid_to=dt.date(2026, 4, 30))
    assert len(head_api.get(f"{BASE}/price-lists", {"price_type_id": world.retail.pk}).json()) == 2
    world.rule("promotion", percent="4", is_active=False)
    world.rule("personal", percent="7", counterparty_id=world.school.pk)
    assert [r["kind"] for r in head_api.get(f"{BASE}/discount-rules", {"active": "true"}).json()] == ["personal"]
    assert [r["kind"] for r in head_api.get(f"{BASE}/discount-rules", {"kind": "promotion"}).json()] == ["promotion"]


def test_quote_for_a_client_outside_the_scope_is_404(api_client, manager, world):
    # the Sales manager's scope is their own clients; the school belongs to the head of sales
    response = post(api_client(manager), "/quote", {"product_id": world.kit.pk, "counterparty_id": world.school.pk, "date": DAY.isoformat()})
    assert response.status_code == 404
    world.school.responsible = manager
    world.school.save(update_fields=["responsible"])
    assert post(api_client(manager), "/quote", {"product_id": world.kit.pk, "counterparty_id": world.school.pk}).status_code == 200


def test_openapi_lists_the_pricing_operations(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    paths = {path for path in schema["paths"] if path.startswith(BASE)}
    assert paths == {
        f"{BASE}/price-types", f"{BASE}/price-types/{{price_type_id}}", f"{BASE}/price-lists", f"{BASE}/price-lists/{{price_list_id}}",
        f"{BASE}/price-lists/{{price_list_id}}/copy", f"{BASE}/price-lists/{{price_list_id}}/items",
        f"{BASE}/price-lists/{{price_list_id}}/items/{{item_id}}", f"{BASE}/discount-rules", f"{BASE}/discount-rules/{{rule_id}}",
        f"{BASE}/discount-limits", f"{BASE}/discount-limits/{{limit_id}}", f"{BASE}/quote",
    }
    create = schema["paths"][f"{BASE}/discount-rules"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]


def test_copy_refusals_change_nothing(head_api, world):
    before = table_counts()
    same_day = post(head_api, f"/price-lists/{world.retail_list.pk}/copy", {"valid_from": "2026-01-01", "percent_change": "5"})
    assert same_day.status_code == 422 and "valid_from" in same_day.json()["errors"]
    too_low = post(head_api, f"/price-lists/{world.retail_list.pk}/copy", {"valid_from": "2026-05-01", "percent_change": "-101"})
    assert too_low.status_code == 422 and "percent_change" in too_low.json()["errors"]
    assert post(head_api, "/price-lists/999999/copy", {"valid_from": "2026-05-01"}).status_code == 404
    assert table_counts() == before


def test_the_first_price_type_is_retail(head_api):
    response = post(head_api, "/price-types", {"code": "base", "name": "Base", "currency": "EUR", "is_retail": False})
    assert response.status_code == 201 and response.json()["is_retail"] is True
    second = post(head_api, "/price-types", {"code": "other", "name": "Other", "currency": "EUR"})
    assert second.json()["is_retail"] is False
    moved = post(head_api, "/price-types", {"code": "new-retail", "name": "New retail", "currency": "EUR", "is_retail": True})
    assert moved.json()["is_retail"] is True
    assert list(PriceType.objects.filter(is_retail=True).values_list("code", flat=True)) == ["new-retail"]
