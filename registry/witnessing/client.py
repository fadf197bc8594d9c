"""One ``add-checkpoint`` exchange with one witness over HTTP (C2SP tlog-witness), no database.

The round (registry/witnessing/rounds.py) computes the proofs and stores the
outcome; this module only talks HTTP and reads the answer, so it runs in a
thread per witness without touching Django's connections.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from provenance.checkpoint import parse_checkpoint
from provenance.cosignature import verify_cosignature
from provenance.errors import ProvenanceError, VerificationError
from provenance.policy import Witness
from provenance.witness import add_checkpoint_body, parse_conflict, parse_cosignatures

MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    """``lines``: verified cosignature lines (200); ``conflict``: the witness's size (409); else ``error``."""

    lines: tuple[str, ...] = ()
    conflict: int | None = None
    error: str = ""
    status: int = 0


def _post(url: str, body: bytes, timeout: float) -> tuple[int, str, bytes]:
    parts = urllib.parse.urlsplit(url.rstrip("/") + "/add-checkpoint")
    conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = conn_class(parts.netloc, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=body, headers={"Content-Type": "text/plain; charset=utf-8"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read(MAX_ANSWER_BYTES)
    finally:
        conn.close()


def add_checkpoint(witness: Witness, note: str, old_size: int, proof: Sequence[bytes], timeout: float) -> Answer:
    """Submit ``note`` with the proof from ``old_size``; only lines that verify with the witness's key are kept."""
    assert witness.url is not None
    try:
        status, content_type, data = _post(witness.url, add_checkpoint_body(old_size, proof, note), timeout)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(error=f"cannot reach {witness.url}: {exc or type(exc).__name__}")
    if status == 409:
        try:
            return Answer(conflict=parse_conflict(data, content_type), status=409)
        except VerificationError as exc:
            return Answer(error=f"409 without a usable size: {exc}", status=409)
    if status != 200:
        text = data[:200].decode("utf-8", "replace").strip()
        return Answer(error=f"{status}: {text}", status=status)
    try:
        lines = parse_cosignatures(data)
        # The witness's own lines only, each checked: a line that does not verify is never published.
        own = [line for line in lines if line.split(" ")[1] == witness.key.name]
        verify_cosignature(parse_checkpoint(note + "".join(own)), witness.key)
        valid = [line for line in own if _verifies(note, line, witness)]
    except ProvenanceError as exc:
        return Answer(error=f"200 with no valid cosignature: {exc}", status=200)
    return Answer(lines=tuple(valid), status=200)


def _verifies(note: str, line: str, witness: Witness) -> bool:
    try:
        verify_cosignature(parse_checkpoint(note + line), witness.key)
    except ProvenanceError:
        return False
    return True
