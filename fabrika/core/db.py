"""Small database helpers for hot write paths."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import threading
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, connections, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.expressions import RawSQL


def column_in(model: type[models.Model], column: str, ids: Iterable[int]) -> RawSQL:
    """`model.column IN (ids)` as a filter condition. The ids go to the database as they are: Django's `__in` lookup
    prepares every value one by one (~2.5 ms for 500 ids). On PostgreSQL one array parameter (`= ANY(%s)`), so no
    statement-size limit either; on SQLite one placeholder per id (up to its 32,766 variables)."""
    ids = list(ids)
    if not ids:
        return RawSQL("1 = 0", [], output_field=models.BooleanField())
    quote = connection.ops.quote_name
    name = f"{quote(model._meta.db_table)}.{quote(column)}"
    if connection.vendor == "postgresql":
        return RawSQL(f"{name} = ANY(%s)", [ids], output_field=models.BooleanField())
    return RawSQL(f"{name} IN ({', '.join(['%s'] * len(ids))})", ids, output_field=models.BooleanField())


_AUTO_TYPES = {"AutoField", "BigAutoField", "SmallAutoField"}
_INTEGER_TYPES = {
    "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField",
}
_TEXT_TYPES = {"CharField", "TextField", "SlugField", "EmailField"}


def value_preparer(field: models.Field, db) -> Callable[[Any], Any]:
    """A function that prepares a value of `field` for saving, as `field.get_db_prep_save(value, db)` does, with the
    common cases short-cut: an int for an integer column or key, a str (or a choices enum) for a text column, a bool,
    a finite Decimal or an int for a decimal column, a date, an aware datetime, None where the field writes None for
    it. Django's own chain (promise check, to_python, isinstance tests, the backend's adapter) costs about 1 µs a
    value, most of the insert on the batch services' paths; a short-cut value goes straight to the backend's adapter,
    or as it is where that adapter returns it unchanged. Anything else (expressions, strings for numbers, naive
    datetimes, JSON, a project's own field classes) takes the field's own path, so the result is always what Django
    would write (tests/core/test_db_helpers.py compares them). Built once per field and connection (its time zone
    included)."""
    cache = db.__dict__.setdefault("_fabrika_value_preparers", {})  # the connection's own: its ops, its time zone
    key = (field, db.timezone_name)
    cached = cache.get(key)
    if cached is not None:
        return cached

    def slow(value):
        return field.get_db_prep_save(value, db)

    ops = db.ops
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    internal = target.get_internal_type()
    preparer = slow
    if not all(type(f).__module__.startswith("django.db.models.fields") for f in (field, target)):
        pass  # a project's own field class may prepare values its own way
    elif internal in _AUTO_TYPES:
        if type(ops).validate_autopk_value is BaseDatabaseOperations.validate_autopk_value:
            def preparer(value):
                return value if type(value) is int or value is None else slow(value)
    elif internal in _INTEGER_TYPES:
        if type(ops).adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value:
            def preparer(value):
                return value if type(value) is int or value is None else slow(value)
        else:  # PostgreSQL: psycopg's typed integers
            adapt_int = ops.adapt_integerfield_value

            def preparer(value):
                return adapt_int(value, internal) if type(value) is int else value if value is None else slow(value)
    elif internal in _TEXT_TYPES:
        def preparer(value):
            return value if isinstance(value, str) or value is None else slow(value)  # choices enums are str
    elif internal == "BooleanField":
        def preparer(value):
            return value if type(value) is bool else slow(value)
    elif internal == "DecimalField" and type(ops).adapt_decimalfield_value is BaseDatabaseOperations.adapt_decimalfield_value:
        def preparer(value):
            if value is None or type(value) is Decimal and value.is_finite():
                return value
            return Decimal(value) if type(value) is int else slow(value)  # an int: a default of 0
    elif internal == "DateField":
        adapt_date = ops.adapt_datefield_value

        def preparer(value):
            return adapt_date(value) if type(value) is dt.date else value if value is None else slow(value)
    elif internal == "DateTimeField" and db.vendor == "sqlite" and db.timezone_name == "UTC":
        def preparer(value):  # Django's SQLite adapter: made naive in UTC, as text; a UTC value needs no conversion
            if value is None:
                return None
            if type(value) is dt.datetime and value.tzinfo is dt.UTC:
                return str(value.replace(tzinfo=None))
            return slow(value)
    elif internal == "DateTimeField":
        adapt_datetime = ops.adapt_datetimefield_value

        def preparer(value):  # an aware datetime; a naive one takes Django's path, with its warning
            if value is None:
                return None
            return adapt_datetime(value) if type(value) is dt.datetime and value.utcoffset() is not None else slow(value)
    cache[key] = preparer
    return preparer


def _plain_pre_save(field: models.Field) -> bool:
    """Whether the field saves its attribute as it is (no auto_now, no file commit)."""
    return type(field).pre_save is models.Field.pre_save


def update_many(objects: Iterable[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of each object by primary key — what QuerySet.bulk_update does, as one prepared
    `UPDATE ... WHERE id = %s` run for every row (executemany) instead of a CASE per field and row, which costs
    more to build than the write itself. Values go through each field's own preparation (dates, decimals, keys)."""
    rows = list(objects)
    if not rows:
        return
    meta = rows[0]._meta
    concrete = [meta.get_field(name) for name in fields]
    db = connections[connection.alias]
    quote = db.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    prepare = [(field.attname, value_preparer(field, db)) for field in concrete]
    params = [[*(preparer(getattr(row, attname)) for attname, preparer in prepare), row.pk] for row in rows]
    if db.vendor == "postgresql":  # one statement per chunk: executemany costs a round trip per row there
        _update_from_values(db, meta, concrete, params)
        return
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def _update_from_values(db, meta, concrete: list, params: list[list]) -> None:
    """PostgreSQL: `UPDATE t SET a = v.a … FROM (VALUES (…), …) AS v(a, …, id) WHERE t.id = v.id`, each value cast to
    its column's type."""
    quote = db.ops.quote_name
    columns = [*concrete, meta.pk]
    row = "(" + ", ".join(f"%s::{field.db_type(db)}" if field is not meta.pk else f"%s::{meta.pk.rel_db_type(db)}" for field in columns) + ")"
    names = ", ".join(quote(field.column) for field in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in concrete)
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    per_statement = max(1, 30_000 // len(columns))
    with db.cursor() as cursor:
        for start in range(0, len(params), per_statement):
            chunk = params[start:start + per_statement]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row] * len(chunk))}) AS v({names}) WHERE {table}.{pk} = v.{pk}",
                [value for values in chunk for value in values],
            )


