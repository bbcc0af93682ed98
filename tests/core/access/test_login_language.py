"""After login, the user's preferred language (their profile) applies through the language cookie."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # tests/conftest.py make_user


def test_login_sets_the_language_cookie_to_the_users_language_and_pages_answer_in_it(make_user):
    # given a user who prefers Russian
    make_user(username="olga", language="ru")
    client = Client()
    # when she logs in
    response = client.post(reverse("core:login"), {"username": "olga", "password": PASSWORD})
    # then the language cookie says Russian and the next page is in Russian
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ru"
    home = client.get(reverse("core:home"))
    assert home.status_code == 200
    assert home["Content-Language"] == "ru"


def test_a_user_without_a_preference_keeps_the_language_chosen_before(make_user):
    # given a user without a preferred language, on a browser switched to Russian earlier
    make_user(username="ivan", language="")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    # when he logs in, no language cookie is sent and Russian stays
    response = client.post(reverse("core:login"), {"username": "ivan", "password": PASSWORD})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert client.get(reverse("core:home"))["Content-Language"] == "ru"


def test_a_failed_login_sets_no_language_cookie(make_user):
    make_user(username="olga", language="ru")
    response = Client().post(reverse("core:login"), {"username": "olga", "password": "wrong"})
    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_an_english_preference_overrides_an_earlier_russian_switch(make_user):
    make_user(username="anna", language="en")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    response = client.post(reverse("core:login"), {"username": "anna", "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert client.get(reverse("core:home"))["Content-Language"] == "en"
