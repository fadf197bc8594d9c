"""Builders of real statements, keys, logs and bundles for the provenance tests."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import identifiers, jcs
from provenance.bundle import envelope_leaf_hash
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import make_bundle, sign_checkpoint, sign_envelope
from provenance.issue.tree import MemoryTree
from provenance.keys import KeySet, parse_jwk, public_jwk, thumbprint
from provenance.statement import build_statement, statement_bytes

ORIGIN = "registry.example.org/log"
DECLARED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def isrc(n: int) -> str:
    return f"GBXYZ25{n:05d}"


def upc(n: int) -> str:
    body = f"{n:011d}"
    return body + str(identifiers.gtin_check_digit(body))


def track(position: int, **parts: str) -> dict[str, Any]:
    levels = {p: "none" for p in ("composition", "lyrics", "vocals", "instrumentation", "production")}
    levels.update(parts)
    return {
        "isrc": isrc(position),
        "title": f"Song number {position}",
        "position": position,
        "parts": levels,
        "tools": ["Suno v4"] if any(v != "none" for v in levels.values()) else [],
        "duration": 180 + position,
    }


def statement(
    *,
    n_tracks: int = 3,
    registry: str = ORIGIN,
    declared_at: datetime = DECLARED_AT,
    release_number: int = 1,
    **overrides: Any,
) -> dict[str, Any]:
    tracks = [track(1, vocals="all", production="partly")] + [track(i) for i in range(2, n_tracks + 1)]
    args: dict[str, Any] = {
        "registry": registry,
        "declaration_id": str(uuid.UUID(int=release_number)),
        "version": 1,
        "status": "active",
        "supersedes": None,
        "reason": None,
        "declared_at": declared_at,
        "label": {"name": "Northern Lights Records", "dpid": "PADPIDA3897722461G", "verified": True},
        "release": {"upc": upc(release_number), "title": "Aurora", "release_date": "2025-04-01", "artwork": "partly"},
        "artists": [{"name": "The Lanterns", "isni": "000000012146438X", "persona": "ai_assisted"}],
        "tracks": tracks,
    }
    args.update(overrides)
    return build_statement(**args)


@dataclass
class Registry:
    """A registry in miniature: statement and checkpoint keys, a log and its JWKS."""

    origin: str = ORIGIN
    statement_key: Ed25519PrivateKey = field(default_factory=generate_private_key)
    checkpoint_key: Ed25519PrivateKey = field(default_factory=generate_private_key)
    tree: MemoryTree = field(default_factory=MemoryTree)
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    extra_jwks: list[dict[str, Any]] = field(default_factory=list)
    statement_key_status: str = "active"
    statement_key_not_after: datetime | None = None

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                public_jwk(
                    public_bytes(self.statement_key),
                    purpose="statement",
                    status=self.statement_key_status,
                    not_before=datetime(2024, 1, 1, tzinfo=UTC),
                    not_after=self.statement_key_not_after,
                ),
                public_jwk(public_bytes(self.checkpoint_key), purpose="checkpoint"),
                *self.extra_jwks,
            ]
        }

    def keyset_kid(self, purpose: str) -> str:
        return thumbprint(public_bytes(self.statement_key if purpose == "statement" else self.checkpoint_key))

    def keyset(self) -> KeySet:
        return KeySet(parse_jwk(k) for k in self.jwks()["keys"])

    def declare(self, st: dict[str, Any] | None = None, *, payload: bytes | None = None, **kw: Any) -> int:
        """Sign a statement (or raw payload bytes) and append its envelope; return the leaf index."""
        data = payload if payload is not None else statement_bytes(st if st is not None else statement())
        envelope = sign_envelope(data, kw.pop("key", self.statement_key), **kw)
        self.envelopes.append(envelope)
        return self.tree.append(jcs.canonicalize(envelope))

    def checkpoint(self, size: int | None = None, key: Ed25519PrivateKey | None = None) -> str:
        size = self.tree.size if size is None else size
        return sign_checkpoint(self.origin, size, self.tree.root(size), key or self.checkpoint_key)

    def bundle(self, index: int, size: int | None = None, checkpoint: str | None = None) -> dict[str, Any]:
        size = self.tree.size if size is None else size
        envelope = copy.deepcopy(self.envelopes[index])
        assert envelope_leaf_hash(envelope) == self.tree.nodes[(0, index)]
        return make_bundle(
            envelope,
            origin=self.origin,
            index=index,
            tree_size=size,
            proof=self.tree.inclusion_proof(index, size),
            checkpoint=checkpoint or self.checkpoint(size),
        )


def registry_with_log(n: int = 5) -> Registry:
    reg = Registry()
    for i in range(1, n + 1):
        reg.declare(statement(release_number=i, declared_at=DECLARED_AT + timedelta(minutes=i)))
    return reg
