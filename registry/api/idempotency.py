"""Idempotency-Key for label writes: a retried request replays the first answer instead of acting twice.

The record is inserted *before* the write, in the same transaction. A second
request with the same key therefore blocks on the unique index until the
first commits, then fails to insert and replays the stored answer; if the
first rolls back, nothing was stored and the retry runs afresh. Only
successful answers are stored: a refused write changed nothing, so repeating
it is already safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from registry.api.models import IdempotencyRecord
from registry.catalog.models import Label
from registry.errors import DomainError, ValidationFailed

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422


@dataclass(frozen=True)
class Outcome:
    status: int
    body: str
    replayed: bool = False


def fingerprint(method: str, path: str, data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: a body may hold a lone surrogate ("\ud800" is valid JSON); it is refused later, not here.
    return hashlib.sha256(f"{method} {path}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _clean_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationFailed(
            f"Idempotency-Key must be 1–{MAX_KEY_LENGTH} printable ASCII characters",
            fields={"Idempotency-Key": ["1–255 printable ASCII characters, e.g. a UUID."]},
        )
    return key


def _replay(record: IdempotencyRecord, request_hash: str) -> Outcome:
    if record.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request; use a new key for a new request",
            fields={"Idempotency-Key": ["Already used with a different body or endpoint."]},
        )
    return Outcome(record.status_code, record.response_body, replayed=True)


def run_idempotent(
    *, label: Label, key: str | None, request_hash: str, action: Callable[[], tuple[int, str]]
) -> Outcome:
    """Run ``action`` (returning status and body) at most once per (label, key)."""
    if key is None:
        with transaction.atomic():
            return Outcome(*action())
    key = _clean_key(key)
    existing = IdempotencyRecord.objects.filter(label=label, key=key).first()
    if existing is not None:
        return _replay(existing, request_hash)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                label=label, key=key, request_hash=request_hash, status_code=0, response_body=""
            )
            status, body = action()
            record.status_code, record.response_body = status, body
            record.save(update_fields=["status_code", "response_body"])
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(label=label, key=key).first()
        if existing is None:
            raise
        return _replay(existing, request_hash)
    return Outcome(status, body)
