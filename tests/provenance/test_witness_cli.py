"""``python -m provenance witness keygen|serve`` as an operator runs them: real processes, real HTTP, a restart."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from provenance import checkpoint as cp
from provenance.cosignature import parse_witness_key, verify_cosignature
from provenance.errors import ProvenanceError
from provenance.issue.keys import generate_private_key, load_private_key, public_bytes
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.witness import add_checkpoint_body, parse_conflict, parse_cosignatures
from provenance.witness.config import parse_log_file, parse_log_option

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "registry.example.org/log"
NAME = "witness.example.org/w1"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance", "witness", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@contextmanager
def serving(*args: str, env: dict[str, str]) -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "provenance", "witness", "serve", "--listen", "127.0.0.1:0", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("witness "), first + (proc.stderr.read() if proc.stderr else "")
        listening = proc.stdout.readline()
        yield int(listening.split("http://127.0.0.1:")[1].split("/")[0])
    finally:
        proc.terminate()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def _post(port: int, body: bytes) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/add-checkpoint", body=body)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def test_keygen_then_serve_cosigns_and_a_restart_keeps_the_state(tmp_path: Path) -> None:
    env = {"WITNESS_KEY_PASSPHRASE": "correct horse battery staple"}
    made = _run("keygen", "--key", str(tmp_path / "w.key"), "--name", NAME, env=env)
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    assert parse_witness_key(vkey).name == NAME
    assert (tmp_path / "w.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ProvenanceError, match="cannot load"):  # encrypted with the passphrase
        load_private_key((tmp_path / "w.key").read_bytes(), None)
    again = _run("keygen", "--key", str(tmp_path / "w.key"), "--name", NAME, env=env)
    assert again.returncode == 1 and "never overwritten" in again.stderr

    log_key, tree = generate_private_key(), MemoryTree(f"leaf {i}".encode() for i in range(12))
    log_vkey = cp.verifier_key(ORIGIN, public_bytes(log_key))
    args = ["--key", str(tmp_path / "w.key"), "--name", NAME, "--state", str(tmp_path / "w.sqlite")]
    with serving(*args, "--log", f"{ORIGIN}={log_vkey}", env=env) as port:
        note = sign_checkpoint(ORIGIN, 7, tree.root(7), log_key)
        status, _, body = _post(port, add_checkpoint_body(0, [], note))
        assert status == 200
        cosigned = cp.parse_checkpoint(note + parse_cosignatures(body)[0])
        verify_cosignature(cosigned, parse_witness_key(vkey))
    (tmp_path / "logs.conf").write_text(f"# the registry\nlog {log_vkey} https://registry.example.org\n")
    with serving(*args, "--config", str(tmp_path / "logs.conf"), env=env) as port:
        note = sign_checkpoint(ORIGIN, 12, tree.root(12), log_key)
        status, ctype, body = _post(port, add_checkpoint_body(0, [], note))
        assert (status, parse_conflict(body, ctype)) == (409, 7)
        status, _, _ = _post(port, add_checkpoint_body(7, tree.consistency_proof(7, 12), note))
        assert status == 200


def test_serve_refuses_a_missing_log_or_a_wrong_passphrase(tmp_path: Path) -> None:
    env = {"WITNESS_KEY_PASSPHRASE": "one"}
    assert _run("keygen", "--key", str(tmp_path / "w.key"), "--name", NAME, env=env).returncode == 0
    base = ["serve", "--key", str(tmp_path / "w.key"), "--name", NAME, "--state", str(tmp_path / "s")]
    done = _run(*base, env=env)
    assert done.returncode == 1 and "no log to witness" in done.stderr
    vkey = cp.verifier_key(ORIGIN, public_bytes(generate_private_key()))
    done = _run(*base, "--log", vkey, env={"WITNESS_KEY_PASSPHRASE": "two"})
    assert done.returncode == 1 and "cannot load the private key" in done.stderr


def test_log_options_name_the_origin_or_take_it_from_the_key() -> None:
    pub = public_bytes(generate_private_key())
    odd = "log.example/a=b"
    vkey = cp.verifier_key(odd, pub)
    assert parse_log_option(f"{odd}={vkey}").name == odd
    assert parse_log_option(vkey).name == odd
    with pytest.raises(ProvenanceError, match="not the origin"):
        parse_log_option(f"other.example/log={cp.verifier_key(ORIGIN, pub)}")
    with pytest.raises(ProvenanceError, match=r"logs.conf:2: expected"):
        parse_log_file(f"log {vkey}\nwitness W {vkey}\n", "logs.conf")
