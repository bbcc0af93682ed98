import json

from django.test import Client

from fabrika.crm.models import Lead, PublicForm
from fabrika.crm.services_leads import lead_create

from . import test_activities_support

crm_org = test_activities_support.crm_org


def test_lead_pages_and_scope(crm_org, web_client):
    mine = lead_create(actor=crm_org.manager, data={"name": "Oleg", "email": "o@example.com"})
    theirs = lead_create(actor=crm_org.outsider, data={"name": "Vasya", "email": "v@example.com"})
    client = web_client(crm_org.manager)
    page = client.get("/crm/leads/")
    assert page.status_code == 200 and "Oleg" in page.content.decode() and "Vasya" not in page.content.decode()
    assert client.get(f"/crm/leads/{mine.pk}/").status_code == 200
    assert client.get(f"/crm/leads/{theirs.pk}/").status_code == 404
    bad = client.post("/crm/leads/new/", {"name": "", "email": "nope"})
    assert bad.status_code == 400 and Lead.objects.count() == 2
    good = client.post("/crm/leads/new/", {"name": "Ira", "phone": "+7 495 111-22-33"})
    assert good.status_code == 302 and Lead.objects.get(name="Ira").phone == "+74951112233"
    client.post(f"/crm/leads/{mine.pk}/status/", {"status": "qualified"})
    mine.refresh_from_db()
    assert mine.status == "qualified"


def test_lead_api_crud_scope_and_problem(crm_org, api_client):
    client = api_client(crm_org.manager)
    created = client.post("/api/v1/crm/leads", {"name": "Api Lead", "email": "API@example.com"}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert (body["source"], body["email"], body["responsible_id"]) == ("api", "api@example.com", crm_org.manager.pk)
    bad = client.post("/api/v1/crm/leads", {"name": "", "email": "x"}, content_type="application/json")
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"name", "email"}
    other = lead_create(actor=crm_org.outsider, data={"name": "Hidden", "email": "h@example.com"})
    assert client.get(f"/api/v1/crm/leads/{other.pk}").status_code == 404
    assert client.post(f"/api/v1/crm/leads/{other.pk}/status", {"status": "qualified"}, content_type="application/json").status_code == 404
    assert [item["name"] for item in client.get("/api/v1/crm/leads").json()["items"]] == ["Api Lead"]


def test_lead_api_needs_permission(crm_org, make_user, api_client):
    nobody = make_user("")
    assert api_client(nobody).get("/api/v1/crm/leads").status_code == 403


def test_public_form_endpoint_json_html_honeypot_and_limit(crm_org):
    PublicForm.objects.create(slug="site", title="Contact us", responsible=crm_org.manager, allowed_origins="https://shop.example")
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.1.1.1")
    assert "Contact us" in client.get("/crm/forms/site/").content.decode()
    ok = client.post("/crm/forms/site/", json.dumps({"name": "Web", "email": "w@example.com"}), content_type="application/json", HTTP_ORIGIN="https://shop.example")
    assert ok.status_code == 201 and ok["Access-Control-Allow-Origin"] == "https://shop.example"
    assert client.post("/crm/forms/site/", "{}", content_type="application/json", HTTP_ORIGIN="https://evil.example").status_code == 403
    bad = client.post("/crm/forms/site/", json.dumps({"name": ""}), content_type="application/json")
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    html = client.post("/crm/forms/site/", {"name": "Bot", "email": "b@example.com", "website": "http://spam"})
    assert html.status_code == 201
    client.post("/crm/forms/site/", {"name": "Form", "email": "f@example.com"})
    client.post("/crm/forms/site/", {"name": "Fifth", "email": "5@example.com"})
    limited = client.post("/crm/forms/site/", {"name": "Sixth", "email": "s@example.com"})
    assert limited.status_code == 429
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Fifth", "Form", "Web"]
    assert client.get("/crm/forms/missing/").status_code == 404
