"""Signing keys: create, rotate, revoke, load. Private halves live in files, encrypted at rest.

The passphrase comes from REGISTRY_KEY_PASSPHRASE(_FILE); key files are
written 0600 under REGISTRY_KEY_DIR. Loaded keys are cached per process
because bcrypt-pbkdf deliberately makes loading slow.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provenance import keys as pkeys
from registry.errors import Conflict, NotFound, ValidationFailed
from registry.transparency.models import SigningKey

_cache: dict[str, Ed25519PrivateKey] = {}
_cache_lock = threading.Lock()


def _key_dir() -> Path:
    path = Path(settings.REGISTRY_KEY_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _passphrase() -> bytes:
    return settings.REGISTRY_KEY_PASSPHRASE.encode("utf-8")


def _write_key_file(name: str, pem: bytes) -> None:
    path = _key_dir() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def load_private_key(key: SigningKey) -> Ed25519PrivateKey:
    with _cache_lock:
        cached = _cache.get(key.kid)
    if cached is not None:
        return cached
    try:
        pem = (_key_dir() / key.key_file).read_bytes()
    except OSError as exc:
        raise NotFound(f"the private key file for {key.kid} is missing: {exc.strerror}") from exc
    private = pkeys.load_private_key(pem, _passphrase())
    if pkeys.thumbprint(pkeys.public_bytes(private)) != key.kid:
        raise Conflict(f"the key file {key.key_file} does not hold key {key.kid}")
    with _cache_lock:
        _cache[key.kid] = private
    return private


def active_key(purpose: str) -> tuple[SigningKey, Ed25519PrivateKey]:
    try:
        key = SigningKey.objects.using("default").get(purpose=purpose, status=SigningKey.ACTIVE)
    except SigningKey.DoesNotExist:
        raise NotFound(f"no active {purpose} key: run `python manage.py ensure_keys`") from None
    return key, load_private_key(key)


def key_create(*, purpose: str) -> SigningKey:
    """Create a new active key of ``purpose``; fails if one is already active (use rotate)."""
    if purpose not in pkeys.PURPOSES:
        raise ValidationFailed(f"purpose must be one of {', '.join(pkeys.PURPOSES)}")
    private = pkeys.generate_private_key()
    raw = pkeys.public_bytes(private)
    kid = pkeys.thumbprint(raw)
    name = f"{purpose}-{kid}.pem"
    with transaction.atomic():
        if SigningKey.objects.filter(purpose=purpose, status=SigningKey.ACTIVE).exists():
            raise Conflict(f"an active {purpose} key exists already; rotate it instead")
        _write_key_file(name, pkeys.private_key_to_pem(private, _passphrase(), rounds=settings.REGISTRY_KEY_KDF_ROUNDS))
        key = SigningKey.objects.create(
            kid=kid, purpose=purpose, public_key=raw, key_file=name, not_before=timezone.now()
        )
    with _cache_lock:
        _cache[kid] = private
    return key


def key_rotate(*, purpose: str) -> tuple[SigningKey | None, SigningKey]:
    """Retire the active key of ``purpose`` (it keeps verifying its past signatures) and create a new one.

    A checkpoint key's window is counted in tree sizes (checkpoints carry no
    time): the rotation takes the log lock, so no append is signing, stamps
    the old key's ``last_tree_size`` with the log's size, and commits before
    any later append runs; appends re-read the active key under the same
    lock (log.append), so the retired key signs no larger tree.
    """
    with transaction.atomic():
        size = None
        if purpose == SigningKey.CHECKPOINT:
            # Imported here: the log module signs with keys from this one.
            from registry.transparency import log

            log.lock_log()  # before the key row, in the order appends take them (no deadlock)
            size = log.tree_size()
        old = SigningKey.objects.select_for_update().filter(purpose=purpose, status=SigningKey.ACTIVE).first()
        if old is not None:
            old.status = SigningKey.RETIRED
            old.not_after = timezone.now()
            old.last_tree_size = size
            old.save(update_fields=["status", "not_after", "last_tree_size"])
        new = key_create(purpose=purpose)
    return old, new


def key_revoke(*, kid: str, reason: str) -> SigningKey:
    """Revoke a key: every signature it made becomes invalid (PROTOCOL.md §3)."""
    if not reason.strip():
        raise ValidationFailed("a revocation reason is required")
    with transaction.atomic():
        try:
            key = SigningKey.objects.select_for_update().get(kid=kid)
        except SigningKey.DoesNotExist:
            raise NotFound(f"no key {kid}") from None
        if key.status == SigningKey.REVOKED:
            raise Conflict(f"key {kid} is already revoked")
        key.status = SigningKey.REVOKED
        key.not_after = key.not_after or timezone.now()
        key.revocation_reason = reason
        key.save(update_fields=["status", "not_after", "revocation_reason"])
    with _cache_lock:
        _cache.pop(kid, None)
    return key


def ensure_keys() -> list[SigningKey]:
    """Create the statement and checkpoint keys when none is active (first start)."""
    created = []
    for purpose in pkeys.PURPOSES:
        if not SigningKey.objects.filter(purpose=purpose, status=SigningKey.ACTIVE).exists():
            created.append(key_create(purpose=purpose))
    return created


def jwk(key: SigningKey) -> dict[str, Any]:
    return pkeys.public_jwk(
        bytes(key.public_key),
        purpose=key.purpose,
        status=key.status,
        not_before=key.not_before,
        not_after=key.not_after,
        last_tree_size=key.last_tree_size,
    )


def jwks() -> dict[str, Any]:
    return {"keys": [jwk(k) for k in SigningKey.objects.order_by("purpose", "not_before")]}


def keyset() -> pkeys.KeySet:
    return pkeys.KeySet.from_jwks(jwks())
