"""Bulk actions on ticked rows: through the services, audited, scoped, permission-checked."""

from __future__ import annotations

from fabrika.core.models import AuditEntry
from fabrika.parties.models import Counterparty

LIST = "/parties/counterparties/"


def test_change_responsible_of_ticked_rows(org, web_client):
    client = web_client(org.head)
    # when the head hands Alpha and Gamma to the colleague
    response = client.post(
        LIST,
        {"action": "set_responsible", "value_set_responsible": str(org.colleague.pk), "ids": [org.mine.pk, org.colleagues.pk], "next": f"{LIST}?q=Robo"},
        follow=True,
    )
    # then Alpha changed (Gamma already was the colleague's), with an audit row naming old and new
    assert response.redirect_chain == [(f"{LIST}?q=Robo", 302)]
    assert "Change responsible: 1 record(s) changed." in response.content.decode()
    assert dict(Counterparty.objects.values_list("name", "responsible__username")) == {
        "Robo Alpha": "boris", "Robo Gamma": "boris", "Robo Beta": "vera",
    }
    entry = AuditEntry.objects.get(action="update", object_id=str(org.mine.pk))
    assert entry.changes == {"responsible": ["anna", "boris"]}


def test_deactivate_and_activate(org, web_client):
    client = web_client(org.head)
    client.post(LIST, {"action": "deactivate", "ids": [org.mine.pk, org.colleagues.pk]})
    assert list(Counterparty.objects.filter(is_active=False).values_list("name", flat=True).order_by("name")) == ["Robo Alpha", "Robo Gamma"]
    client.post(LIST, {"action": "activate", "ids": [org.mine.pk]})
    assert list(Counterparty.objects.filter(is_active=False).values_list("name", flat=True)) == ["Robo Gamma"]


def test_a_role_without_change_permission_cannot_run_them(org, web_client):
    # the director may view everything but change nothing
    response = web_client(org.director).post(LIST, {"action": "deactivate", "ids": [org.mine.pk]}, follow=True)
    assert "Choose an action you are allowed to run." in response.content.decode()
    assert Counterparty.objects.filter(is_active=False).count() == 0
    assert not AuditEntry.objects.filter(action="update").exists()
    # and the list does not offer them
    assert web_client(org.director).get(LIST).context["bulk_actions"] == []


def test_a_bad_responsible_is_refused_and_nothing_changes(org, web_client):
    response = web_client(org.head).post(
        LIST, {"action": "set_responsible", "value_set_responsible": "", "ids": [org.mine.pk]}, follow=True
    )
    assert "Choose an active user as responsible" in response.content.decode()
    org.mine.refresh_from_db()
    assert org.mine.responsible == org.manager
    assert not AuditEntry.objects.filter(action="update").exists()


def test_no_ticked_rows(org, web_client):
    response = web_client(org.head).post(LIST, {"action": "deactivate"}, follow=True)
    assert "Tick at least one row first." in response.content.decode()
    assert Counterparty.objects.filter(is_active=False).count() == 0
