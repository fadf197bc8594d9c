"""registry/bulk_insert.py: a batch's rows by COPY on PostgreSQL, the same rows and errors as bulk_create."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.bulk_insert import COPY_MIN_ROWS, AnyOf, insert_missing, insert_rows, update_column
from registry.declarations.models import IdentifierClaim
from registry.transparency.models import LogLeaf

N = COPY_MIN_ROWS + 5  # the COPY path on PostgreSQL


def test_it_writes_the_rows_it_is_given_text_bytes_and_times_included(db):
    now = timezone.now()
    rows = [(10_000 + i, bytes([i]) * 32, f'{{"payload":"\\"{i}\\"\\n\\t"}}', now) for i in range(N)]
    with CaptureQueriesContext(connection) as ctx:
        insert_rows(LogLeaf, ("index", "leaf_hash", "data", "created_at"), rows)
    assert len(ctx.captured_queries) == 1  # counted as one query, COPY or INSERT
    stored = list(LogLeaf.objects.filter(index__gte=10_000).order_by("index"))
    assert [(x.index, bytes(x.leaf_hash), x.data) for x in stored] == [r[:3] for r in rows]
    # COPY writes the time given; bulk_create (SQLite) sets auto_now_add fields itself, to the same moment.
    assert all(abs((x.created_at - now).total_seconds()) < 5 for x in stored)


def test_a_missing_column_is_a_programming_error_not_a_different_row(db):
    with pytest.raises(ValueError, match="created_at missing"):
        insert_rows(LogLeaf, ("index", "leaf_hash", "data"), [(1, bytes(32), "x")])


def test_a_unique_violation_is_djangos_integrity_error_and_rolls_back_only_its_savepoint(label):
    now = timezone.now()
    IdentifierClaim.objects.create(kind="isrc", value="QZES52400007", label=label)
    rows = [("isrc", f"QZES524{i:05d}", now, label.pk) for i in range(N)]  # includes QZES52400007
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(IdentifierClaim, ("kind", "value", "claimed_at", "label_id"), rows)
    assert list(IdentifierClaim.objects.values_list("value", flat=True)) == ["QZES52400007"]
    insert_rows(IdentifierClaim, ("kind", "value", "claimed_at", "label_id"), rows[8:])  # the transaction goes on
    assert IdentifierClaim.objects.count() == 1 + N - 8


def test_insert_missing_inserts_what_is_new_in_order_and_says_which_it_inserted(label, other_label):
    now = timezone.now()
    IdentifierClaim.objects.create(kind="isrc", value="QZES52400003", label=other_label)  # held already
    rows = [("isrc", f"QZES524{i:05d}", label.pk, now) for i in range(6)]
    rows.append(("isrc", "QZES52400001", other_label.pk, now))  # repeats a key earlier in the rows: skipped
    with CaptureQueriesContext(connection) as ctx:
        inserted = insert_missing(
            IdentifierClaim, ("kind", "value", "label_id", "claimed_at"), rows, returning=("value", "label_id")
        )
    assert len(ctx.captured_queries) == 1
    held = dict(IdentifierClaim.objects.values_list("value", "label_id"))
    assert held == {f"QZES524{i:05d}": (other_label.pk if i == 3 else label.pk) for i in range(6)}
    if connection.vendor == "postgresql":  # SQLite cannot say: None, and the caller reads back
        assert inserted == [(f"QZES524{i:05d}", label.pk) for i in range(6) if i != 3]
    else:
        assert inserted is None
    with pytest.raises(ValueError, match="claimed_at missing"):
        insert_missing(IdentifierClaim, ("kind", "value", "label_id"), [("isrc", "X", label.pk)], returning=("id",))


def test_update_column_sets_each_rows_value_and_no_other_row(label):
    now = timezone.now()
    claims = [IdentifierClaim.objects.create(kind="isrc", value=f"QZES524{i:05d}", label=label) for i in range(N)]
    later = now + timezone.timedelta(days=1)
    values = [(c.pk, later + timezone.timedelta(seconds=i)) for i, c in enumerate(claims[:-1])]
    with CaptureQueriesContext(connection) as ctx:
        update_column(IdentifierClaim, "claimed_at", values)
    assert len(ctx.captured_queries) == 1
    stored = dict(IdentifierClaim.objects.values_list("pk", "claimed_at"))
    for i, c in enumerate(claims[:-1]):
        assert stored[c.pk] == later + timezone.timedelta(seconds=i)
    assert stored[claims[-1].pk] == claims[-1].claimed_at


def test_any_of_finds_the_rows_in_finds_and_nothing_for_no_values(label):
    for i in range(5):
        IdentifierClaim.objects.create(kind="isrc", value=f"QZES524{i:05d}", label=label)
    wanted = ["QZES52400001", "QZES52400003", "QZES52499999"]
    with CaptureQueriesContext(connection) as ctx:
        found = set(IdentifierClaim.objects.filter(AnyOf(F("value"), wanted)).values_list("value", flat=True))
    assert found == set(IdentifierClaim.objects.filter(value__in=wanted).values_list("value", flat=True))
    assert found == {"QZES52400001", "QZES52400003"}
    assert len(ctx.captured_queries) == 1 and ctx.captured_queries[0]["sql"].count("QZES524") in (1, 3)
    assert not IdentifierClaim.objects.filter(AnyOf(F("value"), [])).exists()
