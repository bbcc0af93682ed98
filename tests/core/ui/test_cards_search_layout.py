"""The generic card (fields, related list, timeline), delete, global search and the base layout."""

from __future__ import annotations

from fabrika.core.models import AuditEntry
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create, counterparty_update


def test_card_timeline_newest_first_with_old_and_new_values(org, web_client):
    # given Alpha was created, then renamed and given a city
    counterparty_update(actor=org.manager, counterparty_id=org.mine.pk, data={"name": "Robo Alpha Ltd", "city": "Tver"})
    response = web_client(org.manager).get(f"/parties/counterparties/{org.mine.pk}/")
    timeline = response.context["timeline"]
    # then the update comes first, naming each field with old → new, and the creation after it
    assert [entry.action for entry in timeline] == ["update", "create"]
    assert [(c.field, c.old, c.new) for c in timeline[0].changes] == [("City", "—", "Tver"), ("Name", "Robo Alpha", "Robo Alpha Ltd")]
    assert ("Tax ID", "7707083893") in [(c.field, c.new) for c in timeline[1].changes]
    assert timeline[0].who == "anna"
    body = response.content.decode()
    assert '<del class="old">Robo Alpha</del> → <ins class="new">Robo Alpha Ltd</ins>' in body


def test_card_shows_fields_and_possible_duplicates_in_scope(org, web_client):
    twin = counterparty_create(actor=org.manager, data={"name": "Alpha twin", "email": "alpha@example.com"})
    counterparty_create(actor=org.outsider, data={"name": "Hidden twin", "tax_id": "7707083893"})
    response = web_client(org.manager).get(f"/parties/counterparties/{org.mine.pk}/")
    fields = {str(f.label): f.value for f in response.context["card_fields"]}
    assert (fields["Tax ID"], fields["E-mail"], fields["Phone"], fields["Responsible"]) == ("7707083893", "alpha@example.com", "—", "anna")
    # the related lists: contacts, addresses, bank accounts, branches (all empty here), then possible duplicates
    *details, duplicates = response.context["related_lists"]
    assert [(str(related.title), list(related.rows)) for related in details] == [
        ("Contacts", []), ("Addresses", []), ("Bank accounts", []), ("Branches", [])
    ]
    assert str(duplicates.title) == "Possible duplicates (same tax ID, e-mail or phone)"
    assert [(list(row.cells), row.url) for row in duplicates.rows] == [
        (["Alpha twin", "", "alpha@example.com", "", "anna"], f"/parties/counterparties/{twin.pk}/")
    ]
    # the manager may change but not delete
    body = response.content.decode()
    assert f'href="/parties/counterparties/{org.mine.pk}/edit/"' in body
    assert f'href="/parties/counterparties/{org.mine.pk}/delete/"' not in body


def test_delete_asks_then_deletes_with_audit(org, web_client):
    client = web_client(org.head)
    url = f"/parties/counterparties/{org.mine.pk}/delete/"
    assert "Delete “Robo Alpha”?" in client.get(url).content.decode()
    assert Counterparty.objects.filter(pk=org.mine.pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/parties/counterparties/"
    assert not Counterparty.objects.filter(pk=org.mine.pk).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(org.mine.pk), object_repr="Robo Alpha").count() == 1
    # a manager without the delete permission is refused and nothing is deleted
    assert web_client(org.colleague).post(f"/parties/counterparties/{org.colleagues.pk}/delete/").status_code == 403
    assert Counterparty.objects.filter(pk=org.colleagues.pk).exists()


def test_global_search_groups_results_by_type(org, web_client, api_client):
    client = web_client(org.head)
    response = client.get("/search/", {"q": "robo"})
    (group,) = response.context["groups"]
    assert (group.key, group.label, group.total) == ("parties.counterparty", "Counterparties", 2)
    assert [(hit.title, hit.detail) for hit in group.hits] == [("Robo Alpha", "7707083893 · alpha@example.com"), ("Robo Gamma", "+74951234567")]
    assert group.more_url == "/parties/counterparties/?q=robo&view=0"
    # the top-bar version is a fragment
    fragment = client.get("/search/", {"q": "robo"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="topbar-search-results")
    assert "<html" not in fragment.content.decode() and "Robo Gamma" in fragment.content.decode()
    # one character is too short, nothing is searched
    assert client.get("/search/", {"q": "r"}).context["groups"] == []
    # the same through the API
    body = api_client(org.head).get("/api/v1/core/search?q=robo").json()
    assert [(g["key"], g["total"], [h["title"] for h in g["hits"]]) for g in body] == [("parties.counterparty", 2, ["Robo Alpha", "Robo Gamma"])]


def test_search_skips_entities_the_role_may_not_view(org, make_user, web_client):
    nobody = make_user(role="", username="nobody")
    assert web_client(nobody).get("/search/", {"q": "robo"}).context["groups"] == []


def test_layout_has_navigation_search_user_menu_language_and_head_block(org, web_client):
    body = web_client(org.manager).get("/").content.decode()
    assert '<html lang="en">' in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert '<a href="/parties/counterparties/">Counterparties</a>' in body
    assert 'action="/search/"' in body and 'hx-target="#topbar-search-results"' in body
    assert '<summary>anna</summary>' in body
    assert 'action="/i18n/setlang/"' in body
    client = web_client(org.manager)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    assert '<html lang="ru">' in client.get("/").content.decode()
