from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from fabrika.core import numbering
from fabrika.core.errors import ValidationError
from fabrika.core.models import NumberCounter, NumberSequence


def _take(document_type: str, on: dt.date | None = None) -> str:
    with transaction.atomic():
        return numbering.next_number(document_type, on=on)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_connections_take_unique_gap_free_numbers():
    # given a sequence that never restarts
    sequence = NumberSequence.objects.create(document_type="test_order", prefix="TO", pattern="{prefix}-{number}", padding=3, yearly_reset=False)
    taken: dict[int, list[str]] = {0: [], 1: []}
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(25):
                with transaction.atomic():  # each number in its own transaction on this thread's own connection
                    taken[index].append(numbering.next_number("test_order"))
        except BaseException as error:  # noqa: BLE001 — reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    # when two threads, each with its own database connection, take 25 numbers at the same time
    threads = [threading.Thread(target=worker, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # then the 50 numbers are exactly TO-001 … TO-050: none twice, none skipped
    assert failures == []
    assert len(taken[0]) == len(taken[1]) == 25
    assert sorted(taken[0] + taken[1]) == [f"TO-{n:03d}" for n in range(1, 51)]
    # and each thread saw its own numbers increase
    assert taken[0] == sorted(taken[0]) and taken[1] == sorted(taken[1])
    assert NumberCounter.objects.get(sequence=sequence, year=0).last_value == 50


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_gives_its_number_back_to_a_concurrent_one():
    # given a sequence that has issued one number
    NumberSequence.objects.create(document_type="test_invoice", prefix="INV", pattern="{prefix}{number}", padding=4, yearly_reset=False)
    assert _take("test_invoice") == "INV0001"
    first_has_number = threading.Event()
    results: dict[str, str] = {}
    failures: list[BaseException] = []

    def rolls_back() -> None:
        try:
            with transaction.atomic():
                results["rolled_back"] = numbering.next_number("test_invoice")
                first_has_number.set()
                threading.Event().wait(0.3)  # hold the counter while the other connection asks for a number
                raise RuntimeError("the document failed to save")
        except RuntimeError:
            pass
        except BaseException as error:  # noqa: BLE001
            failures.append(error)
        finally:
            first_has_number.set()
            connection.close()

    def commits() -> None:
        try:
            first_has_number.wait(timeout=10)
            with transaction.atomic():
                results["committed"] = numbering.next_number("test_invoice")
        except BaseException as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    # when one connection takes a number and rolls back while another takes one
    threads = [threading.Thread(target=rolls_back), threading.Thread(target=commits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then the committed document got the number the rolled-back one gave back: no gap
    assert failures == []
    assert results == {"rolled_back": "INV0002", "committed": "INV0002"}
    assert _take("test_invoice") == "INV0003"


@pytest.mark.django_db
def test_a_rolled_back_number_is_reused():
    NumberSequence.objects.create(document_type="test_receipt", prefix="R", pattern="{prefix}-{year}-{number}", padding=2)
    day = dt.date(2026, 3, 5)
    assert _take("test_receipt", day) == "R-2026-01"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert numbering.next_number("test_receipt", on=day) == "R-2026-02"
        raise RuntimeError("rolled back")
    assert _take("test_receipt", day) == "R-2026-02"


@pytest.mark.django_db
def test_yearly_reset_restarts_at_one_each_year_and_keeps_each_year_s_count():
    # given a sequence that restarts every year
    NumberSequence.objects.create(document_type="test_shipment", prefix="SH", pattern="{prefix}-{year}-{number}", padding=5)
    # when numbers are taken across a new year, then back-dated into the old one
    assert _take("test_shipment", dt.date(2025, 12, 31)) == "SH-2025-00001"
    assert _take("test_shipment", dt.date(2025, 12, 31)) == "SH-2025-00002"
    assert _take("test_shipment", dt.date(2026, 1, 1)) == "SH-2026-00001"
    assert _take("test_shipment", dt.date(2025, 12, 30)) == "SH-2025-00003"
    # then each year has its own counter
    counters = dict(NumberCounter.objects.filter(sequence__document_type="test_shipment").values_list("year", "last_value"))
    assert counters == {2025: 3, 2026: 1}


@pytest.mark.django_db
def test_without_yearly_reset_numbers_continue_across_years():
    NumberSequence.objects.create(document_type="test_contract", prefix="C", pattern="{prefix}/{yy}/{number}", padding=3, yearly_reset=False)
    assert _take("test_contract", dt.date(2025, 12, 31)) == "C/25/001"
    assert _take("test_contract", dt.date(2026, 1, 1)) == "C/26/002"


@pytest.mark.django_db
def test_an_unknown_document_type_gets_a_sequence_with_initials_as_prefix():
    assert _take("purchase_order", dt.date(2026, 7, 1)) == "PO-2026-00001"
    assert NumberSequence.objects.get(document_type="purchase_order").prefix == "PO"


def test_pattern_formatting_with_every_placeholder():
    sequence = NumberSequence(prefix="SO", pattern="{prefix}{yy}{month}-{number}/{year}", padding=4)
    assert numbering.format_number(sequence, value=42, on=dt.date(2026, 2, 9)) == "SO2602-0042/2026"
    # a number longer than the padding is not cut
    assert numbering.format_number(sequence, value=123456, on=dt.date(2026, 2, 9)) == "SO2602-123456/2026"


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{prefix}-{year}", "The pattern must contain {number}"),
        ("{prefix}-{day}-{number}", "Unknown placeholder(s): day"),
        ("{prefix}-{number", "Malformed pattern: expected '}' before end of string"),
        ("{}-{number}", "Empty braces {} are not allowed: name a placeholder, e.g. {number}"),
        ("{year:d}-{number}", "Malformed pattern: Unknown format code 'd' for object of type 'str'"),
    ],
)
def test_validate_pattern_names_the_rule(pattern, message):
    with pytest.raises(ValidationError) as raised:
        numbering.validate_pattern(pattern)
    assert raised.value.errors == {"pattern": [message]}


def test_validate_pattern_accepts_good_patterns():
    for pattern in ("{prefix}-{year}-{number}", "{number}", "{prefix}{yy}{month}{number}"):
        numbering.validate_pattern(pattern)


@pytest.mark.django_db
def test_preview_shows_the_next_number_without_taking_it():
    sequence = NumberSequence.objects.create(document_type="test_quote", prefix="Q", pattern="{prefix}-{year}-{number}", padding=3)
    day = dt.date(2026, 5, 1)
    assert numbering.preview_next(sequence, on=day) == "Q-2026-001"
    assert numbering.preview_next(sequence, on=day) == "Q-2026-001"
    assert _take("test_quote", day) == "Q-2026-001"
    assert numbering.preview_next(sequence, on=day) == "Q-2026-002"
    assert numbering.preview_next(sequence, on=dt.date(2027, 1, 1)) == "Q-2027-001"
    assert NumberCounter.objects.get(sequence=sequence).last_value == 1


def test_next_number_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match="inside the document's transaction"):
        numbering.next_number("test_anything")


@pytest.mark.django_db
def test_next_numbers_takes_a_consecutive_range_and_the_next_single_number_follows_it():
    # given a sequence with one number already taken
    NumberSequence.objects.create(document_type="test_batch", prefix="TB", pattern="{prefix}-{number}", padding=3, yearly_reset=False)
    assert _take("test_batch") == "TB-001"
    # when a batch takes four numbers at once
    with transaction.atomic():
        numbers = numbering.next_numbers("test_batch", 4)
    # then they are the next four, in order, and the counter moved past them
    assert numbers == ["TB-002", "TB-003", "TB-004", "TB-005"]
    assert _take("test_batch") == "TB-006"
    with transaction.atomic():
        assert numbering.next_numbers("test_batch", 0) == []


@pytest.mark.django_db
def test_next_numbers_for_a_new_sequence_starts_at_one():
    with transaction.atomic():
        assert numbering.next_numbers("test_fresh_batch", 3, on=dt.date(2026, 5, 1))[0].endswith("1")
