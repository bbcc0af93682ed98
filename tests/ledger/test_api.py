"""Ledger API: chart of accounts, manual entries with Idempotency-Key, reversal, filters, trial balance, balances."""

from __future__ import annotations

import json
from decimal import Decimal

from django.contrib.auth.models import Permission

from fabrika.ledger.models import Account, JournalEntry
from fabrika.ledger.selectors import counterparty_balance

from .conftest import journal_snapshot

D = Decimal


def _post(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def _patch(client, url, body):
    return client.patch(url, data=json.dumps(body), content_type="application/json")


OPENING = {
    "date": "2026-01-01", "memo": "Opening balances",
    "lines": [
        {"account": "1020", "debit": "1000.00"},
        {"account": "1200", "debit": "250.50"},  # counterparty added per test
        {"account": "3000", "credit": "1250.50"},
    ],
}


def _opening(client_party):
    body = json.loads(json.dumps(OPENING))
    body["lines"][1]["counterparty_id"] = client_party.pk
    return body


def test_accountant_posts_a_manual_entry_once_per_idempotency_key(api_client, accountant, client_party):
    client = api_client(accountant)
    body = _opening(client_party)
    first = _post(client, "/api/v1/ledger/entries", body, HTTP_IDEMPOTENCY_KEY="open-2026")
    assert first.status_code == 201, first.content
    again = _post(client, "/api/v1/ledger/entries", body, HTTP_IDEMPOTENCY_KEY="open-2026")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert JournalEntry.objects.count() == 1
    data = first.json()
    assert data["total"] == "1250.50" and data["source_type"] == "ledger.manual" and data["source_number"]
    assert [(line["account_code"], line["debit"], line["credit"]) for line in data["lines"]] == [
        ("1020", "1000.00", "0.00"), ("1200", "250.50", "0.00"), ("3000", "0.00", "1250.50"),
    ]
    assert counterparty_balance(counterparty_id=client_party.pk) == D("250.50")
    balance = client.get(f"/api/v1/ledger/counterparties/{client_party.pk}/balance").json()
    assert (balance["balance"], balance["receivables"], balance["payables"]) == ("250.50", "250.50", "0")


def test_unbalanced_or_incomplete_manual_entries_are_refused_naming_the_field(api_client, accountant, client_party):
    client = api_client(accountant)
    before = journal_snapshot()
    unbalanced = _opening(client_party)
    unbalanced["lines"][2]["credit"] = "1250.00"
    response = _post(client, "/api/v1/ledger/entries", unbalanced)
    assert response.status_code == 422
    assert "lines" in json.dumps(response.json()) and "1250.50" in json.dumps(response.json())
    no_party = json.loads(json.dumps(OPENING))
    response = _post(client, "/api/v1/ledger/entries", no_party)
    assert response.status_code == 422 and "lines.1.counterparty" in json.dumps(response.json())
    both_sides = _opening(client_party)
    both_sides["lines"][0]["credit"] = "5"
    response = _post(client, "/api/v1/ledger/entries", both_sides)
    assert response.status_code == 422 and "lines.0.debit" in json.dumps(response.json())
    unknown = _opening(client_party)
    unknown["lines"][0]["account"] = "9999"
    response = _post(client, "/api/v1/ledger/entries", unknown)
    assert response.status_code == 422 and "lines.0.account" in json.dumps(response.json())
    garbage = _opening(client_party)
    garbage["lines"][0]["debit"] = "abc"
    assert _post(client, "/api/v1/ledger/entries", garbage).status_code == 422
    too_precise = _opening(client_party)
    too_precise["lines"][0]["debit"] = "1000.001"
    assert _post(client, "/api/v1/ledger/entries", too_precise).status_code == 422
    assert journal_snapshot() == before


def test_reversal_of_a_manual_entry_mirrors_it_once(api_client, accountant, client_party):
    client = api_client(accountant)
    entry = _post(client, "/api/v1/ledger/entries", _opening(client_party)).json()
    early = _post(client, f"/api/v1/ledger/entries/{entry['id']}/reverse", {"date": "2025-12-31"})
    assert early.status_code == 422 and "date" in json.dumps(early.json())
    response = _post(client, f"/api/v1/ledger/entries/{entry['id']}/reverse", {"date": "2026-02-01"})
    assert response.status_code == 201, response.content
    reversal = response.json()
    assert reversal["reverses_id"] == entry["id"] and reversal["date"] == "2026-02-01"
    assert [(line["account_code"], line["debit"], line["credit"]) for line in reversal["lines"]] == [
        ("1020", "0.00", "1000.00"), ("1200", "0.00", "250.50"), ("3000", "1250.50", "0.00"),
    ]
    assert counterparty_balance(counterparty_id=client_party.pk) == 0
    before = journal_snapshot()
    assert _post(client, f"/api/v1/ledger/entries/{entry['id']}/reverse", {}).status_code == 409
    assert _post(client, f"/api/v1/ledger/entries/{reversal['id']}/reverse", {}).status_code == 409
    assert _post(client, "/api/v1/ledger/entries/999999/reverse", {}).status_code == 404
    assert journal_snapshot() == before


def test_entries_list_filters_and_pages(api_client, accountant, client_party):
    client = api_client(accountant)
    _post(client, "/api/v1/ledger/entries", _opening(client_party))
    _post(client, "/api/v1/ledger/entries", {"date": "2026-03-10", "lines": [
        {"account": "5900", "debit": "40"}, {"account": "1010", "credit": "40"},
    ]})
    everything = client.get("/api/v1/ledger/entries?limit=1").json()
    assert everything["count"] == 2 and len(everything["items"]) == 1 and everything["next_cursor"]
    assert everything["items"][0]["date"] == "2026-03-10"
    second = client.get(f"/api/v1/ledger/entries?limit=1&cursor={everything['next_cursor']}").json()
    assert second["items"][0]["date"] == "2026-01-01"
    cash = Account.objects.get(code="1010")
    assert client.get(f"/api/v1/ledger/entries?account_id={cash.pk}").json()["count"] == 1
    assert client.get(f"/api/v1/ledger/entries?counterparty_id={client_party.pk}").json()["count"] == 1
    assert client.get("/api/v1/ledger/entries?date_from=2026-02-01").json()["count"] == 1
    assert client.get("/api/v1/ledger/entries?source_type=inventory.stockdocument").json()["count"] == 0
    assert client.get("/api/v1/ledger/entries?date_from=yesterday").status_code == 422


def test_trial_balance_totals_match(api_client, accountant, client_party):
    client = api_client(accountant)
    _post(client, "/api/v1/ledger/entries", _opening(client_party))
    _post(client, "/api/v1/ledger/entries", {"date": "2026-03-10", "lines": [
        {"account": "5900", "debit": "40"}, {"account": "1010", "credit": "40"},
    ]})
    report = client.get("/api/v1/ledger/trial-balance?date_from=2026-03-01&date_to=2026-03-31").json()
    rows = {row["account_code"]: row for row in report["rows"]}
    assert (rows["1020"]["opening_debit"], rows["1020"]["closing_debit"]) == ("1000.00", "1000.00")
    assert (rows["1010"]["credit"], rows["1010"]["closing_credit"]) == ("40.00", "40.00")
    assert (rows["3000"]["opening_credit"], rows["5900"]["debit"]) == ("1250.50", "40.00")
    totals = report["totals"]
    assert totals["opening_debit"] == totals["opening_credit"] == "1250.50"
    assert totals["debit"] == totals["credit"] == "40.00"
    assert totals["closing_debit"] == totals["closing_credit"] == "1290.50"
    assert report["differences"] == {"inventory": "0"}
    bad = client.get("/api/v1/ledger/trial-balance?date_from=2026-03-31&date_to=2026-03-01")
    assert bad.status_code == 422 and "date_to" in json.dumps(bad.json())


def test_chart_of_accounts_rules(api_client, accountant, client_party):
    client = api_client(accountant)
    created = _post(client, "/api/v1/ledger/accounts", {"code": "5910", "name": "Bank fees", "kind": "expense"})
    assert created.status_code == 201, created.content
    fees = created.json()
    assert (fees["key"], fees["is_active"]) == (None, True)
    before = list(Account.objects.order_by("id").values_list("code", "name", "kind", "is_active", "tracks_counterparty"))
    duplicate = _post(client, "/api/v1/ledger/accounts", {"code": "1010", "name": "Petty cash", "kind": "asset"})
    assert duplicate.status_code == 422 and "code" in duplicate.json()["errors"]
    assert _post(client, "/api/v1/ledger/accounts", {"code": "", "name": "", "kind": "gold"}).json()["errors"].keys() >= {"code", "name", "kind"}
    receivables = Account.objects.get(key="receivables")
    refused = _patch(client, f"/api/v1/ledger/accounts/{receivables.pk}", {"is_active": False})
    assert refused.status_code == 422 and "is_active" in refused.json()["errors"]
    assert client.delete(f"/api/v1/ledger/accounts/{receivables.pk}").status_code == 409
    assert list(Account.objects.order_by("id").values_list("code", "name", "kind", "is_active", "tracks_counterparty")) == before
    # a standard account can be renamed and recoded; the posting rules still find it by its key
    renamed = _patch(client, f"/api/v1/ledger/accounts/{receivables.pk}", {"code": "62", "name": "Settlements with buyers"})
    assert renamed.status_code == 200 and renamed.json()["code"] == "62" and renamed.json()["key"] == "receivables"
    # a used account cannot be deleted; an unused one can
    _post(client, "/api/v1/ledger/entries", {"date": "2026-03-10", "lines": [{"account": "5910", "debit": "3"}, {"account": "1010", "credit": "3"}]})
    assert client.delete(f"/api/v1/ledger/accounts/{fees['id']}").status_code == 409
    spare = _post(client, "/api/v1/ledger/accounts", {"code": "5920", "name": "Spare", "kind": "expense"}).json()
    assert client.delete(f"/api/v1/ledger/accounts/{spare['id']}").status_code == 204
    assert not Account.objects.filter(pk=spare["id"]).exists()


def test_permissions(api_client, director, clerk, client_party):
    # the director reads but does not write; a user without ledger rights gets 403 everywhere
    reader = api_client(director)
    assert reader.get("/api/v1/ledger/accounts").status_code == 200
    assert reader.get("/api/v1/ledger/entries").status_code == 200
    assert reader.get("/api/v1/ledger/trial-balance?date_from=2026-01-01&date_to=2026-01-31").status_code == 200
    before = journal_snapshot()
    assert _post(reader, "/api/v1/ledger/entries", _opening(client_party)).status_code == 403
    assert _post(reader, "/api/v1/ledger/accounts", {"code": "7000", "name": "X", "kind": "expense"}).status_code == 403
    outsider = api_client(clerk)
    assert outsider.get("/api/v1/ledger/entries").status_code == 403
    assert outsider.get("/api/v1/ledger/accounts").status_code == 403
    assert outsider.get(f"/api/v1/ledger/counterparties/{client_party.pk}/balance").status_code == 403
    assert journal_snapshot() == before
    assert not Account.objects.filter(code="7000").exists()
    assert reader.get("/api/v1/ledger/entries/999999").status_code == 404


def test_counterparty_balance_outside_the_scope_is_not_found(api_client, make_user, chart, client_party):
    # a sales manager allowed to read the journal sees only their own clients' balances
    other = make_user("Sales manager", username="other-manager")
    other.user_permissions.add(Permission.objects.get(codename="view_journalentry", content_type__app_label="ledger"))
    response = api_client(other).get(f"/api/v1/ledger/counterparties/{client_party.pk}/balance")
    assert response.status_code == 404


def test_openapi_documents_the_ledger_operations(client, db):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    ledger_paths = {path: operations for path, operations in schema["paths"].items() if path.startswith("/api/v1/ledger/")}
    assert {"/api/v1/ledger/accounts", "/api/v1/ledger/entries", "/api/v1/ledger/entries/{entry_id}/reverse",
            "/api/v1/ledger/trial-balance", "/api/v1/ledger/counterparties/{counterparty_id}/balance"} <= set(ledger_paths)
    for path, operations in ledger_paths.items():
        for method, operation in operations.items():
            for code in ("401", "403", "422", "default"):
                assert operation["responses"][code]["content"] == problem, (method, path, code)
    create = ledger_paths["/api/v1/ledger/entries"]["post"]
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in create["parameters"])


def test_an_account_reference_is_read_as_a_code_before_an_id(api_client, accountant, client_party):
    """"1200" names the receivables account by its code even when some account's id is 1200 (PostgreSQL sequences
    keep growing across tests, so ids reach the codes' range)."""
    receivables = Account.objects.get(code="1200")
    other = Account.objects.exclude(pk=receivables.pk).exclude(tracks_counterparty=True).first()
    if other.pk != 1200 and not Account.objects.filter(pk=1200).exists():
        Account.objects.filter(pk=other.pk).update(id=1200)
    response = _post(api_client(accountant), "/api/v1/ledger/entries", _opening(client_party))
    assert response.status_code == 201, response.content
    assert counterparty_balance(counterparty_id=client_party.pk) == D("250.50")
