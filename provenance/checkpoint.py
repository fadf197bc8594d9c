"""C2SP tlog-checkpoint bodies in C2SP signed notes (what Go's sumdb/note verifies): parsing and verification.

Note text: ``<origin>\\n<size>\\n<base64 root>\\n`` (optionally followed by
extension lines), a blank line, then one line per signature:
``— <key name> <base64(key_hash[4] ‖ sig[64])>\\n`` with U+2014 as the dash.
key_hash = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4] (0x01 = Ed25519).
Signing a note is the issuer's: provenance/issue/sign.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.keys import KeySet, PublicKey

ALG_ED25519 = 0x01
DASH = "\u2014"
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")


def key_hash(origin: str, public_key: bytes) -> bytes:
    return hashlib.sha256(origin.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def verifier_key(origin: str, public_key: bytes) -> str:
    """Go's note verifier key string: ``<name>+<hex key_hash>+<base64(0x01 ‖ key)>``."""
    return f"{origin}+{key_hash(origin, public_key).hex()}+{b64encode(bytes([ALG_ED25519]) + public_key)}"


def _check_origin(origin: str) -> None:
    if not origin or any(c.isspace() for c in origin) or "+" in origin:
        raise VerificationError("the origin must be non-empty text without spaces or '+'")


def checkpoint_body(origin: str, size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    _check_origin(origin)
    return f"{origin}\n{size}\n{b64encode(root)}\n" + "".join(f"{line}\n" for line in extensions)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (key name, key hash, signature)
    extensions: tuple[str, ...] = ()

    def verify(self, key: PublicKey) -> None:
        """Check that ``key`` signed this note under the origin's name (C2SP signed-note)."""
        expected = key_hash(self.origin, key.raw)
        found = False
        for name, khash, sig in self.signatures:
            if name != self.origin or khash != expected:
                continue
            found = True
            if key.verify(sig, self.body.encode("utf-8")):
                return
        if not found:
            raise VerificationError(f"the checkpoint has no signature by key {key.kid} for {self.origin}")
        raise VerificationError(f"the checkpoint signature by key {key.kid} does not verify")


def parse_checkpoint(text: object) -> Checkpoint:
    """Parse a signed note holding a checkpoint; signatures are checked by :meth:`Checkpoint.verify`."""
    if not isinstance(text, str):
        raise VerificationError("the checkpoint must be text")
    if len(text) > 1_000_000 or "\r" in text:
        raise VerificationError("the checkpoint is not a signed note")
    if not text.endswith("\n"):
        raise VerificationError("the checkpoint must end with a newline")
    body, sep, sig_block = text.rpartition("\n\n")
    if not sep:
        raise VerificationError("the checkpoint has no blank line before its signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise VerificationError("the checkpoint body needs origin, size and root hash lines")
    origin, size_text, root_text = lines[:3]
    _check_origin(origin)
    if not _SIZE.match(size_text):
        raise VerificationError(f"the checkpoint size {size_text!r} is not a decimal number")
    root = b64decode(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise VerificationError("the checkpoint root hash must be 32 bytes")
    signatures = []
    for line in sig_block.split("\n")[:-1]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise VerificationError(f"malformed signature line {line!r}")
        blob = b64decode(parts[2], "checkpoint signature")
        if len(blob) < 5:
            raise VerificationError("a checkpoint signature is too short")
        signatures.append((parts[1], blob[:4], blob[4:]))
    if not signatures:
        raise VerificationError("the checkpoint is not signed")
    return Checkpoint(
        origin=origin,
        size=int(size_text),
        root=root,
        body=body,
        signatures=tuple(signatures),
        extensions=tuple(lines[3:]),
    )


def verify_checkpoint(cp: Checkpoint, keys: KeySet) -> PublicKey:
    """The JWKS checkpoint key that signed ``cp`` and may vouch for its size, or VerificationError.

    Revoked keys count for nothing; a key's signature counts only for trees
    within its window (:meth:`PublicKey.checkpoint_refusal`, docs/protocol.md §4).
    Bundle verification and the monitor share this rule.
    """
    problems = []
    for key in keys.of_purpose("checkpoint"):
        if key.status == "revoked":
            problems.append(f"key {key.kid} is revoked")
            continue
        try:
            cp.verify(key)
        except VerificationError as exc:
            problems.append(str(exc))
            continue
        refusal = key.checkpoint_refusal(cp.size)
        if refusal:
            problems.append(refusal)
            continue
        return key
    raise VerificationError("; ".join(problems) or "no checkpoint key in the JWKS")
