"""The one strong-ETag rule, for API answers and public pages alike: a hash of the exact bytes served."""

from __future__ import annotations

import hashlib


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def if_none_match(header: str, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (the weak comparison of RFC 9110 §13.1.2)."""
    if header.strip() == "*":
        return True
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return etag in candidates
