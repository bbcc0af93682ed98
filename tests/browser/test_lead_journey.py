"""A sales manager's lead journey in a real browser: create a lead through the form (a bad e-mail first, shown beside
the field), fix it, convert the lead and land on the new deal; a visitor's web-form submission shows in the lead list."""

from __future__ import annotations

import pytest

from fabrika.crm.models import Deal, Lead, LeadSource, LeadStatus, Pipeline, PublicForm, Stage
from fabrika.parties.models import Counterparty

PASSWORD = "pass-Word-123"
# Django's EmailField message: LeadForm's e-mail field is the model's EmailField, which checks before the service does.
EMAIL_ERROR = "Enter a valid email address."


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_create_lead_fix_error_and_convert_to_deal(live_server, page, make_user):
    # given a sales manager and a sales pipeline
    manager = make_user("Sales manager", username="anna")
    pipeline = Pipeline.objects.create(name="Sales")
    Stage.objects.create(pipeline=pipeline, name="New", order=1)
    base = live_server.url
    _log_in(page, base, "anna")

    # a bad e-mail: the error shows beside the field when it is left (htmx) and again on save; nothing is written
    page.goto(f"{base}/crm/leads/new/")
    page.fill("input[name=name]", "Oleg Petrov")
    page.fill("input[name=company_name]", "Mebel Doors LLC")
    page.fill("input[name=email]", "oleg-at-mebel")
    page.press("input[name=email]", "Tab")
    inline_error = page.locator("#field-email .error")
    inline_error.wait_for()
    assert inline_error.inner_text() == EMAIL_ERROR
    page.click("button.primary[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#field-email .error").inner_text() == EMAIL_ERROR
    assert not Lead.objects.exists()

    # fix it and save: the lead's card opens
    page.fill("input[name=email]", "oleg@mebel.example")
    page.press("input[name=email]", "Tab")
    page.locator("#field-email.has-error").wait_for(state="detached")
    page.click("button.primary[type=submit]")
    page.wait_for_url(f"{base}/crm/leads/*/")
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.responsible_id) == (
        "oleg@mebel.example",
        LeadSource.MANUAL,
        manager.pk,
    )
    assert page.locator("h1").inner_text() == f"L-{lead.pk} Oleg Petrov"

    # convert it: the new deal opens, linked to the new counterparty
    page.click("a.button.primary:has-text('Convert')")
    page.wait_for_url(f"{base}/crm/leads/{lead.pk}/convert/")
    page.fill("input[name=deal_title]", "Doors for the new office")
    page.click("button.primary[type=submit]")
    page.wait_for_url(f"{base}/crm/deals/*/")
    lead.refresh_from_db()
    deal = Deal.objects.get()
    assert page.url == f"{base}/crm/deals/{deal.pk}/"
    assert "Doors for the new office" in page.locator("h1").inner_text()
    counterparty = Counterparty.objects.get(name="Mebel Doors LLC")
    assert (lead.status, lead.converted_deal_id, lead.converted_counterparty_id) == (
        LeadStatus.CONVERTED,
        deal.pk,
        counterparty.pk,
    )
    assert (deal.counterparty_id, deal.pipeline_id, deal.responsible_id) == (
        counterparty.pk,
        pipeline.pk,
        manager.pk,
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_form_submission_appears_in_the_lead_list(live_server, page, make_user):
    # given a web form whose leads go to the manager
    manager = make_user("Sales manager", username="anna")
    PublicForm.objects.create(
        slug="contact",
        title="Ask for a quote",
        responsible=manager,
        success_message="Thanks, we will call you",
    )
    base = live_server.url

    # a visitor (not logged in) sends the form
    page.goto(f"{base}/crm/forms/contact/")
    assert page.locator("h1").inner_text() == "Ask for a quote"
    page.fill("input[name=name]", "Irina Web")
    page.fill("input[name=email]", "irina@shop.example")
    page.fill("textarea[name=message]", "Need 12 kitchen fronts")
    page.click("button[type=submit]")
    assert page.locator("[role=status]").inner_text() == "Thanks, we will call you"
    lead = Lead.objects.get()
    assert (lead.source, lead.responsible_id, lead.message) == (
        LeadSource.WEB_FORM,
        manager.pk,
        "Need 12 kitchen fronts",
    )

    # the manager finds it in the lead list, marked as coming from the web form
    _log_in(page, base, "anna")
    page.goto(f"{base}/crm/leads/")
    row = page.locator("#list-results tbody tr", has_text="Irina Web")
    row.wait_for()
    assert "Web form" in row.inner_text()
    assert page.locator("#list-results tbody tr").count() == 1
