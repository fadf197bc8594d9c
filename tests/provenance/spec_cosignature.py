"""An independent tlog-cosignature/v1 verifier written straight from the C2SP text, for tests only.

It shares no code with provenance (no key ID, message or parsing helper), so a
mistake copied between the witness's signer and provenance.cosignature shows
up as a disagreement with this one.
"""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def spec_vkey(name: str, public_key: bytes) -> str:
    # signed-note: key ID = SHA-256(key name || 0x0A || signature type || public key)[:4]; type 0x04.
    key_id = hashlib.sha256(name.encode() + b"\x0a" + b"\x04" + public_key).digest()[:4]
    hex_id = f"{struct.unpack('>I', key_id)[0]:08x}"  # uint32, big-endian, as hex
    return name + "+" + hex_id + "+" + base64.b64encode(b"\x04" + public_key).decode()


def spec_verify_line(body: str, line: str, name: str, public_key: bytes) -> int:
    """The timestamp of signature line ``line`` if it is a valid cosignature by (name, key) over ``body``."""
    assert line.startswith("\u2014 ") and line.endswith("\n"), line
    key_name, b64 = line[2:-1].split(" ")
    assert key_name == name
    raw = base64.b64decode(b64, validate=True)
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == hashlib.sha256(name.encode() + b"\n\x04" + public_key).digest()[:4]
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    assert timestamp <= 2**63 - 1
    message = b"cosignature/v1\n" + b"time " + str(timestamp).encode() + b"\n" + body.encode()
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw[12:], message)
    except InvalidSignature as exc:
        raise AssertionError("the cosignature does not verify") from exc
    return int(timestamp)
