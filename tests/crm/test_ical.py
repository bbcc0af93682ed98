import datetime as dt

from fabrika.crm.ical import escape_text, fold
from fabrika.crm.models import CalendarFeed
from fabrika.crm.services_activities import activity_create, task_create

from . import test_activities_support

crm_org = test_activities_support.crm_org

START = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_escape_and_fold():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "я" * 60
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_feed_by_secret_token_and_regenerate(crm_org, web_client):
    activity_create(actor=crm_org.manager, data={"kind": "meeting", "subject": "Visit, plant; 2", "starts_at": START, "ends_at": START + dt.timedelta(hours=2)})
    task_create(actor=crm_org.manager, title="Send offer", assignee=crm_org.manager, due_at=START, priority="high")
    task_create(actor=crm_org.colleague, title="Not mine", assignee=crm_org.colleague, due_at=START)
    client = web_client(crm_org.manager)
    assert client.get("/crm/calendar/?month=2031-03").status_code == 200
    token = CalendarFeed.objects.get(user=crm_org.manager).token
    anonymous = web_client(crm_org.colleague)
    response = anonymous.get(f"/crm/ical/{token}.ics")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar") and text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:Visit\\, plant\\; 2\r\n" in text and "DTSTART:20310301T090000Z" in text and "DTEND:20310301T110000Z" in text
    assert "BEGIN:VTODO" in text and "DUE:20310301T090000Z" in text and "PRIORITY:3" in text and "Not mine" not in text
    client.post("/crm/calendar/regenerate/")
    assert anonymous.get(f"/crm/ical/{token}.ics").status_code == 404
    assert anonymous.get(f"/crm/ical/{CalendarFeed.objects.get(user=crm_org.manager).token}.ics").status_code == 200
