from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from fabrika.core.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/core/tokens"


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(make_user, api_client):
    anna = make_user(username="anna")
    client = api_client(anna)
    # when anna creates a token through the API
    response = client.post(URL, {"name": "1C exchange"}, content_type="application/json")
    # then the answer carries the token once
    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith(f"fk_{body['prefix']}_")
    assert (body["name"], body["last_used_at"], body["revoked_at"]) == ("1C exchange", None, None)
    # and only its SHA-256 is stored: the secret appears in no column
    token = ApiToken.objects.get(pk=body["id"])
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    # and the list never shows a secret again
    listed = client.get(URL).json()
    assert [item["name"] for item in listed] == ["1C exchange", "tests"]
    assert all("token" not in item for item in listed)
    # and the creation is audited without the secret
    entry = AuditEntry.objects.filter(action="token").order_by("-id").first()
    assert entry.message == f"API token '1C exchange' ({body['prefix']}) created"
    assert raw not in str(entry.changes) + entry.message


def test_a_token_works_sets_last_used_and_answers_401_once_revoked(make_user):
    from fabrika.core.tokens import api_token_create

    anna = make_user(username="anna")
    token, raw = api_token_create(user=anna, name="script", actor=anna)
    assert token.last_used_at is None
    # when the token is used
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me")
    assert response.status_code == 200
    assert response.json()["username"] == "anna"
    token.refresh_from_db()
    assert token.last_used_at is not None
    # and the X-API-Token header works too
    assert Client(HTTP_X_API_TOKEN=raw).get("/api/v1/core/me").status_code == 200
    # when it is revoked
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").delete(f"{URL}/{token.pk}").status_code == 204
    # then it answers 401 as a problem
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "not_authenticated"
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="token", message=f"API token 'script' ({token.prefix}) revoked").count() == 1


def test_a_wrong_or_foreign_token_is_refused(make_user, api_client):
    anna, boris = make_user(username="anna"), make_user(username="boris")
    assert Client(HTTP_AUTHORIZATION="Bearer fk_00000000_nope").get("/api/v1/core/me").status_code == 401
    boris_token = ApiToken.objects.create(user=boris, name="b", prefix="abcd1234", token_hash="0" * 64)
    # anna cannot revoke boris's token: it is not found for her
    response = api_client(anna).delete(f"{URL}/{boris_token.pk}")
    assert response.status_code == 404
    boris_token.refresh_from_db()
    assert boris_token.revoked_at is None


def test_a_deactivated_user_s_token_is_refused(make_user):
    from fabrika.core.tokens import api_token_create

    anna = make_user(username="anna")
    _, raw = api_token_create(user=anna, name="script", actor=anna)
    anna.is_active = False
    anna.save(update_fields=["is_active"])
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/core/me").status_code == 401


def test_a_token_without_a_name_is_refused(make_user, api_client):
    client = api_client(make_user(username="anna"))
    count = ApiToken.objects.count()
    response = client.post(URL, {"name": "  "}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"] == {"name": ["Give the token a name, e.g. the integration that uses it"]}
    assert ApiToken.objects.count() == count


def test_the_tokens_page_shows_a_new_token_exactly_once_and_revokes(make_user, web_client):
    anna = make_user(username="anna")
    client = web_client(anna)
    # when anna creates a token on the page
    response = client.post(reverse("core:token_list"), {"name": "Excel add-in"}, follow=True)
    token = ApiToken.objects.get(user=anna, name="Excel add-in")
    raw = response.context["new_token"]["raw"]
    # then the page shows it, with its hash stored
    assert hashlib.sha256(raw.encode()).hexdigest() == token.token_hash
    assert raw in response.content.decode()
    assert "never" in response.content.decode()
    # and the next visit does not show it again
    again = client.get(reverse("core:token_list"))
    assert raw not in again.content.decode()
    assert again.context["new_token"] is None
    assert [t.name for t in again.context["tokens"]] == ["Excel add-in"]
    # when she revokes it
    client.post(reverse("core:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "revoked" in client.get(reverse("core:token_list")).content.decode()


def test_the_tokens_page_shows_errors_and_other_users_tokens_stay_hidden(make_user, web_client):
    anna, boris = make_user(username="anna"), make_user(username="boris")
    ApiToken.objects.create(user=boris, name="boris's", prefix="abcd1234", token_hash="1" * 64)
    client = web_client(anna)
    response = client.post(reverse("core:token_list"), {"name": ""})
    assert response.context["form"].errors == {"name": ["Give the token a name, e.g. the integration that uses it"]}
    assert list(response.context["tokens"]) == []
    foreign = ApiToken.objects.get(user=boris)
    assert client.post(reverse("core:token_revoke", args=[foreign.pk])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None
