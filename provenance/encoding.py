"""Strict base64 helpers: standard with padding, and base64url without padding."""

from __future__ import annotations

import base64
import binascii
import re

from provenance.errors import VerificationError

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, what: str = "value") -> bytes:
    """Decode standard base64 with padding; anything outside the alphabet is an error."""
    if not isinstance(text, str):
        raise VerificationError(f"{what} must be a base64 string")
    try:
        # strict_mode rejects characters outside the alphabet, missing or
        # excess padding and data after it, in C (much faster than validate=True).
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"{what} is not valid base64: {exc}") from exc


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: object, what: str = "value") -> bytes:
    """Decode unpadded base64url, accepting only the one canonical encoding of the bytes."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise VerificationError(f"{what} must be unpadded base64url")
    try:
        data = base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"{what} is not valid base64url: {exc}") from exc
    if b64url_encode(data) != text:
        raise VerificationError(f"{what} is not canonical base64url (its unused bits are not zero)")
    return data
