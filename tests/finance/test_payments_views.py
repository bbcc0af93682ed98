"""Payment pages: list with filters and export, the new-payment form (errors beside the fields), the card with
posting, allocating, undoing and cancelling; the invoice and order includes; permissions and scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from fabrika.finance import services_payments as services
from fabrika.finance.models import Invoice, Payment, PaymentAllocation
from fabrika.parties.models import Counterparty

from .payment_factories import posted_invoice

D = Decimal
MAR = dt.date(2026, 3, 1)


def test_create_post_allocate_undo_and_cancel_through_the_pages(web_client, accountant, client_party):
    client = web_client(accountant)
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    page = client.get(reverse("finance:payment_create"), {"counterparty": client_party.pk})
    assert page.status_code == 200
    response = client.post(reverse("finance:payment_create"), {
        "direction": "out", "method": "bank", "date": "2026-03-02", "counterparty": client_party.pk, "amount": "1500.00"})
    assert response.status_code == 302
    payment = Payment.objects.get()
    card = client.get(response["Location"])
    assert card.status_code == 200 and "Post the payment" in card.content.decode()

    response = client.post(reverse("finance:payment_post", args=[payment.pk]), {"allocation": "auto"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.allocated_amount) == ("posted", D("1000.00"))

    second = posted_invoice(counterparty=client_party, actor=accountant, total="300.00", date=MAR)
    card = client.get(reverse("finance:payment_detail", args=[payment.pk])).content.decode()
    assert "Apply the advance to an invoice" in card and second.number in card
    too_much = client.post(reverse("finance:payment_allocate", args=[payment.pk]), {"invoice": second.pk, "amount": "300.01"})
    assert too_much.status_code == 422 and "more than the open amount" in too_much.content.decode()
    assert PaymentAllocation.objects.count() == 1
    response = client.post(reverse("finance:payment_allocate", args=[payment.pk]), {"invoice": second.pk, "amount": "300.00"})
    assert response.status_code == 302
    allocation = PaymentAllocation.objects.get(invoice=second)
    response = client.post(reverse("finance:payment_unallocate", args=[payment.pk, allocation.pk]))
    assert response.status_code == 302
    allocation.refresh_from_db()
    assert allocation.is_active is False

    bad = client.post(reverse("finance:payment_cancel", args=[payment.pk]), {"date": "2026-02-01"})
    assert bad.status_code == 422 and "cannot be dated before the payment" in bad.content.decode()
    response = client.post(reverse("finance:payment_cancel", args=[payment.pk]), {"date": "2026-03-05"})
    assert response.status_code == 302
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == "cancelled" and invoice.paid_amount == D("0")


def test_form_errors_are_shown_beside_the_fields(web_client, accountant, client_party):
    client = web_client(accountant)
    response = client.post(reverse("finance:payment_create"), {
        "direction": "out", "method": "bank", "date": "2026-03-02", "counterparty": client_party.pk, "amount": "-5"})
    assert response.status_code == 422
    assert "Must be greater than zero" in response.content.decode()
    assert Payment.objects.count() == 0


def test_list_filters_and_export(web_client, accountant, client_party, supplier):
    received = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "10", "date": MAR})
    made = services.payment_create(actor=accountant, data={"counterparty": supplier.pk, "amount": "20", "date": MAR, "direction": "in"})
    client = web_client(accountant)
    page = client.get(reverse("finance:payment_list"), {"direction": "in"}).content.decode()
    assert reverse("finance:payment_detail", args=[made.pk]) in page
    assert reverse("finance:payment_detail", args=[received.pk]) not in page
    export = client.get(reverse("finance:payment_list"), {"export": "csv"})
    assert export.status_code == 200 and "Robokids School" in export.content.decode() and "Wood Supply" in export.content.decode()


def test_scope_and_permissions(web_client, accountant, manager, other_manager, client_party):
    others = Counterparty.objects.create(name="Other client", is_client=True, responsible=other_manager)
    own = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "10", "date": MAR})
    foreign = services.payment_create(actor=accountant, data={"counterparty": others.pk, "amount": "20", "date": MAR})
    client = web_client(manager)
    page = client.get(reverse("finance:payment_list")).content.decode()
    assert reverse("finance:payment_detail", args=[own.pk]) in page
    assert reverse("finance:payment_detail", args=[foreign.pk]) not in page and "Other client" not in page
    assert client.get(reverse("finance:payment_detail", args=[foreign.pk])).status_code == 404
    card = client.get(reverse("finance:payment_detail", args=[own.pk])).content.decode()
    assert "Post the payment" not in card
    assert client.get(reverse("finance:payment_create")).status_code == 403
    assert client.post(reverse("finance:payment_post", args=[own.pk]), {"allocation": "auto"}).status_code == 403
    assert Payment.objects.filter(status="draft").count() == 2


def test_invoice_and_order_includes(accountant, client_party, make_order, chair):
    invoice = posted_invoice(counterparty=client_party, actor=accountant, total="1000.00", date=MAR)
    payment = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "400", "date": MAR})
    services.payment_post(actor=accountant, payment_id=payment.pk)
    request = RequestFactory().get("/")
    request.user = accountant
    html = render_to_string("finance/_invoice_payments.html", {"invoice": Invoice.objects.get(pk=invoice.pk)}, request=request)
    assert payment.number in html and "Apply advances" in html
    order = make_order([(chair, "1", "100.00")])
    prepayment = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "100", "date": MAR, "order": order.pk})
    html = render_to_string("finance/_order_payments.html", {"order": order}, request=request)
    assert reverse("finance:payment_detail", args=[prepayment.pk]) in html and "Register a prepayment" in html


def test_a_draft_is_edited_a_posted_payment_is_not(web_client, accountant, client_party):
    payment = services.payment_create(actor=accountant, data={"counterparty": client_party.pk, "amount": "10", "date": MAR})
    client = web_client(accountant)
    assert client.get(reverse("finance:payment_edit", args=[payment.pk])).status_code == 200
    response = client.post(reverse("finance:payment_edit", args=[payment.pk]), {
        "direction": "out", "method": "cash", "date": "2026-03-03", "counterparty": client_party.pk, "amount": "12.50"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.method, payment.amount, payment.date) == ("cash", D("12.50"), dt.date(2026, 3, 3))
    bad = client.post(reverse("finance:payment_edit", args=[payment.pk]), {
        "direction": "out", "method": "cash", "date": "2026-03-03", "counterparty": client_party.pk, "amount": "1.234"})
    assert bad.status_code == 422 and "At most 2 decimal places" in bad.content.decode()
    payment.refresh_from_db()
    assert payment.amount == D("12.50")
    services.payment_post(actor=accountant, payment_id=payment.pk)
    response = client.post(reverse("finance:payment_edit", args=[payment.pk]), {
        "direction": "out", "method": "bank", "date": "2026-03-03", "counterparty": client_party.pk, "amount": "99"})
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.amount == D("12.50")
