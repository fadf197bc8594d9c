"""The migrations that derive stored summaries: 0005 (rows logged before they existed), 0006 (DDEX roles
renamed) and 0008 (each track's text moved from its ISRC index row to its declaration's ``track_summaries``).

0005 and 0006 ran on the schema before 0008, so their tests migrate back to 0007 first (which 0008's
reverse derives again) and forward afterwards, all inside the test's transaction."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from provenance.disclosure import summary_text
from registry.declarations.models import Declaration, DeclaredRecording
from registry.transparency.audit import audit_log
from tests import factories

BEFORE_0008 = ("declarations", "0007_bundle_insert_as_values")


@contextmanager
def schema_before_0008() -> Iterator[Any]:
    """The declarations app migrated back to 0007 (0008's reverse derives the per-row summaries), its apps
    as they were then; migrated forward again on the way out."""
    with connection.cursor() as cursor:  # ALTER TABLE refuses the test's pending (deferred) foreign key checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("migrate", *BEFORE_0008, verbosity=0)
    try:
        yield MigrationExecutor(connection).loader.project_state(BEFORE_0008).apps
    finally:
        call_command("migrate", "declarations", verbosity=0)


backfill = importlib.import_module("registry.declarations.migrations.0005_backfill_summaries").backfill


def _blank_summaries() -> None:
    """Make the rows look as if logged before migration 0002 (the triggers refuse it: switch them off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE declarations_declaration DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE declarations_declaredrecording DISABLE TRIGGER USER")
        cursor.execute("UPDATE declarations_declaration SET summary = ''")
        # Run against the schema before 0008 (schema_before_0008), where each index row had its summary.
        cursor.execute("UPDATE declarations_declaredrecording SET summary = ''")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE declarations_declaration ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE declarations_declaredrecording ENABLE TRIGGER USER")


@pytest.mark.postgres  # the append-only triggers it switches off are PostgreSQL's (and SQLite's schema editor refuses a test transaction)
def test_the_backfill_derives_every_missing_summary_from_the_signed_statement(keys, label, client):
    release = factories.make_release(label, tracks=2)
    decl = factories.declare(release, "partly")
    isrc = release.tracks.first().recording.isrc
    with schema_before_0008() as old:
        assert {r.summary for r in old.get_model("declarations", "DeclaredRecording").objects.all()} == {
            summary_text(decl.statement, t.recording.isrc) for t in release.tracks.all()
        }  # 0008's reverse derived them
        _blank_summaries()
        with connection.schema_editor() as editor:
            backfill(old, editor)
        for rec in old.get_model("declarations", "DeclaredRecording").objects.all():
            assert rec.summary == summary_text(decl.statement, rec.isrc)
    decl.refresh_from_db()
    assert decl.summary == summary_text(decl.statement)
    for rec in DeclaredRecording.objects.filter(declaration=decl):
        assert rec.summary_in(decl.track_summaries.encode()) == summary_text(decl.statement, rec.isrc)
    assert client.get(f"/api/v1/recordings/{isrc}").json()["disclosure"]["status"] == "active"
    assert audit_log().declarations == Declaration.objects.count()


rederive = importlib.import_module("registry.declarations.migrations.0006_summaries_with_ddex_roles").rederive


@pytest.mark.postgres  # as above: it switches PostgreSQL's append-only triggers off for its pass
def test_summaries_written_with_the_old_ddex_roles_are_derived_again_and_audit_clean(keys, label, client):
    release = factories.make_release(label, tracks=2)
    decl = factories.declare(release, "partly")
    isrc = release.tracks.first().recording.isrc
    with schema_before_0008() as old:
        with connection.cursor() as cursor:  # the text as the registry stored it before 2026-12
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in ("declarations_declaration", "declarations_declaredrecording"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                cursor.execute(
                    f"UPDATE {table} SET summary = "
                    "replace(replace(summary, '\"StudioProducer\"', '\"Producer\"'), '\"Musician\"', '\"Instrumentalist\"')"
                )
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        assert '"Producer"' in old.get_model("declarations", "DeclaredRecording").objects.first().summary
        decl.refresh_from_db(fields=["summary"])  # the columns this schema has
        assert '"Producer"' in decl.summary
        with connection.schema_editor() as editor:
            rederive(old, editor)
        for rec in old.get_model("declarations", "DeclaredRecording").objects.all():
            assert rec.summary == summary_text(decl.statement, rec.isrc)
    decl.refresh_from_db()
    assert decl.summary == summary_text(decl.statement)
    roles = {
        c["role"]
        for c in client.get(f"/api/v1/recordings/{isrc}").json()["disclosure"]["track"]["ddex"]["ai_contributions"]
    }
    assert roles == {"Composer", "Lyricist", "Vocalist", "Musician", "StudioProducer"}
    assert audit_log().declarations == Declaration.objects.count()


m0008 = importlib.import_module("registry.declarations.migrations.0008_track_summaries_per_declaration")


@pytest.mark.postgres  # as above: it switches PostgreSQL's append-only triggers off for its pass
def test_0008_derives_every_tracks_summary_and_place_from_the_signed_statement(keys, label, client, monkeypatch):
    monkeypatch.setattr(m0008, "CHUNK", 2)  # 3 declarations: a full chunk, then the rest
    releases = [factories.make_release(label, tracks=n) for n in (1, 3, 2)]
    for release, level in zip(releases, ("partly", "all", "none"), strict=True):
        factories.declare(release, level)
    before = {r.isrc: client.get(f"/api/v1/recordings/{r.isrc}").content for r in DeclaredRecording.objects.all()}
    with connection.cursor() as cursor:  # as a row written before 0008 looks once its columns are added
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ("declarations_declaration", "declarations_declaredrecording"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute("UPDATE declarations_declaration SET track_summaries = ''")
        cursor.execute("UPDATE declarations_declaredrecording SET summary_at = 0, summary_length = 0")
        for table in ("declarations_declaration", "declarations_declaredrecording"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    with pytest.raises(Exception, match="stored summary of .* differs"):
        audit_log()
    with connection.schema_editor() as editor:
        m0008.derive(apps, editor)
    for decl in Declaration.objects.all():
        for rec in decl.recordings.all():
            assert rec.summary_in(decl.track_summaries.encode()) == summary_text(decl.statement, rec.isrc)
    assert audit_log().declarations == Declaration.objects.count()
    cache.clear()  # the answers must come from the derived rows, not from the lookup cache
    assert {isrc: client.get(f"/api/v1/recordings/{isrc}").content for isrc in before} == before
