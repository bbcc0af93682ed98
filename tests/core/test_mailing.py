"""E-mailing a printed document from a card (core:email_document): the form is prefilled with the contact's e-mail,
the PDF goes out after the commit as an attachment, an audit row records it; a bad address is a form error and sends
nothing; a record outside the user's scope is a 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from fabrika.core import mailing
from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry
from fabrika.ledger.services import EntryLine, Source, accounts_ensure, journal_post
from fabrika.parties.models import Contact, Counterparty

CODE = "finance.reconciliation_statement"


@pytest.fixture
def accountant(make_user):
    return make_user("Accountant", username="accountant")


@pytest.fixture
def party(db, make_user):
    manager = make_user("Sales manager", username="manager")
    party = Counterparty.objects.create(name="Robokids School", is_client=True, responsible=manager, email="office@robokids.example")
    Contact.objects.create(counterparty=party, name="Anna", email="anna@robokids.example")
    Contact.objects.create(counterparty=party, name="Boris", email="boris@robokids.example", is_primary=True)
    return party


def test_the_form_is_prefilled_and_sends_the_pdf_after_commit(settings, web_client, accountant, party, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    accounts_ensure()
    journal_post(actor=accountant, date=dt.date(2026, 2, 1), source=Source("tests.invoice", 1, "INV-1"),
                 lines=[EntryLine("receivables", debit=Decimal("100.00"), counterparty_id=party.pk), EntryLine("revenue", credit=Decimal("100.00"))])
    client = web_client(accountant)
    url = reverse("core:email_document", args=[CODE, party.pk])
    page = client.get(url, {"date_from": "2026-01-01", "date_to": "2026-03-31", "next": "/finance/"})
    html = page.content.decode()
    assert page.status_code == 200 and 'value="boris@robokids.example"' in html and 'name="date_from" value="2026-01-01"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"to": "boris@robokids.example, anna@robokids.example", "subject": "Statement", "body": "Hello",
                                     "next": "/finance/", "date_from": "2026-01-01", "date_to": "2026-03-31"})
    assert response.status_code == 302 and response["Location"] == "/finance/"
    [message] = mail.outbox
    assert message.to == ["boris@robokids.example", "anna@robokids.example"] and message.subject == "Statement"
    [(filename, content, mimetype)] = message.attachments
    assert filename.endswith(".pdf") and mimetype == "application/pdf" and content.startswith(b"%PDF")
    entry = AuditEntry.objects.filter(object_id=str(party.pk), action="export").latest("at")
    assert entry.changes["email"] == ["boris@robokids.example", "anna@robokids.example"]


def test_a_bad_address_is_a_form_error_and_sends_nothing(settings, web_client, accountant, party, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = web_client(accountant)
    url = reverse("core:email_document", args=[CODE, party.pk])
    audit_rows = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"to": "boris@, anna@robokids.example", "subject": "Statement"})
    assert response.status_code == 422 and "is not a valid e-mail address" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"to": "anna@robokids.example", "subject": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and 'id="email-document-form"' in response.content.decode()
    assert mail.outbox == [] and AuditEntry.objects.count() == audit_rows
    with pytest.raises(ValidationError) as refused:
        mailing.parse_recipients("")
    assert "to" in refused.value.errors


def test_scope_and_permission(web_client, make_user, party):
    other = make_user("Sales manager", username="other")
    assert web_client(other).get(reverse("core:email_document", args=[CODE, party.pk])).status_code == 404
    storekeeper = make_user("Storekeeper", username="keeper")
    assert web_client(storekeeper).get(reverse("core:email_document", args=[CODE, party.pk])).status_code == 404
    assert web_client(other).get(reverse("core:email_document", args=["no.such_form", party.pk])).status_code == 404


def test_default_recipient_falls_back_to_the_counterparty(db, party):
    party.contacts.all().delete()
    period = mailing.prepare_object(CODE, party, {})
    assert mailing.default_recipient(CODE, period) == "office@robokids.example"
    assert mailing.default_recipient(CODE, party) == "office@robokids.example"
