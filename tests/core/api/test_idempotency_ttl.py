"""How long an Idempotency-Key is remembered is a setting (FABRIKA_IDEMPOTENCY_TTL_HOURS); after it the key is free."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from fabrika.core.idempotency import retention
from fabrika.core.models import IdempotencyRecord
from fabrika.parties.models import Counterparty

pytestmark = pytest.mark.django_db

URL = "/api/v1/parties/counterparties"


def _create(client, name: str):
    return client.post(URL, json.dumps({"name": name}), content_type="application/json", HTTP_IDEMPOTENCY_KEY="order-7")


def test_the_key_lives_for_the_configured_hours(make_user, api_client, settings):
    # given keys remembered for 2 hours
    settings.FABRIKA_IDEMPOTENCY_TTL_HOURS = 2
    assert retention() == dt.timedelta(hours=2)
    # when a create is made with a key
    response = _create(api_client(make_user()), "Lyceum 239")
    # then its record expires 2 hours after it was made
    assert response.status_code == 201
    record = IdempotencyRecord.objects.get()
    assert record.expires_at - record.created_at == pytest.approx(dt.timedelta(hours=2), abs=dt.timedelta(seconds=5))


def test_after_the_ttl_the_same_key_with_another_body_creates_a_new_record(make_user, api_client):
    # given a key used for one request whose time is over
    client = api_client(make_user())
    first = _create(client, "First")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    # when the key is used again for another request
    second = _create(client, "Second")
    # then it is a new request (201, not 422) and both records exist
    assert (first.status_code, second.status_code) == (201, 201)
    assert sorted(Counterparty.objects.values_list("name", flat=True)) == ["First", "Second"]
    assert IdempotencyRecord.objects.get().response_body == second.content.decode()


def test_a_ttl_below_one_hour_counts_as_one_hour(settings):
    settings.FABRIKA_IDEMPOTENCY_TTL_HOURS = 0
    assert retention() == dt.timedelta(hours=1)
