"""Follow a registry's checkpoints over time and alarm on a fork or a rollback.

What a platform runs (as Certificate Transparency monitors do): keep the last
verified checkpoint, and for every new one check its signature with the
pinned checkpoint key and an RFC 9162 consistency proof from the old size to
the new. Two signed checkpoints that cannot both be prefixes of one log are
proof of a split view; the monitor keeps both notes as evidence.

With a policy (docs/protocol.md §13.2) it also checks the witnesses'
cosignatures: every checkpoint must meet the quorum (:class:`QuorumNotMet`
otherwise), and two checkpoints of one size with different roots that
witnesses cosigned are a ``split_view`` alarm naming who cosigned which: the
witnesses were shown different trees. The consistency proofs can come from
the registry's proof endpoint or be computed from its tlog-tiles
(:meth:`HttpRegistry.consistency_from_tiles`); either way they are checked
against the two signed roots.
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
from provenance.checkpoint import (
    ALG_ED25519,
    Checkpoint,
    VerifierKey,
    parse_checkpoint,
    parse_verifier_key,
    verifier_key,
    verify_checkpoint,
)
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError, VerificationError
from provenance.keys import KeySet
from provenance.policy import Policy, evaluate
from provenance.tiles import Tile, consistency_proof_from_tiles

ConsistencyFetcher = Callable[[int, int], Sequence[bytes]]


class Alarm(VerificationError):
    """The log is not append-only as seen from here: a fork, a rollback or a bad signature."""

    def __init__(self, kind: str, message: str, evidence: list[str] | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.evidence = evidence or []


class QuorumNotMet(ProvenanceError):
    """A checkpoint the policy's witnesses have not (or not recently) cosigned: stale or unwitnessed, not a fork."""


COSIGNED_KEPT = 1000  # cosigned checkpoints remembered (by size) to compare with what others are shown


@dataclass
class Observation:
    previous_size: int | None
    size: int
    root: bytes
    note: str
    cosigned_by: tuple[str, ...] = ()

    def summary(self) -> str:
        witnessed = f"; cosigned by {', '.join(self.cosigned_by)}" if self.cosigned_by else ""
        if self.previous_size is None:
            return f"OK first checkpoint: size {self.size}, root {self.root.hex()}{witnessed}"
        if self.previous_size == self.size:
            return f"OK unchanged at size {self.size}{witnessed}"
        if self.previous_size > self.size:
            return f"OK consistent: size {self.size} is a prefix of {self.previous_size}{witnessed}"
        return f"OK consistent: {self.previous_size} -> {self.size}, root {self.root.hex()}{witnessed}"


class Monitor:
    """State lives in a small JSON file: the pinned JWKS and the last verified checkpoint."""

    def __init__(
        self,
        state_path: str | Path,
        keys: KeySet,
        origin: str,
        *,
        policy: Policy | None = None,
        max_age: int | None = None,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.state_path = Path(state_path)
        self.keys = keys
        self.origin = origin
        self.policy = policy
        self.max_age = max_age
        self.now = now
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

    def _cosigners(self, note: str) -> tuple[tuple[str, ...], list[str]]:
        """(witnesses of the policy whose cosignature on ``note`` counts, problems); () without a policy."""
        if self.policy is None:
            return (), []
        logs: list[VerifierKey] = []
        if not self.policy.logs_for(self.origin):
            logs = [
                parse_verifier_key(verifier_key(self.origin, k.raw), alg=ALG_ED25519)
                for k in self.keys.of_purpose("checkpoint")
                if k.status != "revoked"
            ]
        now = self.now() if self.now else None
        ev = evaluate(note, self.policy, now=now, max_age=self.max_age, logs=logs)
        return tuple(sorted(ev.cosigned)), [] if ev.quorum_met else list(ev.problems)

    def _split_view(self, new: Checkpoint, note: str, cosigners: tuple[str, ...]) -> None:
        """Alarm when witnesses cosigned another root for this size: they were shown different trees."""
        seen = self.state.get("cosigned", {}).get(str(new.size))
        if seen is None or not cosigners:
            return
        old = parse_checkpoint(seen)
        if old.root != new.root:
            before, _ = self._cosigners(seen)
            raise Alarm(
                "split_view",
                f"witnesses saw different trees of size {new.size}: {', '.join(before) or 'unknown'} cosigned root "
                f"{old.root.hex()}, {', '.join(cosigners)} cosigned root {new.root.hex()}",
                [seen, note],
            )

    def observe(self, note: str, consistency: ConsistencyFetcher, *, may_lag: bool = False) -> Observation:
        """Check ``note`` against what was seen before; ``may_lag`` for a second vantage point (a mirror),
        whose smaller tree must be a prefix of ours rather than a rollback."""
        new = self._verify(note)
        cosigners, quorum_problems = self._cosigners(note)
        self._split_view(new, note, cosigners)
        if self.last is None:
            observation = Observation(None, new.size, new.root, note, cosigners)
        else:
            old = parse_checkpoint(self.last)
            if new.size < old.size and not may_lag:
                raise Alarm("rollback", f"the log shrank from {old.size} to {new.size}", [self.last, note])
            if new.size == old.size and new.root != old.root:
                kind = "split_view" if cosigners else "fork"
                raise Alarm(kind, f"two different roots signed for size {new.size}", [self.last, note])
            small, large = (old, new) if old.size <= new.size else (new, old)
            if small.size != large.size:
                try:
                    proof = list(consistency(small.size, large.size))
                    merkle.verify_consistency(small.size, large.size, small.root, large.root, proof)
                except ProvenanceError as exc:
                    raise Alarm(
                        "split_view" if cosigners else "fork",
                        f"size {large.size} is not an extension of size {small.size}: {exc}",
                        [self.last, note],
                    ) from exc
            observation = Observation(old.size, new.size, new.root, note, cosigners)
        if cosigners:
            kept = self.state.setdefault("cosigned", {})
            kept[str(new.size)] = note
            for size in sorted(kept, key=int)[:-COSIGNED_KEPT]:
                del kept[size]
        if self.last is None or new.size > parse_checkpoint(self.last).size:
            self._save(note)
        elif cosigners:
            write_state(self.state_path, self.state)
        if quorum_problems:
            raise QuorumNotMet(f"size {new.size}: " + "; ".join(quorum_problems))
        return observation

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

    def tlog_checkpoint(self) -> str:
        """The tlog-tiles checkpoint: the newest cosigned one, with its cosignatures."""
        return self._get("/tlog/checkpoint").decode("utf-8")

    def tile(self, tile: Tile) -> bytes:
        return self._get("/tlog/" + tile.path())

    def consistency_from_tiles(self, first: int, second: int) -> list[bytes]:
        """The consistency proof computed from the tiles of tree ``second`` (checked by the caller)."""
        return consistency_proof_from_tiles(first, second, self.tile)

    def tlog_proof(self, index: int) -> str:
        return self._get(f"/api/v1/log/tlog-proof?index={int(index)}").decode("utf-8")

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
