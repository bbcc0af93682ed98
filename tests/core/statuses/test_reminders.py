from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from fabrika.core.models import Department
from fabrika.core.models.statuses import Notification, RecordStatus, ReminderDigest
from fabrika.core.models.timers import Timer, TimerStatus
from fabrika.core.statuses import (
    company_today,
    record_status_set,
    reminder_digest_send,
    reminders_for_department,
    reminders_for_user,
    status_remind_fire,
)
from fabrika.core.timers import fire_due_timers, schedule_timer
from fabrika.parties.models import Counterparty

from .conftest import at_moscow


def _remind(manager, counterparty, definitions, day, note=""):
    return record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["call"].pk,
        effective_from=day,
        note=note,
    )


# --- firing through the timers --------------------------------------------------------------------------------


def test_reminder_fires_at_its_date_exactly_once(definitions, make_counterparty, manager):
    # given a reminder three days ahead
    counterparty = make_counterparty(manager)
    day = company_today() + dt.timedelta(days=3)
    reminder = _remind(manager, counterparty, definitions, day, note="Ask about the spring order")
    # when the worker runs one minute before midnight of the day before, nothing fires
    assert fire_due_timers(now=at_moscow(day - dt.timedelta(days=1), 23, 59)) == 0
    assert Notification.objects.count() == 0
    # when it runs at midnight of the day, the responsible gets one notification
    assert fire_due_timers(now=at_moscow(day, 0, 0)) == 1
    notification = Notification.objects.get()
    assert notification.recipient == manager
    assert notification.title == "Reminder: Robotics Club — Call back"
    assert notification.body == f"Since {day.isoformat()}. Ask about the spring order"
    assert (notification.url, notification.object_id, notification.record_status) == (
        f"/parties/counterparties/{counterparty.pk}/",
        str(counterparty.pk),
        reminder,
    )
    assert notification.read_at is None
    reminder.refresh_from_db()
    assert reminder.notified_at == at_moscow(day, 0, 0)
    # and the following days never again
    assert fire_due_timers(now=at_moscow(day + dt.timedelta(days=1), 9, 0)) == 0
    assert fire_due_timers(now=at_moscow(day + dt.timedelta(days=7), 9, 0)) == 0
    assert Notification.objects.count() == 1


def test_reminder_replaced_before_its_date_never_fires(definitions, make_counterparty, manager):
    # given a reminder in three days, replaced by another status from the same date
    counterparty = make_counterparty(manager)
    day = company_today() + dt.timedelta(days=3)
    _remind(manager, counterparty, definitions, day)
    record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["won"].pk, effective_from=day
    )
    # then its timer is cancelled and nothing fires at or after the date
    assert list(Timer.objects.values_list("status", flat=True)) == [TimerStatus.CANCELLED]
    assert fire_due_timers(now=at_moscow(day + dt.timedelta(days=1), 9, 0)) == 0
    assert Notification.objects.count() == 0


def test_reminder_in_effect_replaced_today_is_cancelled(definitions, make_counterparty, manager):
    # given a reminder from two days ago that the worker has not fired yet, replaced today
    counterparty = make_counterparty(manager)
    today = company_today()
    _remind(manager, counterparty, definitions, today - dt.timedelta(days=2))
    record_status_set(
        actor=manager, record=counterparty, definition_id=definitions["won"].pk, effective_from=today
    )
    # then nothing fires
    assert fire_due_timers(now=timezone.now()) == 0
    assert Notification.objects.count() == 0


def test_reminder_for_today_is_due_now(definitions, make_counterparty, manager):
    counterparty = make_counterparty(manager)
    _remind(manager, counterparty, definitions, company_today())
    assert fire_due_timers(now=timezone.now()) == 1
    assert Notification.objects.filter(recipient=manager).count() == 1


def test_later_status_lets_the_reminder_fire_first_but_not_after_it_took_over(
    definitions, make_counterparty, manager
):
    # given a reminder in 3 days and "Won" from day 5
    counterparty = make_counterparty(manager)
    day = company_today() + dt.timedelta(days=3)
    _remind(manager, counterparty, definitions, day)
    record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["won"].pk,
        effective_from=day + dt.timedelta(days=2),
    )
    # when the worker is down until day 6: the timer runs but the reminder is no longer current: no notification
    assert fire_due_timers(now=at_moscow(day + dt.timedelta(days=3), 8, 0)) == 1
    assert Notification.objects.count() == 0
    assert RecordStatus.objects.get(definition__kind="remind").notified_at is None


def test_two_future_reminders_of_one_record_fire_each_on_its_own_date(
    definitions, make_counterparty, manager
):
    counterparty = make_counterparty(manager)
    first_day = company_today() + dt.timedelta(days=2)
    second_day = first_day + dt.timedelta(days=3)
    _remind(manager, counterparty, definitions, first_day, note="first")
    record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["new"].pk,
        effective_from=first_day + dt.timedelta(days=1),
    )
    _remind(manager, counterparty, definitions, second_day, note="second")
    assert fire_due_timers(now=at_moscow(first_day, 0, 5)) == 1
    assert fire_due_timers(now=at_moscow(second_day, 0, 5)) == 1
    assert list(Notification.objects.order_by("id").values_list("body", flat=True)) == [
        f"Since {first_day.isoformat()}. first",
        f"Since {second_day.isoformat()}. second",
    ]


