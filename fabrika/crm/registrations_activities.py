"""Start-up registrations of the CRM activities sub-domain: the task due-time reminder, the timeline, and what the
CRM adds to counterparty cards."""

from __future__ import annotations


def register() -> None:
    from fabrika.core.timers import register_timer_handler
    from fabrika.core.ui.cards import register_card_actions, register_related_lists, register_timeline_source

    from .cards import counterparty_actions, counterparty_related
    from .selectors_activities import activity_timeline_entries
    from .services_activities import TASK_DUE_TIMER, task_due_fire

    register_timer_handler(TASK_DUE_TIMER, task_due_fire)
    register_timeline_source(activity_timeline_entries)
    register_card_actions(counterparty_actions)
    register_related_lists(counterparty_related)
