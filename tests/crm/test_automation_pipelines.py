from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fabrika.core.errors import ValidationError
from fabrika.core.models import Notification
from fabrika.core.outbox import dispatch_outbox
from fabrika.core.timers import fire_due_timers
from fabrika.crm.models import Activity, DealStageHistory
from fabrika.crm.services_activities import task_close
from fabrika.crm.services_pipelines import deal_create, deal_move, stage_update

pytestmark = pytest.mark.django_db


def test_entering_a_stage_creates_a_task_for_the_role_due_in_n_hours(admin_user, manager, head, roles, pipeline, stages, client_party):
    stage_update(
        actor=admin_user,
        stage=stages["Proposal"],
        data={"task_on_enter": True, "task_title": "Prepare the proposal", "task_role": roles["Head of sales"].pk, "task_due_hours": 4},
    )
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="10")
    before = timezone.now()
    deal_move(actor=manager, deal=deal, stage=stages["Proposal"])
    task = Activity.objects.get(deal=deal)
    assert task.subject == "Prepare the proposal"
    assert task.responsible == head
    assert dt.timedelta(hours=3, minutes=59) < task.due_at - before < dt.timedelta(hours=4, minutes=1)
    assert DealStageHistory.objects.get(deal=deal, left_at__isnull=True).stage_task_id == task.pk


def test_closing_the_stage_task_moves_the_deal_to_the_next_stage(admin_user, manager, pipeline, stages, client_party):
    stage_update(
        actor=admin_user,
        stage=stages["New"],
        data={"task_on_enter": True, "task_title": "Call the client", "task_assignee": manager.pk, "task_due_hours": 24, "advance_on_task_close": True},
    )
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="10")
    task = Activity.objects.get(deal=deal)
    assert task.responsible == manager
    task_close(actor=manager, task=task)
    dispatch_outbox()
    deal.refresh_from_db()
    assert deal.stage == stages["Proposal"]
    moved = DealStageHistory.objects.get(deal=deal, stage=stages["Proposal"])
    assert moved.actor is None and moved.reason == "Stage task closed"


def test_closing_the_stage_task_does_not_move_past_empty_required_fields(admin_user, manager, pipeline, stages, client_party):
    stage_update(
        actor=admin_user,
        stage=stages["New"],
        data={"task_on_enter": True, "task_title": "Call", "task_assignee": manager.pk, "task_due_hours": 1, "advance_on_task_close": True},
    )
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)  # no amount
    task_close(actor=manager, task=Activity.objects.get(deal=deal))
    dispatch_outbox()
    deal.refresh_from_db()
    assert deal.stage == stages["New"]
    note = Notification.objects.get(recipient=manager)
    assert "Proposal" in note.title and "amount" in note.body


def test_reminder_fires_after_n_days_in_the_stage(admin_user, manager, pipeline, stages, client_party):
    stage_update(actor=admin_user, stage=stages["New"], data={"remind_after_days": 3})
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party)
    assert fire_due_timers(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert fire_due_timers(now=timezone.now() + dt.timedelta(days=3, minutes=1)) == 1
    note = Notification.objects.get(recipient=manager)
    assert deal.number in note.title and "New" in note.title


def test_reminder_is_cancelled_when_the_deal_moves_on(admin_user, manager, pipeline, stages, client_party):
    stage_update(actor=admin_user, stage=stages["New"], data={"remind_after_days": 1})
    deal = deal_create(actor=manager, pipeline=pipeline, title="Kits", counterparty=client_party, amount="1")
    deal_move(actor=manager, deal=deal, stage=stages["Proposal"])
    assert fire_due_timers(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert not Notification.objects.exists()


def test_automation_configuration_is_validated(admin_user, stages):
    with pytest.raises(ValidationError) as error:
        stage_update(actor=admin_user, stage=stages["New"], data={"task_on_enter": True, "advance_on_task_close": True})
    assert set(error.value.field_errors()) == {"task_title", "task_assignee", "task_due_hours"}
    with pytest.raises(ValidationError) as error:
        stage_update(actor=admin_user, stage=stages["New"], data={"advance_on_task_close": True, "probability": 120, "color": "red"})
    assert set(error.value.field_errors()) == {"advance_on_task_close", "probability", "color"}
