from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from fabrika.core.models import AuditEntry, Department
from fabrika.core.models.statuses import Notification, RecordStatus, StatusDefinition
from fabrika.core.notifications import notification_create
from fabrika.core.statuses import company_today, record_status_set

ENTITY = "parties.counterparty"
STATUSES = "/api/v1/core/statuses"


def _url(counterparty) -> str:
    return f"{STATUSES}?entity={ENTITY}&object_id={counterparty.pk}"


# --- API ------------------------------------------------------------------------------------------------------


def test_api_sets_and_lists_statuses(api_client, manager, make_counterparty, definitions):
    counterparty = make_counterparty(manager)
    client = api_client(manager)
    # when Anna sets "Call back" from yesterday through the API
    yesterday = company_today() - dt.timedelta(days=1)
    response = client.post(
        _url(counterparty),
        {
            "definition_id": definitions["call"].pk,
            "effective_from": yesterday.isoformat(),
            "note": "Wants a quote",
        },
        content_type="application/json",
    )
    # then it is created and is the current status
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("status", "kind", "colour", "effective_from", "note", "set_by_id", "set_by")
    } == {
        "status": "Call back",
        "kind": "remind",
        "colour": "#c81e1e",
        "effective_from": yesterday.isoformat(),
        "note": "Wants a quote",
        "set_by_id": manager.pk,
        "set_by": "Anna Petrova",
    }
    listing = client.get(_url(counterparty)).json()
    assert listing["current"]["id"] == body["id"]
    assert [item["status"] for item in listing["history"]] == ["Call back"]
    # and it is among her reminders
    reminders = client.get("/api/v1/core/reminders").json()
    assert [(r["record"], r["status"]["status"], r["responsible_id"]) for r in reminders] == [
        ("Robotics Club", "Call back", manager.pk)
    ]


def test_api_refuses_bad_input_with_field_errors(api_client, manager, make_counterparty, definitions):
    counterparty = make_counterparty(manager)
    response = api_client(manager).post(_url(counterparty), {"note": "?"}, content_type="application/json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "definition_id": ["Choose a status"],
        "effective_from": ["This date is required"],
    }
    assert RecordStatus.objects.count() == 0


