"""Pricing pages: lists, cards and forms render; forms save through the services; bad input shows the error beside the
field and changes nothing; a role without pricing.add_* gets 403; the Price check page shows every candidate."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fabrika.pricing.models import DiscountRule, ManualDiscountLimit, PriceList, PriceListItem, PriceType

from .conftest import DAY, D, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def head_web(web_client, head):
    return web_client(head)


def test_pages_render(head_web, world):
    rule = world.rule("quantity", name="Kits in bulk", group_ids=[world.kits.pk], tiers=[{"threshold": "5", "percent": "3"}])
    pages = [
        (reverse("pricing:price_type_list"), "wholesale"),
        (reverse("pricing:price_type_detail", args=[world.retail.pk]), "Retail price type"),
        (reverse("pricing:price_type_detail", args=[world.wholesale.pk]), "Dealer LLC"),
        (reverse("pricing:price_type_create"), "Code"),
        (reverse("pricing:price_type_edit", args=[world.retail.pk]), "Retail"),
        (reverse("pricing:price_list_list"), world.retail_list.name),
        (reverse("pricing:price_list_detail", args=[world.retail_list.pk]), "KIT-1"),
        (reverse("pricing:price_list_create"), "Valid from"),
        (reverse("pricing:price_list_edit", args=[world.retail_list.pk]), world.retail_list.name),
        (reverse("pricing:discount_rule_list") + "?kind=quantity", "Kits in bulk"),
        (reverse("pricing:discount_rule_detail", args=[rule.pk]), "5+ → 3 %"),
        (reverse("pricing:discount_rule_edit", args=[rule.pk]), "5: 3"),
        (reverse("pricing:discount_limit_list"), "Discount limits"),
        (reverse("pricing:discount_limit_create"), "Role"),
        (reverse("pricing:price_check"), "Price check"),
    ]
    for kind in ("personal", "promotion", "quantity", "volume", "cumulative"):
        pages.append((reverse("pricing:discount_rule_create") + f"?kind={kind}", "Valid from"))
    for url, text in pages:
        response = head_web.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    assert head_web.get(reverse("pricing:price_list_list") + "?export=csv").status_code == 200
    assert head_web.get(reverse("pricing:discount_rule_create") + "?kind=bogus").status_code == 404
    assert head_web.get(reverse("pricing:price_list_detail", args=[999999])).status_code == 404


def test_price_type_form_saves_and_refuses(head_web, world):
    url = reverse("pricing:price_type_create")
    response = head_web.post(url, {"code": "dealer", "name": "Dealer", "currency": "RUB", "prices_include_tax": "on", "is_active": "on"})
    assert response.status_code == 302
    dealer = PriceType.objects.get(code="dealer")
    assert (dealer.is_retail, dealer.prices_include_tax) == (False, True)
    before = table_counts()
    response = head_web.post(url, {"code": "dealer", "name": "Again", "currency": "RUB"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode() and response.context["form"].errors["code"]
    assert table_counts() == before


def test_price_list_items_grid(head_web, world):
    detail = reverse("pricing:price_list_detail", args=[world.retail_list.pk])
    new = world.product("NEW-1", world.parts)
    response = head_web.post(reverse("pricing:price_list_item_add", args=[world.retail_list.pk]), {"item-product": new.pk, "item-price": "12.50"})
    assert response.status_code == 302 and response.url == detail
    item = PriceListItem.objects.get(price_list=world.retail_list, product=new)
    assert item.price == D("12.50")
    before = table_counts()
    response = head_web.post(reverse("pricing:price_list_item_add", args=[world.retail_list.pk]), {"item-product": new.pk, "item-price": "13"}, follow=True)
    assert "already in this price list" in response.content.decode()
    edit = reverse("pricing:price_list_item_edit", args=[world.retail_list.pk, item.pk])
    response = head_web.post(edit, {"price": "-3"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Must be at least 0" in response.content.decode()
    assert table_counts() == before and PriceListItem.objects.get(pk=item.pk).price == D("12.50")
    response = head_web.post(edit, {"price": "14,20"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'value="14.20"' in response.content.decode()
    response = head_web.post(reverse("pricing:price_list_copy", args=[world.retail_list.pk]),
                             {"copy-valid_from": "2026-06-01", "copy-percent_change": "-10", "copy-name": "June"})
    assert response.status_code == 302
    june = PriceList.objects.get(name="June")
    assert dict(june.items.values_list("product__sku", "price")) == {"KIT-1": D("900.00"), "P-1": D("90.00"), "NEW-1": D("12.78")}
    head_web.post(reverse("pricing:price_list_item_delete", args=[world.retail_list.pk, item.pk]))
    assert not PriceListItem.objects.filter(pk=item.pk).exists()


def test_rule_forms_per_kind(head_web, world):
    url = reverse("pricing:discount_rule_create") + "?kind=quantity"
    response = head_web.post(url, {"name": "Kits", "tiers": "5: 3\n10: 5", "groups": [world.kits.pk], "products": "",
                                   "valid_from": "2026-01-01", "priority": "0", "is_active": "on"})
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    rule = DiscountRule.objects.get(name="Kits")
    assert [(t.threshold, t.percent) for t in rule.tiers.all()] == [(D(5), D(3)), (D(10), D(5))]
    before = table_counts()
    response = head_web.post(url, {"name": "Bad", "tiers": "10: 5\n5: 3", "products": "KIT-1", "valid_from": "2026-01-01", "priority": "0"})
    assert response.status_code == 200 and "strictly increasing" in str(response.context["form"].errors["tiers"])
    response = head_web.post(url, {"name": "Bad", "tiers": "5: 3", "products": "NOPE", "valid_from": "2026-01-01", "priority": "0"})
    assert "Unknown SKUs: NOPE" in str(response.context["form"].errors["products"])
    personal = reverse("pricing:discount_rule_create") + "?kind=personal"
    response = head_web.post(personal, {"name": "P", "percent": "7", "valid_from": "2026-01-01", "priority": "0"})
    assert "counterparty" in response.context["form"].errors
    assert table_counts() == before
    response = head_web.post(personal, {"name": "P", "percent": "7", "counterparty": world.school.pk, "groups": [world.robots.pk],
                                        "valid_from": "2026-01-01", "priority": "0", "is_active": "on"})
    assert response.status_code == 302
    edit = reverse("pricing:discount_rule_edit", args=[rule.pk])
    response = head_web.post(edit, {"name": "Kits", "tiers": "3: 2", "groups": [world.kits.pk], "valid_from": "2026-01-01", "priority": "2", "is_active": "on"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.priority, [(t.threshold, t.percent) for t in rule.tiers.all()]) == (2, [(D(3), D(2))])


def test_limit_form(head_web, roles):
    response = head_web.post(reverse("pricing:discount_limit_create"), {"group": roles["Sales manager"].pk, "max_percent": "5"})
    assert response.status_code == 302
    limit = ManualDiscountLimit.objects.get()
    response = head_web.post(reverse("pricing:discount_limit_create"), {"group": roles["Sales manager"].pk, "max_percent": "9"})
    assert response.status_code == 200 and response.context["form"].errors["group"]
    response = head_web.post(reverse("pricing:discount_limit_edit", args=[limit.pk]), {"group": roles["Sales manager"].pk, "max_percent": "150"})
    assert response.context["form"].errors["max_percent"]
    assert ManualDiscountLimit.objects.get().max_percent == D(5)


def test_price_check_shows_every_candidate(web_client, manager, world):
    world.rule("personal", percent="7", counterparty_id=world.school.pk, group_ids=[world.robots.pk], name="School 7%")
    world.rule("quantity", group_ids=[world.kits.pk], tiers=[{"threshold": "5", "percent": "3"}], name="Kits 5+")
    world.school.responsible = manager
    world.school.save(update_fields=["responsible"])
    client = web_client(manager)
    response = client.get(reverse("pricing:price_check"), {"counterparty": world.school.pk, "product": world.kit.pk, "quantity": "5",
                                                           "date": DAY.isoformat()})
    assert response.status_code == 200
    quote = response.context["quote"]
    assert (quote.price, quote.discount_percent, quote.price_after_discount) == (D("1000.00"), D(7), D("930.00"))
    page = response.content.decode()
    assert "School 7%" in page and "Kits 5+ (from 5)" in page
    response = client.get(reverse("pricing:price_check"), {"product": world.kit.pk, "quantity": "1", "currency": "USD", "date": DAY.isoformat()})
    assert response.context["quote"] is None and "No price list has this product" in response.content.decode()


def test_permissions(web_client, manager, world, make_user):
    client = web_client(manager)
    assert client.get(reverse("pricing:price_list_list")).status_code == 200
    before = table_counts()
    for url in (reverse("pricing:price_type_create"), reverse("pricing:price_list_create"),
                reverse("pricing:discount_rule_create") + "?kind=promotion", reverse("pricing:discount_limit_create")):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("pricing:price_type_create"), {"code": "x", "name": "X", "currency": "RUB"}).status_code == 403
    assert client.post(reverse("pricing:price_list_item_add", args=[world.retail_list.pk]), {"item-product": world.kit.pk, "item-price": "1"}).status_code == 403
    assert client.post(reverse("pricing:price_list_delete", args=[world.retail_list.pk])).status_code == 403
    assert table_counts() == before
    assert web_client(make_user("Storekeeper")).get(reverse("pricing:discount_rule_list")).status_code == 403


def test_fields_are_checked_inline_as_they_are_left_and_nothing_is_saved(head_web, world):
    HTMX = {"HTTP_HX_REQUEST": "true"}
    url = reverse("pricing:price_type_create")
    form = head_web.get(url).content.decode()
    assert f'hx-post="{url}"' in form and "_field" in form
    PriceType.objects.create(code="dealer", name="Dealer", currency="RUB")
    before = table_counts()
    # the service's rule (a code in use) shows beside the field while the form is being filled
    response = head_web.post(url, {"_field": "code", "code": "dealer", "name": "Again", "currency": "RUB"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="field-code"' in html and "already exists" in html
    response = head_web.post(url, {"_field": "code", "code": "distributor", "name": "Distributor", "currency": "RUB"}, **HTMX)
    assert "has-error" not in response.content.decode() and "role=\"alert\"" not in response.content.decode()
    # a discount rule: the field is checked on its own while other fields are still empty
    rule_url = reverse("pricing:discount_rule_create") + "?kind=quantity"
    response = head_web.post(rule_url, {"_field": "tiers", "tiers": "10: 5\n5: 3"}, **HTMX)
    assert 'id="field-tiers"' in response.content.decode() and "strictly increasing" in response.content.decode()
    response = head_web.post(rule_url, {"_field": "products", "name": "Kits", "tiers": "5: 3", "products": "NOPE",
                                        "valid_from": "2026-01-01", "priority": "0"}, **HTMX)
    assert "Unknown SKUs: NOPE" in response.content.decode()
    assert table_counts() == before