def test_handler_called_twice_notifies_once(definitions, make_counterparty, manager):
    # given a current reminder and its timer (as the worker would pass it)
    counterparty = make_counterparty(manager)
    reminder = _remind(manager, counterparty, definitions, company_today() - dt.timedelta(days=1))
    timer = Timer.objects.get()
    timer.fired_at = timezone.now()
    # when the handler runs twice
    status_remind_fire(timer)
    status_remind_fire(timer)
    # then there is one notification
    assert Notification.objects.filter(record_status=reminder).count() == 1


def test_handler_ignores_a_status_that_is_no_longer_current(definitions, make_counterparty, manager):
    counterparty = make_counterparty(manager)
    reminder = _remind(manager, counterparty, definitions, company_today() - dt.timedelta(days=3))
    record_status_set(
        actor=manager,
        record=counterparty,
        definition_id=definitions["won"].pk,
        effective_from=company_today() - dt.timedelta(days=1),
    )
    timer = schedule_timer(kind="status.remind", due_at=timezone.now(), target=reminder)
    timer.fired_at = timezone.now()
    status_remind_fire(timer)
    assert Notification.objects.count() == 0


def test_handler_fired_before_the_date_reschedules(definitions, make_counterparty, manager):
    counterparty = make_counterparty(manager)
    day = company_today() + dt.timedelta(days=4)
    reminder = _remind(manager, counterparty, definitions, day)
    timer = Timer.objects.get()
    timer.fired_at = at_moscow(day - dt.timedelta(days=1), 12, 0)
    status_remind_fire(timer)
    assert Notification.objects.count() == 0
    assert Timer.objects.get(
        dedupe_key=f"status.remind:{reminder.pk}", status=TimerStatus.PENDING
    ).due_at == at_moscow(day)


# --- my reminders and the department view ---------------------------------------------------------------------


@pytest.fixture
def sales_team(make_user, make_counterparty, definitions, manager, other_manager):
    """Sales (head: Helen) with Anna and Boris; Purchasing with Carl. Each has a reminder from a different day."""
    head = make_user("Head of sales", username="helen", email="helen@example.com")
    sales = Department.objects.create(name="Sales", head=head)
    purchasing = Department.objects.create(name="Purchasing")
    carl = make_user("Purchasing manager", username="carl", department=purchasing)  # no e-mail address
    for user in (manager, other_manager, head):
        user.department = sales
        user.save()
    today = company_today()
    anna_old = make_counterparty(manager, "Anna's school")
    anna_new = make_counterparty(manager, "Anna's club")
    boris_client = make_counterparty(other_manager, "Boris's lab")
    carl_supplier = make_counterparty(carl, "Carl's supplier")
    anna_done = make_counterparty(manager, "Anna's done deal")
    _remind(manager, anna_new, definitions, today - dt.timedelta(days=1), note="send the price list")
    _remind(manager, anna_old, definitions, today - dt.timedelta(days=4))
    _remind(other_manager, boris_client, definitions, today - dt.timedelta(days=2))
    _remind(carl, carl_supplier, definitions, today - dt.timedelta(days=3))
    _remind(manager, anna_done, definitions, today - dt.timedelta(days=5))
    record_status_set(
        actor=manager, record=anna_done, definition_id=definitions["won"].pk, effective_from=today
    )
    # a future reminder is not due yet
    _remind(manager, make_counterparty(manager, "Anna's future"), definitions, today + dt.timedelta(days=1))
    return {"head": head, "carl": carl, "today": today}


def test_my_reminders_are_my_due_ones_oldest_first(sales_team, manager):
    reminders = reminders_for_user(manager)
    assert [(str(r.record), r.since, r.status.note) for r in reminders] == [
        ("Anna's school", sales_team["today"] - dt.timedelta(days=4), ""),
        ("Anna's club", sales_team["today"] - dt.timedelta(days=1), "send the price list"),
    ]
    assert reminders[0].record_type == "Counterparty"
    # tomorrow the future one is due as well
    tomorrow = reminders_for_user(manager, on_date=sales_team["today"] + dt.timedelta(days=1))
    assert [str(r.record) for r in tomorrow] == ["Anna's school", "Anna's club", "Anna's future"]


def test_department_view_shows_the_heads_departments_only(sales_team, manager):
    reminders = reminders_for_department(sales_team["head"])
    assert [(str(r.record), r.responsible.username) for r in reminders] == [
        ("Anna's school", "anna"),
        ("Boris's lab", "boris"),
        ("Anna's club", "anna"),
    ]
    # someone who heads no department has none
    assert reminders_for_department(manager) == []


# --- the e-mail digest ----------------------------------------------------------------------------------------


