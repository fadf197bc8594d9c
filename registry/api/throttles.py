"""Per-client rate limits as sliding-window counters in ``CACHES["shared"]``: one round trip per request.

Who is counted: anonymous lookups by client address (``registry.client_address``:
X-Forwarded-For only behind trusted proxies), platform keys by key (every API
request made with one), label writes by token. A bulk lookup costs one unit per
identifier it names (``charge``): 1,000 identifiers in one call spend what 1,000
single lookups spend.

**The algorithm: a sliding-window counter built from two fixed windows.** Time
is cut into windows of the rate's period (a minute for ``600/min``); each
(scope, client, window) has one integer counter. A request adds its cost to the
current window's counter and is let through when

    previous window's count × (1 − elapsed fraction of this window) + this window's count ≤ limit

that is, the previous window's requests are taken as spread evenly over it. Unlike
a fixed window, a client cannot send its whole quota at the end of one window and
again at the start of the next; unlike DRF's ``SimpleRateThrottle`` (a list of
every request's timestamp, read and rewritten per request: 60,000 entries at the
platform quota) its cost does not grow with the rate. A refused request takes its
units back, so retrying while refused spends nothing, as with DRF. Retry-After is
when the same request would fit if nothing else came in (``decide``).

**The store.** On Redis (production: ``REDIS_URL``) counting is one round trip: a
Lua script (``SET current 0 EX ttl NX``, ``INCRBY current cost``, ``GET previous``)
that Redis runs atomically, so concurrent workers never lose a count. For a
platform key the same script first reads the key's cached facts
(``registry.api.key_cache``) and counts only if they are there, so a keyed lookup
costs one round trip in all, and a token nobody issued never creates a counter
(``read_and_count``); and a platform key in steady use is leased per worker between
such round trips (``registry.api.leases``: at most ``REGISTRY_KEY_SYNC_MS`` and
``REGISTRY_THROTTLE_BATCH`` requests, whose units the next round trip adds), so its
quota can be exceeded by at most (workers − 1) × that batch. Without Redis the counters
are rows of the database cache (``make run``), read and written in one transaction:
SQLite serializes it under its write lock; on PostgreSQL two concurrent requests of one
client may count once, so such a client can exceed its quota by at most its own
concurrency. On PostgreSQL that transaction does not wait for its WAL flush (a count lost
in a crash costs nothing). Limits hold across workers either way; only a lease counts in
a process, within its bounds. A store outage lets requests through (logged): a throttle must not take the API
down with it.

Bad credentials are counted per client address at the anonymous rate, on a counter
of their own; past it, the address gets 429 before its next credential is looked up
in the database (``refuse_guessing``).

Switched off entirely by ``settings.REGISTRY_THROTTLE`` (the test settings do).
Rates are read at request time so ``override_settings`` works in tests.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from registry.api import leases
from registry.client_address import client_address
from registry.errors import ValidationFailed

logger = logging.getLogger(__name__)
PREFIX = "throttle:v1"
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PLATFORM_SCOPE = "lookup_platform"
# Bad credentials from one address are limited at the anonymous lookup rate, on a counter of their own.
GUESSING_RATE_OF = "lookup_anon"
_clock = time.time  # the tests move it


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60): DRF's notation, first letter of the period."""
    number, period = rate.split("/")
    return int(number), PERIODS[period[0]]


def decide(*, previous: int, current: int, cost: int, limit: int, elapsed: float, period: int) -> float:
    """0 when a request of ``cost`` units fits, ``current`` counting them already; otherwise seconds to wait.

    The wait is until the same request would fit if no other came in meanwhile: while
    the previous window's share fades, or else into the next window, where this
    window's count (without the refused request) becomes the previous one.
    """
    if previous * (1 - elapsed / period) + current <= limit:
        return 0.0
    if cost > limit:
        return float(period)  # never fits (a bulk lookup checks this first and answers 400)
    others = current - cost
    room = limit - others - cost
    if room >= 0:  # this window has room; the previous window's tail is in the way (previous > 0)
        wait = (1 - room / previous) * period - elapsed
    else:  # others > limit - cost ≥ 0
        wait = (period - elapsed) + period * max(0.0, 1 - (limit - cost) / others)
    return max(1.0, wait)


