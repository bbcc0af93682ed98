"""Settlements: ageing buckets on a fixed date, the reconciliation statement of a fixed data set (opening, turnovers,
closing), the overdue list, the settlement list and card, the credit limit form, the statement PDF; scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from fabrika.finance import selectors_settlements as selectors
from fabrika.finance import services_payments as services
from fabrika.finance.models import Direction
from fabrika.parties.models import Counterparty

from .payment_factories import posted_credit_note, posted_invoice

D = Decimal
AT = dt.date(2026, 6, 30)


def test_ageing_buckets_on_a_fixed_date(accountant, client_party, supplier):
    for total, due in [("100.00", dt.date(2026, 7, 15)), ("200.00", AT), ("300.00", dt.date(2026, 6, 29)), ("400.00", dt.date(2026, 5, 31)),
                       ("500.00", dt.date(2026, 5, 1)), ("600.00", dt.date(2026, 4, 1)), ("700.00", dt.date(2026, 3, 31))]:
        posted_invoice(counterparty=client_party, actor=accountant, total=total, date=dt.date(2026, 1, 10), due_date=due)
    # 1 day, 30 days, 60 days, 90 days, 91 days past due; a partly paid one counts its open amount only
    paid = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=dt.date(2026, 1, 5), due_date=dt.date(2026, 1, 5))
    services.payment_post(actor=accountant, payment_id=services.payment_create(actor=accountant, data={
        "counterparty": client_party.pk, "amount": "250.00", "date": dt.date(2026, 1, 6)}).pk,
        allocations=[{"invoice_id": paid.pk, "amount": "250.00"}])
    posted_invoice(counterparty=supplier, actor=accountant, total="50.00", date=dt.date(2026, 6, 1), due_date=dt.date(2026, 6, 10),
                   direction=Direction.INCOMING)
    ageing = selectors.ageing(counterparty_id=client_party.pk, at=AT)[Direction.OUTGOING]
    assert ageing.buckets == {"not_due": D("300.00"), "1_30": D("700.00"), "31_60": D("500.00"), "61_90": D("600.00"), "over_90": D("1450.00")}
    assert ageing.total == D("3550.00") and ageing.overdue == D("3250.00")
    assert [row["days_overdue"] for row in ageing.invoices][:2] == [176, 91]
    supplier_ageing = selectors.ageing(counterparty_id=supplier.pk, at=AT)[Direction.INCOMING]
    assert supplier_ageing.buckets["1_30"] == D("50.00")


def test_reconciliation_statement_of_a_fixed_data_set(accountant, client_party, web_client):
    # before the period: invoice 1000, payment 400 -> opening 600
    posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=dt.date(2026, 1, 15))
    services.payment_post(actor=accountant, payment_id=services.payment_create(actor=accountant, data={
        "counterparty": client_party.pk, "amount": "400.00", "date": dt.date(2026, 1, 20)}).pk)
    # in the period: invoice 2500, payment 3000 (600 + 2400 allocated, no advance), invoice 300 with a credit note of 100,
    # a payment of 50 posted and cancelled
    posted_invoice(counterparty=client_party, actor=accountant, total="2500.00", date=dt.date(2026, 2, 3))
    services.payment_post(actor=accountant, payment_id=services.payment_create(actor=accountant, data={
        "counterparty": client_party.pk, "amount": "3000.00", "date": dt.date(2026, 2, 10)}).pk)
    third = posted_invoice(counterparty=client_party, actor=accountant, total="300.00", date=dt.date(2026, 2, 14))
    posted_credit_note(invoice=third, actor=accountant, total="100.00", date=dt.date(2026, 2, 15))
    cancelled = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "50.00", "date": dt.date(2026, 2, 20)})
    services.payment_post(actor=accountant, payment_id=cancelled.pk)
    services.payment_cancel(actor=accountant, payment_id=cancelled.pk, date=dt.date(2026, 2, 21))
    # after the period: another invoice that must not appear
    posted_invoice(counterparty=client_party, actor=accountant, total="999.00", date=dt.date(2026, 3, 5))

    statement = selectors.reconciliation(counterparty=client_party, date_from=dt.date(2026, 2, 1), date_to=dt.date(2026, 2, 28))
    assert statement.opening == D("600.00")
    assert [(row["date"].day, row["debit"], row["credit"]) for row in statement.rows] == [
        (3, D("2500.00"), D("0")), (10, D("0"), D("3000.00")), (14, D("300.00"), D("0")), (15, D("0"), D("100.00")),
        (20, D("0"), D("50.00")), (21, D("50.00"), D("0")),
    ]
    assert (statement.debit_total, statement.credit_total, statement.closing) == (D("2850.00"), D("3150.00"), D("300.00"))
    assert statement.balanced
    # the balance equals invoices − payments − credit notes
    documents = selectors.documents_balance(counterparty_id=client_party.pk)
    assert documents.balance == D("1000") + D("2500") + D("300") + D("999") - D("400") - D("3000") - D("100")
    assert selectors.settlement_parts(counterparty_id=client_party.pk).balance == documents.balance

    page = web_client(accountant).get(reverse("finance:reconciliation", args=[client_party.pk]),
                                      {"date_from": "2026-02-01", "date_to": "2026-02-28"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="opening">600.00' in html.replace(",", "") and 'id="closing">300.00' in html.replace(",", "")
    bad = web_client(accountant).get(reverse("finance:reconciliation", args=[client_party.pk]),
                                     {"date_from": "2026-03-01", "date_to": "2026-02-01"})
    assert bad.status_code == 422 and "start is after its end" in bad.content.decode()


def test_statement_pdf(accountant, client_party, web_client):
    posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=dt.date(2026, 2, 3))
    response = web_client(accountant).get(reverse("finance:reconciliation_pdf", args=[client_party.pk]),
                                          {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_overdue_list_with_filters_and_export(web_client, accountant, manager, other_manager, client_party):
    others = Counterparty.objects.create(name="Other client", is_client=True, responsible=other_manager)
    late = posted_invoice(counterparty=client_party, actor=accountant, total="100.00", date=dt.date(2026, 1, 1), due_date=dt.date(2026, 1, 2))
    foreign = posted_invoice(counterparty=others, actor=accountant, total="200.00", date=dt.date(2026, 1, 1), due_date=dt.date(2026, 1, 2))
    posted_invoice(counterparty=client_party, actor=accountant, total="300.00", date=dt.date(2026, 1, 1), due_date=dt.date(2099, 1, 1))
    client = web_client(accountant)
    page = client.get(reverse("finance:overdue_list")).content.decode()
    assert late.number in page and foreign.number in page and "300.00" not in page
    page = client.get(reverse("finance:overdue_list"), {"responsible": other_manager.pk}).content.decode()
    assert foreign.number in page and late.number not in page
    export = client.get(reverse("finance:overdue_list"), {"export": "csv", "client": client_party.pk}).content.decode()
    assert late.number in export and foreign.number not in export
    # a sales manager sees the invoices he is responsible for only
    page = web_client(manager).get(reverse("finance:overdue_list")).content.decode()
    assert late.number in page and foreign.number not in page


def test_settlement_list_card_and_credit_limit_form(web_client, accountant, manager, other_manager, client_party):
    others = Counterparty.objects.create(name="Other client", is_client=True, responsible=other_manager)
    posted_invoice(counterparty=client_party, actor=accountant, total="1200.00", date=dt.date(2026, 1, 1))
    posted_invoice(counterparty=others, actor=accountant, total="10.00", date=dt.date(2026, 1, 1))
    client = web_client(accountant)
    page = client.get(reverse("finance:settlement_list"), {"balance_state": "owes_us"}).content.decode()
    assert "Robokids School" in page and "1,200.00" in page
    card = client.get(reverse("finance:settlement_detail", args=[client_party.pk])).content.decode()
    assert "The ledger agrees with the documents." in card and 'id="credit-limit"' in card

    bad = client.post(reverse("finance:credit_limit_set", args=[client_party.pk]), {"credit_limit": "-5"})
    assert bad.status_code == 422 and "Must not be negative" in bad.content.decode()
    client_party.refresh_from_db()
    assert client_party.credit_limit is None
    response = client.post(reverse("finance:credit_limit_set", args=[client_party.pk]), {"credit_limit": "1000"})
    assert response.status_code == 302
    client_party.refresh_from_db()
    assert client_party.credit_limit == D("1000")
    page = client.get(reverse("finance:settlement_list"), {"balance_state": "over_limit"}).content.decode()
    assert reverse("finance:settlement_detail", args=[client_party.pk]) in page

    # a sales manager: own clients only, read-only
    manager_client = web_client(manager)
    assert manager_client.get(reverse("finance:settlement_detail", args=[others.pk])).status_code == 404
    card = manager_client.get(reverse("finance:settlement_detail", args=[client_party.pk])).content.decode()
    assert 'id="credit-limit"' not in card
    assert manager_client.post(reverse("finance:credit_limit_set", args=[client_party.pk]), {"credit_limit": "1"}).status_code == 403
    page = manager_client.get(reverse("finance:settlement_list")).content.decode()
    assert "Other client" not in page
    client_party.refresh_from_db()
    assert client_party.credit_limit == D("1000")


def test_the_statement_template_is_registered_and_renders_its_sample(db):
    from fabrika.core import printing

    rendered = printing.render_html("finance.reconciliation_statement")
    assert "Reconciliation statement" in rendered.html and "INV-2026-00001" in rendered.html
    assert "finance.reconciliation_statement" in [document.code for document in printing.printable_documents()]
