"""Idempotency-Key on create endpoints (IETF draft): replay, mismatch 422, in-progress 409, per user."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from fabrika.core.idempotency import RETENTION, idempotency_purge_expired
from fabrika.core.models import IdempotencyRecord
from fabrika.core.models.idempotency import IdempotencyStatus
from fabrika.core.tokens import api_token_create
from fabrika.parties import services
from fabrika.parties.models import Counterparty

URL = "/api/v1/parties/counterparties"


def _create(client, body, key: str | None = "order-42", raw: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(URL, raw if raw is not None else json.dumps(body), content_type="application/json", **headers)


def test_same_key_and_body_replays_the_first_response_and_creates_once(make_user, api_client):
    # given a first create with a key
    client = api_client(make_user())
    first = _create(client, {"name": "Lyceum 239", "city": "Saint Petersburg"})
    # when the same request is retried, with the JSON keys in another order and other whitespace
    retry = _create(client, None, raw='{ "city": "Saint Petersburg",\n  "name": "Lyceum 239" }')
    # then the stored response comes back, marked as replayed, and one record exists
    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first
    assert list(Counterparty.objects.values_list("id", flat=True)) == [first.json()["id"]]
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status, record.method, record.path) == (IdempotencyStatus.COMPLETED, 201, "POST", URL)
    assert record.expires_at - record.created_at == pytest.approx(RETENTION, abs=dt.timedelta(seconds=5))


def test_same_key_with_another_body_is_422_and_creates_nothing_more(make_user, api_client):
    client = api_client(make_user())
    _create(client, {"name": "First"})
    response = _create(client, {"name": "Second"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "Idempotency-Key": ["This key was already used for a different request; use a new key for a new request"]
    }
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["First"]


def test_a_repeat_while_the_first_is_still_running_is_409(make_user, api_client):
    # given the first request reserved the key and has not finished
    user = make_user()
    body = {"name": "Slow Ltd"}
    client = api_client(user)
    _create(client, body, key="probe")  # the fingerprint of this body, as the server computes it
    fingerprint = IdempotencyRecord.objects.get(key="probe").fingerprint
    IdempotencyRecord.objects.create(
        user=user, key="slow", method="POST", path=URL, fingerprint=fingerprint, expires_at=timezone.now() + RETENTION
    )
    before = Counterparty.objects.count()
    # when it is repeated
    response = _create(client, body, key="slow")
    # then 409, nothing created, the reservation untouched
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert Counterparty.objects.count() == before
    assert IdempotencyRecord.objects.get(key="slow").status == IdempotencyStatus.IN_PROGRESS


def test_keys_are_per_user(make_user, api_client):
    # given two users using the same key (and "force": the second Alpha is a possible duplicate of the first)
    first = _create(api_client(make_user()), {"name": "Alpha", "force": True})
    second = _create(api_client(make_user()), {"name": "Alpha", "force": True})
    # then each gets their own record
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotency-Replayed" not in second
    assert Counterparty.objects.count() == 2


def test_a_key_longer_than_255_characters_is_422_and_creates_nothing(make_user, api_client):
    response = _create(api_client(make_user()), {"name": "X"}, key="k" * 256)
    assert response.status_code == 422
    assert response.json()["errors"] == {"Idempotency-Key": ["At most 255 characters"]}
    assert Counterparty.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


def test_a_key_of_255_characters_is_fine(make_user, api_client):
    response = _create(api_client(make_user()), {"name": "X"}, key="k" * 255)
    assert response.status_code == 201


def test_an_error_response_is_stored_and_replayed_too(make_user, api_client):
    # given a first request the service refuses
    client = api_client(make_user())
    first = _create(client, {"name": "Bad mail", "email": "nope"})
    # when retried unchanged
    retry = _create(client, {"name": "Bad mail", "email": "nope"})
    # then the same 422 comes back (the draft: the final response is stored), nothing created
    assert first.status_code == retry.status_code == 422
    assert retry.json() == first.json()
    assert retry["Idempotency-Replayed"] == "true"
    assert Counterparty.objects.count() == 0


def test_a_server_error_releases_the_key(make_user, api_client, monkeypatch):
    # given the first attempt crashed
    client = api_client(make_user())

    def crash(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "counterparty_create", crash)
    assert _create(client, {"name": "Retry me"}).status_code == 500
    monkeypatch.undo()
    # when the client retries with the same key
    retry = _create(client, {"name": "Retry me"})
    # then it runs again and succeeds
    assert retry.status_code == 201
    assert "Idempotency-Replayed" not in retry
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["Retry me"]


def test_an_expired_key_can_be_used_again(make_user, api_client):
    client = api_client(make_user())
    _create(client, {"name": "Yesterday"})
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = _create(client, {"name": "Today"})
    assert again.status_code == 201
    assert sorted(Counterparty.objects.values_list("name", flat=True)) == ["Today", "Yesterday"]


def test_expired_records_are_purged(make_user, api_client):
    client = api_client(make_user())
    _create(client, {"name": "Old"}, key="old")
    _create(client, {"name": "New"}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert idempotency_purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_without_a_key_every_request_creates(make_user, api_client):
    client = api_client(make_user())
    # "force": the second is a possible duplicate of the first, which the API otherwise refuses with 409
    _create(client, {"name": "Twice", "force": True}, key=None)
    _create(client, {"name": "Twice", "force": True}, key=None)
    assert Counterparty.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_second_connection_sees_the_key_in_progress(make_user, monkeypatch):
    # given a first request that reserved its key and is still inside the service
    user = make_user()
    _, raw = api_token_create(user=user, name="two clients", actor=user)
    inside, release = threading.Event(), threading.Event()
    original = services.counterparty_create

    def slow_create(**kwargs):
        inside.set()
        assert release.wait(timeout=20)
        return original(**kwargs)

    monkeypatch.setattr(services, "counterparty_create", slow_create)
    results: dict[str, int] = {}

    def first_request():
        try:
            results["first"] = _create(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), {"name": "Race Ltd"}, key="race").status_code
        finally:
            connection.close()

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        assert inside.wait(timeout=20)
        # when the same request arrives on another connection
        results["second"] = _create(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), {"name": "Race Ltd"}, key="race").status_code
    finally:
        release.set()
        thread.join(timeout=30)
    # then the second is told to wait (409), the first completes, one record exists; a later retry replays it
    assert results == {"first": 201, "second": 409}
    assert Counterparty.objects.filter(name="Race Ltd").count() == 1
    replay = _create(Client(HTTP_AUTHORIZATION=f"Bearer {raw}"), {"name": "Race Ltd"}, key="race")
    assert replay.status_code == 201 and replay["Idempotency-Replayed"] == "true"
