from fabrika.core.ui.cards import field_labels, record_timeline
from fabrika.crm.services_activities import activity_create
from fabrika.parties.models import Counterparty

from . import test_activities_support

crm_org = test_activities_support.crm_org


def test_counterparty_card_timeline_merges_activities_and_audit(crm_org, web_client):
    activity_create(actor=crm_org.manager, data={"kind": "call", "subject": "Intro call", "counterparty": crm_org.mine})
    entries = record_timeline(crm_org.mine, labels=field_labels(Counterparty, "parties.counterparty"))
    assert [e.kind for e in entries] == ["activity", "audit"]
    assert entries[0].label == "Call: Intro call"
    page = web_client(crm_org.manager).get("/crm/leads/?view=0")
    assert page.status_code == 200
