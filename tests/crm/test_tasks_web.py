import datetime as dt

from django.utils import timezone

from fabrika.crm.models import Activity, ActivityStatus
from fabrika.crm.services_activities import task_create

from . import test_activities_support

crm_org = test_activities_support.crm_org


def test_my_tasks_filters_close_and_scope(crm_org, web_client, api_client):
    now = timezone.now()
    late = task_create(actor=crm_org.manager, title="Late one", assignee=crm_org.manager, due_at=now - dt.timedelta(days=2), checklist=["Step"])
    task_create(actor=crm_org.manager, title="Far one", assignee=crm_org.manager, due_at=now + dt.timedelta(days=30), priority="low")
    theirs = task_create(actor=crm_org.outsider, title="Theirs", assignee=crm_org.outsider, due_at=now)
    client = web_client(crm_org.manager)
    overdue = client.get("/crm/tasks/?when=overdue").content.decode()
    assert "Late one" in overdue and "Far one" not in overdue
    assert "Far one" in client.get("/crm/tasks/?priority=low").content.decode()
    assert client.get(f"/crm/activities/{theirs.pk}/").status_code == 404
    item = late.checklist.get()
    toggled = client.post(f"/crm/checklist/{item.pk}/toggle/", {"done": "1"}, HTTP_HX_REQUEST="true")
    assert toggled.status_code == 200 and "checked" in toggled.content.decode()
    assert client.post(f"/crm/activities/{late.pk}/close/").status_code == 302
    assert Activity.objects.get(pk=late.pk).status == ActivityStatus.DONE
    bad = client.post("/crm/activities/new/", {"kind": "meeting", "subject": "No time", "priority": "normal"})
    assert bad.status_code == 400 and not Activity.objects.filter(subject="No time").exists()
    api = api_client(crm_org.manager)
    assert api.get(f"/api/v1/crm/activities/{theirs.pk}").status_code == 404
    created = api.post("/api/v1/crm/activities", {"subject": "Via API", "due_at": "2031-01-01T10:00:00Z", "checklist": ["a"]}, content_type="application/json")
    assert created.status_code == 201 and created.json()["checklist"][0]["text"] == "a"
