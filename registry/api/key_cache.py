"""What a request needs to know about an API credential, cached in ``CACHES["shared"]``: one read per request.

A label token or platform key is checked against its row once; after that the
facts a request needs (kind, id, label id, revoked) answer from the store every
worker shares, under the credential's HMAC digest. The invariants, and the tests
that check them (tests/registry/api/test_key_cache.py, and
tests/reliability/test_keys_across_workers.py for several gunicorn workers):

- **Keyed by the digest, never the plaintext.** The cache key is
  ``registry.api.tokens._digest(token)``, the HMAC-SHA256 of the whole token under
  ``REGISTRY_TOKEN_PEPPER``, the same value the row stores. A hit means the
  presented token is the one whose row matched (the digest lookup *is* the
  comparison), and it gives no timing oracle: without the pepper nobody can
  choose or approach a digest. The database path keeps ``hmac.compare_digest``.
- **Only a token that matched its row is cached.** Unknown and malformed tokens
  are never written (no negative cache for anyone to fill); a revoked token is
  cached as revoked, which is bounded by the rows that exist.
- **Filled with ``add``, revoked with ``set`` on commit.** Revoking deletes the
  entry at once and, when the transaction commits, writes a *revoked* entry for
  ``REVOKED_SECONDS``. A request that read the row just before the revocation
  committed cannot put the active facts back afterwards: its ``add`` finds the
  revoked entry. So a revoked credential is refused by every worker from its next
  request on (or, for a platform key another worker has leased, within
  ``REGISTRY_KEY_SYNC_MS``: see the last point).
- **Entries expire after ``settings.REGISTRY_KEY_CACHE_SECONDS``** (60 by default
  with Redis; 0 switches the cache off, the default without Redis, where a read of
  the database cache would cost what the credential query it saves costs). The TTL
  bounds the one case left: a revocation whose write to the store failed (the
  store unreachable at commit; logged as an error) is honoured by every worker
  within the TTL.
- **A store outage costs speed, never correctness**: a failed read falls back to
  the database, which is the truth.
- **At most one round trip per keyed request on Redis**: a platform key's facts are
  read by the same script that counts the request against its quota
  (``throttles.read_and_count``), which counts only when the facts are there; and a
  platform key in steady use is leased per process between such round trips for at most
  ``REGISTRY_KEY_SYNC_MS`` (``registry.api.leases``), which is then the bound on how long
  another worker may still serve a revoked platform key. Label tokens are read per request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

from registry.api import leases, throttles
from registry.api.throttles import Quota

logger = logging.getLogger(__name__)
PREFIX = "apikey:v1"
# Outlives by far any active entry a slow request could still try to add after a revocation.
REVOKED_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Facts:
    """All a request learns about a credential: no name, no secret, no row."""

    kind: str  # registry.api.tokens.LABEL_PREFIX or PLATFORM_PREFIX
    id: int
    label_id: int | None
    revoked: bool = False


def enabled() -> bool:
    return settings.REGISTRY_KEY_CACHE_SECONDS > 0


def _key(digest: str) -> str:
    return f"{PREFIX}:{digest}"


def get(digest: str, *, counting: Quota | None = None) -> Facts | None:
    """The cached facts for ``digest``; None on a miss, when switched off, or when the store is down.

    With ``counting`` (a platform key's quota), the same round trip counts the request on
    it when the facts are there (``throttles.read_and_count``).
    """
    if not enabled():
        return None
    key, done, found = _key(digest), False, None
    if counting is not None:
        # A platform key in steady use is decided in this process's memory most of the time.
        found = leases.admit(key, counting) if leases.enabled() else None
        if found is not None:
            return Facts(*found)
        done, found = throttles.read_and_count(key, counting, leases.take_pending(key, counting))
        if found is not None and not found[3]:  # not revoked
            leases.grant(key, counting, found)
    if not done:
        try:
            found = caches["shared"].get(key)
        except Exception:  # noqa: BLE001 - the database answers instead
            logger.warning("key cache unavailable; checking the credential in the database", exc_info=True)
            return None
    # A plain tuple in the store: nothing to unpickle but builtins, whatever this module becomes.
    return Facts(*found) if found is not None else None


def remember(digest: str, facts: Facts) -> None:
    """Cache what the database just said; never over an entry already there (a revocation's, above all)."""
    if not enabled():
        return
    timeout = REVOKED_SECONDS if facts.revoked else settings.REGISTRY_KEY_CACHE_SECONDS
    try:
        caches["shared"].add(_key(digest), (facts.kind, facts.id, facts.label_id, facts.revoked), timeout)
    except Exception:  # noqa: BLE001
        logger.warning("key cache unavailable; credential not cached", exc_info=True)


def revoke_on_commit(revoked: Iterable[tuple[str, Facts]]) -> None:
    """Called inside the transaction that revokes credentials, with each one's stored digest and facts."""
    entries = {_key(digest): (f.kind, f.id, f.label_id, True) for digest, f in revoked}
    if not entries:
        return
    store = caches["shared"]
    leases.drop(list(entries))  # this process refuses them at once; the others within REGISTRY_KEY_SYNC_MS

    def mark() -> None:
        try:
            store.set_many(entries, REVOKED_SECONDS)
        except Exception:  # noqa: BLE001 - the active entries then expire with their TTL
            logger.error(
                "key cache: could not mark %d revoked credential(s); they stop within %d s",
                len(entries),
                settings.REGISTRY_KEY_CACHE_SECONDS,
                exc_info=True,
            )

    # Deleting now is safe whatever happens to the transaction (a rollback costs one miss) and
    # covers callers whose transaction never commits in this process, such as tests.
    try:
        store.delete_many(list(entries))
    except Exception:  # noqa: BLE001
        logger.warning("key cache unavailable; revocation marked on commit only", exc_info=True)
    transaction.on_commit(mark)
