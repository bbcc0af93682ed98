import datetime as dt

import pytest
from django.utils import timezone

from fabrika.core.errors import InvalidTransition, ValidationError
from fabrika.core.models import OutboxEvent
from fabrika.crm.models import Deal, Lead, LeadStatus, Pipeline, PublicForm, Stage
from fabrika.crm.services_leads import (
    RateLimited,
    lead_convert,
    lead_create,
    lead_set_status,
    lead_submit_public,
)
from fabrika.parties.models import Contact, Counterparty

from . import test_activities_support

crm_org = test_activities_support.crm_org


@pytest.fixture
def pipeline(db):
    pipeline = Pipeline.objects.create(name="Sales")
    Stage.objects.create(pipeline=pipeline, name="New", order=1)
    return pipeline


def test_lead_create_normalises_and_requires_a_way_to_reach(crm_org):
    lead = lead_create(actor=crm_org.manager, data={"name": " Oleg ", "phone": "+7 (495) 765-43-21", "email": "OLEG@Example.com"})
    assert (lead.name, lead.phone, lead.email, lead.source, lead.status) == ("Oleg", "+74957654321", "oleg@example.com", "manual", "new")
    assert lead.responsible == crm_org.manager
    with pytest.raises(ValidationError) as error:
        lead_create(actor=crm_org.manager, data={"name": "", "email": "bad"})
    assert set(error.value.errors) == {"name", "email"}
    with pytest.raises(ValidationError) as error:
        lead_create(actor=crm_org.manager, data={"name": "Mute"})
    assert error.value.errors == {"phone": ["Give a phone or an e-mail to reach the lead"]}
    assert Lead.objects.count() == 1


def test_qualification_and_disqualify_needs_reason(crm_org):
    lead = lead_create(actor=crm_org.manager, data={"name": "Oleg", "email": "o@example.com"})
    lead_set_status(actor=crm_org.manager, lead=lead, status="qualified")
    with pytest.raises(ValidationError) as error:
        lead_set_status(actor=crm_org.manager, lead=lead, status="disqualified")
    assert error.value.errors == {"reason": ["Say why the lead is disqualified"]}
    lead = lead_set_status(actor=crm_org.manager, lead=lead, status="disqualified", reason="No budget")
    assert (lead.status, lead.status_reason) == ("disqualified", "No budget")
    with pytest.raises(InvalidTransition):
        lead_set_status(actor=crm_org.manager, lead=lead, status="qualified")


def test_convert_creates_counterparty_contact_and_deal(crm_org, pipeline):
    lead = lead_create(actor=crm_org.manager, data={"name": "Oleg", "company_name": "Mebel LLC", "email": "oleg@mebel.example"})
    lead = lead_convert(actor=crm_org.manager, lead=lead, pipeline=pipeline)
    counterparty = Counterparty.objects.get(name="Mebel LLC")
    assert lead.status == LeadStatus.CONVERTED and lead.converted_counterparty == counterparty
    assert counterparty.is_client and counterparty.email == "oleg@mebel.example" and counterparty.responsible == crm_org.manager
    assert Contact.objects.get(counterparty=counterparty).name == "Oleg" == lead.converted_contact.name
    deal = Deal.objects.get()
    assert (deal.title, deal.counterparty, deal.pipeline, lead.converted_deal) == ("Mebel LLC", counterparty, pipeline, deal)
    event = OutboxEvent.objects.get(event_type="crm.lead.converted")
    assert event.payload == {"lead": lead.pk, "counterparty": counterparty.pk, "contact": lead.converted_contact_id, "deal": deal.pk, "reused_counterparty": False}
    with pytest.raises(InvalidTransition):
        lead_convert(actor=crm_org.manager, lead=lead, pipeline=pipeline)


def test_convert_reuses_duplicate_counterparty_by_tax_id(crm_org, pipeline):
    lead = lead_create(actor=crm_org.manager, data={"name": "Pavel", "company_name": "Alpha", "tax_id": "7707083893", "phone": "+74951112233"})
    lead = lead_convert(actor=crm_org.manager, lead=lead, create_deal=False)
    assert lead.converted_counterparty == crm_org.mine and lead.converted_deal is None
    assert Counterparty.objects.count() == 3
    assert Contact.objects.get(counterparty=crm_org.mine).phone == "+74951112233"


def test_convert_without_pipeline_refuses_and_changes_nothing(crm_org):
    lead = lead_create(actor=crm_org.manager, data={"name": "Oleg", "company_name": "New Co", "email": "x@newco.example"})
    with pytest.raises(ValidationError) as error:
        lead_convert(actor=crm_org.manager, lead=lead)
    assert error.value.errors == {"pipeline": ["Choose a pipeline for the deal"]}
    lead.refresh_from_db()
    assert lead.status == "new" and not Counterparty.objects.filter(name="New Co").exists()


def test_public_submission_honeypot_and_rate_limit(crm_org):
    form = PublicForm.objects.create(slug="site", title="Site", responsible=crm_org.colleague)
    now = timezone.now()
    lead = lead_submit_public(public_form=form, data={"name": "Web", "email": "web@example.com", "utm_source": "google"}, ip_address="10.0.0.1", now=now)
    assert (lead.source, lead.responsible, lead.public_form, lead.source_details) == ("web_form", crm_org.colleague, form, {"utm_source": "google", "ip": "10.0.0.1"})
    assert lead_submit_public(public_form=form, data={"name": "Bot", "email": "b@example.com", "website": "spam"}, ip_address="10.0.0.1", now=now) is None
    for _ in range(3):
        with pytest.raises(ValidationError):
            lead_submit_public(public_form=form, data={"name": ""}, ip_address="10.0.0.1", now=now)
    with pytest.raises(RateLimited):
        lead_submit_public(public_form=form, data={"name": "Late", "email": "l@example.com"}, ip_address="10.0.0.1", now=now)
    assert lead_submit_public(public_form=form, data={"name": "Other", "email": "o@example.com"}, ip_address="10.0.0.2", now=now) is not None
    later = now + dt.timedelta(minutes=11)
    assert lead_submit_public(public_form=form, data={"name": "Later", "email": "l@example.com"}, ip_address="10.0.0.1", now=later) is not None
    assert list(Lead.objects.order_by("id").values_list("name", flat=True)) == ["Web", "Other", "Later"]
