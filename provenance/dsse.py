"""DSSE envelopes (docs/protocol.md §3) with Ed25519 signatures: PAE and verification (signing: provenance/issue/sign.py)."""

from __future__ import annotations

from typing import Any

from provenance.encoding import b64decode
from provenance.errors import VerificationError
from provenance.keys import KeySet, PublicKey

PAYLOAD_TYPE = "application/vnd.ai-disclosure.statement.v1+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: ``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def check_envelope_shape(envelope: Any) -> dict[str, Any]:
    """``envelope`` if it has the shape of a DSSE envelope, else :class:`VerificationError` saying why."""
    if not isinstance(envelope, dict):
        raise VerificationError("the envelope must be an object")
    for member in ("payloadType", "payload", "signatures"):
        if member not in envelope:
            raise VerificationError(f"the envelope has no {member!r}")
    if not isinstance(envelope["payloadType"], str) or not isinstance(envelope["payload"], str):
        raise VerificationError("payloadType and payload must be strings")
    sigs = envelope["signatures"]
    if not isinstance(sigs, list) or not sigs:
        raise VerificationError("the envelope must carry at least one signature")
    for sig in sigs:
        if not isinstance(sig, dict) or not isinstance(sig.get("sig"), str):
            raise VerificationError("each signature must be an object with a base64 'sig'")
        if "keyid" in sig and not isinstance(sig["keyid"], str):
            raise VerificationError("a signature's keyid must be a string")
    return envelope


def verify_envelope(envelope: Any, keys: KeySet, *, purpose: str = "statement") -> tuple[bytes, PublicKey]:
    """Verify the signature over PAE with a non-revoked key of ``purpose``; return (payload, key).

    The payloadType is *not* checked here: docs/protocol.md §3 orders the checks
    signature first, then type, so callers check it next.
    """
    payload, _, key = verify_envelope_message(envelope, keys, purpose=purpose)
    return payload, key


def verify_envelope_message(
    envelope: Any, keys: KeySet, *, purpose: str = "statement"
) -> tuple[bytes, bytes, PublicKey]:
    """:func:`verify_envelope`, also returning the PAE message it verified: (payload, message, key).

    A co-signed envelope's other signatures are over the same message (docs/protocol.md §14),
    so the bundle verifier checks the label's on these bytes instead of building them again.
    """
    check_envelope_shape(envelope)
    payload = b64decode(envelope["payload"], "envelope payload")
    message = pae(envelope["payloadType"], payload)
    problems = []
    for sig in envelope["signatures"]:
        kid = sig.get("keyid")
        if kid:
            # The keyid only picks which key to try; it must name a key we hold.
            found = keys.get(kid)
            if found is None:
                problems.append(f"key {kid} is not in the JWKS")
                continue
            candidates = [found]
        else:
            candidates = keys.of_purpose(purpose)
        signature = b64decode(sig["sig"], "signature")
        for key in candidates:
            if key.purpose != purpose:
                problems.append(f"key {key.kid} is a {key.purpose} key, not a {purpose} key")
                continue
            if key.status == "revoked":
                problems.append(f"key {key.kid} is revoked")
                continue
            if key.verify(signature, message):
                return payload, message, key
            problems.append(f"signature does not verify with key {key.kid}")
    if not problems:
        problems.append(f"no {purpose} key in the JWKS")
    raise VerificationError("; ".join(problems))
