"""Many rows in one insert: PostgreSQL's COPY for a batch's thousands of rows, ``bulk_create`` elsewhere.

A batch of 100 releases of 12 tracks writes ~1,200 rows each into several tables. A
multi-row INSERT of them is one statement of thousands of parameters, which psycopg
splits and quotes in Python and PostgreSQL parses whole (a third of a batch's time);
``COPY … FROM STDIN`` sends the same rows in psycopg's C row format (~5–10× less
time for those rows, measured in tests and in bench row 9's profile).

Invariants, relied on by the callers (``declarations.signing``, ``catalog.bulk``,
``transparency.log``) and checked by their tests on both databases and by ``audit_log``:

- **The same rows as ``bulk_create``.** Every column but an auto primary key is given by the
  caller (COPY applies no Python-side default: ``auto_now_add`` and defaults included), values
  as ``bulk_create`` would send them: plain ints, text, bytes, aware datetimes, JSON-ready
  values for a JSONField. A missing column is a programming error (ValueError), never a
  silently different row. (The ``bulk_create`` path sets ``auto_now``/``auto_now_add`` fields to
  its own now, the same moment give or take the call.)
- **No primary keys come back** (COPY has no RETURNING): a caller that needs them reads them
  back by a unique key (a declaration's leaf, a track's release and position).
- **The same errors.** Constraint violations raise Django's IntegrityError (the same
  ``wrap_database_errors`` as every query), inside the caller's transaction, which rolls
  back as after a failed INSERT. Deferred foreign keys are checked at commit as for INSERT.
- **Counted as one query** where Django counts queries (``assertNumQueries``,
  ``CaptureQueriesContext``), so query-count tests see it.

``insert_missing`` is the same for rows that may exist already (identifier claims, a label's
recordings): ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING``, one
statement of one array per column, built from plain values (no model instance per row), in
the order given (callers that rely on an insert order, the claims' sorted order, pass it
sorted). It says which rows it inserted; a row it skipped was held already (committed, or by
a transaction it waited for) or repeated a key earlier in ``rows``, and the caller reads who
holds it. SQLite: ``bulk_create(ignore_conflicts=True)``, and ``None`` (the caller reads
back every row). Checked by tests/registry/test_bulk_insert.py, the claim races of
tests/registry/declarations/test_batch.py and ``audit_log``'s claims.

``update_column`` sets one column of many rows by primary key in one ``UPDATE … FROM
unnest(keys, values)`` (``bulk_update``'s ``CASE WHEN`` of two parameters per row is the
same, slower to build and to plan); rows the caller holds locked already, so the order
of the updates takes no lock of its own. SQLite: ``bulk_update``.

``AnyOf(F("column"), values)`` is ``column__in=values`` as one array parameter on PostgreSQL
(``column = ANY(%s)``): the same rows, through the same index, without the thousand
placeholders that Django prepares one by one and psycopg splits in Python (a batch asks
for ~1,300 identifiers at a time). Elsewhere it is ``IN (…)``; no values match nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models

# Below this many rows an INSERT is as fast, and keeps the plain path (and its RETURNING).
COPY_MIN_ROWS = 20


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *, using: str = "default"
) -> None:
    """Insert ``rows`` (values in ``columns`` order, attribute names) into ``model``'s table; no keys returned."""
    rows = list(rows)
    if not rows:
        return
    fields = _fields(model, columns)
    connection = connections[using]
    if connection.vendor != "postgresql" or len(rows) < COPY_MIN_ROWS:
        model.objects.using(using).bulk_create(
            [model(**{f.attname: v for f, v in zip(fields, row, strict=True)}) for row in rows]
        )
        return
    from psycopg.types.json import Jsonb  # only on PostgreSQL

    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {table} ({names}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        row[i] = Jsonb(row[i])
                copy.write_row(row)
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}", "alias": using}
        )


def insert_missing(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    returning: Sequence[str],
    using: str = "default",
) -> list[tuple[Any, ...]] | None:
    """Insert the ``rows`` no unique constraint refuses (values in ``columns`` order), in order; skip the others.

    Returns the ``returning`` columns of each row inserted (PostgreSQL), or None (SQLite: read them back).
    """
    rows = list(rows)
    if not rows:
        return []
    fields = _fields(model, columns)
    connection = connections[using]
    if connection.vendor != "postgresql":
        model.objects.using(using).bulk_create(
            [model(**{f.attname: v for f, v in zip(fields, row, strict=True)}) for row in rows], ignore_conflicts=True
        )
        return None
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    back = ", ".join(quote(model._meta.get_field(name).column) for name in returning)
    # Names from the model's own meta, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING RETURNING {back}"
    )
    params = [
        [f.get_db_prep_save(row[i], connection) for row in rows]  # as bulk_create prepares each value
        for i, f in enumerate(fields)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(r) for r in cursor.fetchall()]


def update_column(
    model: type[models.Model], column: str, values: Sequence[tuple[Any, Any]], *, using: str = "default"
) -> None:
    """Set ``column`` (an attribute name) to each value of ``values``, pairs (primary key, value)."""
    if not values:
        return
    connection = connections[using]
    field, pk = model._meta.get_field(column), model._meta.pk
    assert pk is not None
    if connection.vendor != "postgresql":
        objs = []
        for key, value in values:
            obj = model(pk=key)
            setattr(obj, field.attname, value)
            objs.append(obj)
        model.objects.using(using).bulk_update(objs, [field.name])
        return
    quote = connection.ops.quote_name
    # Names from the model's own meta, quoted; every value is a parameter.
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {quote(field.column)} = v.value "  # noqa: S608
        f"FROM unnest(%s::{pk.db_type(connection)}[], %s::{field.db_type(connection)}[]) AS v(key, value) "
        f"WHERE t.{quote(pk.column)} = v.key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[k for k, _ in values], [field.get_db_prep_save(v, connection) for _, v in values]])


class AnyOf(models.Lookup):
    """``lhs`` equals one of ``rhs`` (a collection of plain values): ``= ANY(array)`` on PostgreSQL."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        if not values:
            raise EmptyResultSet
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


def _fields(model: type[models.Model], columns: Sequence[str]) -> list[models.Field]:
    fields = [model._meta.get_field(name) for name in columns]
    given = {f.attname for f in fields}
    missing = [f.attname for f in model._meta.concrete_fields if f.attname not in given and not _auto(f)]
    if missing:
        raise ValueError(f"{model.__name__} needs every column: {', '.join(missing)} missing")
    return fields


def _auto(field: models.Field) -> bool:
    return bool(field.primary_key and isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField))