@dataclass
class Quota:
    """One client's counter in one scope, for the request at hand; ``spent``: units counted so far."""

    scope: str
    rate: str
    limit: int
    period: int
    current_key: str
    previous_key: str
    elapsed: float
    ttl: int
    spent: int = 0
    counted: tuple[int, int] | None = None  # (current, previous) counted by read_and_count, not settled yet
    lease: str | None = None  # the key whose lease (registry.api.leases) counted this request, if any

    @classmethod
    def of(cls, scope: str, ident: str, *, rate_of: str | None = None) -> Quota | None:
        """``ident``'s quota in ``scope``, at the rate of ``rate_of`` (default: the scope's); None: no limit."""
        if not settings.REGISTRY_THROTTLE:
            return None
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(rate_of or scope)
        if rate is None:
            return None
        limit, period = parse_rate(rate)
        now = _clock()
        window = int(now // period)
        return cls(
            scope=scope,
            rate=rate,
            limit=limit,
            period=period,
            current_key=f"{PREFIX}:{scope}:{ident}:{window}",
            previous_key=f"{PREFIX}:{scope}:{ident}:{window - 1}",
            elapsed=now - window * period,
            # The current window's count is the previous one all through the next window.
            ttl=math.ceil((window + 2) * period - now),
        )

    def spend(self, units: int) -> float:
        """Count ``units`` more for this request: 0 if it still fits, else the wait (and all of it is taken back)."""
        if self.counted is not None and units == 1 and not self.spent:
            (current, previous), self.counted = self.counted, None
        else:
            try:
                current, previous = _add(self, units)
            except Exception:  # noqa: BLE001 - see the module docstring: fail open, loudly
                logger.warning("throttle store unavailable; request let through", exc_info=True)
                return 0.0
        cost = self.spent + units
        wait = decide(
            previous=previous, current=current, cost=cost, limit=self.limit, elapsed=self.elapsed, period=self.period
        )
        if not wait:
            self.spent = cost
            return 0.0
        self.refund(cost)
        return wait

    def refund(self, units: int) -> None:
        try:
            _add(self, -units)
        except Exception:  # noqa: BLE001
            logger.warning("throttle store unavailable; refused request not taken back", exc_info=True)
        self.spent = 0

    def would_fit(self, units: int = 1) -> float:
        """Like ``spend`` but counts nothing: 0 or the wait."""
        try:
            found = caches["shared"].get_many([self.current_key, self.previous_key])
        except Exception:  # noqa: BLE001
            logger.warning("throttle store unavailable; request let through", exc_info=True)
            return 0.0
        return decide(
            previous=found.get(self.previous_key, 0),
            current=found.get(self.current_key, 0) + units,
            cost=units,
            limit=self.limit,
            elapsed=self.elapsed,
            period=self.period,
        )


# Atomic as a whole, one round trip each. GET of a missing key is false in Lua, hence ``or 0``.
_COUNT_LUA = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
return {count, tonumber(redis.call('GET', KEYS[2])) or 0}
"""
# The same, after reading KEYS[1] (a cached credential): this request's ARGV[1] units only when it is
# there. First the units a process let through on a lease (registry/api/leases.py) and has not told
# Redis about: ARGV[3] for the current window, ARGV[4] for the previous one (ARGV[5]: its TTL).
_READ_AND_COUNT_LUA = """
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', KEYS[3], 0, 'EX', ARGV[5], 'NX')
  redis.call('INCRBY', KEYS[3], ARGV[4])
end
local value = redis.call('GET', KEYS[1])
local units = tonumber(ARGV[3])
if value then units = units + tonumber(ARGV[1]) end
if units > 0 then
  redis.call('SET', KEYS[2], 0, 'EX', ARGV[2], 'NX')
  redis.call('INCRBY', KEYS[2], units)
end
if not value then return false end
return {value, tonumber(redis.call('GET', KEYS[2])), tonumber(redis.call('GET', KEYS[3])) or 0}
"""
_SHA = {lua: hashlib.sha1(lua.encode()).hexdigest() for lua in (_COUNT_LUA, _READ_AND_COUNT_LUA)}  # noqa: S324


def _script(store: RedisCache, lua: str, keys: list[str], args: list[Any]) -> Any:
    # Django's RedisCache.incr is two round trips (EXISTS, INCRBY) and gives a new key no expiry,
    # so scripts go to its client directly. The keys are Django's (prefix, version), so counters
    # are ordinary cache entries (integers are stored unpickled: get() reads them too).
    from redis.exceptions import NoScriptError

    keys = [store.make_and_validate_key(k) for k in keys]
    client = store._cache.get_client(keys[0], write=True)
    try:
        return client.evalsha(_SHA[lua], len(keys), *keys, *args)  # Redis names scripts by SHA-1
    except NoScriptError:  # first use on this Redis (or after SCRIPT FLUSH): EVAL loads it
        return client.eval(lua, len(keys), *keys, *args)


def _add(quota: Quota, units: int) -> tuple[int, int]:
    """Add ``units`` to the current window's counter: (its new value, the previous window's count)."""
    store = caches["shared"]
    if isinstance(store, RedisCache):
        count, previous = _script(store, _COUNT_LUA, [quota.current_key, quota.previous_key], [units, quota.ttl])
        return int(count), int(previous)
    # The database cache (or any other): read and write in one transaction (see the docstring).
    using = router.db_for_write(store.cache_model_class) if isinstance(store, DatabaseCache) else None
    # Only a transaction of its own may skip the WAL flush: inside another (a test's, or a view's
    # under ATOMIC_REQUESTS) SET LOCAL would reach that transaction's commit too, a log append's say.
    own = using is not None and not connections[using].in_atomic_block
    with transaction.atomic(using=using) if using else nullcontext():
        if own and connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        found = store.get_many([quota.current_key, quota.previous_key])
        count = found.get(quota.current_key, 0) + units
        store.set(quota.current_key, count, quota.ttl)
    return count, found.get(quota.previous_key, 0)


def read_and_count(key: str, quota: Quota, pending: tuple[int, int] = (0, 0)) -> tuple[bool, Any]:
    """Read ``key`` from the shared store and, if it is there, count one unit on ``quota``, in one round trip.

    ``pending``: units already let through on a lease (``registry.api.leases``), for the
    current and the previous window, added first whatever the key's state.
    (True, value or None) on Redis; (False, None) elsewhere or when the store is down,
    and then nothing was counted (the caller reads the key itself, the throttle counts).
    """
    store = caches["shared"]
    if not isinstance(store, RedisCache):
        return False, None
    try:
        found = _script(
            store,
            _READ_AND_COUNT_LUA,
            [key, quota.current_key, quota.previous_key],
            [1, quota.ttl, pending[0], pending[1], max(1, quota.ttl - quota.period)],
        )
    except Exception:  # noqa: BLE001
        logger.warning("shared store unavailable", exc_info=True)
        return False, None
    if found is None:
        return True, None
    value, count, previous = found
    quota.counted = (int(count), int(previous))
    return True, store._cache._serializer.loads(value)


def platform_quota(public_id: str) -> Quota | None:
    """The quota every request made with platform key ``public_id`` counts against (None: no limit)."""
    return Quota.of(PLATFORM_SCOPE, f"key{public_id}")


class CounterThrottle(BaseThrottle):
    """A DRF throttle on the counters above; a request costs one unit at the door."""

    def allow_request(self, request: Any, view: Any) -> bool:
        self._wait: float | None = None
        quota = self.quota_for(request)
        if quota is None:
            return True
        wait = quota.spend(1)
        if wait:
            self._wait = wait
            return False
        request.quota = quota  # a bulk lookup charges the rest of its cost on it (charge)
        return True

    def wait(self) -> float | None:
        return self._wait

    def quota_for(self, request: Any) -> Quota | None:
        raise NotImplementedError


class LookupThrottle(CounterThrottle):
    """``lookup_platform`` per platform key, ``lookup_anon`` per client address otherwise."""

    def quota_for(self, request: Any) -> Quota | None:
        if getattr(request.auth, "is_platform", False):
            # Made by the authentication, which may have counted this request already (read_and_count).
            return getattr(request, "platform_quota", None) or platform_quota(request.auth.public_id)
        return Quota.of("lookup_anon", client_address(request))


class WriteThrottle(CounterThrottle):
    """``write`` per label token (per client address for a request without one, which is refused anyway)."""

    def quota_for(self, request: Any) -> Quota | None:
        if getattr(request.auth, "is_label", False):
            return Quota.of("write", f"token{request.auth.public_id}")
        return Quota.of("write", client_address(request))


def charge(request: Any, units: int, what: str = "identifiers") -> None:
    """Make a request let through at one unit cost ``units`` in all (a bulk lookup: one per identifier;
    a bulk declaration: one per release, as many single writes would cost).

    A request costing more than the whole quota can never fit: 400, saying how many
    fit. Over the quota: 429 with Retry-After, and nothing of the request is counted.
    """
    quota: Quota | None = getattr(request, "quota", None)  # None: throttles off, or no rate
    if quota is None or units <= quota.spent:
        return
    if units > quota.limit:
        raise ValidationFailed(
            f"this request names {units} {what} and your quota is {quota.rate}: "
            f"send at most {quota.limit} per request"
            + (" (a platform key has a higher quota)" if quota.scope == "lookup_anon" else ""),
            fields={"non_field_errors": [f"At most {quota.limit} {what} per request."]},
        )
    wait = quota.spend(units - quota.spent)
    if quota.lease is not None:  # the lease's count lacks these units: its next request asks Redis
        leases.end(quota.lease)
    if wait:
        raise Throttled(wait=wait)


def refuse_guessing(request: Any) -> None:
    """Before a credential is read from the database: 429 for an address over its budget of bad ones."""
    quota = Quota.of("bad_credential", client_address(request), rate_of=GUESSING_RATE_OF)
    if quota is not None:
        wait = quota.would_fit()
        if wait:
            raise Throttled(wait=wait)


def count_bad_credential(request: Any) -> None:
    quota = Quota.of("bad_credential", client_address(request), rate_of=GUESSING_RATE_OF)
    if quota is not None:
        try:
            _add(quota, 1)
        except Exception:  # noqa: BLE001
            logger.warning("throttle store unavailable; bad credential not counted", exc_info=True)
