"""A platform key's facts and quota, leased per process between round trips to Redis: most keyed lookups make none.

A keyed lookup used to cost one Redis round trip (``throttles.read_and_count``: the
key's cached facts read and the request counted). On the bench's virtual machine an
idle Redis takes ~0.45 ms to wake, a third of a lookup (docs/performance.md, row 1e).
So each worker process keeps, per platform key, a **lease**: the key's facts and the
window's count as that round trip returned them, plus an **allowance** of requests it
may let through on its own before it must ask Redis again. A request within the lease
is decided in memory; the units it spends are **pending** and go to Redis, in one
``INCRBY``, with the next round trip (the same script: ``throttles.read_and_count``).

The invariants, and the tests that check them (tests/registry/api/test_leases.py in one
process; tests/reliability/test_keys_across_workers.py across gunicorn workers):

- **A lease lasts at most ``settings.REGISTRY_KEY_SYNC_MS``** (250 ms by default) after
  its round trip, and serves at most ``allowance`` requests. Every round trip re-reads the
  key's facts, so **a revoked platform key is refused by every worker at most
  ``REGISTRY_KEY_SYNC_MS`` after its revocation commits** (by the revoking process at
  once: ``key_cache.revoke_on_commit`` drops its leases). The same bound holds for a
  revocation's own write to Redis; the key cache's TTL bounds the case where that write
  failed, as before.
- **The allowance is ``min(REGISTRY_THROTTLE_BATCH, (limit − estimate) // HEADROOM_SHARE)``**,
  where the estimate is the sliding window's count (``throttles.decide``) the round trip
  saw. So a process lets a request through only when the count it knows plus its own
  pending units stay within the quota, and near the quota (headroom under
  ``HEADROOM_SHARE`` units) there is no lease: every request is counted in Redis, as
  before. Small quotas (under 64 a window) are never leased at all.
- **The overshoot is bounded.** A process never holds more than ``REGISTRY_THROTTLE_BATCH``
  (M) units that Redis has not seen, and it refuses nothing on its own: a refusal always
  comes from a round trip. So when W processes serve one key at once, the units let
  through in a window exceed the quota by at most **(W − 1) × M** (each other process's
  unseen units; the deciding one's view includes its own); with the defaults (M = 100,
  8 workers) that is 700 over 60,000 a minute, 1.2%. A bulk lookup's units beyond the first
  go to Redis directly (``throttles.charge``), and then end the lease (``end``), so a
  process's view never lacks its own units. A worker that exits loses at most M
  pending units, in the client's favour. Units pending across a window boundary are
  added to the window they were spent in (then the previous one); older ones, which no
  decision reads any more, are dropped.
- **Only what a round trip returned is leased**: facts that exist and are not revoked, for
  the quota (scope, client, window, limit) that counted them. Unknown and forged keys never
  get one (their facts are not in the store), so nobody can fill this table; it holds at
  most one lease per platform key in use, and is emptied if it ever passes ``MAX_LEASES``.
- **Without Redis there are no leases** (``make run``'s database cache): every request is
  counted in the database, as before. ``REGISTRY_KEY_SYNC_MS=0`` switches leases off.

A fixed per-process TTL with a pub/sub revocation channel was the alternative: it needs a
listener thread in every worker, and a lost message (a reconnect) would extend the
revocation bound to the TTL; re-reading the facts with each round trip makes the bound
hold by construction.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:  # throttles calls end(); only the type is needed here
    from registry.api.throttles import Quota

# A lease may spend at most this fraction (1/64) of the headroom the round trip saw.
HEADROOM_SHARE = 64
MAX_LEASES = 10_000
_leases: dict[str, Lease] = {}
_lock = threading.Lock()  # gunicorn's threads share a worker's leases
_clock = time.monotonic  # the tests move it


@dataclass
class Lease:
    value: Any  # the key's facts as the store holds them
    window: str  # the quota's current_key when leased
    limit: int
    current: int  # the window's count after the round trip (this process's units included)
    previous: int  # the previous window's count
    until: float  # _clock() after which the lease is over
    allowance: int  # requests this process may still let through on its own
    pending: int = 0  # units it let through that Redis has not been told about


def enabled() -> bool:
    return settings.REGISTRY_KEY_SYNC_MS > 0 and settings.REGISTRY_THROTTLE_BATCH > 0


def admit(key: str, quota: Quota) -> Any | None:
    """The leased facts of ``key``, having counted this request on ``quota`` in memory; None: ask Redis."""
    with _lock:
        lease = _leases.get(key)
        if (
            lease is None
            or lease.allowance <= 0
            or lease.window != quota.current_key
            or lease.limit != quota.limit
            or _clock() >= lease.until
        ):
            return None
        lease.allowance -= 1
        lease.pending += 1
        # What quota.spend decides on: the count this process knows, its pending units included.
        quota.counted = (lease.current + lease.pending, lease.previous)
        quota.lease = key
        return lease.value


def take_pending(key: str, quota: Quota) -> tuple[int, int]:
    """End ``key``'s lease before a round trip: its pending units for (quota's window, the previous one)."""
    with _lock:
        lease = _leases.pop(key, None)
    if lease is None or not lease.pending:
        return 0, 0
    if lease.window == quota.current_key:
        return lease.pending, 0
    if lease.window == quota.previous_key:
        return 0, lease.pending
    return 0, 0  # two windows old: no decision reads that count any more


def grant(key: str, quota: Quota, value: Any) -> None:
    """Lease ``key`` after a round trip that found its ``value`` and counted this request (``quota.counted``)."""
    if quota.counted is None or not enabled():
        return
    current, previous = quota.counted
    estimate = previous * (1 - quota.elapsed / quota.period) + current
    allowance = min(settings.REGISTRY_THROTTLE_BATCH, int((quota.limit - estimate) // HEADROOM_SHARE))
    if allowance <= 0:
        return
    lease = Lease(
        value=value,
        window=quota.current_key,
        limit=quota.limit,
        current=current,
        previous=previous,
        until=_clock() + settings.REGISTRY_KEY_SYNC_MS / 1000,
        allowance=allowance,
    )
    with _lock:
        held = _leases.get(key)
        if held is not None and held.pending:
            return  # another thread's lease, with units Redis has not seen: it keeps them (≤ M per process)
        if len(_leases) >= MAX_LEASES:
            _leases.clear()  # losing pending units errs in the client's favour, by at most M each
        _leases[key] = lease


def end(key: str) -> None:
    """End ``key``'s lease but keep its pending units for the next round trip (a bulk lookup counted in Redis
    by this process: the lease's count no longer includes all of this process's units)."""
    with _lock:
        lease = _leases.get(key)
        if lease is not None:
            lease.allowance = 0


def drop(keys: list[str]) -> None:
    """Forget ``keys``' leases in this process (a revocation): their next request asks Redis."""
    with _lock:
        for key in keys:
            _leases.pop(key, None)
