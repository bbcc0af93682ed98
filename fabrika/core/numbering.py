"""Gap-free document numbers per type and year, safe under concurrency.

The counter row is locked (`select_for_update`; on SQLite the IMMEDIATE transaction serialises writers) and
incremented inside the caller's transaction, so a rolled-back document gives its number back: no gaps.
"""

from __future__ import annotations

import datetime as dt
import string

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .errors import ValidationError
from .models import NumberCounter, NumberSequence

PLACEHOLDERS = {"prefix", "year", "yy", "month", "number"}


def format_number(sequence: NumberSequence, *, value: int, on: dt.date) -> str:
    number = str(value).zfill(sequence.padding)
    return sequence.pattern.format(
        prefix=sequence.prefix, year=f"{on.year:04d}", yy=f"{on.year % 100:02d}", month=f"{on.month:02d}", number=number
    )


def validate_pattern(pattern: str) -> None:
    """Raise ValidationError({"pattern": [...]}) unless `pattern` formats with our placeholders and has {number}."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as error:
        raise ValidationError({"pattern": [f"Malformed pattern: {error}"]})
    if "" in names:
        raise ValidationError({"pattern": ["Empty braces {} are not allowed: name a placeholder, e.g. {number}"]})
    unknown = names - PLACEHOLDERS
    if unknown:
        raise ValidationError({"pattern": [f"Unknown placeholder(s): {', '.join(sorted(unknown))}"]})
    if "number" not in names:
        raise ValidationError({"pattern": ["The pattern must contain {number}"]})
    try:
        pattern.format(prefix="P", year="2026", yy="26", month="01", number="00001")
    except (ValueError, KeyError, IndexError, AttributeError) as error:
        raise ValidationError({"pattern": [f"Malformed pattern: {error}"]})


def pattern_has_year(pattern: str) -> bool:
    try:
        return any(name in {"year", "yy"} for _, name, _, _ in string.Formatter().parse(pattern))
    except ValueError:
        return False


def preview_next(sequence: NumberSequence, *, on: dt.date | None = None) -> str:
    """The number the next document of this type would get on `on`, without taking it."""
    on = on or timezone.localdate()
    year = on.year if sequence.yearly_reset else 0
    last = NumberCounter.objects.filter(sequence=sequence, year=year).values_list("last_value", flat=True).first() or 0
    return format_number(sequence, value=last + 1, on=on)


def _sequence_for(document_type: str) -> NumberSequence:
    sequence = NumberSequence.objects.filter(document_type=document_type).first()
    if sequence is None:
        prefix = "".join(part[:1] for part in document_type.split("_")).upper() or "N"
        try:
            with transaction.atomic():
                sequence = NumberSequence.objects.create(document_type=document_type, name=document_type, prefix=prefix)
        except IntegrityError:
            sequence = NumberSequence.objects.get(document_type=document_type)
    return sequence


def _increment(sequence: NumberSequence, year: int, count: int = 1) -> int | None:
    """Add `count` to the counter and read it back in one statement (the row stays locked until the transaction ends,
    so two documents never get the same number); None when the counter does not exist yet."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(NumberCounter._meta.db_table)} SET last_value = last_value + %s "
            "WHERE sequence_id = %s AND year = %s RETURNING last_value",
            [count, sequence.pk, year],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def next_number(document_type: str, *, on: dt.date | None = None) -> str:
    """Take the next number for `document_type`. Must be called inside the transaction that saves the document."""
    return next_numbers(document_type, 1, on=on)[0]


def next_numbers(document_type: str, count: int, *, on: dt.date | None = None) -> list[str]:
    """Take `count` consecutive numbers for documents of one type dated `on` (a batch service numbers its documents in
    their order with one counter update). Must be called inside the transaction that saves the documents."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the document's transaction")
    if count < 1:
        return []
    on = on or timezone.localdate()
    sequence = _sequence_for(document_type)
    year = on.year if sequence.yearly_reset else 0
    last = _increment(sequence, year, count)
    if last is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(sequence=sequence, year=year, last_value=0)
        except IntegrityError:
            pass  # another transaction created it first
        last = _increment(sequence, year, count)
    return [format_number(sequence, value=value, on=on) for value in range(last - count + 1, last + 1)]  # type: ignore[operator]
