"""Ed25519 public keys: JWK/JWKS (RFC 7517, 8037) with RFC 7638 key ids, and the rules of docs/protocol.md §4.

What a verifier holds: public keys, each with a purpose, a status and a
validity window. Private keys (generation, encrypted storage) are the
issuer's: provenance/issue/keys.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from provenance import jcs
from provenance.encoding import b64url_decode, b64url_encode
from provenance.errors import ProvenanceError, VerificationError
from provenance.statement import format_timestamp, parse_timestamp

PURPOSES = ("statement", "checkpoint")
KEY_STATUSES = ("active", "retired", "revoked")


def thumbprint(public_key: bytes) -> str:
    """RFC 7638 thumbprint of an OKP Ed25519 key: the protocol's key id."""
    x = b64url_encode(public_key)
    canonical = '{"crv":"Ed25519","kty":"OKP","x":"' + x + '"}'
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


@dataclass(frozen=True)
class PublicKey:
    """One JWKS entry with its parsed Ed25519 key."""

    kid: str
    key: Ed25519PublicKey
    raw: bytes
    purpose: str
    status: str
    not_before: datetime | None
    not_after: datetime | None
    # Checkpoint keys only: the log's size when the key was retired; it signed no larger tree.
    last_tree_size: int | None = None

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def valid_at(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in ``[not_before, not_after]`` (inclusive; a missing bound is open)."""
        if self.not_before is not None and moment < self.not_before:
            return False
        return self.not_after is None or moment <= self.not_after

    def window(self) -> str:
        start = format_timestamp(self.not_before) if self.not_before else "-inf"
        end = format_timestamp(self.not_after) if self.not_after else "+inf"
        return f"[{start}, {end}]"

    def checkpoint_refusal(self, size: int) -> str | None:
        """Why this checkpoint key may not vouch for a tree of ``size``, or None (docs/protocol.md §4).

        A checkpoint carries no time, so a checkpoint key's window is counted
        in tree sizes: a retired key signed trees up to its ``last_tree_size``
        and no larger one. A retired key that does not say how far it went
        cannot be bounded, so nothing it signed is accepted.
        """
        if self.last_tree_size is not None and size > self.last_tree_size:
            return (
                f"checkpoint key {self.kid} ({self.status}) signed trees up to size {self.last_tree_size}, "
                f"not this one of size {size}"
            )
        if self.last_tree_size is None and self.status == "retired":
            return f"retired checkpoint key {self.kid} has no last_tree_size, so no checkpoint of it can be bounded"
        return None

    def to_jwk(self) -> dict[str, Any]:
        return public_jwk(
            self.raw,
            purpose=self.purpose,
            status=self.status,
            not_before=self.not_before,
            not_after=self.not_after,
            last_tree_size=self.last_tree_size,
        )


def public_jwk(
    public_key: bytes,
    *,
    purpose: str,
    status: str = "active",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    last_tree_size: int | None = None,
) -> dict[str, Any]:
    if purpose not in PURPOSES:
        raise ProvenanceError(f"unknown key purpose {purpose!r}")
    if status not in KEY_STATUSES:
        raise ProvenanceError(f"unknown key status {status!r}")
    jwk: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(public_key),
        "alg": "Ed25519",
        "use": "sig",
        "kid": thumbprint(public_key),
        "purpose": purpose,
        "status": status,
        "not_before": format_timestamp(not_before) if not_before else None,
        "not_after": format_timestamp(not_after) if not_after else None,
    }
    if last_tree_size is not None:  # only where it applies: a retired checkpoint key
        jwk["last_tree_size"] = last_tree_size
    return jwk


def parse_jwk(jwk: Any) -> PublicKey:
    if not isinstance(jwk, dict):
        raise VerificationError("a JWKS key must be an object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise VerificationError("a JWKS key must be an OKP Ed25519 key")
    raw = b64url_decode(jwk.get("x"), "JWK x")
    if len(raw) != 32:
        raise VerificationError("an Ed25519 public key has 32 bytes")
    kid = thumbprint(raw)
    if jwk.get("kid") != kid:
        raise VerificationError(f"JWK kid {jwk.get('kid')!r} is not the RFC 7638 thumbprint {kid!r}")
    purpose = jwk.get("purpose")
    if purpose not in PURPOSES:
        raise VerificationError(f"JWK {kid} has unknown purpose {purpose!r}")
    status = jwk.get("status")
    if status not in KEY_STATUSES:
        raise VerificationError(f"JWK {kid} has unknown status {status!r}")
    try:
        not_before = parse_timestamp(jwk["not_before"]) if jwk.get("not_before") else None
        not_after = parse_timestamp(jwk["not_after"]) if jwk.get("not_after") else None
    except ValueError as exc:
        raise VerificationError(f"JWK {kid}: {exc}") from exc
    last_tree_size = jwk.get("last_tree_size")
    if last_tree_size is not None and (
        not isinstance(last_tree_size, int) or isinstance(last_tree_size, bool) or last_tree_size < 0
    ):
        raise VerificationError(f"JWK {kid}: last_tree_size must be a non-negative integer")
    return PublicKey(
        kid=kid,
        key=Ed25519PublicKey.from_public_bytes(raw),
        raw=raw,
        purpose=purpose,
        status=status,
        not_before=not_before,
        not_after=not_after,
        last_tree_size=last_tree_size,
    )


class KeySet:
    """A parsed JWKS. Look keys up by kid; the kid is a hint, never a grant."""

    def __init__(self, keys: Iterable[PublicKey]) -> None:
        self._by_kid: dict[str, PublicKey] = {}
        for key in keys:
            # Two entries for one key (say, once as statement and once as checkpoint key) make its
            # purpose and status depend on which entry a verifier keeps: refuse the set instead.
            if key.kid in self._by_kid:
                raise VerificationError(f"the JWKS lists key {key.kid} twice")
            self._by_kid[key.kid] = key

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any] | Any) -> KeySet:
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise VerificationError('a JWKS must be an object with a "keys" list')
        return cls(parse_jwk(k) for k in jwks["keys"])

    @classmethod
    def from_json(cls, data: bytes | str) -> KeySet:
        """Parse JWKS text strictly: a duplicated member (a second "keys", a second "x") is refused."""
        try:
            jwks = jcs.loads(data)
        except ProvenanceError as exc:
            raise VerificationError(f"the JWKS is not valid protocol JSON: {exc}") from exc
        return cls.from_jwks(jwks)

    def get(self, kid: str) -> PublicKey | None:
        return self._by_kid.get(kid)

    def of_purpose(self, purpose: str) -> list[PublicKey]:
        return [k for k in self._by_kid.values() if k.purpose == purpose]

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self._by_kid.values())

    def __len__(self) -> int:
        return len(self._by_kid)

    def to_jwks(self) -> dict[str, Any]:
        return {"keys": [k.to_jwk() for k in self._by_kid.values()]}
