"""audit_log recomputes everything and names the first discrepancy, including edits behind Django's back."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from registry.declarations.services import declaration_amend, declaration_withdraw
from registry.transparency.audit import AuditFailure, audit_log
from tests import factories


@pytest.fixture
def history(keys, label):
    out = []
    for i in range(4):
        release = factories.make_release(label, tracks=2, title=f"Album {i}")
        out.append(factories.declare(release, ["none", "partly", "all", "none"][i]))
    declaration_amend(release=out[1].release, reason="fix")
    declaration_withdraw(release=out[2].release, reason="gone")
    return out


def _raw(sql: str, params: list | None = None) -> None:
    """Edit rows behind Django's back, as an attacker with database access would."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off for the session; the audit must still catch the edit.
            cur.execute("SET session_replication_role = replica")
        cur.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = DEFAULT")


def test_an_untouched_log_passes(history, capsys):
    report = audit_log()
    assert report.leaves == 6 and report.declarations == 6 and report.checkpoints == 6
    call_command("audit_log")
    assert capsys.readouterr().out.startswith("OK: 6 leaves")


def test_it_catches_an_edited_leaf(history):
    _raw("UPDATE transparency_logleaf SET data = replace(data, 'payload', 'payload ') WHERE \"index\" = 2")
    with pytest.raises(AuditFailure, match="leaf 2: stored hash"):
        audit_log()


def test_it_catches_an_edited_leaf_with_its_hash_recomputed(history):
    from provenance import merkle
    from registry.transparency.models import LogLeaf

    leaf = LogLeaf.objects.get(index=1)
    forged = leaf.data.replace('"sig":"', '"sig":"A')
    _raw(
        'UPDATE transparency_logleaf SET data = %s, leaf_hash = %s WHERE "index" = 1',
        [forged, merkle.leaf_hash(forged.encode())],
    )
    with pytest.raises(AuditFailure, match="checkpoint at size 2: stored root"):
        audit_log()


def test_it_catches_an_edited_statement_column(history):
    _raw("UPDATE declarations_declaration SET reason = 'quietly changed' WHERE version = 2")
    with pytest.raises(AuditFailure, match="stored columns differ"):
        audit_log()


def test_it_catches_an_edited_statement_json(history):
    field = "statement"
    new = '{"schema": "forged"}'
    _raw(
        f"UPDATE declarations_declaration SET {field} = %s WHERE id = (SELECT MIN(id) FROM declarations_declaration)",
        [new],
    )
    with pytest.raises(AuditFailure, match="stored statement differs"):
        audit_log()


def test_it_catches_a_forged_checkpoint(history):
    _raw("UPDATE transparency_checkpoint SET note = replace(note, '\n3\n', '\n3\n\n') WHERE tree_size = 3")
    with pytest.raises(AuditFailure, match="checkpoint at size 3"):
        audit_log()


def test_it_catches_a_deleted_leaf(history):
    _raw(
        "DELETE FROM declarations_declaredrecording WHERE declaration_id IN (SELECT id FROM declarations_declaration WHERE leaf_id = 5)"
    )
    _raw(
        "UPDATE catalog_release SET current_declaration_id = NULL WHERE current_declaration_id IN (SELECT id FROM declarations_declaration WHERE leaf_id = 5)"
    )
    _raw("DELETE FROM declarations_declaration WHERE leaf_id = 5")
    _raw('DELETE FROM transparency_logleaf WHERE "index" = 5')
    with pytest.raises(AuditFailure):
        audit_log()


def test_the_command_fails_loudly(history):
    _raw(
        "UPDATE transparency_lognode SET hash = %s WHERE id = (SELECT MAX(id) FROM transparency_lognode)",
        [b"\x00" * 32],
    )
    with pytest.raises(CommandError, match="AUDIT FAILED"):
        call_command("audit_log")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE transparency_logleaf SET data = 'x'",
        "DELETE FROM transparency_logleaf",
        "UPDATE transparency_lognode SET hash = ''",
        "DELETE FROM transparency_checkpoint",
        "UPDATE declarations_declaration SET reason = 'x'",
        "DELETE FROM declarations_declaredrecording",
    ],
)
def test_postgres_refuses_updates_and_deletes_of_signed_rows(history, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    audit_log()


def test_it_catches_a_release_pointed_back_at_a_stale_version(history):
    # The withdrawn release answering its earlier active version would be a stale lookup.
    withdrawn = history[2].release
    _raw("UPDATE catalog_release SET current_declaration_id = %s WHERE id = %s", [history[2].pk, withdrawn.pk])
    with pytest.raises(AuditFailure, match=f"release {withdrawn.upc} answers version 1, but its newest version is 2"):
        audit_log()


def test_it_catches_a_declared_release_that_answers_nothing(history):
    release = history[0].release
    _raw("UPDATE catalog_release SET current_declaration_id = NULL WHERE id = %s", [release.pk])
    with pytest.raises(AuditFailure, match="answer no declaration at all"):
        audit_log()


def test_it_catches_an_edited_lookup_summary(history):
    # Lookups splice the stored summary text: editing it would change what platforms read.
    _raw(
        "UPDATE declarations_declaration SET track_summaries = "
        'replace(track_summaries, \'"contains_ai":"none"\', \'"contains_ai":"al"\') '
        "WHERE id = (SELECT MIN(id) FROM declarations_declaration)"
    )
    with pytest.raises(AuditFailure, match="stored summary of .* differs from the signed statement"):
        audit_log()


def test_it_catches_an_isrc_pointed_at_another_tracks_summary(history):
    first = history[0]
    rows = list(first.recordings.order_by("position"))
    assert len(rows) >= 2
    _raw(
        "UPDATE declarations_declaredrecording SET summary_at = %s, summary_length = %s WHERE id = %s",
        [rows[1].summary_at, rows[1].summary_length, rows[0].pk],
    )
    with pytest.raises(AuditFailure, match=f"stored summary of {rows[0].isrc} differs"):
        audit_log()


def test_it_catches_track_summaries_text_that_no_isrc_names(history):
    # Nothing serves it today, but stored text that the signed statement does not account for is a defect.
    _raw(
        "UPDATE declarations_declaration SET track_summaries = track_summaries || '{\"unsigned\":true}' "
        "WHERE id = (SELECT MIN(id) FROM declarations_declaration)"
    )
    with pytest.raises(AuditFailure, match="hold text no ISRC names"):
        audit_log()


def test_it_catches_an_edited_release_summary(history):
    _raw(
        "UPDATE declarations_declaration SET summary = replace(summary, '\"verified\":true', '\"verified\":false') "
        "WHERE id = (SELECT MIN(id) FROM declarations_declaration)"
    )
    with pytest.raises(AuditFailure, match="stored disclosure summary differs"):
        audit_log()
