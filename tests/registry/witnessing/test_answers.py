"""Lookup answers carry the newest cosigned checkpoint and a consistency proof to it; the library, the CLI and
POST /api/v1/verify check them with a pinned policy; answers stay spliced from stored bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from provenance import Verifier, jcs, parse_policy
from provenance.bundle import WITNESS_QUORUM, WITNESSED
from provenance.keys import KeySet
from registry.declarations.models import Declaration
from registry.declarations.stored_answers import bundle_tree_size
from registry.witnessing import published
from registry.witnessing.rounds import witness_round
from tests import factories


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "provenance", *args], capture_output=True, text=True, timeout=60)


def _pinned(client: Any, tmp_path: Path) -> tuple[Path, Path]:
    """What a platform saves once: the JWKS and (its own copy of) the policy."""
    jwks, policy = tmp_path / "jwks.json", tmp_path / "policy"
    jwks.write_bytes(client.get("/.well-known/jwks.json").content)
    policy.write_bytes(client.get("/tlog/policy").content)
    return jwks, policy


def test_an_answer_is_not_yet_witnessed_until_the_next_round_then_verifies_with_the_policy(
    client, witnessing, declared
):
    isrc = declared.statement["tracks"][0]["isrc"]
    before = json.loads(client.get(f"/api/v1/recordings/{isrc}").content)
    assert before["witnessed"] == {"status": "not yet witnessed"}
    witness_round()
    published.forget()
    raw = client.get(f"/api/v1/recordings/{isrc}").content
    answer = json.loads(raw)
    assert raw.endswith(
        b',"witnessed":' + json.dumps(answer["witnessed"], separators=(",", ":"), ensure_ascii=False).encode() + b"}"
    )
    assert answer["bundle"] == json.loads(declared.bundle)  # the bundle is as logged
    policy = parse_policy(client.get("/tlog/policy").content)
    verifier = Verifier(KeySet.from_jwks(client.get("/.well-known/jwks.json").json()), policy=policy)
    result = verifier.verify(answer["bundle"], isrc=isrc, witnessed=answer["witnessed"])
    assert result.valid, result.summary()
    assert [c.name for c in result.checks][-2:] == [WITNESSED, WITNESS_QUORUM]
    assert "quorum met by witness.example/w1, witness.example/w2" in result.summary()
    # Without the witnessed member, the bundle's own checkpoint carries no cosignature: the quorum fails.
    alone = verifier.verify(answer["bundle"], isrc=isrc)
    assert not alone.valid and alone.failed.name == WITNESS_QUORUM


def test_the_witnessed_proof_starts_at_the_bundles_own_size_and_a_tampered_one_fails(
    client, witnessing, declared, label
):
    older = declared
    factories.declare(factories.make_release(label, tracks=2))
    witness_round()
    upc = older.release.upc
    answer = json.loads(client.get(f"/api/v1/releases/{upc}").content)
    assert answer["witnessed"]["consistency_proof"]  # from the bundle's size to a larger cosigned one
    verifier = Verifier(KeySet.from_jwks(client.get("/.well-known/jwks.json").json()))
    assert verifier.verify(answer["bundle"], upc=upc, witnessed=answer["witnessed"]).valid
    bad = dict(answer["witnessed"], consistency_proof=list(reversed(answer["witnessed"]["consistency_proof"])))
    bad["consistency_proof"][0] = "A" * 43 + "="
    result = verifier.verify(answer["bundle"], upc=upc, witnessed=bad)
    assert not result.valid and result.failed.name == WITNESSED


def test_bulk_answers_carry_the_member_and_a_bundle_newer_than_the_cosigned_size_is_not_yet_witnessed(
    client, witnessing, declared, label
):
    witness_round()
    published.forget()
    newer = factories.declare(factories.make_release(label, tracks=1))
    body = {"upcs": [declared.release.upc, newer.release.upc]}
    results = client.post("/api/v1/lookup", json.dumps(body), content_type="application/json").json()["results"]
    assert "checkpoint" in results[0]["witnessed"]
    assert results[1]["witnessed"] == {"status": "not yet witnessed"}


def test_the_tree_size_read_from_stored_bytes_is_the_bundles(witnessing, declared, label):
    factories.declare(factories.make_release(label, tracks=3))
    for decl in Declaration.objects.all():
        assert bundle_tree_size(decl.bundle.encode()) == json.loads(decl.bundle)["log"]["tree_size"]


def test_the_cli_requires_the_quorum_of_the_pinned_policy(client, witnessing, declared, tmp_path, settings):
    witness_round()
    published.forget()
    isrc = declared.statement["tracks"][0]["isrc"]
    jwks, policy = _pinned(client, tmp_path)
    answer = tmp_path / "answer.json"
    answer.write_bytes(client.get(f"/api/v1/recordings/{isrc}").content)
    ok = _cli("verify", str(answer), "--jwks", str(jwks), "--isrc", isrc, "--policy", str(policy), "--max-age", "3600")
    assert ok.returncode == 0, ok.stdout
    assert "witnessed at size" in ok.stdout and "quorum met by" in ok.stdout
    # A stricter pinned policy: a third witness the registry never asked is required too.
    extra = "witness w3 witness.example/w3+" + _third_vkey() + "\n"
    strict = tmp_path / "strict"
    text = policy.read_text().replace("group registry-witnesses all", "group registry-witnesses all")
    lines = text.splitlines(keepends=True)
    group_at = next(i for i, line in enumerate(lines) if line.startswith("group "))
    lines.insert(group_at, extra)
    lines[group_at + 1] = lines[group_at + 1].rstrip("\n") + " w3\n"
    strict.write_text("".join(lines))
    failed = _cli("verify", str(answer), "--jwks", str(jwks), "--isrc", isrc, "--policy", str(strict))
    assert failed.returncode == 1 and "INVALID witness_quorum" in failed.stdout and "not met" in failed.stdout


def _third_vkey() -> str:
    from provenance.cosignature import witness_verifier_key
    from provenance.issue.keys import generate_private_key, public_bytes

    return witness_verifier_key("witness.example/w3", public_bytes(generate_private_key())).split("+", 1)[1]


def test_post_verify_checks_the_witnessed_member_against_a_given_policy(client, witnessing, declared):
    witness_round()
    published.forget()
    upc = declared.release.upc
    answer = json.loads(client.get(f"/api/v1/releases/{upc}").content)
    policy = client.get("/tlog/policy").content.decode()
    out = client.post(
        "/api/v1/verify", json.dumps({**answer, "upc": upc, "policy": policy}), content_type="application/json"
    ).json()
    assert out["valid"] and [c["name"] for c in out["checks"]][-2:] == ["witnessed", "witness_quorum"]
    assert sorted(out["cosigned_by"]) == ["witness.example/w1", "witness.example/w2"]
    bad = client.post(
        "/api/v1/verify", json.dumps({**answer, "policy": "quorum nobody\n"}), content_type="application/json"
    )
    assert bad.status_code == 400 and "policy line 1" in bad.json()["error"]["message"]


def test_a_tlog_proof_from_the_registry_verifies_with_the_cli_and_a_tampered_one_does_not(
    client, witnessing, declared, tmp_path
):
    witness_round()
    index = declared.leaf_id
    text = client.get(f"/api/v1/log/tlog-proof?index={index}").content.decode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra ") and "— witness.example/w1 " in text
    jwks, policy = _pinned(client, tmp_path)
    proof = tmp_path / "decl.tlog-proof"
    proof.write_text(text)
    upc = declared.release.upc
    ok = _cli("proof", "verify", str(proof), "--jwks", str(jwks), "--policy", str(policy), "--upc", upc)
    assert ok.returncode == 0, ok.stdout
    lines = text.split("\n")
    lines[2] = "index " + str(index + 1)
    proof.write_text("\n".join(lines))
    bad = _cli("proof", "verify", str(proof), "--jwks", str(jwks), "--policy", str(policy))
    assert bad.returncode == 1 and "INVALID" in bad.stdout
    assert client.get("/api/v1/log/tlog-proof?index=999").status_code == 404


def test_proof_export_writes_a_bundle_as_a_tlog_proof_offline(client, declared, tmp_path):
    upc = declared.release.upc
    answer = tmp_path / "answer.json"
    answer.write_bytes(client.get(f"/api/v1/releases/{upc}").content)
    out = tmp_path / "out.tlog-proof"
    assert _cli("proof", "export", str(answer), "-o", str(out)).returncode == 0
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(client.get("/.well-known/jwks.json").content)
    assert _cli("proof", "verify", str(out), "--jwks", str(jwks), "--upc", upc).returncode == 0
    assert jcs.loads(answer.read_bytes())["bundle"]["log"]["index"] == declared.leaf_id


def _with_checkpoint(bundle: dict[str, Any], note: str) -> dict[str, Any]:
    return dict(bundle, log=dict(bundle["log"], checkpoint=note))


def test_a_witnessed_checkpoint_proves_the_bundles_root_so_its_own_signature_is_checked_only_without_one(
    client, witnessing, declared, label
):
    factories.declare(factories.make_release(label, tracks=2))
    witness_round()
    published.forget()
    upc = declared.release.upc
    answer = json.loads(client.get(f"/api/v1/releases/{upc}").content)
    bundle, witnessed = answer["bundle"], answer["witnessed"]
    assert witnessed["consistency_proof"]
    keys = KeySet.from_jwks(client.get("/.well-known/jwks.json").json())

    result = Verifier(keys).verify(bundle, upc=upc, witnessed=witnessed)
    assert result.valid, result.summary()
    own = next(c for c in result.checks if c.name == "checkpoint_signature")
    assert "proven by the witnessed checkpoint of size" in own.detail

    # The bundle's own checkpoint with a broken signature: the witnessed checkpoint still proves its root ...
    note = bundle["log"]["checkpoint"]
    body, _, sig_line = note.rstrip("\n").rpartition("\n")
    dash, name, blob = sig_line.split(" ")
    forged = f"{body}\n{dash} {name} {blob[:8]}{'A' * (len(blob) - 9)}=\n"
    assert forged != note
    assert Verifier(keys).verify(_with_checkpoint(bundle, forged), upc=upc, witnessed=witnessed).valid
    # ... but without it, or with a proof that does not hold, the bundle's own signature is what counts.
    alone = Verifier(keys).verify(_with_checkpoint(bundle, forged), upc=upc)
    assert not alone.valid and alone.failed.name == "checkpoint_signature"
    bad = dict(witnessed, consistency_proof=["A" * 43 + "="] * len(witnessed["consistency_proof"]))
    broken = Verifier(keys).verify(_with_checkpoint(bundle, forged), upc=upc, witnessed=bad)
    assert not broken.valid and broken.failed.name == "checkpoint_signature"
    # A root the witnessed checkpoint does not prove is never taken from an unsigned note.
    lines = note.split("\n")
    lines[2] = "B" * 43 + "="
    wrong_root = "\n".join(lines)
    moved = Verifier(keys).verify(_with_checkpoint(bundle, wrong_root), upc=upc, witnessed=witnessed)
    assert not moved.valid and moved.failed.name == "checkpoint_signature"