def test_digest_mails_each_user_their_reminders_once_a_day(sales_team, mailoutbox):
    today = sales_team["today"]
    # when the digest runs
    assert reminder_digest_send(on_date=today) == 2
    # then Anna and Boris get one e-mail each (Carl has no address, Helen has no reminders)
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("anna@example.com", f"Your reminders for {today.isoformat()}: 2"),
        ("boris@example.com", f"Your reminders for {today.isoformat()}: 1"),
    ]
    anna_mail = next(m for m in mailoutbox if m.to == ["anna@example.com"])
    assert anna_mail.body.startswith(
        f"Hello Anna Petrova,\n\nYou have 2 reminders due on {today.isoformat()}:\n"
    )
    school, club = (Counterparty.objects.get(name=name) for name in ("Anna's school", "Anna's club"))
    assert (
        f"- Anna's school (Counterparty): Call back, since {(today - dt.timedelta(days=4)).isoformat()}\n"
        f"  /parties/counterparties/{school.pk}/\n"
        f"\n- Anna's club (Counterparty): Call back, since {(today - dt.timedelta(days=1)).isoformat()}\n"
        "  send the price list\n"
        f"  /parties/counterparties/{club.pk}/\n"
    ) in anna_mail.body
    assert "Anna's done deal" not in anna_mail.body and "Anna's future" not in anna_mail.body
    # when it runs again the same day, nobody gets a second one
    assert reminder_digest_send(on_date=today) == 0
    assert len(mailoutbox) == 2
    assert sorted(ReminderDigest.objects.values_list("user__username", "date", "reminder_count")) == [
        ("anna", today, 2),
        ("boris", today, 1),
    ]
    # the next day they do (now with the future reminder too)
    assert reminder_digest_send(on_date=today + dt.timedelta(days=1)) == 2
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert sorted((m.to[0], m.subject) for m in mailoutbox[2:]) == [
        ("anna@example.com", f"Your reminders for {tomorrow}: 3"),
        ("boris@example.com", f"Your reminders for {tomorrow}: 1"),
    ]


def test_digest_command_uses_the_given_date(sales_team, mailoutbox, capsys):
    day = sales_team["today"]
    call_command("send_reminder_digest", "--date", day.isoformat())
    assert capsys.readouterr().out == f"Reminder digests sent for {day.isoformat()}: 2\n"
    call_command("send_reminder_digest", "--date", day.isoformat())
    assert capsys.readouterr().out == f"Reminder digests sent for {day.isoformat()}: 0\n"
    assert len(mailoutbox) == 2


def test_failed_mail_is_not_marked_sent(sales_team, mailoutbox, settings, monkeypatch):
    from fabrika.core import statuses

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(statuses, "send_mail", broken)
    assert reminder_digest_send(on_date=sales_team["today"]) == 0
    assert ReminderDigest.objects.count() == 0
    monkeypatch.undo()
    assert reminder_digest_send(on_date=sales_team["today"]) == 2


# --- the daily digest through the worker's timers -------------------------------------------------------------


def test_first_reminder_schedules_the_daily_digest_which_reschedules_itself(
    definitions, make_counterparty, manager, mailoutbox, settings
):
    # given the digest at 08:00 company time and two reminders due today
    settings.FABRIKA_REMINDER_DIGEST_HOUR = 8
    today = company_today()
    _remind(manager, make_counterparty(manager, "Robotics Club"), definitions, today)
    _remind(manager, make_counterparty(manager, "Maker Lab"), definitions, today)
    # then one digest timer waits for the next 08:00 (Moscow time)
    digest = Timer.objects.get(kind="reminders.digest")
    assert digest.status == TimerStatus.PENDING
    assert digest.due_at in (at_moscow(today, 8, 0), at_moscow(today + dt.timedelta(days=1), 8, 0))
    assert digest.due_at > timezone.now()
    # when the worker is down until 08:00 tomorrow
    tomorrow = today + dt.timedelta(days=1)
    fire_due_timers(now=at_moscow(tomorrow, 8, 0))
    # then Anna got tomorrow's digest (plus two in-app notifications) and the next digest waits for the day after
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["anna@example.com"], f"Your reminders for {tomorrow.isoformat()}: 2")
    ]
    assert Notification.objects.filter(recipient=manager).count() == 2
    waiting = Timer.objects.get(kind="reminders.digest", status=TimerStatus.PENDING)
    assert waiting.due_at == at_moscow(tomorrow + dt.timedelta(days=1), 8, 0)
    # running again the same morning sends nothing twice
    fire_due_timers(now=at_moscow(tomorrow, 9, 0))
    assert len(mailoutbox) == 1


def test_my_reminders_take_two_queries_however_many_records(
    definitions, make_counterparty, manager, django_assert_num_queries
):
    # given six due reminders
    today = company_today()
    for number in range(6):
        _remind(
            manager,
            make_counterparty(manager, f"Client {number}"),
            definitions,
            today - dt.timedelta(days=number),
        )
    # then listing them reads the current statuses once and the records once
    with django_assert_num_queries(2):
        reminders = reminders_for_user(manager, on_date=today)
        names = [(str(r.record), r.responsible.username, r.status.definition.name) for r in reminders]
    assert names == [(f"Client {number}", "anna", "Call back") for number in (5, 4, 3, 2, 1, 0)]
