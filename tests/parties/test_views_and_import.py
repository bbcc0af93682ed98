"""UI: duplicate warning with "create anyway", card lists, contact form, merge page, directories; import duplicates."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fabrika.core.errors import DomainError
from fabrika.core.importer import importer_for
from fabrika.parties import selectors
from fabrika.parties.models import Contact, Counterparty, Segment
from fabrika.parties.services import contact_create

pytestmark = pytest.mark.django_db


def test_create_page_warns_about_duplicates_then_creates_anyway(org, web_client):
    client = web_client(org.manager)
    url = reverse("parties:counterparty_create")
    before = Counterparty.objects.count()
    response = client.post(url, {"kind": "organisation", "name": "Robo Alpha LLC", "responsible": org.manager.pk, "country": "RU"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Possible duplicates" in page and f'href="/parties/counterparties/{org.mine.pk}/"' in page and "similar name" in page
    assert Counterparty.objects.count() == before
    response = client.post(url, {"kind": "organisation", "name": "Robo Alpha LLC", "responsible": org.manager.pk, "country": "RU", "force": "on", "roles": ["client", "carrier"]})
    assert response.status_code == 302
    created = Counterparty.objects.get(name="Robo Alpha LLC")
    assert created.roles == ["client", "carrier"]


def test_card_shows_contacts_and_contact_form_validates(org, web_client):
    contact_create(actor=org.manager, counterparty=org.mine, name="Ivan Petrov", phone="+74951112233")
    client = web_client(org.manager)
    card = client.get(org.mine.get_absolute_url()).content.decode()
    assert "Ivan Petrov" in card and "+74951112233" in card
    url = reverse("parties:contact_create", args=[org.mine.pk])
    bad = client.post(url, {"name": "Olga", "email": "olga"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "Enter a valid e-mail address" in bad.content.decode()
    assert client.post(url, {"name": "Olga", "email": "olga@example.com"}).status_code == 302
    assert sorted(Contact.objects.values_list("name", flat=True)) == ["Ivan Petrov", "Olga"]
    assert web_client(org.outsider).get(url).status_code == 404


def test_merge_page_merges_a_duplicate_in_scope(org, web_client):
    client = web_client(org.head)
    url = reverse("parties:counterparty_merge", args=[org.mine.pk])
    assert client.post(url, {"duplicate": org.outsiders.pk}).status_code == 200  # outside the head's department
    assert Counterparty.objects.filter(pk=org.outsiders.pk).exists()
    response = client.post(url, {"duplicate": org.colleagues.pk})
    assert response.status_code == 302
    assert not Counterparty.objects.filter(pk=org.colleagues.pk).exists()
    assert web_client(org.manager).get(url).status_code == 403


def test_directory_pages(org, web_client):
    client = web_client(org.head)
    assert client.post(reverse("parties:directory_create", args=["segments"]), {"name": "Schools", "is_active": "on"}).status_code == 302
    assert list(Segment.objects.values_list("name", flat=True)) == ["Schools"]
    assert "Schools" in client.get(reverse("parties:directory_list", args=["segments"])).content.decode()
    assert web_client(org.manager).get(reverse("parties:directory_create", args=["segments"])).status_code == 403


def test_importer_refuses_duplicates_unless_allowed(org):
    importer = importer_for("parties.counterparty")
    with pytest.raises(DomainError) as error:
        importer.create_row(actor=org.manager, data=importer.validate_row({"name": "Robo Alpha", "tax_id": ""}))
    assert error.value.code == "duplicate_counterparty"
    created = importer.create_row(actor=org.manager, data=importer.validate_row({"name": "Robo Alpha", "allow_duplicate": "yes", "kpp": "770701001"}))
    assert (created.name, created.kpp) == ("Robo Alpha", "770701001")


def test_counterparty_search_matches_contacts_names_phones_and_emails(org, web_client):
    # given contacts on two counterparties, one with two contacts that both match "petrov"
    contact_create(actor=org.manager, counterparty=org.mine, name="Ivan Petrov", phone="+7 916 111-22-33", email="ivan@alpha.example")
    contact_create(actor=org.manager, counterparty=org.mine, name="Olga Petrova", email="olga@alpha.example")
    contact_create(actor=org.colleague, counterparty=org.colleagues, name="Pyotr Sidorov", email="sidorov@gamma.example")
    client = web_client(org.director)
    url = reverse("parties:counterparty_list")

    def found(query: str) -> list[str]:
        response = client.get(url, {"q": query})
        assert response.status_code == 200
        return [row["cells"][0]["value"] for row in response.context["rows"]]

    # then a contact's name, phone (as typed in E.164) and e-mail find its counterparty, once
    assert found("petrov") == ["Robo Alpha"]
    assert found("79161112233") == ["Robo Alpha"]
    assert found("sidorov@gamma") == ["Robo Gamma"]
    assert found("robo") == ["Robo Alpha", "Robo Beta", "Robo Gamma"]  # own names still match, no row repeated
    assert found("nobody") == []
    # and the API and the scoped selector agree, within the user's scope
    assert [c.name for c in selectors.counterparty_list_for_user(org.director, search="PETROV")] == ["Robo Alpha"]
    assert list(selectors.counterparty_list_for_user(org.outsider, search="petrov")) == []


def test_directory_form_validates_a_field_inline_and_saves_nothing(org, web_client):
    # given a segment "Schools"
    client = web_client(org.head)
    assert client.post(reverse("parties:directory_create", args=["segments"]), {"name": "Schools", "is_active": "on"}).status_code == 302
    schools = Segment.objects.get()
    form_page = client.get(reverse("parties:directory_create", args=["segments"])).content.decode()
    assert 'hx-post="/parties/directories/segments/new/validate/"' in form_page
    before = list(Segment.objects.values_list("pk", "name", "is_active"))
    # when another one is typed with the same name (any case), the name field comes back with the service's error
    url = reverse("parties:directory_validate_new", args=["segments"])
    response = client.post(url, {"_field": "name", "name": " schools "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="field-name"' in body and "“schools” already exists" in body and "has-error" in body
    # and an empty name gets the form's own error, a good one none
    assert "This field is required" in client.post(url, {"_field": "name", "name": ""}).content.decode()
    good = client.post(url, {"_field": "name", "name": "Retail"}).content.decode()
    assert "has-error" not in good and 'role="alert"' not in good
    # renaming the segment to its own name is fine; to a taken one is not
    other = Segment.objects.create(name="Retail")
    edit_url = reverse("parties:directory_validate", args=["segments", schools.pk])
    assert "has-error" not in client.post(edit_url, {"_field": "name", "name": "Schools"}).content.decode()
    assert "“Retail” already exists" in client.post(edit_url, {"_field": "name", "name": "Retail"}).content.decode()
    # and nothing was saved by any of it; a sales manager may not validate (no right to add)
    assert list(Segment.objects.exclude(pk=other.pk).values_list("pk", "name", "is_active")) == before
    assert web_client(org.manager).post(url, {"_field": "name", "name": "X"}).status_code == 403
    assert client.post(reverse("parties:directory_validate_new", args=["colours"]), {"_field": "name", "name": "X"}).status_code == 404
