"""Receipt and delivery notes: printed from posted documents, with exact figures in the PDF text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from fabrika.core import printing
from fabrika.core.models import AuditEntry
from fabrika.inventory.enums import DocumentType
from fabrika.parties import services as party_services
from tests.core.printing.pdf_text import pdf_text

from .conftest import DAY


@pytest.fixture
def customer(storekeeper, admin_user):
    return party_services.counterparty_create(
        actor=admin_user, data={"name": "Romashka", "full_name": "Romashka LLC", "tax_id": "7707083893", "is_client": True}
    )


@pytest.fixture
def posted(ledger, main, customer):
    board = ledger.product(sku="BOARD-18", name="Particle board")
    glue = ledger.product(sku="GLUE-1", name="Wood glue")
    receipt = ledger.document(
        DocumentType.RECEIPT, to_location=main.pk, counterparty=customer.pk,
        lines=[
            {"product": board.pk, "quantity": "10", "unit_cost": "1250.00"},
            {"product": glue.pk, "quantity": "3", "unit_cost": "480.40"},
        ],
    )
    issue = ledger.document(
        DocumentType.ISSUE, date=DAY + dt.timedelta(days=1), from_location=main.pk, counterparty=customer.pk,
        lines=[{"product": board.pk, "quantity": "4"}, {"product": glue.pk, "quantity": "1"}],
    )
    return receipt, issue


def test_receipt_note_context_holds_plain_exact_figures(posted):
    receipt, _issue = posted
    context = printing.printable_document("inventory.receipt_note").build_context(receipt)
    printing.ensure_plain(context)
    assert [(line["sku"], str(line["quantity"]), str(line["price"]), str(line["amount"])) for line in context["lines"]] == [
        ("BOARD-18", "10.0000", "1250.00", "12500.00"),
        ("GLUE-1", "3.0000", "480.40", "1441.20"),
    ]
    assert str(context["totals"]["amount"]) == "13941.20"
    assert context["counterparty"]["name"] == "Romashka"


def test_delivery_note_pdf_in_russian_shows_lines_totals_and_words(posted, storekeeper, api_client):
    _receipt, issue = posted
    response = api_client(storekeeper).get(f"/api/v1/core/print/inventory.delivery_note/{issue.pk}.pdf?language=ru")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    # 4 boards at 1 250,00 and 1 glue at 480,40 (FIFO cost) = 5 480,40
    # (captions come from gettext: their Russian lands with the locale merge; numbers, dates and words are Russian now)
    assert issue.number in text and "3 марта 2026" in text
    assert "Romashka LLC" in text and "7707083893" in text
    assert "BOARD-18" in text and "1 250,00 5 000,00" in text
    assert "GLUE-1" in text and "480,40 480,40" in text
    assert "5 480,40" in text
    assert "Пять тысяч четыреста восемьдесят рублей, сорок копеек" in text
    entry = AuditEntry.objects.filter(action="export", object_id=str(issue.pk)).get()
    assert entry.changes["print"] == "inventory.delivery_note" and entry.changes["format"] == "pdf"


def test_receipt_note_pdf_in_english_from_the_page(posted, storekeeper, web_client):
    receipt, _issue = posted
    response = web_client(storekeeper).get(f"/print/inventory.receipt_note/{receipt.pk}.pdf?language=en")
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert f"Receipt note No. {receipt.number}" in text
    assert "12,500.00" in text and "1,441.20" in text and "13,941.20" in text
    assert "thirteen thousand, nine hundred and forty-one roubles, twenty kopeks" in text.lower()


def test_draft_or_wrong_type_is_refused_and_nothing_is_audited(ledger, main, storekeeper, api_client, posted):
    product = ledger.product(sku="X")
    draft = ledger.document(DocumentType.RECEIPT, to_location=main.pk, post=False, lines=[{"product": product.pk, "quantity": "1", "unit_cost": "1"}])
    receipt, _issue = posted
    client = api_client(storekeeper)
    refused = client.get(f"/api/v1/core/print/inventory.receipt_note/{draft.pk}.pdf")
    assert refused.status_code == 409 and refused.json()["code"] == "not_printable"
    wrong = client.get(f"/api/v1/core/print/inventory.delivery_note/{receipt.pk}.pdf")
    assert wrong.status_code == 409
    assert not AuditEntry.objects.filter(action="export").exists()


def test_printing_needs_the_document_view_permission(posted, make_user, api_client):
    receipt, _issue = posted
    outsider = make_user("Sales manager", username="outsider")
    assert api_client(outsider).get(f"/api/v1/core/print/inventory.receipt_note/{receipt.pk}.pdf").status_code == 404
    unknown = api_client(outsider).get(f"/api/v1/core/print/nothing.here/{receipt.pk}.pdf")
    assert unknown.status_code == 422


def test_a_customised_template_is_used_for_its_language(posted, storekeeper, admin_user):
    receipt, _issue = posted
    template = printing.print_template_create(
        actor=admin_user, document_type="inventory.receipt_note",
        data={"name": "Short RU", "language": "ru", "body": "{% load fabrika_print %}КОРОТКО {{ document.number }} {{ totals.amount|money }}"},
    )
    with translation.override("ru"):
        text = pdf_text(printing.render_pdf("inventory.receipt_note", receipt, actor=storekeeper, language="ru"))
    assert text.strip() == f"КОРОТКО {receipt.number} 13 941,20"
    english = pdf_text(printing.render_pdf("inventory.receipt_note", receipt, actor=storekeeper, language="en"))
    assert "Receipt note" in english
    assert AuditEntry.objects.filter(action="export", object_id=str(receipt.pk)).count() == 2
    assert template.version == 1
