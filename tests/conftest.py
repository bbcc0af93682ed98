from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from fabrika.core.models import Department, User
from fabrika.core.roles import standard_roles_ensure
from fabrika.core.tokens import api_token_create


@pytest.fixture
def roles(db) -> dict[str, Group]:
    return standard_roles_ensure()


@pytest.fixture
def make_user(db, roles):
    counter = {"n": 0}

    def make(role: str = "Sales manager", *, department: Department | None = None, username: str | None = None, **extra) -> User:
        counter["n"] += 1
        user = User.objects.create_user(
            username=username or f"user{counter['n']}", password="pass-Word-123", department=department, **extra
        )
        if role:
            user.groups.add(roles[role])
        return user

    return make


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user("Administrator", username="root", is_superuser=True, is_staff=True)


def api_client_for(user: User) -> Client:
    _, raw = api_token_create(user=user, name="tests", actor=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def api_client():
    return api_client_for


@pytest.fixture
def web_client():
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="session", autouse=True)
def audit_purge_allowed_for_test_flushes(django_db_setup, django_db_blocker):
    """The audit triggers refuse DELETE; test teardown flushes tables, so allow purging in the test database only."""
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if "core_audit_maintenance" in connection.introspection.table_names(cursor):
            cursor.execute("UPDATE core_audit_maintenance SET purge_allowed = 1")


@pytest.fixture(autouse=True)
def language_of_the_settings():
    """Each test starts in the default language: a request in Russian (cookie, user preference) activates Russian for
    the thread, and without this a later test in the same worker would read Russian messages."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
