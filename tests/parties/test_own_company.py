"""The counterparty marked "our company": exactly one at a time, editable in the UI and the API, and the source of
the seller's requisites on printed invoices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fabrika.core.models import AuditEntry, CompanySettings
from fabrika.finance.printing_invoices import _company_party
from fabrika.parties.models import Counterparty
from fabrika.parties.selectors import own_company
from fabrika.parties.services import bank_account_create, counterparty_create, counterparty_update


def test_marking_another_counterparty_moves_the_mark_and_audits_both(make_user):
    admin = make_user("Administrator", username="boss")
    first = counterparty_create(actor=admin, data={"name": "Robokids LLC", "is_own_company": True})
    second = counterparty_create(actor=admin, data={"name": "Robokids Holding"})
    assert own_company() == first
    counterparty_update(actor=admin, counterparty_id=second.pk, data={"is_own_company": True})
    assert list(Counterparty.objects.filter(is_own_company=True)) == [second]
    assert AuditEntry.objects.filter(object_id=str(first.pk), action="update", changes__is_own_company=[True, False]).exists()
    assert AuditEntry.objects.filter(object_id=str(second.pk), action="update", changes__is_own_company=[False, True]).exists()
    third = counterparty_create(actor=admin, data={"name": "Robokids 2027", "is_own_company": True})
    assert own_company() == third and Counterparty.objects.filter(is_own_company=True).count() == 1


def test_printed_invoices_take_the_sellers_requisites_from_our_company(make_user):
    admin = make_user("Administrator", username="boss")
    CompanySettings.objects.update_or_create(pk=1, defaults={"name": "Robokids"})
    assert _company_party()["tax_id"] == ""  # nothing marked, nothing named like the company: the name only
    ours = counterparty_create(actor=admin, data={"name": "Robokids Ltd", "full_name": "Robokids Limited", "tax_id": "7707083893",
                                                  "kpp": "773601001", "is_own_company": True})
    bank_account_create(actor=admin, counterparty=ours, data={
        "bank_name": "Sberbank", "bic": "044525225", "account": "40702810900000000001", "correspondent_account": "30101810400000000225",
    })
    seller = _company_party()
    assert (seller["full_name"], seller["tax_id"], seller["kpp"]) == ("Robokids Limited", "7707083893", "773601001")
    assert seller["bank"]["account"] == "40702810900000000001"


def test_the_api_and_the_form_carry_the_mark(make_user, client):
    admin = make_user("Administrator", username="boss")
    client.force_login(admin)
    created = client.post("/api/v1/parties/counterparties", {"name": "Robokids LLC", "is_own_company": True}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["is_own_company"] is True
    party = Counterparty.objects.get(name="Robokids LLC")
    page = client.get(reverse("parties:counterparty_edit", args=[party.pk])).content.decode()
    assert 'name="is_own_company"' in page and "checked" in page
    patched = client.patch(f"/api/v1/parties/counterparties/{party.pk}", {"is_own_company": "maybe"}, content_type="application/json")
    assert patched.status_code == 422
    assert Counterparty.objects.get(pk=party.pk).is_own_company is True


@pytest.mark.django_db
def test_the_database_allows_one_own_company_only():
    from django.db import IntegrityError, transaction

    user = Counterparty._meta.get_field("responsible").related_model.objects.create_user(username="u1", password="x-very-long-1")
    Counterparty.objects.create(name="A", responsible=user, is_own_company=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Counterparty.objects.create(name="B", responsible=user, is_own_company=True)
