"""Smoke test of the demo: every demo user opens every page of the navigation and the cards of the demo's records
without a server error; a page the role may not open answers 403, never 500."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse

from fabrika.core.context_processors import NAVIGATION
from fabrika.core.demo import DEMO_USERS
from fabrika.core.models import User
from fabrika.crm.models import Deal, Pipeline
from fabrika.inventory.models import StockDocument
from fabrika.parties.models import Counterparty

pytestmark = pytest.mark.django_db


def _nav_urls() -> list[str]:
    urls = []
    for _label, url_name, _permission, _section in NAVIGATION:
        try:
            urls.append(reverse(url_name[0], args=url_name[1:]) if isinstance(url_name, tuple) else reverse(url_name))
        except NoReverseMatch:
            continue
    return urls


def _record_urls() -> list[str]:
    urls = [Counterparty.objects.order_by("pk").first().get_absolute_url()]
    urls += [reverse("crm:deal_detail", args=[deal.pk]) for deal in Deal.objects.order_by("pk")[:2]]
    urls += [reverse("crm:kanban", args=[pipeline.pk]) for pipeline in Pipeline.objects.order_by("pk")]
    urls += [reverse("inventory:document_detail", args=[doc.pk]) for doc in StockDocument.objects.order_by("pk")[:2]]
    # order to cash: the cards of the demo's order, shipment, invoice, payment and journal entry, and a settlement
    from fabrika.finance.models import Invoice, Payment
    from fabrika.ledger.models import JournalEntry
    from fabrika.sales.models import SalesOrder, Shipment

    for model in (SalesOrder, Shipment, Invoice, Payment, JournalEntry):
        record = model.objects.order_by("pk").first()
        assert record is not None, f"the demo has no {model._meta.verbose_name}"
        urls.append(record.get_absolute_url())
    urls.append(reverse("finance:settlement_detail", args=[Invoice.objects.order_by("pk").first().counterparty_id]))
    return urls


def test_each_demo_user_opens_every_page_without_a_server_error(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo_load", stdout=io.StringIO())
    urls = ["/", *_nav_urls(), *_record_urls()]
    assert len(urls) > 20
    for demo in DEMO_USERS:
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username=demo.username))
        answers = {url: client.get(url).status_code for url in urls}
        broken = {url: status for url, status in answers.items() if status not in (200, 302, 403, 404)}
        assert broken == {}, demo.username
        # the navigation links only pages the user may open
        home = client.get("/").content.decode()
        assert [url for url, status in answers.items() if status == 403 and f'href="{url}"' in home] == [], demo.username
