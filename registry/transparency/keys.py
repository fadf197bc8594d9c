"""Signing keys: create, rotate, revoke, load, archive. Private halves live in files, encrypted at rest.

The passphrase comes from REGISTRY_KEY_PASSPHRASE(_FILE); key files are
written 0600 under REGISTRY_KEY_DIR. Loaded keys are cached per process
because bcrypt-pbkdf deliberately makes loading slow; a process that loads a
new active key drops the cached key it replaces. A key that no longer signs
has no business on the serving host: :func:`key_archive` moves its file out.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provenance import keys as pkeys
from provenance.issue import keys as ikeys
from registry.errors import Conflict, NotFound, ValidationFailed
from registry.transparency.models import SigningKey

_cache: dict[str, Ed25519PrivateKey] = {}
_cache_purpose: dict[str, str] = {}  # kid -> purpose of each cached key
_cache_lock = threading.Lock()


def _remember(key: SigningKey, private: Ed25519PrivateKey) -> None:
    with _cache_lock:
        if key.status == SigningKey.ACTIVE:
            # The key this one replaced signs nothing any more: do not keep it in this process's memory.
            for kid in [k for k, purpose in _cache_purpose.items() if purpose == key.purpose and k != key.kid]:
                _cache.pop(kid, None)
                _cache_purpose.pop(kid, None)
        _cache[key.kid] = private
        _cache_purpose[key.kid] = key.purpose


def _forget(kid: str) -> None:
    with _cache_lock:
        _cache.pop(kid, None)
        _cache_purpose.pop(kid, None)


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
    private = ikeys.load_private_key(pem, _passphrase())
    if pkeys.thumbprint(ikeys.public_bytes(private)) != key.kid:
        raise Conflict(f"the key file {key.key_file} does not hold key {key.kid}")
    _remember(key, private)
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
    private = ikeys.generate_private_key()
    raw = ikeys.public_bytes(private)
    kid = pkeys.thumbprint(raw)
    name = f"{purpose}-{kid}.pem"
    with transaction.atomic():
        if SigningKey.objects.filter(purpose=purpose, status=SigningKey.ACTIVE).exists():
            raise Conflict(f"an active {purpose} key exists already; rotate it instead")
        _write_key_file(name, ikeys.private_key_to_pem(private, _passphrase(), rounds=settings.REGISTRY_KEY_KDF_ROUNDS))
        key = SigningKey.objects.create(
            kid=kid, purpose=purpose, public_key=raw, key_file=name, not_before=timezone.now()
        )
    _remember(key, private)
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
    """Revoke a key: every signature it made becomes invalid (docs/protocol.md §4)."""
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
    _forget(kid)
    return key


def archive_dir(option: str | Path | None = None) -> Path | None:
    """The archive directory: the command's option, else REGISTRY_KEY_ARCHIVE_DIR, else None (keep files)."""
    chosen = option or settings.REGISTRY_KEY_ARCHIVE_DIR
    return Path(chosen) if chosen else None


def key_archive(*, key: SigningKey, to: Path) -> Path:
    """Move the private key file of a retired or revoked key out of REGISTRY_KEY_DIR into ``to``; return its path.

    Nothing signs with such a key again (docs/protocol.md §4: verifying needs only
    its public half, which stays in the database and the JWKS), so the serving
    host need not hold it: a stolen key directory then yields only the active
    keys. ``to`` should be offline storage (a mount that is taken away after the
    rotation, or a directory emptied to an offline copy): this function
    moves the file; getting it off the machine is the operator's part.
    """
    if key.status == SigningKey.ACTIVE:
        raise Conflict(f"key {key.kid} is active: rotate or revoke it before archiving its private key")
    key_dir = _key_dir().resolve()
    target = Path(to).resolve()
    if target == key_dir or key_dir in target.parents:
        raise ValidationFailed(f"the archive directory {target} must be outside REGISTRY_KEY_DIR {key_dir}")
    source = key_dir / key.key_file
    if not source.exists():
        raise NotFound(f"the private key file of {key.kid} is not in REGISTRY_KEY_DIR (archived already?)")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest = target / key.key_file
    if dest.exists():
        raise Conflict(f"{dest} exists already: not overwriting an archived key")
    # A rename on one filesystem; across filesystems (a mounted medium) a copy, then the original unlinked.
    shutil.move(source, dest)
    dest.chmod(0o600)
    _forget(key.kid)
    return dest


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
