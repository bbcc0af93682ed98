"""Start-up registrations of the CRM pipelines sub-domain: the stage reminder timer and the stage-task consumer."""

from __future__ import annotations

STAGE_TASK_CONSUMER = "crm.pipelines.stage_task_closed"


def on_stage_reminder(timer) -> None:
    from .services_pipelines import deal_stage_remind

    payload = timer.payload or {}
    deal_stage_remind(deal_id=int(payload["deal_id"]), stage_id=int(payload["stage_id"]))


def on_task_closed(event) -> None:
    from .services_pipelines import deal_advance_on_task_closed

    payload = event.payload or {}
    task_id = payload.get("task", payload.get("task_id"))
    deal_id = payload.get("deal", payload.get("deal_id"))
    if task_id is None or deal_id is None:
        return
    deal_advance_on_task_closed(task_id=int(task_id), deal_id=int(deal_id))


def register() -> None:
    from fabrika.core.outbox import register_event_consumer
    from fabrika.core.timers import register_timer_handler

    from .services_pipelines import REMIND_TIMER

    register_timer_handler(REMIND_TIMER, on_stage_reminder)
    register_event_consumer(STAGE_TASK_CONSUMER, on_task_closed, event_types=("crm.task.closed",))
