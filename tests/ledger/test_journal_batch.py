"""journal_post_many: the rules of journal_post for many entries written at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from fabrika.core.errors import ValidationError
from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.ledger.services import EntryLine, Posting, Source, journal_post_many
from fabrika.parties.models import Counterparty

D = Decimal
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def actor(make_user, chart):
    return make_user("Accountant", username="batch-accountant")


@pytest.fixture
def client_party(actor):
    return Counterparty.objects.create(name="Batch client", is_client=True, responsible=actor)


def _posting(number: str, amount: str, party: int | None, *, revenue: str | None = None) -> Posting:
    return Posting(
        date=DAY, source=Source("test.batch", None, number), memo=number,
        lines=[EntryLine("receivables", debit=D(amount), counterparty_id=party), EntryLine("revenue", credit=D(revenue or amount))],
    )


@pytest.mark.django_db
def test_many_postings_write_one_entry_each_in_order_and_skip_the_all_zero_one(actor, client_party):
    with transaction.atomic():
        entries = journal_post_many(actor=actor, postings=[
            _posting("B-1", "100.005", client_party.pk), _posting("B-2", "0", client_party.pk), _posting("B-3", "20", client_party.pk),
        ])
    assert entries[1] is None
    assert [entry.source_number for entry in entries if entry] == ["B-1", "B-3"]
    assert [entry.total for entry in entries if entry] == [D("100.01"), D("20.00")]  # each line rounded half up
    lines = JournalLine.objects.filter(entry__source_type="test.batch").order_by("entry_id", "id")
    assert [(line.entry.source_number, line.account.key, line.debit, line.credit, line.counterparty_id) for line in lines] == [
        ("B-1", "receivables", D("100.01"), D("0"), client_party.pk), ("B-1", "revenue", D("0"), D("100.01"), None),
        ("B-3", "receivables", D("20.00"), D("0"), client_party.pk), ("B-3", "revenue", D("0"), D("20.00"), None),
    ]


@pytest.mark.django_db
def test_one_unbalanced_or_incomplete_posting_refuses_the_batch_before_anything_is_written(actor, client_party):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        journal_post_many(actor=actor, postings=[_posting("B-1", "10", client_party.pk), _posting("B-2", "10", client_party.pk, revenue="9")])
    assert "B-2" in refused.value.errors["lines"][0]
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        journal_post_many(actor=actor, postings=[_posting("B-1", "10", client_party.pk), _posting("B-2", "10", None)])
    assert "needs a counterparty" in refused.value.errors["lines"][0]
    assert not JournalEntry.objects.filter(source_type="test.batch").exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_batch_is_refused(actor, client_party):
    with pytest.raises(RuntimeError):
        journal_post_many(actor=actor, postings=[_posting("B-1", "1", client_party.pk)])
