"""Payments and settlements over the API: create (idempotent), post with allocations, allocate, unallocate, cancel,
apply advances, settlements with ageing, overdue, reconciliation, credit limit; permissions and scope."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.utils import timezone

from fabrika.finance.models import Direction, Invoice, Payment, PaymentAllocation
from fabrika.ledger.models import JournalEntry
from fabrika.parties.models import Counterparty

from .payment_factories import posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)
BASE = "/api/v1/finance"


def post(client, url, data=None, **headers):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json", **headers)


def test_create_post_allocate_unallocate_cancel(api_client, accountant, client_party):
    client = api_client(accountant)
    first = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    second = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    payload = {"counterparty_id": client_party.pk, "amount": "1200.00", "date": "2026-03-05", "purpose": "Order 1"}
    created = post(client, f"{BASE}/payments", payload, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert created.status_code == 201, created.content
    again = post(client, f"{BASE}/payments", payload, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert again.status_code == 201 and again.json()["id"] == created.json()["id"]
    assert Payment.objects.count() == 1
    payment_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["amount"] == "1200.00"
    patched = client.patch(f"{BASE}/payments/{payment_id}", data=json.dumps({"method": "cash", "reference": "BANK-7"}),
                           content_type="application/json")
    assert patched.status_code == 200 and (patched.json()["method"], patched.json()["reference"]) == ("cash", "BANK-7")
    bad = client.patch(f"{BASE}/payments/{payment_id}", data=json.dumps({"amount": "0"}), content_type="application/json")
    assert bad.status_code == 422 and "amount" in bad.json()["errors"]
    assert Payment.objects.get().amount == D("1200.00")

    posted = post(client, f"{BASE}/payments/{payment_id}/post", {"allocations": [{"invoice_id": first.pk, "amount": "1000.00"}]})
    assert posted.status_code == 200, posted.content
    body = posted.json()
    assert body["status"] == "posted" and body["allocated_amount"] == "1000.00" and body["unallocated_amount"] == "200.00"
    assert [a["invoice_number"] for a in body["allocations"]] == [first.number]

    allocated = post(client, f"{BASE}/payments/{payment_id}/allocate", {"invoice_id": second.pk, "amount": "200.00", "date": "2026-03-06"})
    assert allocated.status_code == 201, allocated.content
    too_much = post(client, f"{BASE}/payments/{payment_id}/allocate", {"invoice_id": second.pk, "amount": "0.01"})
    assert too_much.status_code == 422 and "amount" in too_much.json()["errors"]

    allocation_id = allocated.json()["id"]
    undone = post(client, f"{BASE}/payments/{payment_id}/allocations/{allocation_id}/unallocate", {"date": "2026-03-07"})
    assert undone.status_code == 200 and undone.json()["is_active"] is False

    applied = post(client, f"{BASE}/invoices/{second.pk}/apply-advances", {"date": "2026-03-08"})
    assert applied.status_code == 200 and [a["amount"] for a in applied.json()] == ["200.00"]

    cancelled = post(client, f"{BASE}/payments/{payment_id}/cancel", {"date": "2026-03-09"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert sum(Invoice.objects.values_list("paid_amount", flat=True), D(0)) == D(0)
    again = post(client, f"{BASE}/payments/{payment_id}/cancel")
    assert again.status_code == 409

    listed = client.get(f"{BASE}/payments", {"status": "cancelled"})
    assert [row["id"] for row in listed.json()["items"]] == [payment_id]


def test_bad_input_is_a_422_naming_the_field(api_client, accountant, client_party):
    client = api_client(accountant)
    response = post(client, f"{BASE}/payments", {"counterparty_id": client_party.pk, "amount": "-3"})
    assert response.status_code == 422 and "amount" in response.json()["errors"]
    response = post(client, f"{BASE}/payments", {"counterparty_id": 987654, "amount": "3"})
    assert response.status_code == 422 and "counterparty_id" in response.json()["errors"]
    response = post(client, f"{BASE}/payments", {"counterparty_id": client_party.pk, "amount": "3", "method": "gold"})
    assert response.status_code == 422 and "method" in response.json()["errors"]
    assert Payment.objects.count() == 0
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="10.00", date=MAR)
    payment = post(client, f"{BASE}/payments", {"counterparty_id": client_party.pk, "amount": "30"}).json()
    entries = JournalEntry.objects.count()
    response = post(client, f"{BASE}/payments/{payment['id']}/post", {"allocations": [{"invoice_id": invoice.pk, "amount": "10.01"}]})
    assert response.status_code == 422 and "allocations.0.amount" in response.json()["errors"]
    assert JournalEntry.objects.count() == entries and Payment.objects.get().status == "draft"


def test_sales_manager_sees_own_clients_payments_only_and_cannot_create(api_client, accountant, manager, other_manager, client_party):
    others = Counterparty.objects.create(name="Other client", is_client=True, responsible=other_manager)
    from fabrika.finance import services_payments as services

    own = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "10", "date": MAR})
    foreign = services.payment_create(actor=accountant, data={"counterparty": others.pk, "amount": "20", "date": MAR})
    client = api_client(manager)
    listed = client.get(f"{BASE}/payments")
    assert [row["id"] for row in listed.json()["items"]] == [own.pk]
    assert client.get(f"{BASE}/payments/{foreign.pk}").status_code == 404
    assert client.get(f"{BASE}/payments/{own.pk}").status_code == 200
    assert post(client, f"{BASE}/payments", {"counterparty_id": client_party.pk, "amount": "5"}).status_code == 403
    assert post(client, f"{BASE}/payments/{own.pk}/post").status_code == 403
    assert client.get(f"{BASE}/settlements/{others.pk}").status_code == 404
    response = client.put(f"{BASE}/counterparties/{client_party.pk}/credit-limit", data=json.dumps({"credit_limit": "5"}),
                          content_type="application/json")
    assert response.status_code == 403
    assert Payment.objects.count() == 2


def test_settlements_ageing_overdue_reconciliation_and_credit_limit(api_client, accountant, client_party):
    today = timezone.localdate()
    posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=today - dt.timedelta(days=50),
                   due_date=today - dt.timedelta(days=40))
    posted_invoice(counterparty=client_party, actor=accountant, total="250.00", date=today, due_date=today + dt.timedelta(days=10))
    client = api_client(accountant)
    response = client.put(f"{BASE}/counterparties/{client_party.pk}/credit-limit", data=json.dumps({"credit_limit": "1000.00"}),
                          content_type="application/json")
    assert response.status_code == 200 and response.json()["credit_limit"] == "1000.00"
    bad = client.put(f"{BASE}/counterparties/{client_party.pk}/credit-limit", data=json.dumps({"credit_limit": "-1"}),
                     content_type="application/json")
    assert bad.status_code == 422 and "credit_limit" in bad.json()["errors"]

    listed = client.get(f"{BASE}/settlements").json()["items"]
    assert [(row["name"], row["balance"], row["overdue_receivable"], row["credit_headroom"]) for row in listed] == [
        ("Robokids School", "350.00", "100.00", "650.00")]
    detail = client.get(f"{BASE}/settlements/{client_party.pk}").json()
    out = next(item for item in detail["ageing"] if item["direction"] == Direction.OUTGOING)
    assert (out["not_due"], out["days_31_60"], out["total"], out["overdue"]) == ("250.00", "100.00", "350.00", "100.00")
    assert detail["documents"]["balance"] == detail["balance"] == "350.00"

    overdue = client.get(f"{BASE}/overdue", {"min_days": 31}).json()["items"]
    assert [(row["open_amount"], row["days_overdue"]) for row in overdue] == [("100.00", 40)]
    assert client.get(f"{BASE}/overdue", {"min_days": 41}).json()["items"] == []

    statement = client.get(f"{BASE}/reconciliation", {"counterparty": client_party.pk, "date_from": str(today - dt.timedelta(days=45)),
                                                        "date_to": str(today)}).json()
    assert (statement["opening_balance"], statement["debit_total"], statement["closing_balance"]) == ("100.00", "250.00", "350.00")
    assert statement["pdf_url"].startswith(f"{BASE}/reconciliation.pdf?counterparty={client_party.pk}")
    bad = client.get(f"{BASE}/reconciliation", {"counterparty": client_party.pk, "date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert bad.status_code == 422 and "date_from" in bad.json()["errors"]
    assert PaymentAllocation.objects.count() == 0


def test_lists_make_the_same_number_of_queries_for_more_rows(api_client, accountant, client_party, supplier):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fabrika.finance import services_payments as services

    client = api_client(accountant)

    def counts() -> tuple[int, int, int]:
        result = []
        for url in (f"{BASE}/payments", f"{BASE}/settlements", f"{BASE}/overdue"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return tuple(result)

    def add(party, day):
        posted_invoice(counterparty=party, actor=accountant, total="100.00", date=day, due_date=day)
        payment = services.payment_create(actor=accountant, data={"counterparty": party.pk, "amount": "40", "date": day})
        services.payment_post(actor=accountant, payment_id=payment.pk)

    add(client_party, MAR)
    counts()  # the first request also records the token's use
    few = counts()
    for index in range(4):
        add(Counterparty.objects.create(name=f"Client {index}", is_client=True, responsible=accountant), MAR)
        add(supplier, MAR)
    assert counts() == few
