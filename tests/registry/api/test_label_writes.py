"""The label write API: declare in one call, amend, withdraw, list; who may do what; conflicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.api.models import IdempotencyRecord
from registry.catalog.models import Recording, Release
from registry.declarations.models import Declaration
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload, track_payload


def snapshot() -> tuple[int, ...]:
    return (
        Release.objects.count(),
        Recording.objects.count(),
        Declaration.objects.count(),
        LogLeaf.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def _isrcs(release: Any) -> list[str]:
    return [t.recording.isrc for t in release.tracks.select_related("recording")]


# --- create -----------------------------------------------------------------------


def test_a_label_registers_and_declares_a_release_in_one_call(client, keys, label_token, label):
    payload = release_payload(tracks=2, level="partly", persona="synthetic", artwork="all")
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["upc"] == payload["upc"]
    assert body["declaration"]["version"] == 1 and body["declaration"]["status"] == "active"
    assert body["disclosure"]["ai_persona"] is True
    assert body["disclosure"]["release"]["artwork"] == "all"
    release = Release.objects.get(upc=payload["upc"])
    assert release.label == label
    decl = release.current_declaration
    assert decl.via == "api"
    assert r.content.decode().endswith(',"bundle":' + decl.bundle + "}")
    # And it is now public.
    lookup = client.get(f"/api/v1/recordings/{payload['tracks'][0]['isrc']}").json()
    assert lookup["disclosure"]["track"]["parts"]["vocals"] == "partly"


def test_create_accepts_hyphenated_identifiers_and_keys_the_ai_facts_by_the_normalized_isrc(client, keys, label_token):
    isrc = factories.isrc()
    hyphenated = f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}".lower()
    payload = release_payload(track_list=track_payload(1, "all", isrcs=[hyphenated]))
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 201, r.content
    assert r.json()["disclosure"]["tracks"][0]["isrc"] == isrc


def test_a_failed_declaration_leaves_no_release_behind(client, keys, label_token):
    payload = release_payload(tracks=1)
    payload["tracks"][0]["ai"]["voice_likeness"] = {"imitates_real_person": True, "consent_reference": None}
    before = snapshot()
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 400
    assert "consent reference" in error_of(r)["message"]
    assert snapshot() == before


def test_the_genre_is_signed_with_the_release(client, keys, label_token):
    payload = release_payload(genre="Amapiano")
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 201, r.content
    release = Release.objects.get(upc=payload["upc"])
    assert release.genre == "Amapiano"
    assert release.current_declaration.statement["release"]["genre"] == "Amapiano"


@pytest.mark.parametrize(
    ("drop", "field"),
    [(lambda p: p.pop("genre"), "genre"), (lambda p: p["tracks"][1].pop("duration"), "tracks[1].duration")],
)
def test_a_new_release_without_what_ddex_requires_is_refused_by_field(client, keys, label_token, drop, field):
    payload = release_payload(tracks=2)
    drop(payload)
    before = snapshot()
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 400
    assert field in error_of(r)["fields"], r.json()
    assert snapshot() == before


def test_create_reports_a_missing_field_by_its_path(client, keys, label_token):
    payload = release_payload(tracks=2)
    del payload["tracks"][1]["ai"]["parts"]["lyrics"]
    r = post_json(client, "/api/v1/releases", payload, **bearer(label_token))
    assert r.status_code == 400
    assert "tracks[1].ai.parts.lyrics" in error_of(r)["fields"], r.json()


def test_create_refuses_a_malformed_upc_with_the_reason(client, keys, label_token):
    r = post_json(client, "/api/v1/releases", release_payload(upc="12345"), **bearer(label_token))
    assert r.status_code == 400
    assert "12 (UPC-A)" in error_of(r)["message"]


def test_a_upc_of_another_label_is_a_conflict_and_changes_nothing(client, keys, other_token, declared):
    before = snapshot()
    r = post_json(client, "/api/v1/releases", release_payload(upc=declared.release.upc), **bearer(other_token))
    assert r.status_code == 409
    err = error_of(r)
    assert err["code"] == "conflict" and "another label" in err["message"]
    assert snapshot() == before


def test_an_isrc_of_another_label_is_a_conflict_and_changes_nothing(client, keys, other_token, declared):
    taken = _isrcs(declared.release)[0]
    before = snapshot()
    payload = release_payload(track_list=track_payload(1, isrcs=[taken]))
    r = post_json(client, "/api/v1/releases", payload, **bearer(other_token))
    assert r.status_code == 409
    assert "belongs to another label" in error_of(r)["message"]
    assert snapshot() == before


def test_the_same_upc_twice_in_ones_own_catalog_is_a_conflict(client, keys, label_token, declared):
    r = post_json(client, "/api/v1/releases", release_payload(upc=declared.release.upc), **bearer(label_token))
    assert r.status_code == 409
    assert "already in your catalog" in error_of(r)["message"]


# --- amend and withdraw --------------------------------------------------------------


def test_a_label_amends_one_tracks_facts_with_a_reason(client, label_token, declared):
    isrc = _isrcs(declared.release)[1]
    body = {
        "reason": "Vocals were generated",
        "expected_version": 1,
        "ai": {isrc: factories.track_ai("none", vocals="all")},
    }
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["declaration"]["version"] == 2
    tracks = {t["isrc"]: t for t in out["disclosure"]["tracks"]}
    assert tracks[isrc]["parts"]["vocals"] == "all"
    assert tracks[_isrcs(declared.release)[0]]["contains_ai"] == "all"  # kept
    assert out["disclosure"]["reason"] == "Vocals were generated"


def test_an_amendment_may_change_the_catalog_too(client, label_token, declared):
    body = {"reason": "Retitled", "title": "Signals (Deluxe)", "artwork": "partly"}
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    rel = r.json()["disclosure"]["release"]
    assert (rel["title"], rel["artwork"]) == ("Signals (Deluxe)", "partly")


def test_an_amendment_needs_a_reason(client, label_token, declared):
    before = snapshot()
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", {"ai": {}}, **bearer(label_token))
    assert r.status_code == 400
    assert "reason" in error_of(r)["fields"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "Just re-signing."},
        {"reason": "The same answers again.", "title": "Signals", "artwork": "none"},  # restated, unchanged
    ],
)
def test_an_amendment_that_changes_nothing_is_a_400_and_signs_nothing(client, label_token, declared, body):
    isrc = _isrcs(declared.release)[0]
    body = {**body, "ai": {isrc: declared.statement["tracks"][0] | {}}} if "title" in body else body
    before = snapshot()
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", body, **bearer(label_token))
    assert r.status_code == 400, r.content
    error = error_of(r)
    assert error["code"] == "unchanged"
    assert error["message"].startswith("nothing changes from version 1: an amendment must change a declared fact")
    assert snapshot() == before


def test_the_administrators_re_sign_after_a_key_revocation_still_signs_the_same_facts(declared):
    from registry.declarations.services import declaration_resign, unchanged

    again = declaration_resign(release=declared.release, reason="Statement key revoked; re-signed.")
    assert again.version == 2 and unchanged(declared.statement, again.statement)


def test_a_stale_expected_version_is_a_409_and_rolls_back_catalog_changes(client, label_token, declared):
    before = snapshot()
    body = {"reason": "Race", "expected_version": 5, "title": "Should not stick"}
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", body, **bearer(label_token))
    assert r.status_code == 409
    assert "version 1, not 5" in error_of(r)["message"]
    assert snapshot() == before
    declared.release.refresh_from_db()
    assert declared.release.title == "Signals"


def test_amending_an_isrc_not_on_the_release_is_a_400(client, label_token, declared):
    body = {"reason": "x", "ai": {factories.isrc(): factories.track_ai("all")}}
    r = post_json(client, f"/api/v1/releases/{declared.release.upc}/amend", body, **bearer(label_token))
    assert r.status_code == 400
    assert "not on this release" in error_of(r)["message"]


def test_a_label_withdraws_with_a_reason_and_lookups_answer_the_withdrawal(client, label_token, declared):
    r = post_json(
        client,
        f"/api/v1/releases/{declared.release.upc}/withdraw",
        {"reason": "Released in error"},
        **bearer(label_token),
    )
    assert r.status_code == 200, r.content
    assert r.json()["declaration"]["status"] == "withdrawn"
    assert client.get(f"/api/v1/releases/{declared.release.upc}").json()["disclosure"]["status"] == "withdrawn"
    again = post_json(
        client, f"/api/v1/releases/{declared.release.upc}/withdraw", {"reason": "Twice"}, **bearer(label_token)
    )
    assert again.status_code == 409


def test_amending_an_undeclared_release_is_a_conflict(client, label_token, release):
    r = post_json(client, f"/api/v1/releases/{release.upc}/amend", {"reason": "x"}, **bearer(label_token))
    assert r.status_code == 409


# --- listing ---------------------------------------------------------------------------


def test_a_label_lists_its_own_releases_with_status_paginated(client, keys, label, label_token, declared, other_label):
    factories.make_release(label, title="Draft")
    factories.declare(factories.make_release(other_label, title="Theirs"))
    r = client.get("/api/v1/label/releases?page_size=1", **bearer(label_token))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2 and body["next"] and len(body["results"]) == 1
    everything = client.get("/api/v1/label/releases", **bearer(label_token)).json()["results"]
    by_title = {x["title"]: x for x in everything}
    assert set(by_title) == {"Signals", "Draft"}
    assert by_title["Signals"]["status"] == "active" and by_title["Signals"]["version"] == 1
    assert by_title["Signals"]["tracks"] == 3
    assert by_title["Draft"]["status"] == "not_declared" and by_title["Draft"]["version"] is None


def test_the_release_list_takes_a_constant_number_of_queries(
    client, keys, label, label_token, django_assert_max_num_queries
):
    for _ in range(5):
        factories.declare(factories.make_release(label))
    with django_assert_max_num_queries(4):
        r = client.get("/api/v1/label/releases", **bearer(label_token))
    assert len(r.json()["results"]) == 5


# --- the authorization matrix ----------------------------------------------------------

WRITES = ["create", "amend", "withdraw", "list"]


def _call(client, kind, upc, headers):
    if kind == "create":
        return post_json(client, "/api/v1/releases", release_payload(), **headers)
    if kind == "amend":
        return post_json(client, f"/api/v1/releases/{upc}/amend", {"reason": "x", "artwork": "partly"}, **headers)
    if kind == "withdraw":
        return post_json(client, f"/api/v1/releases/{upc}/withdraw", {"reason": "x"}, **headers)
    return client.get("/api/v1/label/releases", **headers)


@pytest.mark.parametrize("kind", WRITES)
def test_anonymous_writes_are_401_with_a_bearer_challenge(client, declared, kind):
    before = snapshot()
    r = _call(client, kind, declared.release.upc, {})
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")
    assert error_of(r)["code"] == "not_authenticated"
    assert snapshot() == before


@pytest.mark.parametrize("kind", WRITES)
def test_a_revoked_token_is_401(client, declared, revoked_token, kind):
    before = snapshot()
    r = _call(client, kind, declared.release.upc, bearer(revoked_token))
    assert r.status_code == 401
    assert error_of(r)["code"] == "authentication_failed"
    assert snapshot() == before


@pytest.mark.parametrize("kind", WRITES)
def test_a_made_up_token_is_401(client, declared, kind):
    r = _call(client, kind, declared.release.upc, bearer("adrl_000000000000_guess"))
    assert r.status_code == 401


@pytest.mark.parametrize("kind", WRITES)
def test_a_platform_key_cannot_write(client, declared, platform_key, kind):
    before = snapshot()
    for headers in (bearer(platform_key), {"HTTP_X_API_KEY": platform_key}):
        r = _call(client, kind, declared.release.upc, headers)
        assert r.status_code == 403
        assert error_of(r)["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["amend", "withdraw"])
def test_another_labels_token_finds_no_such_release_and_changes_nothing(client, declared, other_token, kind):
    before = snapshot()
    r = _call(client, kind, declared.release.upc, bearer(other_token))
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"
    assert snapshot() == before
    assert Declaration.objects.get(pk=declared.pk).status == "active"


@pytest.mark.parametrize("kind", ["amend", "withdraw"])
def test_ones_own_token_may_write(client, declared, label_token, kind):
    r = _call(client, kind, declared.release.upc, bearer(label_token))
    assert r.status_code == 200, r.content
    assert Declaration.objects.filter(release=declared.release).count() == 2


def test_a_write_with_a_malformed_authorization_header_is_401(client, keys):
    r = post_json(client, "/api/v1/releases", release_payload(), HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert r.status_code == 401
    assert json.loads(r.content)["error"]["code"] == "authentication_failed"
