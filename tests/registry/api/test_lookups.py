"""Single lookups by ISRC and UPC, history, ETags, withdrawn answers and also_in."""

from __future__ import annotations

import json
from typing import Any

from provenance import identifiers
from registry.declarations.services import declaration_amend, declaration_withdraw
from tests import factories
from tests.registry.api.conftest import error_of


def _isrcs(release: Any) -> list[str]:
    return [t.recording.isrc for t in release.tracks.select_related("recording")]


def test_it_answers_a_declared_recording_with_its_disclosure_and_bundle(client, declared):
    isrc = _isrcs(declared.release)[0]
    r = client.get(f"/api/v1/recordings/{isrc}")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    body = r.json()
    assert body["isrc"] == isrc and body["status"] == "declared"
    assert body["disclosure"]["track"]["contains_ai"] == "all"
    assert body["disclosure"]["status"] == "active"
    assert body["also_in"] == []
    assert body["bundle"] == json.loads(declared.bundle)


def test_it_splices_the_stored_bundle_bytes_into_the_answer(client, declared):
    r = client.get(f"/api/v1/releases/{declared.release.upc}")
    assert r.content.decode().endswith(',"bundle":' + declared.bundle + "}")


def test_it_accepts_hyphenated_lower_case_isrcs(client, declared):
    isrc = _isrcs(declared.release)[1]
    r = client.get(f"/api/v1/recordings/{identifiers.format_isrc(isrc).lower()}")
    assert r.status_code == 200
    assert r.json()["isrc"] == isrc


def test_it_answers_an_undeclared_recording_with_exactly_the_protocol_body(client, keys):
    isrc = factories.isrc()
    r = client.get(f"/api/v1/recordings/{isrc}")
    assert r.status_code == 404
    assert r.json() == {"isrc": isrc, "status": "not_declared"}


def test_it_answers_an_undeclared_release_with_exactly_the_protocol_body(client, release):
    r = client.get(f"/api/v1/releases/{release.upc}")
    assert r.status_code == 404
    assert r.json() == {"upc": release.upc, "status": "not_declared"}


def test_it_rejects_a_malformed_isrc_with_the_reason(client, db):
    r = client.get("/api/v1/recordings/US-SKG-1")
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "invalid"
    assert "12 characters" in err["message"]
    assert "isrc" in err["fields"]


def test_it_rejects_a_upc_with_a_wrong_check_digit(client, db):
    body = factories.upc()
    wrong = body[:-1] + str((int(body[-1]) + 1) % 10)
    r = client.get(f"/api/v1/releases/{wrong}")
    assert r.status_code == 400
    assert "check digit" in error_of(r)["message"]


def test_a_release_answer_summarizes_every_track(client, declared):
    r = client.get(f"/api/v1/releases/{declared.release.upc}")
    assert r.status_code == 200
    body = r.json()
    assert body["upc"] == declared.release.upc
    assert [t["contains_ai"] for t in body["disclosure"]["tracks"]] == ["all", "none", "none"]
    assert body["disclosure"]["release"]["contains_ai"] == "partly"


def test_a_withdrawn_release_answers_its_withdrawal_never_the_stale_version(client, declared):
    withdrawal = declaration_withdraw(release=declared.release, reason="Wrong metadata")
    for url in (f"/api/v1/releases/{declared.release.upc}", f"/api/v1/recordings/{_isrcs(declared.release)[0]}"):
        body = client.get(url).json()
        assert body["disclosure"]["status"] == "withdrawn"
        assert body["disclosure"]["reason"] == "Wrong metadata"
        assert body["bundle"] == json.loads(withdrawal.bundle)


def test_a_recording_on_a_single_and_an_album_lists_the_other_release(client, keys, label):
    shared = factories.isrc()
    single = factories.make_release(label, title="Single", track_list=[{"isrc": shared, "title": "Hit", "position": 1}])
    factories.declare(single, "none")
    album = factories.make_release(
        label,
        title="Album",
        track_list=[
            {"isrc": factories.isrc(), "title": "Intro", "position": 1},
            {"isrc": shared, "title": "Hit", "position": 2},
        ],
    )
    factories.declare(album, "partly")
    body = client.get(f"/api/v1/recordings/{shared}").json()
    assert body["disclosure"]["release"]["upc"] == album.upc  # the newest declaration
    assert body["also_in"] == [single.upc]


def test_it_sends_a_strong_etag_and_answers_304_when_it_matches(client, declared):
    url = f"/api/v1/releases/{declared.release.upc}"
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first["Cache-Control"] == "public, max-age=60"
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    weak = client.get(url, HTTP_IF_NONE_MATCH=f'"other", W/{etag}')
    assert weak.status_code == 304


def test_the_etag_changes_when_the_declaration_is_amended(client, declared):
    url = f"/api/v1/releases/{declared.release.upc}"
    etag = client.get(url)["ETag"]
    declaration_amend(release=declared.release, reason="Clarified", ai={})
    r = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert r.status_code == 200
    assert r["ETag"] != etag
    assert r.json()["disclosure"]["version"] == 2


def test_the_history_lists_every_version_oldest_first_with_changes(client, declared):
    isrc = _isrcs(declared.release)[1]
    declaration_amend(
        release=declared.release, reason="Vocals were AI", ai={isrc: factories.track_ai("none", vocals="all")}
    )
    declaration_withdraw(release=declared.release, reason="Pulled")
    r = client.get(f"/api/v1/releases/{declared.release.upc}/history")
    assert r.status_code == 200
    versions = r.json()["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert [v["status"] for v in versions] == ["active", "active", "withdrawn"]
    assert versions[0]["reason"] is None and versions[0]["changes"] == ["First declaration."]
    assert any("vocals none → all" in c for c in versions[1]["changes"])
    assert versions[2]["reason"] == "Pulled"
    assert all(v["bundle"]["log"]["index"] >= 0 for v in versions)


def test_the_history_of_an_undeclared_release_is_a_404_in_the_error_shape(client, release):
    r = client.get(f"/api/v1/releases/{release.upc}/history")
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"
