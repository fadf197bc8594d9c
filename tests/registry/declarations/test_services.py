"""Declare → envelope verifies → leaf is logged → proof verifies; amend and withdraw keep history provable."""

from __future__ import annotations

import json

import pytest

from provenance import bundle as pbundle
from provenance import dsse, jcs, merkle, statement
from provenance.checkpoint import parse_checkpoint
from provenance.keys import KeySet
from registry.catalog.models import Release
from registry.declarations.models import Declaration, DeclaredRecording, IdentifierClaim
from registry.declarations.selectors import disclosure_summary, recording_by_isrc, release_by_upc
from registry.declarations.services import declaration_amend, declaration_create, declaration_withdraw
from registry.declarations.statements import diff_statements
from registry.errors import Conflict, ValidationFailed
from registry.transparency import log
from registry.transparency.keys import jwks, key_revoke, key_rotate
from registry.transparency.models import LogLeaf
from tests import factories


def test_a_declaration_is_signed_logged_and_provable(declared, keys):
    envelope = json.loads(declared.leaf.data)
    payload, key = dsse.verify_envelope(envelope, KeySet.from_jwks(keys))
    assert key.kid == declared.key.kid
    st = statement.parse_statement(payload)
    assert st == declared.statement
    assert st["declaration"]["version"] == 1 and st["declaration"]["supersedes"] is None
    assert st["registry"] == "registry.example.org/log"
    assert st["tracks"][0]["contains_ai"] == "all" and st["release"]["contains_ai"] == "partly"
    # The leaf is the canonical envelope, and the current checkpoint proves it.
    assert bytes(declared.leaf.leaf_hash) == merkle.leaf_hash(jcs.canonicalize(envelope))
    cp = parse_checkpoint(log.latest_checkpoint().note)
    proof = log.inclusion_proof(declared.leaf_id, cp.size)
    merkle.verify_inclusion(declared.leaf_id, cp.size, bytes(declared.leaf.leaf_hash), proof, cp.root)
    # And the stored bundle verifies offline.
    assert pbundle.verify_bundle(json.loads(declared.bundle), keys).valid


def test_every_older_version_stays_provable_after_amend_and_withdraw(declared, keys):
    release = declared.release
    isrc = release.tracks.first().recording.isrc
    v2 = declaration_amend(release=release, reason="Mastering used AI", ai={isrc: factories.track_ai("partly")})
    v3 = declaration_withdraw(release=release, reason="Taken down")
    assert [d.version for d in Declaration.objects.filter(release=release)] == [1, 2, 3]
    assert v2.statement["declaration"]["supersedes"] == bytes(declared.leaf.leaf_hash).hex()
    assert v3.statement["declaration"]["supersedes"] == bytes(v2.leaf.leaf_hash).hex()
    assert v3.status == "withdrawn" and v3.statement["declaration"]["reason"] == "Taken down"
    assert {str(d.uid) for d in (declared, v2, v3)} == {str(declared.uid)}
    size = log.latest_checkpoint().tree_size
    root = factories.stored_root(size)
    verifier = pbundle.Verifier.from_jwks(keys)
    for d in (declared, v2, v3):
        assert verifier.verify(json.loads(d.bundle)).valid
        merkle.verify_inclusion(d.leaf_id, size, bytes(d.leaf.leaf_hash), log.inclusion_proof(d.leaf_id, size), root)
    # Consistency from each bundle's checkpoint to the current one.
    for d in (declared, v2):
        first = json.loads(d.bundle)["log"]["tree_size"]
        merkle.verify_consistency(first, size, factories.stored_root(first), root, log.consistency_proof(first, size))


def test_lookups_answer_the_withdrawal_not_a_stale_active_version(declared):
    release = declared.release
    isrc = release.tracks.first().recording.isrc
    declaration_withdraw(release=release, reason="Gone")
    assert release_by_upc(release.upc).status == "withdrawn"
    answer = recording_by_isrc(isrc)
    assert answer.declaration.status == "withdrawn"
    assert disclosure_summary(answer.declaration, isrc)["status"] == "withdrawn"


def test_a_recording_answers_the_newest_release_holding_it(keys, label):
    code = factories.isrc()
    single = factories.make_release(label, title="Single", track_list=[{"isrc": code, "title": "Hit", "position": 1}])
    album = factories.make_release(
        label,
        title="Album",
        track_list=[
            {"isrc": code, "title": "Hit", "position": 1},
            {"isrc": factories.isrc(), "title": "B", "position": 2},
        ],
    )
    factories.declare(single, "none")
    newest = factories.declare(album, "partly")
    answer = recording_by_isrc(code)
    assert answer.declaration == newest
    assert answer.also_in == [single.upc]


