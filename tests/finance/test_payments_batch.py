"""A bank statement posted at once (fabrika.finance.batch_payments): the same payments, allocations, journal entries
and audit rows as payment_create + payment_post row after row; refusals naming rows.N.<field> with nothing written;
a constant number of queries; the API (POST /payments/batch) and the bank statement page (upload, preview, post)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fabrika.core.errors import ValidationError
from fabrika.core.models import AuditEntry
from fabrika.finance import services_payments as services
from fabrika.finance.batch_payments import payments_check_batch, payments_post_batch
from fabrika.finance.models import Direction, Invoice, Payment, PaymentAllocation, PaymentScheduleItem
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.parties.models import Counterparty

from .payment_factories import posted_credit_note, posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)
PAY_DAY = dt.date(2026, 3, 25)
BASE = "/api/v1/finance"


def state():
    """Everything a refused batch must leave as it was."""
    return (
        list(Invoice.objects.order_by("pk").values_list("pk", "paid_amount")),
        Payment.objects.count(), PaymentAllocation.objects.count(), JournalEntry.objects.count(), JournalLine.objects.count(),
        list(PaymentScheduleItem.objects.order_by("pk").values_list("pk", "paid_amount")), AuditEntry.objects.count(),
    )


# ----------------------------------------------------------------------------------------------- equivalence


def _scenario(actor, client, supplier) -> tuple[dict[str, Invoice], list[dict]]:
    """Invoices of `client` and `supplier` and the statement rows that pay them: oldest-first automatic allocation,
    several rows paying one invoice, a credit note, a schedule, foreign currency with gains and losses (the closing
    allocation settles what is left), an advance, no allocation at all, a cash payment to a supplier."""
    invoices = {
        "big": posted_invoice(counterparty=client, actor=actor, total="1000.00", date=MAR, due_date=dt.date(2026, 3, 10)),
        "scheduled": posted_invoice(counterparty=client, actor=actor, total="500.00", date=MAR, due_date=dt.date(2026, 3, 5),
                                    schedule=[(dt.date(2026, 3, 3), "200.00"), (dt.date(2026, 3, 5), "300.00")]),
        "euro": posted_invoice(counterparty=client, actor=actor, total="100.00", date=MAR, due_date=dt.date(2026, 3, 10), currency="EUR",
                               exchange_rate="100"),
        "euro_credited": posted_invoice(counterparty=client, actor=actor, total="50.00", date=MAR, due_date=dt.date(2026, 3, 20),
                                        currency="EUR", exchange_rate="98.3"),
        "supplier": posted_invoice(counterparty=supplier, actor=actor, total="800.00", date=MAR, direction=Direction.INCOMING),
    }
    posted_credit_note(invoice=invoices["big"], actor=actor, total="100.00", date=MAR)
    posted_credit_note(invoice=invoices["euro_credited"], actor=actor, total="10.00", date=MAR)
    client_row = {"direction": "out", "counterparty": client.pk, "date": PAY_DAY}
    rows = [
        {**client_row, "amount": "700.00"},
        {**client_row, "amount": "300", "allocations": [{"invoice_id": invoices["big"].pk, "amount": "300"}], "reference": "B-2"},
        {**client_row, "amount": "600.00", "purpose": "Rest and advance"},
        {**client_row, "amount": "60.00", "currency": "EUR", "exchange_rate": "102",
         "allocations": [{"invoice_id": invoices["euro"].pk, "amount": "60.00"}]},
        {**client_row, "amount": "45.00", "currency": "EUR", "exchange_rate": "99.1"},
        {"direction": "in", "counterparty": supplier.pk, "date": PAY_DAY, "amount": "800.00"},
        {**client_row, "amount": "50.00", "allocations": []},
        {**client_row, "amount": "100.00", "auto_allocate": False},
        {"direction": "in", "method": "cash", "counterparty": supplier.pk, "date": PAY_DAY, "amount": "100.00"},
    ]
    return invoices, rows


def _outcome(payments: list[Payment], invoices: dict[str, Invoice], parties: dict[int, str]):
    """What posting wrote, with the invoices and counterparties named by role (so two runs can be compared)."""
    names = {invoice.pk: name for name, invoice in invoices.items()}

    def lines(source_type, source_id):
        rows = JournalLine.objects.filter(entry__source_type=source_type, entry__source_id=source_id).select_related("account", "entry")
        return sorted((row.entry.date, row.entry.memo.split(":")[0], row.account.key, row.debit, row.credit, parties.get(row.counterparty_id))
                      for row in rows)

    result = []
    for payment in payments:
        payment.refresh_from_db()
        allocations = list(payment.allocations.order_by("pk"))
        numbers = {invoice.number: name for name, invoice in invoices.items()}
        audit_rows = [
            (entry.action, {key: value if key != "allocations" else [numbers[text.split(":")[0]] + text[text.index(":"):] for text in value]
                            for key, value in entry.changes.items() if key not in ("number", "counterparty")},
             re.sub(r"\d+", "#", entry.object_repr))
            for entry in AuditEntry.objects.filter(content_type__model="payment", object_id=str(payment.pk)).order_by("action")
        ]
        result.append({
            "payment": (payment.direction, payment.method, payment.status, payment.date, payment.currency, payment.exchange_rate,
                        payment.amount, payment.allocated_amount, payment.reference, payment.purpose),
            "allocations": [(names[a.invoice_id], a.date, a.amount, a.settled_base, a.exchange_difference, a.is_active) for a in allocations],
            "entry": lines("finance.payment", payment.pk),
            "differences": [lines("finance.paymentallocation", allocation.pk) for allocation in allocations],
            "audit": audit_rows,
        })
    paid = {name: Invoice.objects.get(pk=invoice.pk).paid_amount for name, invoice in invoices.items()}
    schedule = list(PaymentScheduleItem.objects.filter(invoice=invoices["scheduled"]).order_by("due_date").values_list("paid_amount", flat=True))
    return result, paid, schedule


def _post_one_by_one(actor, rows) -> list[Payment]:
    posted = []
    for row in rows:
        data = {key: value for key, value in row.items() if key not in ("allocations", "auto_allocate")}
        payment = services.payment_create(actor=actor, data=data)
        posted.append(services.payment_post(actor=actor, payment_id=payment.pk, allocations=row.get("allocations"),
                                            auto_allocate=row.get("auto_allocate", True)))
    return posted


def test_a_batch_writes_what_the_single_path_writes_row_after_row(accountant, manager):
    # given the same invoices for two clients and two suppliers
    one = (Counterparty.objects.create(name="Client one", is_client=True, responsible=manager),
           Counterparty.objects.create(name="Supplier one", is_supplier=True, responsible=accountant))
    two = (Counterparty.objects.create(name="Client two", is_client=True, responsible=manager),
           Counterparty.objects.create(name="Supplier two", is_supplier=True, responsible=accountant))
    invoices_one, rows_one = _scenario(accountant, *one)
    invoices_two, rows_two = _scenario(accountant, *two)
    # when the first pair's statement is posted row after row and the second's as one batch
    single = _post_one_by_one(accountant, rows_one)
    batch = payments_post_batch(actor=accountant, rows=rows_two)
    # then every amount, allocation, journal line, schedule item and audit row is the same
    expected = _outcome(single, invoices_one, {one[0].pk: "client", one[1].pk: "supplier"})
    actual = _outcome(batch, invoices_two, {two[0].pk: "client", two[1].pk: "supplier"})
    for index, (got, wanted) in enumerate(zip(actual[0], expected[0], strict=True)):
        for key in wanted:
            assert (index, key, got[key]) == (index, key, wanted[key])
    assert actual == expected
    # the numbers run on, in row order per type
    received = [int(p.number.rsplit("-", 1)[1]) for p in batch if p.direction == Direction.OUTGOING]
    made = [int(p.number.rsplit("-", 1)[1]) for p in batch if p.direction == Direction.INCOMING]
    assert received == list(range(received[0], received[0] + 7)) and made == list(range(made[0], made[0] + 2))
    assert received[0] == 8 and made[0] == 3
    # and the scenario is the one described: gains and losses on the euro invoice, everything settled to the kopeck
    results, paid, schedule = expected
    assert paid == {"big": D("900.00"), "scheduled": D("500.00"), "euro": D("100.00"), "euro_credited": D("5.00"), "supplier": D("800.00")}
    assert schedule == [D("200.00"), D("300.00")]
    assert results[3]["allocations"] == [("euro", PAY_DAY, D("60.00"), D("6000.00"), D("120.00"), True)]
    assert results[4]["allocations"] == [("euro", PAY_DAY, D("40.00"), D("4000.00"), D("-36.00"), True),
                                         ("euro_credited", PAY_DAY, D("5.00"), D("491.50"), D("4.00"), True)]


# ----------------------------------------------------------------------------------------------- worked example


def test_worked_example_rows_see_what_earlier_rows_took(accountant, client_party):
    # given two open invoices: 500.00 due on the 5th and 1000.00 due on the 10th
    first = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR, due_date=dt.date(2026, 3, 5))
    second = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR, due_date=dt.date(2026, 3, 10))
    party = {"direction": "out", "counterparty": client_party.pk, "date": PAY_DAY}
    # when a statement of three receipts is posted: 700.00 (automatic), 300.00 to the second, 600.00 (automatic)
    payments = payments_post_batch(actor=accountant, rows=[
        {**party, "amount": "700.00"},
        {**party, "amount": "300.00", "allocations": [{"invoice_id": second.pk, "amount": "300.00"}]},
        {**party, "amount": "600.00"},
    ])
    # then the first pays 500.00 + 200.00, the second 300.00, the third the last 500.00 and keeps 100.00 as an advance
    assert [[(a.invoice_id, a.amount) for a in p.allocations.order_by("pk")] for p in payments] == [
        [(first.pk, D("500.00")), (second.pk, D("200.00"))], [(second.pk, D("300.00"))], [(second.pk, D("500.00"))]]
    assert [p.number for p in payments] == ["PR-2026-00001", "PR-2026-00002", "PR-2026-00003"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_amount, second.paid_amount, second.open_amount) == (D("500.00"), D("1000.00"), D("0.00"))
    third = Payment.objects.get(pk=payments[2].pk)
    assert (third.status, third.allocated_amount, third.unallocated_amount) == ("posted", D("500.00"), D("100.00"))
    rows = JournalLine.objects.filter(entry__source_type="finance.payment", entry__source_id=third.pk).select_related("account")
    assert sorted((row.account.key, row.debit, row.credit) for row in rows) == [
        ("advances_received", D("0"), D("100.00")), ("bank", D("600.00"), D("0")), ("receivables", D("0"), D("500.00"))]
    assert AuditEntry.objects.filter(object_id=str(third.pk), action="post").get().changes == {
        "number": "PR-2026-00003", "allocated": "500.00", "advance": "100.00", "allocations": [f"{second.number}: 500.00"]}


def test_a_prepayment_row_refreshes_its_orders_schedule(accountant, order):
    # given an order with a prepayment of 3000.00 then 5500.00 in its schedule
    PaymentScheduleItem.objects.create(order=order, position=1, due_date=dt.date(2026, 3, 12), amount=D("3000.00"))
    PaymentScheduleItem.objects.create(order=order, position=2, due_date=dt.date(2026, 3, 30), amount=D("5500.00"))
    # when two prepayments of it are in one statement
    payments_post_batch(actor=accountant, rows=[
        {"counterparty": order.counterparty_id, "order": order.pk, "amount": "2000.00", "date": PAY_DAY},
        {"counterparty": order.counterparty_id, "order": order.pk, "amount": "1500.00", "date": PAY_DAY},
    ])
    # then the schedule is paid in due-date order, as order_schedule_refresh spreads it
    assert list(PaymentScheduleItem.objects.filter(order=order).order_by("position").values_list("paid_amount", flat=True)) == [
        D("3000.00"), D("500.00")]


def test_the_deal_follows_when_the_batch_pays_the_order_off(admin_user, manager, client_party, make_order, make_shipment, make_invoice,
                                                            chair, accountant):
    from fabrika.crm.models import Deal
    from fabrika.crm.services_pipelines import deal_create, pipeline_create

    # given a deal whose pipeline has a stage that follows "order paid", and its order shipped and invoiced (1500.00)
    pipeline = pipeline_create(actor=admin_user, data={"name": "Sales", "purpose": "sales"},
                               stages=[{"name": "New"}, {"name": "Paid", "order_event": "order_paid"}])
    deal = deal_create(actor=manager, pipeline=pipeline, title="Classroom set", counterparty=client_party)
    order = make_order([(chair, "1", "1500.00")], deal=deal)
    make_shipment(order, [(order.lines.get(), "1")])
    invoice = make_invoice(order)
    party = {"counterparty": client_party.pk, "date": PAY_DAY}
    # when a statement pays it in two parts
    payments_post_batch(actor=accountant, rows=[{**party, "amount": "1000.00"}, {**party, "amount": "500.00"}])
    # then the invoice is paid and the deal moved once
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    assert Deal.objects.get(pk=deal.pk).stage.name == "Paid"


# ----------------------------------------------------------------------------------------------- refusals


def test_a_refused_row_refuses_the_batch_naming_it_and_nothing_is_written(accountant, client_party, supplier):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    party = {"direction": "out", "counterparty": client_party.pk, "date": PAY_DAY}
    before = state()
    with pytest.raises(ValidationError) as refused:
        payments_post_batch(actor=accountant, rows=[
            {**party, "amount": "400.00", "allocations": [{"invoice_id": invoice.pk, "amount": "400.00"}]},
            {**party, "amount": "0"},
            {**party, "amount": "200.00", "allocations": [{"invoice_id": invoice.pk, "amount": "200.00"}]},  # only 100.00 left
            {**party, "amount": "10.00", "counterparty": 999999},
            {**party, "amount": "10.00", "allocations": [{"invoice_id": invoice.pk, "amount": "5"}, {"invoice_id": invoice.pk, "amount": "5"}]},
            {"direction": "in", "counterparty": supplier.pk, "amount": "10.00", "allocations": [{"invoice_id": invoice.pk, "amount": "10"}]},
            {**party, "amount": "10.00", "date": "tomorrow"},
        ])
    assert refused.value.errors == {
        "rows.1.amount": ["Must be greater than zero"],
        "rows.2.allocations.0.amount": [f"200.00 is more than the open amount 100.00 of invoice {invoice.number}"],
        "rows.3.counterparty": ["Counterparty 999999 does not exist"],
        "rows.4.allocations.1.invoice_id": [f"Invoice {invoice.pk} is listed twice"],
        "rows.5.allocations.0.invoice_id": [f"Invoice {invoice.number} belongs to another counterparty"],
        "rows.6.date": ["Enter a date as YYYY-MM-DD"],
    }
    assert state() == before
    for rows in ([], [{**party, "amount": "1"}] * 501):
        with pytest.raises(ValidationError) as refused:
            payments_post_batch(actor=accountant, rows=rows)
        assert list(refused.value.errors) == ["rows"]
    assert state() == before


def test_the_dry_run_plans_without_writing(accountant, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="500.00", date=MAR)
    before = state()
    planned = payments_check_batch(actor=accountant, rows=[
        {"counterparty": client_party.pk, "amount": "300.00", "date": PAY_DAY},
        {"counterparty": client_party.pk, "amount": "300.00", "date": PAY_DAY},
        {"counterparty": client_party.pk, "amount": "-1", "date": PAY_DAY},
    ])
    assert [([(i.pk, a) for i, a in row.plan], row.advance, row.errors) for row in planned] == [
        ([(invoice.pk, D("300.00"))], D("0.00"), {}),
        ([(invoice.pk, D("200.00"))], D("100.00"), {}),
        ([], D(0), {"rows.2.amount": ["Must be greater than zero"]}),
    ]
    assert state() == before


# ----------------------------------------------------------------------------------------------- queries


def _queries_for(actor, count: int) -> int:
    parties = Counterparty.objects.bulk_create([Counterparty(name=f"Q{count}-{i}", is_client=True, responsible=actor) for i in range(count)])
    invoices = [posted_invoice(counterparty=party, actor=actor, total="100.00", date=MAR) for party in parties]
    rows = [{"counterparty": party.pk, "amount": "120.00", "date": PAY_DAY, "allocations": [{"invoice_id": invoice.pk, "amount": "100.00"}]}
            for party, invoice in zip(parties, invoices, strict=True)]
    rows += [{"counterparty": party.pk, "amount": "50.00", "date": PAY_DAY} for party in parties]  # automatic: nothing open, advances
    with CaptureQueriesContext(connection) as captured:
        payments_post_batch(actor=actor, rows=rows)
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_batch(accountant, company):
    _queries_for(accountant, 1)  # the number counters and the chart exist from here on
    small, large = _queries_for(accountant, 5), _queries_for(accountant, 20)
    assert large == small
    assert small <= 16


# ----------------------------------------------------------------------------------------------- API


def test_api_posts_a_batch(api_client, accountant, manager, client_party):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    body = {"rows": [
        {"counterparty_id": client_party.pk, "amount": "600.00", "date": "2026-03-25", "reference": "ST-1"},
        {"counterparty_id": client_party.pk, "amount": "700.00", "date": "2026-03-25",
         "allocations": [{"invoice_id": invoice.pk, "amount": "400.00"}]},
    ]}
    url = f"{BASE}/payments/batch"
    assert api_client(manager).post(url, data=json.dumps(body), content_type="application/json").status_code == 403
    from django.test import Client

    assert Client().post(url, data=json.dumps(body), content_type="application/json").status_code == 401
    client = api_client(accountant)
    bad = client.post(url, data=json.dumps({"rows": [body["rows"][0], {**body["rows"][1], "amount": "abc"}]}), content_type="application/json")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["rows.1.amount"]
    outside = client.post(url, data=json.dumps({"rows": [{**body["rows"][0], "counterparty_id": 999999}]}), content_type="application/json")
    assert outside.status_code == 422 and list(outside.json()["errors"]) == ["rows.0.counterparty_id"]
    too_many = client.post(url, data=json.dumps({"rows": [body["rows"][0]] * 501}), content_type="application/json")
    assert too_many.status_code == 422 and list(too_many.json()["errors"]) == ["rows"]
    assert Payment.objects.count() == 0
    posted = client.post(url, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="statement-1")
    assert posted.status_code == 200, posted.content
    again = client.post(url, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY="statement-1")
    assert again.status_code == 200 and again.json() == posted.json() and Payment.objects.count() == 2
    first, second = posted.json()
    assert (first["status"], first["allocated_amount"], first["reference"]) == ("posted", "600.00", "ST-1")
    assert [(a["invoice_number"], a["amount"]) for a in first["allocations"]] == [(invoice.number, "600.00")]
    assert [(a["invoice_number"], a["amount"]) for a in second["allocations"]] == [(invoice.number, "400.00")]
    assert second["unallocated_amount"] == "300.00"


# ----------------------------------------------------------------------------------------------- page


def _upload(client, text: str, name: str = "statement.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("finance:payment_statement"), {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")})


def test_statement_page_previews_then_posts(web_client, accountant, client_party, supplier):
    client = web_client(accountant)
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    supplier_invoice = posted_invoice(counterparty=supplier, actor=accountant, total="300.00", date=MAR, direction=Direction.INCOMING)
    listing = client.get(reverse("finance:payment_list"))
    assert reverse("finance:payment_statement") in listing.content.decode()
    text = (
        "Date;Counterparty;Amount;Currency;Direction;Reference;Invoice\n"
        f"25.03.2026;7707083893;400,00;RUB;in;A-1;{invoice.number}\n"
        "2026-03-25;Robokids School;700.00;;in;A-2;\n"
        "2026-03-25;Wood Supply;-300.00;;;A-3;\n"
    )
    preview = _upload(client, text)
    page = preview.content.decode()
    assert preview.status_code == 200, page
    assert "Post 3 payments" in page and f"{invoice.number}: 400.00" in page and f"{invoice.number}: 600.00; advance 100.00" in page
    assert Payment.objects.count() == 0
    content = re.search(r'name="content" value="([^"]+)"', page).group(1)
    posted = client.post(reverse("finance:payment_statement"), {"content": content, "file_name": "statement.csv", "post": "1"})
    assert posted.status_code == 302
    payments = list(Payment.objects.order_by("pk"))
    assert [(p.direction, p.amount, p.allocated_amount, p.reference, p.status) for p in payments] == [
        ("out", D("400.00"), D("400.00"), "A-1", "posted"), ("out", D("700.00"), D("600.00"), "A-2", "posted"),
        ("in", D("300.00"), D("300.00"), "A-3", "posted")]
    supplier_invoice.refresh_from_db()
    assert supplier_invoice.open_amount == 0


def test_statement_page_shows_errors_per_row_and_posts_nothing(web_client, accountant, client_party, make_user):
    client = web_client(accountant)
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=MAR)
    text = (
        "date,counterparty tax ID or name,amount,direction,invoice\n"
        "2026-03-25,Nobody Ltd,10.00,in,\n"
        f"2026-03-25,Robokids School,150.00,in,{invoice.number}\n"
        f"2026-03-25,Robokids School,50.00,in,{invoice.number}\n"
        "2026-03-25,Robokids School,0,in,\n"
        "2026-13-25,Robokids School,5,sideways,\n"
    )
    before = state()
    preview = _upload(client, text)
    page = preview.content.decode()
    assert preview.status_code == 422
    assert "no counterparty with the tax ID or name “Nobody Ltd”" in page
    assert f"{invoice.number} has nothing left to pay" in page  # the first row naming it takes all 100.00
    assert "Amount: Must be greater than zero" in page
    assert "Date: enter a date" in page and "Direction: enter in" in page
    assert "Post 5 payments" not in page and 'name="content"' not in page
    content = base64.b64encode(text.encode("utf-8")).decode("ascii")  # posted anyway (a stale page, a crafted request)
    refused = client.post(reverse("finance:payment_statement"), {"content": content, "file_name": "statement.csv", "post": "1"})
    assert refused.status_code == 422
    assert state() == before
    missing = _upload(client, "date,amount\n2026-03-25,10\n")
    assert missing.status_code == 422 and "no column for: Counterparty" in missing.content.decode()
    viewer = make_user("Sales manager", username="viewer")
    assert web_client(viewer).get(reverse("finance:payment_statement")).status_code == 403
