"""Ledger pages: journal list with filters and export, entry card with its source document, manual entry form,
account list/card/forms, trial balance with XLSX export and the reconciliation warning, permissions."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from fabrika.ledger.models import Account, JournalEntry
from fabrika.ledger.services import EntryLine, Source, journal_post, manual_entry_create
from fabrika.ledger.views import _line_error_key

from .conftest import DAY, journal_snapshot

D = Decimal


def _entry_form(lines, date="2026-03-02", memo=""):
    data = {"date": date, "memo": memo, "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "2", "lines-MAX_NUM_FORMS": "100"}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def test_manual_entry_form_posts_and_refuses_unbalanced_lines_beside_the_field(web_client, accountant, client_party):
    client = web_client(accountant)
    page = client.get("/ledger/entries/new/")
    assert page.status_code == 200 and b"entry-line-template" in page.content
    bank, receivables, equity = (Account.objects.get(key=key) for key in ("bank", "receivables", "opening_equity"))
    before = journal_snapshot()
    refused = client.post("/ledger/entries/new/", _entry_form([
        {"account": bank.pk, "debit": "100"}, {"account": equity.pk, "credit": "90"},
    ]))
    assert refused.status_code == 200 and "Debits (100.00) and credits (90.00) must be equal" in refused.content.decode()
    missing_party = client.post("/ledger/entries/new/", _entry_form([
        {"account": receivables.pk, "debit": "100"}, {"account": equity.pk, "credit": "100"},
    ]))
    assert "is kept per counterparty: choose one" in missing_party.content.decode()
    assert journal_snapshot() == before
    posted = client.post("/ledger/entries/new/", _entry_form([
        {"account": receivables.pk, "debit": "100", "counterparty": client_party.pk}, {"account": equity.pk, "credit": "100"},
    ], memo="Opening balance of Robokids"))
    entry = JournalEntry.objects.get()
    assert posted.status_code == 302 and posted["Location"] == f"/ledger/entries/{entry.pk}/"
    assert entry.total == D("100.00") and entry.memo == "Opening balance of Robokids"


def test_entry_card_links_the_source_document_and_reverses_a_manual_entry(web_client, accountant, ledger, main, client_party):
    product = ledger.product()
    receipt = ledger.receive(product, 10, "2.50", to=main, date=DAY)
    stock_entry = JournalEntry.objects.get(source_type="inventory.stockdocument")
    client = web_client(accountant)
    card = client.get(f"/ledger/entries/{stock_entry.pk}/").content.decode()
    assert receipt.number in card and "1300" in card and "25.00" in card
    assert "Reverse this entry" not in card  # a document's entry is undone by cancelling the document
    # a source whose model has a page is linked (resolved by apps.get_model(source_type))
    linked = journal_post(actor=accountant, date=DAY, source=Source.of(client_party), lines=[
        EntryLine(account="cash", debit=D("1")), EntryLine(account="other_expenses", credit=D("1")),
    ])
    assert f'href="{client_party.get_absolute_url()}"' in client.get(f"/ledger/entries/{linked.pk}/").content.decode()
    manual = manual_entry_create(actor=accountant, date="2026-03-02", lines=[
        {"account": "1010", "debit": "5"}, {"account": "5900", "credit": "5"},
    ])
    assert "Reverse this entry" in client.get(f"/ledger/entries/{manual.pk}/").content.decode()
    response = client.post(f"/ledger/entries/{manual.pk}/", {"date": "2026-03-05"})
    reversal = JournalEntry.objects.get(reverses=manual)
    assert response.status_code == 302 and str(reversal.date) == "2026-03-05"


def test_journal_list_filters_and_exports(web_client, accountant, ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    manual_entry_create(actor=accountant, date="2026-04-02", lines=[{"account": "1010", "debit": "7"}, {"account": "5900", "credit": "7"}])
    client = web_client(accountant)
    cash = Account.objects.get(key="cash")
    page = client.get(f"/ledger/entries/?account={cash.pk}").content.decode()
    assert "Manual entry" in page and "Stock document" not in page.split("<tbody")[1]
    dated = client.get("/ledger/entries/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "25.00" in dated and "7.00" not in dated.split("<tbody")[1]
    exported = client.get("/ledger/entries/?source=inventory.stockdocument&export=xlsx")
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.content)).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert 25 in values or D("25.00") in values


def test_trial_balance_page_export_and_warning(web_client, accountant, ledger, main):
    product = ledger.product()
    ledger.receive(product, 10, "2.50", to=main, date=DAY)
    client = web_client(accountant)
    page = client.get("/ledger/trial-balance/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "1300 Inventory" in page and "reconciliation-warning" not in page
    exported = client.get("/ledger/trial-balance/?date_from=2026-03-01&date_to=2026-03-31&export=xlsx")
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[3][:6] == ("1300", "Inventory", 0, 0, 25, 0) and rows[-1][4:6] == (25, 25)
    # a manual entry on the inventory account bypasses the stock: the page warns
    manual_entry_create(actor=accountant, date="2026-03-03", lines=[{"account": "1300", "debit": "1"}, {"account": "5900", "credit": "1"}])
    warned = client.get("/ledger/trial-balance/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "reconciliation-warning" in warned and "1.00" in warned
    bad = client.get("/ledger/trial-balance/?date_from=2026-03-31&date_to=2026-03-01")
    assert bad.status_code == 200 and "The end of the period is before its start" in bad.content.decode()


def test_account_pages(web_client, accountant, client_party):
    client = web_client(accountant)
    assert "1200" in client.get("/ledger/accounts/").content.decode()
    response = client.post("/ledger/accounts/new/", {"code": "1010", "name": "Petty cash", "kind": "asset"})
    assert response.status_code == 200 and "Account code 1010 is already used" in response.content.decode()
    response = client.post("/ledger/accounts/new/", {"code": "5910", "name": "Bank fees", "kind": "expense"})
    fees = Account.objects.get(code="5910")
    assert response.status_code == 302 and response["Location"] == f"/ledger/accounts/{fees.pk}/"
    receivables = Account.objects.get(key="receivables")
    manual_entry_create(actor=accountant, date="2026-03-02", lines=[
        {"account": "1200", "debit": "100", "counterparty": client_party.pk}, {"account": "3000", "credit": "100"},
    ])
    manual_entry_create(actor=accountant, date="2026-03-09", lines=[
        {"account": "1010", "debit": "30"}, {"account": "1200", "credit": "30", "counterparty": client_party.pk},
    ])
    card = client.get(f"/ledger/accounts/{receivables.pk}/?date_from=2026-03-05&date_to=2026-03-31").content.decode()
    assert 'id="opening">100.00' in card and 'id="closing">70.00' in card and "Robokids" in card
    assert "Delete" not in card.split("card-grid")[0]  # standard: no delete button
    edit = client.post(f"/ledger/accounts/{receivables.pk}/edit/", {"code": "62", "name": "Buyers", "kind": "asset"})
    receivables.refresh_from_db()
    assert edit.status_code == 302 and (receivables.code, receivables.name, receivables.key, receivables.is_active) == ("62", "Buyers", "receivables", True)
    assert client.post(f"/ledger/accounts/{fees.pk}/delete/").status_code == 302
    assert not Account.objects.filter(code="5910").exists()
    client.post(f"/ledger/accounts/{receivables.pk}/delete/")
    assert Account.objects.filter(pk=receivables.pk).exists()


def test_pages_need_ledger_permissions(web_client, clerk, director):
    client = web_client(clerk)
    for url in ("/ledger/entries/", "/ledger/accounts/", "/ledger/trial-balance/", "/ledger/entries/new/", "/ledger/accounts/new/"):
        assert client.get(url).status_code == 403, url
    reader = web_client(director)
    assert reader.get("/ledger/entries/").status_code == 200
    assert reader.get("/ledger/trial-balance/").status_code == 200
    before = journal_snapshot()
    assert reader.get("/ledger/entries/new/").status_code == 403
    assert reader.post("/ledger/entries/new/", _entry_form([{"account": "1", "debit": "1"}, {"account": "2", "credit": "1"}])).status_code == 403
    assert reader.get("/ledger/entries/999999/").status_code == 404
    assert journal_snapshot() == before


def test_line_error_keys():
    assert _line_error_key("lines.3.debit") == (3, "debit")
    assert _line_error_key("lines") is None
