"""Go's golang.org/x/mod/sumdb note and tlog packages accept the registry's checkpoints and proofs.

These are the tools platforms already run (docs/protocol.md §6: a checkpoint is a
C2SP signed note, and Go's sumdb/note verifier key format is given there). The Go program is built from Debian's golang-go and
golang-golang-x-mod-dev, which .ci/run installs.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from provenance import checkpoint as pcheckpoint
from registry.transparency import log
from registry.transparency.models import Checkpoint, LogLeaf, SigningKey
from tests import factories

GOPATH = "/usr/share/gocode"
SOURCE = Path(__file__).parent / "go" / "verify.go"

pytestmark = pytest.mark.skipif(
    shutil.which("go") is None or not Path(GOPATH, "src/golang.org/x/mod/sumdb/note").exists(),
    reason="needs Debian's golang-go and golang-golang-x-mod-dev (installed by .ci/run)",
)


@pytest.fixture(scope="module")
def goverify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("go") / "verify"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "", "GOCACHE": str(out.parent / "cache")}
    subprocess.run(["go", "build", "-o", str(out), str(SOURCE)], check=True, env=env, capture_output=True, timeout=300)
    return out


def _run(binary: Path, request: dict) -> list[dict]:
    done = subprocess.run(
        [str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def logged(keys, label):
    for i in range(11):
        factories.declare(factories.make_release(label, tracks=1, title=f"Go {i}"), ["none", "partly", "all"][i % 3])
    key = SigningKey.objects.get(purpose="checkpoint", status="active")
    return pcheckpoint.verifier_key(settings.REGISTRY_LOG_ORIGIN, bytes(key.public_key))


def test_go_note_opens_every_checkpoint_the_registry_signed(goverify, logged):
    notes = list(Checkpoint.objects.order_by("tree_size").values_list("note", flat=True))
    results = _run(goverify, {"verifier_key": logged, "notes": notes})
    assert [r["ok"] for r in results] == [True] * len(notes), results
    assert results[-1]["origin"] == settings.REGISTRY_LOG_ORIGIN
    assert results[-1]["size"] == 11
    assert results[-1]["root"] == _b64(factories.stored_root(11))


def test_go_tlog_checks_inclusion_and_consistency_proofs_from_the_registry(goverify, logged):
    leaves = dict(LogLeaf.objects.values_list("index", "data"))
    inclusion = [
        {
            "index": i,
            "size": n,
            "data": _b64(leaves[i].encode()),
            "proof": [_b64(h) for h in log.inclusion_proof(i, n)],
            "root": _b64(factories.stored_root(n)),
        }
        for n in (1, 2, 5, 8, 11)
        for i in range(n)
    ]
    consistency = [
        {
            "first": m,
            "second": n,
            "first_root": _b64(factories.stored_root(m)),
            "second_root": _b64(factories.stored_root(n)),
            "proof": [_b64(h) for h in log.consistency_proof(m, n)],
        }
        for n in (2, 7, 8, 11)
        for m in range(1, n)
    ]
    results = _run(goverify, {"verifier_key": logged, "notes": [], "inclusion": inclusion, "consistency": consistency})
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    assert len(results) == len(inclusion) + len(consistency)


def test_go_rejects_a_tampered_checkpoint_and_tampered_proofs(goverify, logged):
    note = log.latest_checkpoint().note
    forged_size = note.replace("\n11\n", "\n12\n", 1)
    other_key = pcheckpoint.verifier_key(settings.REGISTRY_LOG_ORIGIN, b"\x01" * 32)
    leaf = LogLeaf.objects.get(index=3).data.encode()
    proof = [_b64(h) for h in log.inclusion_proof(3, 11)]
    flipped = base64.b64decode(proof[0])
    proof_bad = [_b64(bytes([flipped[0] ^ 1]) + flipped[1:]), *proof[1:]]
    results = _run(
        goverify,
        {
            "verifier_key": logged,
            "notes": [forged_size],
            "inclusion": [
                {
                    "index": 3,
                    "size": 11,
                    "data": _b64(leaf),
                    "proof": proof_bad,
                    "root": _b64(factories.stored_root(11)),
                },
                {"index": 4, "size": 11, "data": _b64(leaf), "proof": proof, "root": _b64(factories.stored_root(11))},
            ],
            "consistency": [
                {
                    "first": 5,
                    "second": 11,
                    "first_root": _b64(factories.stored_root(6)),
                    "second_root": _b64(factories.stored_root(11)),
                    "proof": [_b64(h) for h in log.consistency_proof(5, 11)],
                }
            ],
        },
    )
    assert [r["ok"] for r in results] == [False, False, False, False], results
    assert _run(goverify, {"verifier_key": other_key, "notes": [note]})[0]["ok"] is False
