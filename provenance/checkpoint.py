"""C2SP tlog-checkpoint bodies in C2SP signed notes (what Go's sumdb/note verifies): parsing and verification.

Note text: ``<origin>\\n<size>\\n<base64 root>\\n`` (optionally followed by
extension lines), a blank line, then one line per signature:
``— <key name> <base64(key_hash[4] ‖ sig[64])>\\n`` with U+2014 as the dash.
key_hash = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4] (0x01 = Ed25519).
Verifier keys (vkeys, Go's ``note.NewVerifier`` strings) name a key of any
signature type: ``<name>+<hex key ID>+<base64(type ‖ pubkey)>``; witness
cosignature keys (type 0x04) are :mod:`provenance.cosignature`'s.
Signing a note is the issuer's: provenance/issue/sign.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.keys import KeySet, PublicKey

ALG_ED25519 = 0x01  # signed-note Ed25519 signatures: what logs sign checkpoints with
ALG_COSIGNATURE_V1 = 0x04  # C2SP tlog-cosignature timestamped Ed25519 witness cosignatures
DASH = "\u2014"
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_HEX8 = re.compile(r"[0-9a-f]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")  # signed-note: "below U+0020" other than newline


def note_key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """signed-note key ID: SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()[:4]


def key_hash(origin: str, public_key: bytes) -> bytes:
    return note_key_id(origin, ALG_ED25519, public_key)


def verifier_key(origin: str, public_key: bytes) -> str:
    """Go's note verifier key string: ``<name>+<hex key_hash>+<base64(0x01 ‖ key)>``."""
    return f"{origin}+{key_hash(origin, public_key).hex()}+{b64encode(bytes([ALG_ED25519]) + public_key)}"


def _check_origin(origin: str) -> None:
    if not origin or any(c.isspace() for c in origin) or "+" in origin:
        raise VerificationError("the origin must be non-empty text without spaces or '+'")


def check_key_name(name: str) -> None:
    """signed-note: a key name is non-empty, without Unicode spaces, '+' or control characters."""
    if not name or any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name):
        raise VerificationError(f"{name!r} is not a signed-note key name (non-empty, no spaces, no '+')")


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey: key name, signature type, key ID and the 32-byte Ed25519 public key."""

    name: str
    alg: int
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([self.alg]) + self.public_key)}"

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: object, *, alg: int) -> VerifierKey:
    """Parse ``<name>+<hex key ID>+<base64(type ‖ key)>``, of signature type ``alg`` (Ed25519 keys only).

    As Go's note.NewVerifier: the key ID must be the one the name and key give.
    We accept only the lowercase hex that :func:`verifier_key` writes.
    """
    if not isinstance(text, str):
        raise VerificationError("a verifier key must be text")
    name, sep1, rest = text.partition("+")
    key_id_hex, sep2, key_b64 = rest.partition("+")  # base64 may hold '+': split twice only
    if not (sep1 and sep2):
        raise VerificationError(f"verifier key {text!r} is not <name>+<key ID>+<key>")
    check_key_name(name)
    if not _HEX8.fullmatch(key_id_hex):
        raise VerificationError(f"verifier key {name}: the key ID must be 8 lowercase hex digits")
    data = b64decode(key_b64, f"verifier key {name}")
    if not data or data[0] != alg:
        found = f"0x{data[0]:02x}" if data else "none"
        raise VerificationError(f"verifier key {name}: signature type {found}, expected 0x{alg:02x}")
    if len(data) != 33:
        raise VerificationError(f"verifier key {name}: an Ed25519 public key has 32 bytes")
    key_id = note_key_id(name, alg, data[1:])
    if key_id.hex() != key_id_hex:
        raise VerificationError(f"verifier key {name}: key ID {key_id_hex} does not match its name and key")
    return VerifierKey(name=name, alg=alg, key_id=key_id, public_key=data[1:])


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

    def signed_by(self, vkey: VerifierKey) -> bool:
        """Whether a signature line of ``vkey`` (an Ed25519 note key, type 0x01) verifies over the note text.

        Lines of other keys, even sharing the name or the key ID (not both), are ignored (signed-note).
        """
        if vkey.alg != ALG_ED25519:
            raise VerificationError(f"{vkey.name} is not an Ed25519 note key (type 0x{vkey.alg:02x})")
        message = self.body.encode("utf-8")
        return any(
            name == vkey.name and khash == vkey.key_id and vkey.verify(sig, message)
            for name, khash, sig in self.signatures
        )


def parse_checkpoint(text: object) -> Checkpoint:
    """Parse a signed note holding a checkpoint; signatures are checked by :meth:`Checkpoint.verify`."""
    if not isinstance(text, str):
        raise VerificationError("the checkpoint must be text")
    if len(text) > 1_000_000 or _CONTROL.search(text):
        # signed-note: no ASCII control character other than newline (so no "\r" either).
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
    if "" in lines[3:]:
        raise VerificationError("a checkpoint extension line must not be empty")
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
