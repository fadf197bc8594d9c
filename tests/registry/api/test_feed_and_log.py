"""The feed, the checkpoint, inclusion and consistency proofs, JWKS: checked with provenance, not by eye."""

from __future__ import annotations

import base64
import json

from provenance import checkpoint as pcheckpoint
from provenance import merkle
from provenance.bundle import Verifier, envelope_leaf_hash
from provenance.keys import KeySet
from registry.transparency.models import Checkpoint
from tests import factories
from tests.registry.api.conftest import error_of


def _declare_n(label, n):
    return [factories.declare(factories.make_release(label, tracks=1)) for _ in range(n)]


def _checkpoint(client):
    r = client.get("/api/v1/log/checkpoint")
    assert r.status_code == 200
    return r.content.decode("utf-8")


def _verified_checkpoint(client, text):
    jwks = client.get("/.well-known/jwks.json").json()
    key = next(k for k in KeySet.from_jwks(jwks).of_purpose("checkpoint") if k.status == "active")
    cp = pcheckpoint.parse_checkpoint(text)
    cp.verify(key)
    return cp


def test_the_feed_pages_through_the_whole_log_in_order(client, keys, label):
    decls = _declare_n(label, 7)
    seen, after, pages = [], None, 0
    while True:
        url = "/api/v1/feed?limit=3" + (f"&after={after}" if after is not None else "")
        body = client.get(url).json()
        pages += 1
        seen += [e["index"] for e in body["entries"]]
        for e in body["entries"]:
            assert json.dumps(e["bundle"], separators=(",", ":")) is not None
        if body["next"] is None:
            break
        assert body["next"] == body["entries"][-1]["index"]
        after = body["next"]
    assert seen == [d.leaf_id for d in decls] == list(range(7))
    assert pages == 3


def test_each_feed_entry_carries_the_stored_bundle_of_its_leaf(client, keys, label):
    decls = _declare_n(label, 2)
    r = client.get("/api/v1/feed")
    assert r.content.decode() == (
        '{"entries":[' + ",".join(f'{{"index":{d.leaf_id},"bundle":{d.bundle}}}' for d in decls) + '],"next":null}'
    )


def test_the_feed_after_the_last_index_is_empty_with_next_null(client, keys, label):
    _declare_n(label, 2)
    assert client.get("/api/v1/feed?after=1").json() == {"entries": [], "next": None}


def test_the_feed_refuses_bad_parameters(client, db):
    for query in ("limit=0", "limit=1001", "limit=x", "after=-1", "after=1.5", "after=%D9%A1"):
        r = client.get(f"/api/v1/feed?{query}")
        assert r.status_code == 400, query
        error_of(r)


def test_the_checkpoint_is_the_latest_signed_note_byte_for_byte(client, keys, label):
    _declare_n(label, 3)
    r = client.get("/api/v1/log/checkpoint")
    assert r["Content-Type"] == "text/plain; charset=utf-8"
    latest = Checkpoint.objects.order_by("-tree_size").first()
    assert r.content == latest.note.encode("utf-8")
    assert _verified_checkpoint(client, r.content.decode()).size == 3


def test_the_checkpoint_of_an_empty_log_is_a_json_404(client, keys):
    r = client.get("/api/v1/log/checkpoint")
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"


def test_inclusion_proofs_from_the_api_verify_against_the_api_checkpoint(client, keys, label):
    decls = _declare_n(label, 5)
    cp = _verified_checkpoint(client, _checkpoint(client))
    for decl in decls:
        r = client.get(f"/api/v1/log/inclusion?index={decl.leaf_id}&tree_size={cp.size}")
        assert r.status_code == 200
        assert r["Cache-Control"] == "public, max-age=31536000, immutable"
        body = r.json()
        assert (body["index"], body["tree_size"]) == (decl.leaf_id, cp.size)
        proof = [base64.b64decode(h) for h in body["proof"]]
        leaf = envelope_leaf_hash(json.loads(decl.bundle)["envelope"])
        merkle.verify_inclusion(decl.leaf_id, cp.size, leaf, proof, cp.root)


def test_consistency_between_two_checkpoints_seen_verifies(client, keys, label):
    _declare_n(label, 3)
    old = _verified_checkpoint(client, _checkpoint(client))
    _declare_n(label, 4)
    new = _verified_checkpoint(client, _checkpoint(client))
    r = client.get(f"/api/v1/log/consistency?first={old.size}&second={new.size}")
    assert r.status_code == 200
    assert r["Cache-Control"] == "public, max-age=31536000, immutable"
    body = r.json()
    assert (body["first"], body["second"]) == (3, 7)
    merkle.verify_consistency(3, 7, old.root, new.root, [base64.b64decode(h) for h in body["proof"]])


def test_proofs_out_of_range_are_400_with_the_reason(client, keys, label):
    _declare_n(label, 2)
    cases = {
        "inclusion?index=2&tree_size=2": "outside a tree of size 2",
        "inclusion?index=0&tree_size=3": "beyond the current tree size 2",
        "inclusion?index=0": "tree_size is required",
        "inclusion?index=-1&tree_size=2": "at least 0",
        "consistency?first=2&second=1": "larger than second",
        "consistency?first=1&second=5": "beyond the current tree size 2",
        "consistency?first=a&second=2": "whole number",
    }
    for query, reason in cases.items():
        r = client.get(f"/api/v1/log/{query}")
        assert r.status_code == 400, query
        assert reason in error_of(r)["message"], (query, r.json())


def test_the_jwks_lists_both_keys_per_the_protocol(client, keys):
    r = client.get("/.well-known/jwks.json")
    assert r.status_code == 200
    assert r["Cache-Control"] == "public, max-age=300"
    jwks = r.json()
    assert jwks == keys
    assert {k["purpose"] for k in jwks["keys"]} == {"statement", "checkpoint"}
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in jwks["keys"])
    assert client.get("/.well-known/jwks.json", HTTP_IF_NONE_MATCH=r["ETag"]).status_code == 304


def test_bundles_from_lookups_and_the_feed_verify_offline_with_the_published_jwks(client, keys, label):
    decls = _declare_n(label, 3)
    verifier = Verifier.from_jwks(client.get("/.well-known/jwks.json").json())
    for decl in decls:
        bundle = client.get(f"/api/v1/releases/{decl.release.upc}").json()["bundle"]
        result = verifier.verify(bundle)
        assert result.valid, result.to_dict()
    for entry in client.get("/api/v1/feed").json()["entries"]:
        assert verifier.verify(entry["bundle"]).valid
