"""C2SP tlog-cosignature/v1 (Ed25519, signature type 0x04): witness keys and cosignature verification.

A witness cosignature is one more signature line on a checkpoint note
(docs/protocol.md §13)::

    — <witness name> base64(key ID[4] ‖ timestamp[8, big-endian] ‖ Ed25519 signature[64])

key ID = SHA-256(witness name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4], and the
signature covers ``cosignature/v1\\ntime <timestamp>\\n`` followed by the whole
checkpoint body (its final newline included, no signature line). The
timestamp is POSIX seconds, at most 2^63 − 1. Producing one is the witness's:
provenance/issue/sign.py :func:`cosign_checkpoint`.
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance.checkpoint import ALG_COSIGNATURE_V1, Checkpoint, VerifierKey, note_key_id, parse_verifier_key
from provenance.encoding import b64encode
from provenance.errors import VerificationError

HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1
SIGNATURE_SIZE = 8 + 64  # timestamped_signature: u64 timestamp ‖ Ed25519 signature


class NoCosignature(VerificationError):
    """The checkpoint carries no line with the witness's name and key ID."""


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    return note_key_id(name, ALG_COSIGNATURE_V1, public_key)


def witness_verifier_key(name: str, public_key: bytes) -> str:
    """The witness's vkey: ``<name>+<hex key ID>+<base64(0x04 ‖ public key)>``."""
    return f"{name}+{cosignature_key_id(name, public_key).hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + public_key)}"


def parse_witness_key(text: object) -> VerifierKey:
    """Parse a witness vkey; only type 0x04 (Ed25519 cosignature/v1) is accepted."""
    return parse_verifier_key(text, alg=ALG_COSIGNATURE_V1)


def cosigned_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosignature signs: header line, time line, then the checkpoint body."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise VerificationError(f"a cosignature timestamp lies in [0, 2^63-1], not {timestamp}")
    if not body.endswith("\n"):
        raise VerificationError("a checkpoint body ends with a newline")
    return f"{HEADER}\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, and the time it vouches for."""

    witness: str
    timestamp: int


def verify_cosignature(cp: Checkpoint, witness: VerifierKey) -> Cosignature:
    """The newest valid cosignature by ``witness`` on ``cp``, or VerificationError.

    Only lines carrying both the witness's name and key ID are considered;
    any other line is someone else's (signed-note) and is ignored here.
    """
    if witness.alg != ALG_COSIGNATURE_V1:
        raise VerificationError(f"{witness.name} is not a cosignature/v1 key (type 0x{witness.alg:02x})")
    problems: list[str] = []
    valid: list[int] = []
    for name, key_id, blob in cp.signatures:
        if name != witness.name or key_id != witness.key_id:
            continue
        if len(blob) != SIGNATURE_SIZE:
            problems.append(f"a cosignature has {len(blob)} bytes after its key ID, not {SIGNATURE_SIZE}")
            continue
        timestamp = int.from_bytes(blob[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            problems.append(f"cosignature timestamp {timestamp} exceeds 2^63-1")
            continue
        if witness.verify(blob[8:], cosigned_message(cp.body, timestamp)):
            valid.append(timestamp)
        else:
            problems.append(f"the cosignature of time {timestamp} does not verify")
    if valid:
        return Cosignature(witness.name, max(valid))
    if not problems:
        raise NoCosignature(f"no cosignature by witness {witness.name}")
    raise VerificationError(f"witness {witness.name}: " + "; ".join(problems))
