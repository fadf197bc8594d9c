"""POST /api/v1/verify: valid bundles, each kind of tampering named by its failing check, rotation, revocation."""

from __future__ import annotations

import base64
import copy
import json

from registry.transparency.keys import key_revoke, key_rotate
from tests import factories
from tests.registry.api.conftest import error_of, post_json


def _verify(client, bundle):
    r = post_json(client, "/api/v1/verify", bundle)
    assert r.status_code == 200
    return r.json()


def _failed(result):
    assert result["valid"] is False
    return next(c for c in result["checks"] if not c["ok"])["name"]


def test_a_bundle_from_a_lookup_is_valid_with_every_check_named(client, declared):
    bundle = client.get(f"/api/v1/releases/{declared.release.upc}").json()["bundle"]
    result = _verify(client, bundle)
    assert result["valid"] is True
    assert [c["name"] for c in result["checks"]] == [
        "bundle_format",
        "statement_signature",
        "payload_type",
        "statement_schema",
        "registry_origin",
        "checkpoint_signature",
        "checkpoint_size",
        "inclusion_proof",
    ]
    assert all(c["ok"] and c["detail"] for c in result["checks"])


def test_tampered_bundles_fail_the_check_that_catches_them(client, keys, label):
    decls = [factories.declare(factories.make_release(label, tracks=1)) for _ in range(3)]
    original = json.loads(decls[1].bundle)  # index 1 of a tree of size 2
    later_checkpoint = json.loads(decls[2].bundle)["log"]["checkpoint"]

    flipped = copy.deepcopy(original)
    payload = bytearray(base64.b64decode(flipped["envelope"]["payload"]))
    payload[10] ^= 0x01
    flipped["envelope"]["payload"] = base64.b64encode(bytes(payload)).decode()

    moved = copy.deepcopy(original)
    moved["log"]["index"] = 0

    swapped = copy.deepcopy(original)
    swapped["log"]["checkpoint"] = later_checkpoint

    elsewhere = copy.deepcopy(original)
    elsewhere["log"]["origin"] = "evil.example.org/log"

    wrong_type = copy.deepcopy(original)
    wrong_type["mediaType"] = "application/json"

    assert _verify(client, original)["valid"] is True
    assert _failed(_verify(client, flipped)) == "statement_signature"
    assert _failed(_verify(client, moved)) == "inclusion_proof"
    assert _failed(_verify(client, swapped)) == "checkpoint_size"
    assert _failed(_verify(client, elsewhere)) == "registry_origin"
    assert _failed(_verify(client, wrong_type)) == "bundle_format"


def test_a_json_body_that_is_not_a_bundle_is_answered_invalid_not_refused(client, keys):
    for body in ([1, 2], "text", 42, None, {}):
        assert _failed(_verify(client, body)) == "bundle_format"


def test_a_body_that_is_not_json_is_a_400(client, keys):
    r = client.generic("POST", "/api/v1/verify", b"{not json", content_type="application/json")
    assert r.status_code == 400
    assert error_of(r)["code"] == "parse_error"


def test_key_rotation_keeps_old_bundles_valid_and_new_ones_signed_by_the_new_key(client, declared, label):
    old_bundle = json.loads(declared.bundle)
    old, new = key_rotate(purpose="statement")
    newer = factories.declare(factories.make_release(label, tracks=1))
    assert _verify(client, old_bundle)["valid"] is True
    result = _verify(client, json.loads(newer.bundle))
    assert result["valid"] is True
    assert new.kid in result["checks"][1]["detail"]
    statuses = {k["kid"]: k["status"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert statuses[old.kid] == "retired" and statuses[new.kid] == "active"


def test_a_revoked_statement_key_makes_its_bundles_invalid(client, declared):
    bundle = json.loads(declared.bundle)
    old, _ = key_rotate(purpose="statement")
    key_revoke(kid=old.kid, reason="Compromised in test")
    assert _failed(_verify(client, bundle)) == "statement_signature"
    # And the lookups still answer it, for the platform to see it is no longer valid.
    assert client.get(f"/api/v1/releases/{declared.release.upc}").json()["bundle"] == bundle


def test_a_bundle_with_a_duplicated_member_is_answered_invalid_naming_it(client, declared, label):
    other = factories.declare(factories.make_release(label, tracks=1))
    bundle = json.loads(declared.bundle)
    rest = ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in bundle.items())
    # First the other release's envelope, then this one's: each kind of parser sees a different bundle.
    body = f'{{"envelope":{json.dumps(json.loads(other.bundle)["envelope"])},{rest}}}'
    r = client.generic("POST", "/api/v1/verify", body.encode(), content_type="application/json")
    assert r.status_code == 200
    result = r.json()
    assert _failed(result) == "bundle_format"
    assert "duplicate object member 'envelope'" in result["checks"][0]["detail"]


def test_a_lookup_answer_posted_whole_is_bound_to_its_isrc_and_answers_the_signed_disclosure(client, declared):
    isrc = declared.statement["tracks"][0]["isrc"]
    answer = client.get(f"/api/v1/recordings/{isrc}").json()
    signed = answer["disclosure"]
    # A hostile mirror rewrites the unsigned disclosure; the bundle still verifies, the disclosure is re-derived.
    answer["disclosure"] = {**signed, "track": {**signed["track"], "contains_ai": "none"}}
    result = _verify(client, answer)
    assert result["valid"] is True
    assert result["checks"][-1]["name"] == "identifier" and isrc in result["checks"][-1]["detail"]
    assert result["disclosure"] == signed and result["disclosure"]["track"]["contains_ai"] == "all"


def test_another_releases_bundle_fails_the_identifier_check(client, declared, label):
    other = factories.declare(factories.make_release(label, tracks=1))
    isrc = declared.statement["tracks"][0]["isrc"]
    result = _verify(client, {"bundle": json.loads(other.bundle), "isrc": isrc})
    assert _failed(result) == "identifier" and result["disclosure"] is None
    assert f"ISRC {isrc} is not a track of release {other.release.upc}" in result["checks"][-1]["detail"]
    by_upc = _verify(client, {"bundle": json.loads(other.bundle), "upc": declared.release.upc})
    assert _failed(by_upc) == "identifier"
    own = _verify(client, {"bundle": json.loads(other.bundle), "upc": other.release.upc})
    assert own["valid"] is True and own["disclosure"]["release"]["upc"] == other.release.upc


def test_without_isrc_or_upc_the_answer_is_as_before(client, declared):
    result = _verify(client, json.loads(declared.bundle))
    assert set(result) == {"valid", "checks"} and len(result["checks"]) == 8


def test_a_malformed_isrc_or_upc_in_the_question_is_a_400(client, declared):
    bundle = json.loads(declared.bundle)
    for body, field in (({"bundle": bundle, "isrc": "nope"}, "isrc"), ({"bundle": bundle, "upc": 12}, "upc")):
        r = post_json(client, "/api/v1/verify", body)
        assert r.status_code == 400
        assert field in error_of(r)["fields"]
