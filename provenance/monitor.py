"""Follow a registry's checkpoints over time and alarm on a fork or a rollback.

What a platform runs (as Certificate Transparency monitors do): keep the last
verified checkpoint, and for every new one check its signature with the
pinned checkpoint key and an RFC 9162 consistency proof from the old size to
the new. Two signed checkpoints that cannot both be prefixes of one log are
proof of a split view; the monitor keeps both notes as evidence.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance import jcs, merkle
from provenance.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError, VerificationError
from provenance.keys import KeySet

ConsistencyFetcher = Callable[[int, int], Sequence[bytes]]


class Alarm(VerificationError):
    """The log is not append-only as seen from here: a fork, a rollback or a bad signature."""

    def __init__(self, kind: str, message: str, evidence: list[str] | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.evidence = evidence or []


@dataclass
class Observation:
    previous_size: int | None
    size: int
    root: bytes
    note: str

    def summary(self) -> str:
        if self.previous_size is None:
            return f"OK first checkpoint: size {self.size}, root {self.root.hex()}"
        if self.previous_size == self.size:
            return f"OK unchanged at size {self.size}"
        return f"OK consistent: {self.previous_size} -> {self.size}, root {self.root.hex()}"


class Monitor:
    """State lives in a small JSON file: the pinned JWKS and the last verified checkpoint."""

    def __init__(self, state_path: str | Path, keys: KeySet, origin: str) -> None:
        self.state_path = Path(state_path)
        self.keys = keys
        self.origin = origin
        self.last: str | None = None
        self.state: dict[str, Any] = {"origin": origin}
        if self.state_path.exists():
            try:
                self.state = json.loads(self.state_path.read_text())
            except ValueError as exc:
                raise ProvenanceError(f"the state file {self.state_path} is not JSON: {exc}") from exc
            if self.state.get("origin") != origin:
                raise ProvenanceError(f"the state file follows {self.state.get('origin')!r}, not {origin!r}")
            self.last = self.state.get("checkpoint")

    def _verify(self, note: str) -> Checkpoint:
        cp = parse_checkpoint(note)
        if cp.origin != self.origin:
            raise Alarm("wrong_origin", f"checkpoint origin {cp.origin!r} is not {self.origin!r}", [note])
        try:
            verify_checkpoint(cp, self.keys)
        except VerificationError as exc:
            raise Alarm("bad_signature", str(exc), [note]) from exc
        return cp

    def observe(self, note: str, consistency: ConsistencyFetcher) -> Observation:
        new = self._verify(note)
        if self.last is None:
            self._save(note)
            return Observation(None, new.size, new.root, note)
        old = parse_checkpoint(self.last)
        if new.size < old.size:
            raise Alarm("rollback", f"the log shrank from {old.size} to {new.size}", [self.last, note])
        if new.size == old.size:
            if new.root != old.root:
                raise Alarm("fork", f"two different roots signed for size {new.size}", [self.last, note])
            return Observation(old.size, new.size, new.root, note)
        try:
            proof = list(consistency(old.size, new.size))
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
        except ProvenanceError as exc:
            raise Alarm(
                "fork", f"size {new.size} is not an extension of size {old.size}: {exc}", [self.last, note]
            ) from exc
        self._save(note)
        return Observation(old.size, new.size, new.root, note)

    def _save(self, note: str) -> None:
        self.last = note
        self.state.update({"origin": self.origin, "checkpoint": note})
        write_state(self.state_path, self.state)


class HttpRegistry:
    """The three endpoints a monitor needs (docs/protocol.md §12), over plain HTTP(S) with urllib."""

    def __init__(self, base_url: str, timeout: float = 20.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ProvenanceError("the registry URL must start with http:// or https://")
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str) -> bytes:
        try:
            with urllib.request.urlopen(self.base + path, timeout=self.timeout) as resp:  # noqa: S310 - scheme checked above
                data: bytes = resp.read(10_000_000)
                return data
        except (urllib.error.URLError, OSError) as exc:
            raise ProvenanceError(f"cannot fetch {path}: {exc}") from exc

    def jwks(self) -> Any:
        """The JWKS as parsed, unchecked: :meth:`provenance.keys.KeySet.from_jwks` checks its shape."""
        try:
            return jcs.loads(self._get("/.well-known/jwks.json"))  # strict: a duplicated member is refused
        except ProvenanceError as exc:
            raise ProvenanceError(f"the registry's JWKS is not valid protocol JSON: {exc}") from exc

    def checkpoint(self) -> str:
        return self._get("/api/v1/log/checkpoint").decode("utf-8")

    def consistency(self, first: int, second: int) -> list[bytes]:
        query = urllib.parse.urlencode({"first": first, "second": second})
        body = json.loads(self._get(f"/api/v1/log/consistency?{query}"))
        if body.get("first") != first or body.get("second") != second or not isinstance(body.get("proof"), list):
            raise VerificationError("the consistency answer does not match the question")
        return [b64decode(h, "consistency proof hash") for h in body["proof"]]


def load_state(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        return {}
    try:
        state: dict[str, Any] = json.loads(p.read_text())  # written by write_state
    except ValueError as exc:
        raise ProvenanceError(f"the state file {p} is not JSON: {exc}") from exc
    return state


def write_state(path: str | Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically: a crash never leaves half a state file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".monitor-")
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=1)
    os.replace(tmp, p)
