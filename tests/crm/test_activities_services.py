import datetime as dt

import pytest
from django.utils import timezone

from fabrika.core.errors import InvalidTransition, ValidationError
from fabrika.core.models import AuditEntry, Notification, OutboxEvent
from fabrika.core.models.timers import Timer, TimerStatus
from fabrika.core.timers import fire_due_timers
from fabrika.crm.models import Activity, ActivityKind, ActivityStatus, ChecklistItem
from fabrika.crm.services_activities import (
    activity_create,
    activity_update,
    checklist_item_add,
    checklist_item_set_done,
    task_close,
    task_create,
)

from . import test_activities_support

crm_org = test_activities_support.crm_org

DUE = dt.datetime(2031, 5, 4, 10, 0, tzinfo=dt.UTC)


def test_task_create_links_checklist_audit_and_reminder(crm_org):
    org = crm_org
    task = task_create(
        actor=org.manager, title="Call back", assignee=org.colleague, due_at=DUE, counterparty=org.mine,
        priority="high", body="About the quote", checklist=["Prepare price", " ", "Send deck"],
    )
    task.refresh_from_db()
    assert (task.kind, task.subject, task.priority, task.status) == ("task", "Call back", "high", "open")
    assert task.responsible == org.colleague and task.author == org.manager and task.counterparty == org.mine
    assert [i.text for i in task.checklist.all()] == ["Prepare price", "Send deck"]
    entry = AuditEntry.objects.get(object_id=str(task.pk), action="create", content_type__model="activity")
    assert entry.changes["checklist"] == ["Prepare price", "Send deck"]
    timer = Timer.objects.get(kind="crm.task.due", object_id=str(task.pk))
    assert timer.due_at == DUE and timer.status == TimerStatus.PENDING
    assert OutboxEvent.objects.filter(event_type="crm.activity.created", aggregate_id=str(task.pk)).count() == 1


def test_task_close_records_event_and_cancels_reminder(crm_org):
    task = task_create(actor=crm_org.manager, title="Send contract", assignee=crm_org.manager, due_at=DUE)
    closed = task_close(actor=crm_org.manager, task=task)
    assert closed.status == ActivityStatus.DONE and closed.done_at is not None
    event = OutboxEvent.objects.get(event_type="crm.task.closed")
    assert event.payload == {"task": task.pk, "deal": None}
    assert Timer.objects.get(kind="crm.task.due", object_id=str(task.pk)).status == TimerStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        task_close(actor=crm_org.manager, task=task)
    assert OutboxEvent.objects.filter(event_type="crm.task.closed").count() == 1


def test_meeting_needs_start_and_end_after_start_nothing_saved(crm_org):
    with pytest.raises(ValidationError) as error:
        activity_create(actor=crm_org.manager, data={"kind": "meeting", "subject": "Visit"})
    assert "starts_at" in error.value.errors
    with pytest.raises(ValidationError) as error:
        activity_create(
            actor=crm_org.manager,
            data={"kind": "meeting", "subject": "Visit", "starts_at": DUE, "ends_at": DUE - dt.timedelta(hours=1)},
        )
    assert error.value.errors == {"ends_at": ["The end cannot be before the start"]}
    with pytest.raises(ValidationError) as error:
        activity_create(actor=crm_org.manager, data={"kind": "lunch", "subject": ""})
    assert set(error.value.errors) == {"kind", "subject"}
    assert Activity.objects.count() == 0 and AuditEntry.objects.filter(action="create", object_repr="Visit").count() == 0


def test_note_is_done_when_written(crm_org):
    note = activity_create(actor=crm_org.manager, data={"kind": ActivityKind.NOTE, "subject": "Likes blue", "counterparty": crm_org.mine})
    assert note.status == ActivityStatus.DONE
    assert not Timer.objects.filter(object_id=str(note.pk), kind="crm.task.due").exists()


def test_due_reminder_notifies_assignee_once(crm_org):
    past = timezone.now() - dt.timedelta(minutes=5)
    task = task_create(actor=crm_org.manager, title="Ping", assignee=crm_org.colleague, due_at=past)
    assert fire_due_timers() == 1
    notification = Notification.objects.get(recipient=crm_org.colleague)
    assert notification.title == "Task due: Ping" and notification.url == f"/crm/activities/{task.pk}/"
    assert fire_due_timers() == 0
    assert Notification.objects.count() == 1


def test_moving_due_moves_reminder_and_closed_task_does_not_notify(crm_org):
    task = task_create(actor=crm_org.manager, title="Ping", assignee=crm_org.manager, due_at=DUE)
    new_due = DUE + dt.timedelta(days=1)
    activity_update(actor=crm_org.manager, activity=task, data={"due_at": new_due})
    timers = Timer.objects.filter(kind="crm.task.due", object_id=str(task.pk))
    assert [(t.due_at, t.status) for t in timers] == [(new_due, TimerStatus.PENDING)]
    audit = AuditEntry.objects.get(object_id=str(task.pk), action="update", content_type__model="activity")
    assert audit.changes == {"due_at": [DUE.isoformat(), new_due.isoformat()]}


def test_contact_of_another_counterparty_is_refused(crm_org):
    from fabrika.parties.models import Contact

    contact = Contact.objects.create(counterparty=crm_org.colleagues, name="Ivan")
    with pytest.raises(ValidationError) as error:
        task_create(actor=crm_org.manager, title="X", assignee=crm_org.manager, due_at=DUE, counterparty=crm_org.mine, contact=contact)
    assert error.value.errors == {"contact": ["The contact belongs to another counterparty"]}
    task = task_create(actor=crm_org.manager, title="X", assignee=crm_org.manager, due_at=DUE, contact=contact)
    assert task.counterparty == crm_org.colleagues


def test_checklist_add_and_toggle(crm_org):
    task = task_create(actor=crm_org.manager, title="Ship", assignee=crm_org.manager, due_at=DUE)
    item = checklist_item_add(actor=crm_org.manager, activity=task, text="Pack")
    checklist_item_set_done(actor=crm_org.manager, item=item, done=True)
    assert ChecklistItem.objects.get(pk=item.pk).done is True
    with pytest.raises(ValidationError):
        checklist_item_add(actor=crm_org.manager, activity=task, text="  ")
    assert task.checklist.count() == 1
