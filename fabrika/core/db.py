"""Small database helpers for hot write paths."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection, models


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


__all__ = ["update_many"]
