"""C2SP tlog-proof@v1: an offline-verifiable proof that an entry is in a (witnessed) log, as one text file.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of opaque data>          (optional)
    index <decimal>
    <base64 inclusion proof hash>          (zero or more, leaf's sibling first)

    <the checkpoint note, with its cosignatures>

Ours put in ``extra`` the entry itself: the envelope's RFC 8785 bytes (the
leaf data, docs/protocol.md §5), so the file alone is a bundle (§7) whose
checkpoint carries the witnesses' cosignatures: :func:`bundle_from_proof`
rebuilds it and :class:`provenance.Verifier` checks it, the unauthenticated
``extra`` included (its leaf hash must be proven in the checkpoint's tree and its
signature must verify). Files are named ``*.tlog-proof``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from provenance import jcs
from provenance.bundle import MEDIA_TYPE
from provenance.checkpoint import Checkpoint, parse_checkpoint
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError, VerificationError

HEADER = "c2sp.org/tlog-proof@v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
MAX_PROOF_HASHES = 63


@dataclass(frozen=True)
class TlogProof:
    index: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: Checkpoint
    note: str
    extra: bytes | None = None


def format_proof(index: int, inclusion_proof: Sequence[bytes], note: str, extra: bytes | None = None) -> str:
    head = [HEADER] + ([f"extra {b64encode(extra)}"] if extra is not None else []) + [f"index {index}"]
    return "\n".join([*head, *(b64encode(h) for h in inclusion_proof)]) + "\n\n" + note


def parse_proof(text: bytes | str) -> TlogProof:
    """Parse a tlog-proof file strictly; :class:`VerificationError` names what is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise VerificationError("a tlog-proof is UTF-8 text") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise VerificationError("a tlog-proof has an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise VerificationError(f"a tlog-proof starts with the line {HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = b64decode(rest.pop(0)[len("extra ") :], "tlog-proof extra data")
    if not rest or not rest[0].startswith("index ") or not _DECIMAL.fullmatch(rest[0][len("index ") :]):
        raise VerificationError("a tlog-proof names its entry with 'index <decimal, no leading zeros>'")
    index = int(rest[0][len("index ") :])
    hashes = rest[1:]
    if len(hashes) > MAX_PROOF_HASHES:
        raise VerificationError(f"more than {MAX_PROOF_HASHES} inclusion proof hashes")
    proof = tuple(b64decode(h, "inclusion proof hash") for h in hashes)
    return TlogProof(index, proof, parse_checkpoint(note), note, extra)


def bundle_from_proof(proof: TlogProof) -> dict[str, Any]:
    """The bundle (docs/protocol.md §7) a proof holds; its entry must be in ``extra``."""
    if proof.extra is None:
        raise ProvenanceError("this tlog-proof carries no entry in 'extra': nothing to verify it against")
    envelope = jcs.loads(proof.extra)
    return {
        "mediaType": MEDIA_TYPE,
        "envelope": envelope,
        "log": {
            "origin": proof.checkpoint.origin,
            "index": proof.index,
            "tree_size": proof.checkpoint.size,
            "inclusion_proof": [b64encode(h) for h in proof.inclusion_proof],
            "checkpoint": proof.note,
        },
    }


def proof_from_bundle(bundle: dict[str, Any]) -> str:
    """A bundle as a tlog-proof, offline: its own inclusion proof and checkpoint (cosigned only if it was)."""
    log = bundle["log"]
    entry = jcs.canonicalize_envelope(bundle["envelope"])
    proof = [b64decode(h, "inclusion proof hash") for h in log["inclusion_proof"]]
    return format_proof(log["index"], proof, log["checkpoint"], extra=entry)
