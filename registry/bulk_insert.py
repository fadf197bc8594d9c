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
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

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
    fields = [model._meta.get_field(name) for name in columns]
    given = {f.attname for f in fields}
    missing = [f.attname for f in model._meta.concrete_fields if f.attname not in given and not _auto(f)]
    if missing:
        raise ValueError(f"insert_rows({model.__name__}) needs every column: {', '.join(missing)} missing")
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


def _auto(field: models.Field) -> bool:
    return bool(field.primary_key and isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField))
