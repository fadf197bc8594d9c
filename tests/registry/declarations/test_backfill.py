"""Migration 0005: rows logged before stored summaries existed get them derived, so lookups need no fallback."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from provenance.disclosure import summary_text
from registry.declarations.models import Declaration, DeclaredRecording
from registry.transparency.audit import audit_log
from tests import factories

backfill = importlib.import_module("registry.declarations.migrations.0005_backfill_summaries").backfill


def _blank_summaries() -> None:
    """Make the rows look as if logged before migration 0002 (the triggers refuse it: switch them off)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE declarations_declaration DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE declarations_declaredrecording DISABLE TRIGGER USER")
        cursor.execute("UPDATE declarations_declaration SET summary = ''")
        cursor.execute("UPDATE declarations_declaredrecording SET summary = ''")
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE declarations_declaration ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE declarations_declaredrecording ENABLE TRIGGER USER")


@pytest.mark.postgres  # the append-only triggers it switches off are PostgreSQL's (and SQLite's schema editor refuses a test transaction)
def test_the_backfill_derives_every_missing_summary_from_the_signed_statement(keys, label, client):
    release = factories.make_release(label, tracks=2)
    decl = factories.declare(release, "partly")
    _blank_summaries()
    isrc = release.tracks.first().recording.isrc
    with connection.schema_editor() as editor:
        backfill(apps, editor)
    decl.refresh_from_db()
    assert decl.summary == summary_text(decl.statement)
    for rec in DeclaredRecording.objects.filter(declaration=decl):
        assert rec.summary == summary_text(decl.statement, rec.isrc)
    assert client.get(f"/api/v1/recordings/{isrc}").json()["disclosure"]["status"] == "active"
    assert audit_log().declarations == Declaration.objects.count()


rederive = importlib.import_module("registry.declarations.migrations.0006_summaries_with_ddex_roles").rederive


@pytest.mark.postgres  # as above: it switches PostgreSQL's append-only triggers off for its pass
def test_summaries_written_with_the_old_ddex_roles_are_derived_again_and_audit_clean(keys, label, client):
    release = factories.make_release(label, tracks=2)
    decl = factories.declare(release, "partly")
    isrc = release.tracks.first().recording.isrc
    with connection.cursor() as cursor:  # the text as the registry stored it before 2026-12
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ("declarations_declaration", "declarations_declaredrecording"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute(
                f"UPDATE {table} SET summary = "
                "replace(replace(summary, '\"StudioProducer\"', '\"Producer\"'), '\"Musician\"', '\"Instrumentalist\"')"
            )
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    decl.refresh_from_db()
    assert '"Producer"' in decl.summary
    with pytest.raises(Exception, match="stored disclosure summary differs"):
        audit_log()
    with connection.schema_editor() as editor:
        rederive(apps, editor)
    decl.refresh_from_db()
    assert decl.summary == summary_text(decl.statement)
    roles = {
        c["role"]
        for c in client.get(f"/api/v1/recordings/{isrc}").json()["disclosure"]["track"]["ddex"]["ai_contributions"]
    }
    assert roles == {"Composer", "Lyricist", "Vocalist", "Musician", "StudioProducer"}
    assert audit_log().declarations == Declaration.objects.count()
