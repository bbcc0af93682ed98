"""Hot-path helpers: update_many, audit.record_many, and the outbox dispatch that is not queued twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from fabrika.core import audit, events
from fabrika.core.db import update_many
from fabrika.core.models import AuditEntry, Currency, ExchangeRate
from fabrika.core.models.audit import AuditAction


@pytest.mark.django_db
def test_update_many_writes_the_named_fields_of_each_row_and_nothing_else():
    usd = Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})[0]
    first = ExchangeRate.objects.create(currency=usd, date=dt.date(2026, 1, 1), rate=Decimal("90.1"), nominal=1)
    second = ExchangeRate.objects.create(currency=usd, date=dt.date(2026, 1, 2), rate=Decimal("91.2"), nominal=1)
    first.rate, first.nominal = Decimal("95.123456"), 10
    second.rate, second.date = Decimal("96.5"), dt.date(2030, 1, 1)  # date is not in `fields`: stays
    update_many([first, second], ["rate", "nominal"])
    assert list(ExchangeRate.objects.order_by("id").values_list("date", "rate", "nominal")) == [
        (dt.date(2026, 1, 1), Decimal("95.123456"), 10),
        (dt.date(2026, 1, 2), Decimal("96.5"), 1),
    ]
    update_many([], ["rate"])  # nothing to write is not an error


@pytest.mark.django_db
def test_record_many_writes_one_entry_per_target(make_user):
    actor = make_user("Administrator", username="auditor")
    usd = Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})[0]
    rates = [ExchangeRate.objects.create(currency=usd, date=dt.date(2026, 1, day), rate=Decimal(day), nominal=1) for day in (1, 2)]
    entries = audit.record_many(actor=actor, action=AuditAction.CREATE, entries=[(rate, {"rate": rate.rate}) for rate in rates])
    assert len(entries) == 2
    stored = list(AuditEntry.objects.filter(object_id__in=[str(rate.pk) for rate in rates], content_type__model="exchangerate").order_by("object_id"))
    assert [(entry.actor_name, entry.action, entry.changes) for entry in stored] == [
        ("auditor", "create", {"rate": "1"}), ("auditor", "create", {"rate": "2"}),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_waiting_in_the_queue_is_not_queued_again(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    for _ in range(2):
        with transaction.atomic():
            events.record_event("test.happened", payload={"n": 1})
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    DBTaskResult.objects.update(status="RUNNING")  # a worker has started it: the next commit needs its own
    with transaction.atomic():
        events.record_event("test.happened", payload={"n": 2})
    assert DBTaskResult.objects.filter(status="READY").count() == 1


@pytest.mark.django_db
def test_column_in_filters_by_the_ids_given_and_by_none_when_empty():
    from fabrika.core.db import column_in

    usd = Currency.objects.get_or_create(code="USD", defaults={"name": "US dollar"})[0]
    rates = [ExchangeRate.objects.create(currency=usd, date=dt.date(2026, 1, day), rate=Decimal(day), nominal=1) for day in (1, 2, 3)]
    wanted = [rates[0].pk, rates[2].pk, 10**9]
    assert sorted(ExchangeRate.objects.filter(column_in(ExchangeRate, "id", wanted)).values_list("rate", flat=True)) == [Decimal(1), Decimal(3)]
    assert not ExchangeRate.objects.filter(column_in(ExchangeRate, "id", [])).exists()
    assert ExchangeRate.objects.exclude(column_in(ExchangeRate, "id", wanted)).get() == rates[1]


@pytest.mark.django_db
def test_record_many_keeps_each_entrys_own_message(make_user):
    # given two targets, one with its own message
    actor = make_user("Administrator", username="auditor2")
    first, second = Currency.objects.create(code="XAA", name="A"), Currency.objects.create(code="XAB", name="B")
    # when they are recorded together with a default message
    audit.record_many(actor=actor, action=AuditAction.POST, entries=[(first, {"n": 1}, "own"), (second, {"n": 2})], message="shared")
    # then the first keeps its own and the second gets the shared one
    messages = dict(AuditEntry.objects.filter(content_type__model="currency", object_id__in=[str(first.pk), str(second.pk)]).values_list("object_id", "message"))
    assert messages == {str(first.pk): "own", str(second.pk): "shared"}


@pytest.mark.django_db
def test_record_events_writes_one_outbox_row_per_target_inside_a_transaction():
    from fabrika.core.models import OutboxEvent

    first, second = Currency.objects.create(code="XAC", name="C"), Currency.objects.create(code="XAD", name="D")
    with transaction.atomic():
        rows = events.record_events([("test.made", first, {"n": 1}), ("test.made", second, {"n": 2})])
    assert [(row.aggregate, row.aggregate_id, row.payload) for row in rows] == [
        ("core.currency", str(first.pk), {"n": 1}), ("core.currency", str(second.pk), {"n": 2}),
    ]
    assert OutboxEvent.objects.filter(event_type="test.made").count() == 2


@pytest.mark.django_db
def test_insert_many_writes_the_rows_with_their_prepared_values_and_sets_their_keys():
    from fabrika.core import db
    from fabrika.core.models import OutboxEvent

    rows = [OutboxEvent(event_type=f"test.inserted.{index}", aggregate="core.currency", aggregate_id=str(index), payload={"n": index})
            for index in range(3)]
    assert db.insert_many(rows) is rows and db.insert_many([]) == []
    stored = {row.pk: row for row in OutboxEvent.objects.filter(event_type__startswith="test.inserted.")}
    assert [(stored[row.pk].event_type, stored[row.pk].payload) for row in rows] == [(f"test.inserted.{index}", {"n": index}) for index in range(3)]
    assert all(stored[row.pk].created_at is not None and not row._state.adding for row in rows)  # auto_now_add filled in


def test_batch_gc_pauses_the_collector_until_the_outermost_batch_ends():
    import gc

    from fabrika.core.db import batch_gc

    assert gc.isenabled()
    with batch_gc():
        assert not gc.isenabled()
        with batch_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer batch still runs
    assert gc.isenabled()

    @batch_gc()
    def failing():
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        failing()
    assert gc.isenabled()  # a refused batch gives the collector back too


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:DateTimeField .* received a naive datetime")
def test_value_preparer_gives_what_the_fields_own_preparation_gives():
    from django.db import connection, models

    from fabrika.core.db import value_preparer
    from fabrika.sales.models import SalesOrderLine

    # given every concrete field of a hot model and values of the right type, of a near type, and None
    samples = [None, 0, 7, 2**40, True, False, "", "text", "12", Decimal("12.50"), Decimal("-0.000001"), Decimal("NaN"),
               dt.date(2026, 11, 27), dt.datetime(2026, 11, 27, 10, 30, tzinfo=dt.UTC), dt.datetime(2026, 11, 27, 10, 30, 0, 123456, tzinfo=dt.UTC),
               dt.datetime(2026, 11, 27, 10, 30, tzinfo=ZoneInfo("Europe/Moscow")), 1.5, AuditAction.POST]
    compared = 0
    for field in SalesOrderLine._meta.concrete_fields + AuditEntry._meta.concrete_fields:
        prepare = value_preparer(field, connection)
        for value in samples:
            # when both prepare the same value
            try:
                expected = field.get_db_prep_save(value, connection)
            except Exception as error:  # noqa: BLE001 — the short-cut must refuse what the field refuses
                with pytest.raises(type(error)):
                    prepare(value)
                continue
            # then they agree, value and type
            got = prepare(value)
            assert (repr(got), type(got)) == (repr(expected), type(expected)), (field.name, value)
            compared += 1
    assert compared > 200
    assert value_preparer(SalesOrderLine._meta.get_field("quantity"), connection) is value_preparer(
        SalesOrderLine._meta.get_field("quantity"), connection)  # built once per field
    assert isinstance(SalesOrderLine._meta.get_field("order"), models.ForeignKey)