def test_api_statuses_of_another_managers_record_are_not_found(
    api_client, manager, other_manager, make_counterparty, definitions
):
    # given Anna's counterparty
    counterparty = make_counterparty(manager)
    client = api_client(other_manager)
    # then Boris can neither read nor set its statuses
    assert client.get(_url(counterparty)).status_code == 404
    response = client.post(
        _url(counterparty),
        {"definition_id": definitions["new"].pk, "effective_from": "2026-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert RecordStatus.objects.count() == 0


def test_api_unknown_entity_is_422(api_client, manager):
    response = api_client(manager).get(f"{STATUSES}?entity=parties.nothing&object_id=1")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["entity"]


def test_role_without_status_permission_cannot_set(api_client, make_user, make_counterparty, definitions):
    # given a service engineer (sees their own counterparties, no core.add_recordstatus) with their own counterparty
    engineer = make_user("Service engineer", username="engineer")
    assert not engineer.has_perm("core.add_recordstatus") and engineer.has_perm("parties.view_counterparty")
    counterparty = make_counterparty(engineer)
    response = api_client(engineer).post(
        _url(counterparty),
        {"definition_id": definitions["new"].pk, "effective_from": "2026-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert RecordStatus.objects.count() == 0


def test_api_definitions_crud_for_admin_only(api_client, admin_user, manager):
    admin = api_client(admin_user)
    created = admin.post(
        "/api/v1/core/status-definitions",
        {"entity": ENTITY, "name": "Negotiation", "kind": "info", "colour": "#2563EB", "order": 5},
        content_type="application/json",
    )
    assert created.status_code == 201
    definition_id = created.json()["id"]
    assert created.json() == {
        "id": definition_id,
        "entity": ENTITY,
        "name": "Negotiation",
        "kind": "info",
        "colour": "#2563eb",
        "order": 5,
        "active": True,
    }
    patched = admin.patch(
        f"/api/v1/core/status-definitions/{definition_id}", {"active": False}, content_type="application/json"
    )
    assert patched.json()["active"] is False
    # a manager may list but not change the catalogue
    client = api_client(manager)
    assert client.get(f"/api/v1/core/status-definitions?entity={ENTITY}").json() == []
    assert [
        d["name"]
        for d in client.get(f"/api/v1/core/status-definitions?entity={ENTITY}&include_inactive=true").json()
    ] == ["Negotiation"]
    assert (
        client.post(
            "/api/v1/core/status-definitions",
            {"entity": ENTITY, "name": "X"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/core/status-definitions/{definition_id}").status_code == 403
    bad = admin.post(
        "/api/v1/core/status-definitions",
        {"entity": ENTITY, "name": "", "kind": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert bad.json()["errors"] == {
        "name": ["Name is required"],
        "kind": ["Must be one of: info, remind, closed"],
    }
    assert admin.delete(f"/api/v1/core/status-definitions/{definition_id}").status_code == 204
    assert StatusDefinition.objects.count() == 0


def test_api_notifications_and_mark_read(api_client, manager, other_manager):
    notification = notification_create(recipient=manager, title="Reminder: Robotics Club — Call back")
    notification_create(recipient=manager, title="Second")
    foreign = notification_create(recipient=other_manager, title="Not yours")
    client = api_client(manager)
    assert client.get("/api/v1/core/notifications/unread-count").json() == {"unread": 2}
    assert [n["title"] for n in client.get("/api/v1/core/notifications").json()] == [
        "Second",
        "Reminder: Robotics Club — Call back",
    ]
    assert client.post(f"/api/v1/core/notifications/{notification.pk}/read").json()["read_at"] is not None
    assert client.get("/api/v1/core/notifications/unread-count").json() == {"unread": 1}
    assert client.post(f"/api/v1/core/notifications/{foreign.pk}/read").status_code == 404
    assert client.post("/api/v1/core/notifications/read-all").json() == {"marked": 1}
    assert Notification.objects.get(pk=foreign.pk).read_at is None


# --- pages ----------------------------------------------------------------------------------------------------


def test_card_partial_sets_a_status_with_htmx_and_shows_errors_inline(
    web_client, manager, make_counterparty, definitions
):
    counterparty = make_counterparty(manager)
    client = web_client(manager)
    url = reverse("core:record_statuses", kwargs={"entity": ENTITY, "object_id": counterparty.pk})
    # the empty panel offers the statuses of the record type
    panel = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "No status yet." in panel
    assert f'<option value="{definitions["call"].pk}">Call back</option>' in panel
    # an invalid submission answers the panel with the error beside the field
    response = client.post(
        url, {"definition_id": "", "effective_from": "2026-01-05", "note": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field has-error" id="field-definition_id"' in html and ">Choose a status</p>" in html
    assert RecordStatus.objects.count() == 0
    # a valid one shows the new current status and its history
    response = client.post(
        url,
        {"definition_id": definitions["won"].pk, "effective_from": "2026-01-05", "note": "Signed"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'class="status-badge" style="background:#616e7c">Won</span>' in html
    assert "<td>Signed</td>" in html
    assert RecordStatus.objects.get().note == "Signed"


def test_card_partial_of_another_managers_record_is_404(
    web_client, other_manager, manager, make_counterparty, definitions
):
    counterparty = make_counterparty(manager)
    url = reverse("core:record_statuses", kwargs={"entity": ENTITY, "object_id": counterparty.pk})
    client = web_client(other_manager)
    assert client.get(url).status_code == 404
    assert (
        client.post(url, {"definition_id": definitions["won"].pk, "effective_from": "2026-01-05"}).status_code
        == 404
    )
    assert RecordStatus.objects.count() == 0


def test_card_partial_renders_through_the_template_tag(rf, manager, make_counterparty, definitions):
    from django.template import engines

    counterparty = make_counterparty(manager)
    record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["new"].pk, effective_from="2026-01-02"
    )
    request = rf.get("/")
    request.user = manager
    html = (
        engines["django"].get_template("core/_card_statuses.html").render({"object": counterparty}, request)
    )
    assert 'id="statuses-panel"' in html and ">New</span>" in html


def test_my_reminders_page_and_department_page(
    web_client, make_user, manager, make_counterparty, definitions
):
    head = make_user("Head of sales", username="helen")
    sales = Department.objects.create(name="Sales", head=head)
    manager.department = sales
    manager.save()
    counterparty = make_counterparty(manager, "Robotics Club")
    since = company_today() - dt.timedelta(days=2)
    record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["call"].pk,
        effective_from=since,
        note="quote",
    )
    # the record's name links to its card
    record_cell = f'<td><a href="/parties/counterparties/{counterparty.pk}/">Robotics Club</a></td>'
    mine = web_client(manager).get(reverse("core:reminders_mine")).content.decode()
    assert record_cell in mine and "<td>quote</td>" in mine
    department = web_client(head).get(reverse("core:reminders_department")).content.decode()
    assert record_cell in department and "<td>Anna Petrova</td>" in department
    not_head = web_client(manager).get(reverse("core:reminders_department")).content.decode()
    assert "You do not head a department" in not_head


def test_bell_counts_unread_and_page_marks_read(web_client, manager):
    notification = notification_create(
        recipient=manager, title="Reminder: Robotics Club — Call back", url="/parties/counterparties/1/"
    )
    client = web_client(manager)
    bell = client.get(reverse("core:notification_bell")).content.decode()
    assert 'data-unread="1"' in bell
    page = client.get(reverse("core:notification_list")).content.decode()
    assert "Reminder: Robotics Club — Call back" in page
    # opening it marks it read and follows the link
    response = client.post(reverse("core:notification_read", args=[notification.pk]), {"open": "1"})
    assert (response.status_code, response["Location"]) == (302, "/parties/counterparties/1/")
    notification.refresh_from_db()
    assert notification.read_at is not None and notification.read_at <= timezone.now()
    assert "data-unread" not in client.get(reverse("core:notification_bell")).content.decode()


def test_admin_pages_manage_the_catalogue(web_client, admin_user, manager):
    client = web_client(admin_user)
    response = client.post(
        reverse("core:status_definition_create"),
        {"entity": ENTITY, "name": "", "kind": "info", "colour": "#ffffff", "order": "1"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="field-name"' in html and ">Name is required</p>" in html
    assert StatusDefinition.objects.count() == 0
    response = client.post(
        reverse("core:status_definition_create"),
        {
            "entity": ENTITY,
            "name": "Meeting",
            "kind": "remind",
            "colour": "#ffffff",
            "order": "1",
            "active": "on",
        },
    )
    assert response.status_code == 302
    definition = StatusDefinition.objects.get()
    assert (definition.name, definition.kind, definition.active) == ("Meeting", "remind", True)
    listing = client.get(reverse("core:status_definition_list")).content.decode()
    assert ">Meeting</a>" in listing
    assert AuditEntry.objects.filter(action="create", object_repr="Meeting").count() == 1
    # a sales manager has no access to the catalogue pages
    assert web_client(manager).get(reverse("core:status_definition_list")).status_code == 403


def test_openapi_documents_the_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/core/statuses",
        "/api/v1/core/status-definitions",
        "/api/v1/core/status-definitions/{definition_id}",
        "/api/v1/core/reminders",
        "/api/v1/core/notifications",
        "/api/v1/core/attachments",
        "/api/v1/core/attachments/{attachment_id}/download",
    ):
        assert path in paths
    assert sorted(paths["/api/v1/core/statuses"]) == ["get", "post"]


def test_every_page_has_the_bell_polling_every_minute(web_client, manager):
    html = web_client(manager).get(reverse("core:reminders_mine")).content.decode()
    assert 'id="notification-bell"' in html
    assert f'hx-get="{reverse("core:notification_bell")}" hx-trigger="load, every 60s"' in html


def test_without_htmx_setting_a_status_redirects_back(web_client, manager, make_counterparty, definitions):
    counterparty = make_counterparty(manager)
    url = reverse("core:record_statuses", kwargs={"entity": ENTITY, "object_id": counterparty.pk})
    response = web_client(manager).post(
        url,
        {
            "definition_id": definitions["new"].pk,
            "effective_from": "2026-01-05",
            "next": "/parties/counterparties/",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/parties/counterparties/")
    # an outside address is never followed: back to the record's own page instead
    response = web_client(manager).post(
        url,
        {
            "definition_id": definitions["new"].pk,
            "effective_from": "2026-01-06",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == f"/parties/counterparties/{counterparty.pk}/"
    assert RecordStatus.objects.count() == 2
