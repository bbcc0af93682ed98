"""Small database helpers for hot write paths."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models
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


def update_many(objects: Iterable[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of each object by primary key — what QuerySet.bulk_update does, as one prepared
    `UPDATE ... WHERE id = %s` run for every row (executemany) instead of a CASE per field and row, which costs
    more to build than the write itself. Values go through each field's own preparation (dates, decimals, keys)."""
    rows = list(objects)
    if not rows:
        return
    meta = rows[0]._meta
    concrete = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in concrete)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [*(field.get_db_prep_save(getattr(row, field.attname), connection) for field in concrete), row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


__all__ = ["column_in", "update_many"]
