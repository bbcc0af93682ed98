from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fabrika.core import services_access
from fabrika.core.models import AuditEntry, LoginFailure, User

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # tests/conftest.py make_user


def _login(username: str, password: str, client: Client | None = None, address: str = "127.0.0.1"):
    client = client or Client(REMOTE_ADDR=address)
    return client, client.post(reverse("core:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


def test_a_successful_login_is_audited_with_the_address(make_user):
    anna = make_user(username="anna")
    client, response = _login("anna", PASSWORD, address="10.0.0.7")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    entry = AuditEntry.objects.get(action="login")
    assert (entry.actor, entry.actor_name, entry.ip_address, entry.object_id) == (anna, "anna", "10.0.0.7", str(anna.pk))
    assert client.get(reverse("core:home")).status_code == 200


def test_a_failed_login_is_audited_and_counted(make_user):
    anna = make_user(username="anna")
    _, response = _login("anna", "wrong", address="10.0.0.8")
    assert response.status_code == 200
    assert _errors(response) == ["Wrong username or password."]
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.actor, entry.actor_name, entry.ip_address, entry.object_id, entry.message) == (
        None, "anna", "10.0.0.8", str(anna.pk), "Wrong username or password"
    )
    assert list(LoginFailure.objects.values_list("username", "ip_address")) == [("anna", "10.0.0.8")]
    # an unknown username is audited too, without a record
    _login("nobody", "x")
    assert AuditEntry.objects.filter(action="login_failed", actor_name="nobody", object_id="").count() == 1


def test_five_failures_lock_the_username_out_even_for_the_right_password(make_user):
    make_user(username="anna")
    for _ in range(4):
        _, response = _login("anna", "wrong")
        assert _errors(response) == ["Wrong username or password."]
    # the fifth failure locks the username, and says so at once
    _, response = _login("anna", "wrong")
    assert _errors(response) == ["Too many failed attempts. Try again in 15 minute(s)."]
    # then even the right password is refused, without a session, and the refusal is audited
    client, response = _login("anna", PASSWORD)
    assert response.status_code == 200
    assert _errors(response) == ["Too many failed attempts. Try again in 15 minute(s)."]
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login_failed", message="Refused: locked out after too many failed attempts").count() == 1
    # and refused attempts do not extend the lockout
    assert LoginFailure.objects.count() == 5
    # when the window has passed, the right password works and clears the failures
    LoginFailure.objects.update(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    _, response = _login("anna", PASSWORD)
    assert response.status_code == 302
    assert LoginFailure.objects.count() == 0


def test_the_lockout_ends_when_the_oldest_counted_failure_leaves_the_window(make_user):
    from fabrika.core.auth import lockout_seconds_left

    make_user(username="anna")
    now = timezone.now()
    for minutes_ago in (14, 10, 5, 2, 1):
        LoginFailure.objects.create(username="anna", ip_address="10.0.0.1", at=now - dt.timedelta(minutes=minutes_ago))
    # the oldest of the five counted failures was 14 minutes ago: one minute left of the 15
    assert 58 <= lockout_seconds_left(username="ANNA", ip_address=None) <= 60
    LoginFailure.objects.filter(at__lt=now - dt.timedelta(minutes=13)).delete()
    assert lockout_seconds_left(username="anna", ip_address=None) == 0


def test_an_address_with_many_failures_is_locked_for_every_username(make_user):
    make_user(username="anna")
    for number in range(20):
        _login(f"guess{number}", "wrong", address="203.0.113.9")
    # the twenty attempts may take over a minute on a loaded machine: date them all now, so 15 minutes are left
    LoginFailure.objects.update(at=timezone.now())
    _, response = _login("anna", PASSWORD, address="203.0.113.9")
    assert _errors(response) == ["Too many failed attempts. Try again in 15 minute(s)."]
    # another address is not affected
    _, response = _login("anna", PASSWORD, address="198.51.100.1")
    assert response.status_code == 302


def test_logout_is_audited_and_needs_post(make_user, web_client):
    anna = make_user(username="anna")
    client = web_client(anna)
    assert client.get(reverse("core:logout")).status_code == 405
    response = client.post(reverse("core:logout"))
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="logout")
    assert (entry.actor, entry.object_id) == (anna, str(anna.pk))
    assert client.get(reverse("core:home")).status_code == 302


def test_password_change_is_audited_and_the_new_password_works(make_user, web_client):
    anna = make_user(username="anna")
    client = web_client(anna)
    bad = client.post(reverse("core:password_change"), {"old_password": "nope", "new_password1": "x", "new_password2": "y"})
    assert bad.status_code == 200
    assert "old_password" in bad.context["form"].errors
    anna.refresh_from_db()
    assert anna.check_password(PASSWORD)
    response = client.post(
        reverse("core:password_change"), {"old_password": PASSWORD, "new_password1": "Gear-Box-2026", "new_password2": "Gear-Box-2026"}
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.check_password("Gear-Box-2026")
    assert AuditEntry.objects.filter(action="update", object_id=str(anna.pk), message="Password changed").count() == 1
    assert "Gear-Box-2026" not in str(list(AuditEntry.objects.values_list("changes", "message")))


def test_password_reset_by_e_mail_for_a_user_created_without_a_password(admin_user):
    # given an administrator created anna without a password
    anna = services_access.user_create(actor=admin_user, data={"username": "anna", "email": "anna@robokids.example"})
    client = Client()
    # when she asks for a reset
    response = client.post(reverse("core:password_reset"), {"email": "ANNA@robokids.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:password_reset_done")
    # then one mail goes to her address with a link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@robokids.example"]
    assert message.subject == "Password reset for Fabrika"
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", message.body).group(1)
    assert "Your username: anna" in message.body
    # when she follows the link and sets a new password
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Robo-Kit-2026", "new_password2": "Robo-Kit-2026"})
    assert done.status_code == 302
    assert done["Location"] == reverse("core:password_reset_complete")
    # then the new password logs her in, and the reset is audited
    anna.refresh_from_db()
    assert anna.check_password("Robo-Kit-2026")
    assert AuditEntry.objects.filter(action="update", object_id=str(anna.pk), message="Password reset by e-mail link").count() == 1
    _, login = _login("anna", "Robo-Kit-2026")
    assert login.status_code == 302
    # and the link cannot be used twice
    reused = client.get(link, follow=True)
    assert reused.context["validlink"] is False
    assert "This link is invalid or has already been used." in reused.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(make_user):
    make_user(username="anna", email="anna@robokids.example")
    response = Client().post(reverse("core:password_reset"), {"email": "nobody@robokids.example"})
    assert response.status_code == 302
    assert response["Location"] == reverse("core:password_reset_done")
    assert mail.outbox == []


def test_an_inactive_user_cannot_log_in(make_user):
    make_user(username="anna", is_active=False)
    _, response = _login("anna", PASSWORD)
    assert _errors(response) == ["Wrong username or password."]
    assert User.objects.get(username="anna").last_login is None
