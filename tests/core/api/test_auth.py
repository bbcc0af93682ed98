"""Token auth (Bearer and X-API-Token) and session auth, where writes need the CSRF token."""

from __future__ import annotations

import json

from django.test import Client

from fabrika.core.tokens import api_token_create, api_token_revoke
from fabrika.parties.models import Counterparty


def _create(client: Client, name: str, **headers):
    return client.post("/api/v1/parties/counterparties", json.dumps({"name": name}), content_type="application/json", **headers)


def test_bearer_and_x_api_token_both_authenticate(make_user):
    # given a personal token
    user = make_user()
    _, raw = api_token_create(user=user, name="erp sync", actor=user)
    # when it is sent either way
    by_bearer = Client().get("/api/v1/core/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    by_header = Client().get("/api/v1/core/me", HTTP_X_API_TOKEN=raw)
    # then both are the user
    assert by_bearer.status_code == 200 and by_bearer.json()["username"] == user.username
    assert by_header.status_code == 200 and by_header.json()["username"] == user.username


def test_a_revoked_token_is_refused(make_user):
    user = make_user()
    token, raw = api_token_create(user=user, name="old", actor=user)
    api_token_revoke(token_id=token.pk, actor=user)
    response = Client().get("/api/v1/core/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_token_writes_need_no_csrf_token(make_user):
    # given a client that enforces CSRF like a browser would, using a token
    user = make_user()
    _, raw = api_token_create(user=user, name="script", actor=user)
    client = Client(enforce_csrf_checks=True)
    # when it creates a record without any CSRF token
    response = _create(client, "By token", HTTP_AUTHORIZATION=f"Bearer {raw}")
    # then it is accepted
    assert response.status_code == 201
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["By token"]


def test_session_reads_work_without_csrf_token(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    assert client.get("/api/v1/parties/counterparties").status_code == 200


def test_session_write_without_csrf_token_is_refused_and_writes_nothing(make_user):
    # given a logged-in browser session
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    # when it posts without the CSRF token
    response = _create(client, "Forged")
    # then 403 problem, nothing created
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "csrf_failed"
    assert Counterparty.objects.count() == 0


def test_session_write_with_csrf_token_is_accepted(make_user):
    # given a logged-in session that loaded a page (which sets the CSRF cookie)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    client.get("/")
    token = client.cookies["csrftoken"].value
    # when it posts with the token in X-CSRFToken (as base.html's hx-headers does)
    response = _create(client, "Via session", HTTP_X_CSRFTOKEN=token)
    # then it is created
    assert response.status_code == 201, response.content
    assert list(Counterparty.objects.values_list("name", flat=True)) == ["Via session"]
