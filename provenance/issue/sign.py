"""Signing: DSSE envelopes (docs/protocol.md §3), checkpoints (§6), the bundles that carry them (§7)
and witness cosignatures (§13).

Each function is the inverse of one verifier step, and uses the verifier's own
encoding (``pae``, ``checkpoint_body``, ``key_hash``) so that what is signed is
byte for byte what is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.bundle import MEDIA_TYPE, MEDIA_TYPE_COSIGNED
from provenance.checkpoint import DASH, check_key_name, checkpoint_body, key_hash
from provenance.cosignature import cosignature_key_id, cosigned_message
from provenance.dsse import PAYLOAD_TYPE, pae
from provenance.encoding import b64encode
from provenance.issue.keys import public_bytes
from provenance.jcs import canonicalize
from provenance.keys import thumbprint


def sign_envelope(payload: bytes, key: Ed25519PrivateKey, *, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    signature = key.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": b64encode(payload),
        "signatures": [{"keyid": thumbprint(public_bytes(key)), "sig": b64encode(signature)}],
    }


def sign_pae(payload: bytes, key: Ed25519PrivateKey, *, payload_type: str = PAYLOAD_TYPE) -> dict[str, str]:
    """One DSSE signature ``{"keyid", "sig"}`` over PAE(payload_type, payload): what a label adds (§14.2)."""
    return {"keyid": thumbprint(public_bytes(key)), "sig": b64encode(key.sign(pae(payload_type, payload)))}


def cosign_envelope(
    payload: bytes,
    key: Ed25519PrivateKey,
    *,
    payload_type: str = PAYLOAD_TYPE,
    signatures: Sequence[dict[str, str]] = (),
) -> dict[str, Any]:
    """An envelope carrying ``signatures`` (the label's, checked by the caller) and then the registry's own."""
    envelope = sign_envelope(payload, key, payload_type=payload_type)
    envelope["signatures"] = [*signatures, *envelope["signatures"]]
    return envelope


def envelope_size(payload: bytes | int, *, payload_type: str = PAYLOAD_TYPE) -> int:
    """Bytes of the canonical envelope :func:`sign_envelope` makes of ``payload`` (or of a payload that long), without a key.

    Exact: a key id (an RFC 7638 thumbprint) and an Ed25519 signature always have the
    same length, and base64 text needs no escaping. Lets a service refuse a log entry over
    ``limits.ENTRY_MAX`` before signing.
    """
    length = payload if isinstance(payload, int) else len(payload)
    placeholder = {"keyid": "A" * 43, "sig": b64encode(bytes(64))}
    empty = len(canonicalize({"payloadType": payload_type, "payload": "", "signatures": [placeholder]}))
    return empty + 4 * ((length + 2) // 3)


def sign_checkpoint(origin: str, size: int, root: bytes, key: Ed25519PrivateKey) -> str:
    """The full signed note text for a tree of ``size`` with ``root``."""
    body = checkpoint_body(origin, size, root)
    signature = key.sign(body.encode("utf-8"))
    return f"{body}\n{DASH} {origin} {b64encode(key_hash(origin, public_bytes(key)) + signature)}\n"


def cosign_checkpoint(body: str, timestamp: int, *, name: str, key: Ed25519PrivateKey) -> str:
    """A witness's tlog-cosignature/v1 signature line over a checkpoint ``body`` (note text, no signatures)."""
    check_key_name(name)
    signature = key.sign(cosigned_message(body, timestamp))
    blob = cosignature_key_id(name, public_bytes(key)) + timestamp.to_bytes(8, "big") + signature
    return f"{DASH} {name} {b64encode(blob)}\n"


def make_bundle(
    envelope: dict[str, Any],
    *,
    origin: str,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    checkpoint: str,
    label_keys: Sequence[tuple[int, dict[str, Any], Sequence[bytes]]] | None = None,
) -> dict[str, Any]:
    """A v1 bundle; with ``label_keys`` (the label's key events: index, envelope, proof against
    the same checkpoint) a co-signed v2 bundle (docs/protocol.md §14.3)."""
    if label_keys is not None:
        bundle = make_bundle(
            envelope, origin=origin, index=index, tree_size=tree_size, proof=proof, checkpoint=checkpoint
        )
        bundle["mediaType"] = MEDIA_TYPE_COSIGNED
        bundle["label_keys"] = [
            {"index": i, "envelope": e, "inclusion_proof": [b64encode(h) for h in p]} for i, e, p in label_keys
        ]
        return bundle
    return {
        "mediaType": MEDIA_TYPE,
        "envelope": envelope,
        "log": {
            "origin": origin,
            "index": index,
            "tree_size": tree_size,
            "inclusion_proof": [b64encode(h) for h in proof],
            "checkpoint": checkpoint,
        },
    }
