"""Go's sumdb/note opens witness-cosigned checkpoints (ignoring the witness lines), and a Go verifier
written from tlog-cosignature with crypto/ed25519 accepts the cosignatures our witness signs over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance import checkpoint as cp
from provenance.cosignature import witness_verifier_key
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import cosign_checkpoint, sign_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.witness import add_checkpoint_body, parse_cosignatures
from provenance.witness.server import Witness, make_app
from provenance.witness.state import State

GOPATH = "/usr/share/gocode"
SOURCE = Path(__file__).parent / "go" / "cosignature" / "verify.go"
ORIGIN = "registry.example.org/log"

pytestmark = pytest.mark.skipif(
    shutil.which("go") is None or not Path(GOPATH, "src/golang.org/x/mod/sumdb/note").exists(),
    reason="needs Debian's golang-go and golang-golang-x-mod-dev (installed by .ci/run)",
)


@pytest.fixture(scope="module")
def gocosig(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gocosig") / "verify"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "", "GOCACHE": str(out.parent / "cache")}
    subprocess.run(["go", "build", "-o", str(out), str(SOURCE)], check=True, env=env, capture_output=True, timeout=300)
    return out


def _post(app, body: bytes) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    """Call the WSGI app directly: the HTTP surface is tested in tests/provenance/test_witness.py."""
    import io

    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/add-checkpoint",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    out = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], out


def test_go_accepts_the_witness_cosignatures_and_still_opens_the_note(gocosig: Path, tmp_path: Path) -> None:
    log_key, w1, w2 = generate_private_key(), generate_private_key(), generate_private_key()
    tree = MemoryTree(f"leaf {i}".encode() for i in range(9))
    log_vkey = cp.verifier_key(ORIGIN, public_bytes(log_key))
    witness = Witness(
        name="witness.example.org/w1",
        key=w1,
        logs={ORIGIN: [cp.parse_verifier_key(log_vkey, alg=cp.ALG_ED25519)]},
        state=State(tmp_path / "w.sqlite"),
    )
    app = make_app(witness)
    notes = []
    for old, size in [(0, 0), (0, 4), (4, 9)]:
        note = sign_checkpoint(ORIGIN, size, tree.root(size), log_key)
        proof = tree.consistency_proof(old, size) if old else []
        status, body = _post(app, add_checkpoint_body(old, proof, note))
        assert status.startswith("200"), body
        body_text = note[: note.index("\n\n") + 1]
        other = cosign_checkpoint(body_text, 1_700_000_000, name="witness.example.org/w2", key=w2)
        notes.append(note + parse_cosignatures(body)[0] + other)
    forged = notes[-1].replace("\n9\n", "\n8\n", 1)
    w2_vkey = witness_verifier_key("witness.example.org/w2", public_bytes(w2))
    done = subprocess.run(
        [str(gocosig)],
        input=json.dumps({"log_vkey": log_vkey, "witness_vkeys": [witness.vkey, w2_vkey], "notes": [*notes, forged]}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    results = json.loads(done.stdout)
    assert [r["ok"] for r in results] == [True, True, True, False]
    for r in results[:3]:
        assert set(r["cosigned"]) == {"witness.example.org/w1", "witness.example.org/w2"}
        assert r["cosigned"]["witness.example.org/w2"] == 1_700_000_000