def insert_many(objects: Sequence[models.Model]) -> Sequence[models.Model]:
    """Insert new rows of one model and set their primary keys — what QuerySet.bulk_create does for plain objects
    (no conflicts handling, no multi-table inheritance), with each value prepared once by its field (`pre_save`, so
    auto_now dates are set, then `get_db_prep_save`) and the statement built as text: bulk_create's per-value
    expression checks cost more than the insert on the batch services' paths. Rows go in statements of at most
    ~30,000 parameters (SQLite's and PostgreSQL's limits), their ids come back with RETURNING, in order."""
    if not objects:
        return objects
    meta = objects[0]._meta
    pk = meta.pk
    fields = [field for field in meta.concrete_fields if field is not pk]
    db = connections[connection.alias]  # the thread's own connection, not the proxy: it is asked for every value
    quote = db.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, 30_000 // len(fields))
    # (attribute, preparer, None) for a plain field; auto_now dates and files keep their own pre_save
    getters = [(field.attname, value_preparer(field, db), None if _plain_pre_save(field) else field) for field in fields]
    with db.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            chunk = objects[start:start + per_statement]
            params = [
                prepare(getattr(obj, attname) if special is None else special.pre_save(obj, True))
                for obj in chunk for attname, prepare, special in getters
            ]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(chunk))} RETURNING {quote(pk.column)}",
                params,
            )
            for obj, (value,) in zip(chunk, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, value)
                obj._state.adding = False
                obj._state.db = db.alias
    return objects


class batch_gc(contextlib.ContextDecorator):  # noqa: N801 — used as a decorator, like transaction.atomic
    """Pause Python's cyclic garbage collector while a batch service runs (put it above `@transaction.atomic`).

    A batch of up to 500 documents makes tens of thousands of short-lived model instances; each time the collector's
    thresholds trip it walks them all again, which measured a fifth of W1's time. Paused, memory that only the
    collector can free (reference cycles) waits until the batch ends — bounded by the batch size — and is collected
    on the collector's next run. It stays paused while any batch of the process runs (threads included)."""

    _lock = threading.Lock()
    _depth = 0  # batches running in this process (any thread)
    _was_enabled = False

    def __enter__(self):
        with batch_gc._lock:
            if batch_gc._depth == 0:
                batch_gc._was_enabled = gc.isenabled()
                gc.disable()
            batch_gc._depth += 1
        return self

    def __exit__(self, *exc):
        with batch_gc._lock:
            batch_gc._depth -= 1
            if batch_gc._depth == 0 and batch_gc._was_enabled:
                gc.enable()
        return False


__all__ = ["batch_gc", "column_in", "insert_many", "update_many", "value_preparer"]