def test_the_summary_maps_to_ddex_apple_and_iptc(declared):
    isrc = declared.statement["tracks"][0]["isrc"]
    summary = disclosure_summary(declared, isrc)
    assert summary["track"]["ddex"]["contains_ai"] == "All"
    assert {"role": "Composer", "contains_ai": "All"} in summary["track"]["ddex"]["ai_contributions"]
    assert summary["track"]["apple_music_tags"] == ["Track", "Composition"]
    assert summary["track"]["iptc_digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert summary["label"]["verified"] is True


def test_declaring_twice_is_refused(declared):
    with pytest.raises(Conflict, match="amend it instead"):
        factories.declare(declared.release)


def test_an_amendment_needs_a_reason(declared):
    with pytest.raises(ValidationFailed, match="reason"):
        declaration_amend(release=declared.release, reason="  ")
    assert declared.release.declarations.count() == 1


def test_an_expected_version_mismatch_is_a_conflict(declared):
    with pytest.raises(Conflict, match="version 1, not 3"):
        declaration_amend(release=declared.release, reason="x", expected_version=3)


def test_a_voice_imitating_a_real_person_needs_a_consent_reference(release):
    isrc = release.tracks.first().recording.isrc
    ai = {t.recording.isrc: factories.track_ai("none") for t in release.tracks.all()}
    ai[isrc] = factories.track_ai("partly", voice_likeness={"imitates_real_person": True})
    with pytest.raises(ValidationFailed, match="consent reference"):
        declaration_create(release=release, ai=ai)
    assert not Declaration.objects.exists() and not LogLeaf.objects.exists()


def test_a_failed_declaration_leaves_no_leaf(release):
    ai = {t.recording.isrc: factories.track_ai("none") for t in release.tracks.all()}
    ai[next(iter(ai))]["parts"]["vocals"] = "mostly"
    with pytest.raises(ValidationFailed, match="vocals"):
        declaration_create(release=release, ai=ai)
    assert LogLeaf.objects.count() == 0
    assert Release.objects.get(pk=release.pk).current_declaration is None


def test_every_track_must_be_declared(release):
    first = release.tracks.first().recording.isrc
    with pytest.raises(ValidationFailed, match="no AI declaration"):
        declaration_create(release=release, ai={first: factories.track_ai("none")})


def test_declared_recordings_index_every_version(declared):
    declaration_amend(release=declared.release, reason="x")
    assert DeclaredRecording.objects.count() == 2 * declared.release.tracks.count()


def test_key_rotation_keeps_old_bundles_valid_and_revocation_invalidates_them(declared, keys):
    old_kid = declared.key.kid
    key_rotate(purpose="statement")
    v2 = declaration_amend(release=declared.release, reason="after rotation")
    assert v2.key.kid != old_kid
    verifier = pbundle.Verifier.from_jwks(jwks())
    assert verifier.verify(json.loads(declared.bundle)).valid
    assert verifier.verify(json.loads(v2.bundle)).valid
    key_revoke(kid=old_kid, reason="compromised")
    result = pbundle.Verifier.from_jwks(jwks()).verify(json.loads(declared.bundle))
    assert not result.valid and result.failed.name == "statement_signature"
    assert "revoked" in result.failed.detail
    assert pbundle.Verifier.from_jwks(jwks()).verify(json.loads(v2.bundle)).valid


def test_diff_says_what_changed(declared):
    isrc = declared.statement["tracks"][1]["isrc"]
    v2 = declaration_amend(
        release=declared.release, reason="vocals", ai={isrc: factories.track_ai("none", vocals="all")}
    )
    changes = diff_statements(declared.statement, v2.statement)
    assert any("vocals none → all" in c for c in changes)
    assert any("contains ai" in c for c in changes) or declared.contains_ai == v2.contains_ai


def test_an_amendment_naming_an_isrc_not_on_the_release_is_refused(declared):
    with pytest.raises(ValidationFailed, match="not on this release: QZXXX2600001"):
        declaration_amend(release=declared.release, reason="typo", ai={"QZXXX2600001": factories.track_ai("all")})
    assert declared.release.declarations.count() == 1


def test_reusing_a_declared_isrc_on_a_draft_changes_nothing_that_was_signed(keys, label):
    """Finding 6: a draft reusing an ISRC used to rewrite the shared recording, and the next amendment signed it."""
    code = factories.isrc()
    sha = "ab" * 32
    single = factories.make_release(
        label, track_list=[{"isrc": code, "title": "Hit", "position": 1, "audio_sha256": sha, "duration": 200}]
    )
    factories.declare(single)
    factories.make_release(label, track_list=[{"isrc": code, "title": "Hit (draft retitle)", "position": 1}])
    track = single.tracks.get()
    assert (track.title, track.audio_sha256, track.duration) == ("Hit", sha, 200)
    amended = declaration_amend(release=single, reason="Fix a typo elsewhere")
    (signed,) = amended.statement["tracks"]
    assert (signed["title"], signed["audio_sha256"], signed["duration"]) == ("Hit", sha, 200)


def test_an_identifier_another_label_declared_first_is_refused_at_signing(keys, label, other_label):
    code = factories.isrc()
    mine = factories.make_release(label, track_list=[{"isrc": code, "title": "Mine", "position": 1}])
    theirs = factories.make_release(other_label, track_list=[{"isrc": code, "title": "Theirs", "position": 1}])
    factories.declare(theirs)  # the other label signs first: the ISRC is theirs
    leaves = LogLeaf.objects.count()
    with pytest.raises(Conflict, match=f"ISRC {code} belongs to another label"):
        factories.declare(mine)
    assert LogLeaf.objects.count() == leaves and mine.declarations.count() == 0
    assert IdentifierClaim.objects.get(kind="isrc", value=code).label == other_label


@pytest.mark.parametrize("field", ["tools", "consent"])
def test_control_characters_in_tools_or_consent_are_refused(release, field):
    ai = {t.recording.isrc: factories.track_ai("none") for t in release.tracks.all()}
    first = next(iter(ai))
    if field == "tools":
        ai[first] = factories.track_ai("partly", tools=["Suno\x1b[31m v4"])
    else:
        ai[first] = factories.track_ai(
            "partly", voice_likeness={"imitates_real_person": True, "consent_reference": "ok\x00"}
        )
    with pytest.raises(ValidationFailed):
        declaration_create(release=release, ai=ai)
    assert not Declaration.objects.exists()


def test_the_preview_is_the_signing_service_in_dry_run_and_changes_nothing(keys, label):
    from registry.declarations.services import CatalogChange, NextVersion, version_preview, version_sign

    release = factories.make_release(label, tracks=2, title="Before")
    v1 = factories.declare(release)
    isrcs = [t.recording.isrc for t in release.tracks.order_by("position")]
    change = NextVersion(
        ai={isrcs[0]: factories.track_ai("all")},
        reason="Retitled, and track 1 is AI",
        catalog=CatalogChange(title="After"),
        expected_version=1,
    )
    leaves = LogLeaf.objects.count()
    preview = version_preview(release=release, change=change)
    release.refresh_from_db()
    assert release.title == "Before" and LogLeaf.objects.count() == leaves  # the dry run kept nothing
    signed = version_sign(release=release, change=change).statement
    for st in (preview, signed):
        st["declaration"].pop("declared_at")
    assert preview == signed and signed["release"]["title"] == "After"
    assert signed["declaration"]["supersedes"] == v1.leaf_hash_hex
    # A stale expected version is refused by both, naming the race.
    with pytest.raises(Conflict, match="someone else signed version 2"):
        version_preview(release=release, change=change)


def test_the_largest_release_the_registry_accepts_is_loggable_as_one_tile_entry(keys, label, client):
    """RELEASE_TRACKS_MAX tracks with ordinary texts and tools sign, log and come back in an entry bundle."""
    from provenance.limits import ENTRY_MAX, RELEASE_TRACKS_MAX

    release = factories.make_release(
        label,
        title="The Complete Sessions (Deluxe Box Set Edition)",
        track_list=[
            {
                "isrc": factories.isrc(),
                "title": f"Session {i + 1}: Take {i % 7 + 1} (Alternate Mix, Remastered 2026)",
                "position": i + 1,
                "duration": 200 + i,
            }
            for i in range(RELEASE_TRACKS_MAX)
        ],
    )
    factories.declare(release, "partly", tools=["Suno v4", "iZotope Ozone 11"])
    entry = client.get("/tlog/tile/entries/000.p/1")
    assert entry.status_code == 200
    size = int.from_bytes(entry.content[:2], "big")
    assert 0.5 * ENTRY_MAX < size <= 0.9 * ENTRY_MAX  # a real box set, with a margin below the limit


def test_each_tracks_summary_is_cut_from_the_declarations_text_at_its_utf8_byte_offset(keys, label, client):
    """Track summaries sit one after another in Declaration.track_summaries (migration 0008), placed by UTF-8
    bytes; a title with characters of 2, 3 and 4 bytes would shift a character-counted cut (SQLite, PostgreSQL)."""
    from provenance.disclosure import summary_text
    from registry.transparency.audit import audit_log

    titles = ["Sjöns ljus", "東京の夜 🎵", "Ça va — déjà"]
    release = factories.make_release(
        label,
        title="Åsa & 🎧 Nørd",
        track_list=[{"isrc": factories.isrc(), "title": t, "position": i + 1} for i, t in enumerate(titles)],
    )
    decl = factories.declare(release, "partly")
    rows = list(decl.recordings.order_by("position"))
    assert [r.summary_at for r in rows] == sorted(r.summary_at for r in rows) and rows[0].summary_at == 0
    for rec in rows:
        answer = client.get(f"/api/v1/recordings/{rec.isrc}")
        assert answer.status_code == 200
        text = summary_text(decl.statement, rec.isrc)
        assert text.encode() in answer.content  # spliced byte for byte
        assert answer.json()["disclosure"] == json.loads(text)
    assert audit_log().declarations == 1
