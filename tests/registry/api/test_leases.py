"""Leases (registry/api/leases.py): a platform key in steady use skips Redis, yet revocations and quotas still hold.

In one process, on Redis as in production. The same across gunicorn workers:
tests/reliability/test_keys_across_workers.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis.client
from django.core.cache import caches
from django.test import Client

from registry.api import key_cache, leases, throttles, tokens
from registry.api.models import PlatformKey
from tests import factories
from tests.registry.api.conftest import bearer, post_json

pytestmark = pytest.mark.django_db
SECOND_30 = 60.0 * 29_000_000 + 30  # second 30 of some minute


@pytest.fixture
def leased(settings: Any, shared_redis: Any, monkeypatch: Any) -> Any:
    """Throttles and the key cache on Redis, leases of at most 10 requests, and clocks the test moves."""
    settings.REGISTRY_THROTTLE = True
    settings.REGISTRY_KEY_CACHE_SECONDS = 60
    settings.REGISTRY_KEY_SYNC_MS = 250
    settings.REGISTRY_THROTTLE_BATCH = 10
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup_platform": "1000/min"},
    }
    now = {"wall": SECOND_30, "monotonic": 1000.0}
    monkeypatch.setattr(throttles, "_clock", lambda: now["wall"])
    monkeypatch.setattr(leases, "_clock", lambda: now["monotonic"])
    leases._leases.clear()
    yield now
    leases._leases.clear()


@pytest.fixture
def round_trips(monkeypatch: Any) -> list[str]:
    """Every command sent to Redis from here on."""
    commands: list[str] = []
    original = redis.client.Redis.execute_command

    def spy(self: Any, *args: Any, **options: Any) -> Any:
        commands.append(args[0])
        return original(self, *args, **options)

    monkeypatch.setattr(redis.client.Redis, "execute_command", spy)
    return commands


def _lookups(client: Any, key: str, n: int) -> list[int]:
    return [client.get("/.well-known/jwks.json", **bearer(key)).status_code for _ in range(n)]


def _counted(key: str) -> int:
    """What Redis has counted for platform key ``key`` in the current window."""
    return caches["shared"].get(throttles.platform_quota(tokens.public_id_of(key)).current_key) or 0


def test_a_key_in_steady_use_makes_one_round_trip_per_lease_not_per_request(
    client, keys, platform_key, leased, round_trips
):
    assert _lookups(client, platform_key, 1) == [200]  # the row is read and its facts cached
    round_trips.clear()
    assert _lookups(client, platform_key, 22) == [200] * 22
    # A round trip leases 10 more requests: requests 1 and 12 ask Redis, the other 20 do not.
    assert round_trips == ["EVALSHA", "EVALSHA"]
    assert _counted(platform_key) == 13  # 1 + 1 + 10 + 1; the last 10 are pending in this process
    assert list(leases._leases) == [key_cache._key(tokens._digest(platform_key))]


def test_pending_units_reach_redis_with_the_next_round_trip_after_the_lease_ends(
    client, keys, platform_key, leased, round_trips
):
    assert _lookups(client, platform_key, 6) == [200] * 6
    assert _counted(platform_key) == 2  # the first (row read) and the second (leased 10) were counted
    round_trips.clear()
    leased["monotonic"] += 0.25  # REGISTRY_KEY_SYNC_MS
    assert _lookups(client, platform_key, 1) == [200]
    assert round_trips == ["EVALSHA"]
    assert _counted(platform_key) == 7


def test_one_process_never_lets_a_key_past_its_quota(client, keys, platform_key, leased, round_trips):
    codes = _lookups(client, platform_key, 1010)
    assert codes == [200] * 1000 + [429] * 10
    assert _counted(platform_key) == 1000  # near the quota every request asked Redis: nothing is pending
    # Far from the quota, leases spared most round trips.
    assert round_trips.count("EVALSHA") < 600


def test_units_pending_at_a_window_boundary_count_in_the_window_they_were_spent_in(client, keys, platform_key, leased):
    assert _lookups(client, platform_key, 12) == [200] * 12  # 2 counted, 10 pending
    before = throttles.platform_quota(tokens.public_id_of(platform_key))
    leased["wall"] += 60  # the next minute: the lease's window is now the previous one
    assert _lookups(client, platform_key, 1) == [200]
    assert caches["shared"].get(before.current_key) == 12
    assert _counted(platform_key) == 1


def test_a_key_revoked_in_this_process_is_refused_at_once_despite_its_lease(
    client, keys, platform_key, staff, leased, django_capture_on_commit_callbacks
):
    assert _lookups(client, platform_key, 3) == [200] * 3  # leased from the second on
    admin = Client()
    admin.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post(
            "/admin/api/platformkey/", {"action": "revoke", "_selected_action": [str(PlatformKey.objects.get().pk)]}
        )
    assert done.status_code == 302
    assert _lookups(client, platform_key, 3) == [401] * 3


def test_a_key_revoked_by_another_process_stops_here_when_the_lease_ends(client, keys, platform_key, leased):
    assert _lookups(client, platform_key, 3) == [200] * 3  # leased from the second on
    facts = key_cache.get(tokens._digest(platform_key))
    # What the revoking process writes when its revocation commits (key_cache.revoke_on_commit).
    caches["shared"].set(key_cache._key(tokens._digest(platform_key)), (facts.kind, facts.id, None, True), 60)
    assert _lookups(client, platform_key, 2) == [200] * 2  # within this process's lease
    leased["monotonic"] += 0.249
    assert _lookups(client, platform_key, 1) == [200]
    leased["monotonic"] += 0.002  # past REGISTRY_KEY_SYNC_MS since the lease began
    assert _lookups(client, platform_key, 3) == [401] * 3


def test_forged_keys_get_no_lease_and_spend_nothing(client, keys, platform_key, leased):
    assert _lookups(client, platform_key, 2) == [200] * 2
    public_id = tokens.public_id_of(platform_key)
    for forged in (f"adrp_{public_id}_{'A' * 43}", f"adrp_{'0' * 12}_{'B' * 43}"):
        assert _lookups(client, forged, 3) == [401] * 3
    assert list(leases._leases) == [key_cache._key(tokens._digest(platform_key))]
    assert _counted(platform_key) == 2


def test_a_small_quota_is_never_leased(client, keys, platform_key, leased, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "lookup_platform": "60/min"},
    }
    codes = []
    for _ in range(62):
        codes += _lookups(client, platform_key, 1)
        assert leases._leases == {}  # under HEADROOM_SHARE units of headroom: every request asks Redis
    assert codes == [200] * 60 + [429] * 2
    assert _counted(platform_key) == 60


def test_a_round_trip_never_replaces_a_lease_holding_pending_units(client, keys, platform_key, leased):
    assert _lookups(client, platform_key, 3) == [200] * 3  # the third is pending on the lease
    key = key_cache._key(tokens._digest(platform_key))
    # Another thread's round trip, which started before this lease was granted, comes back.
    quota = throttles.platform_quota(tokens.public_id_of(platform_key))
    quota.counted = (2, 0)
    leases.grant(key, quota, leases._leases[key].value)
    assert leases._leases[key].pending == 1
    leased["monotonic"] += 1
    assert _lookups(client, platform_key, 1) == [200]
    assert _counted(platform_key) == 4


def test_without_redis_every_request_is_counted_in_the_database(client, keys, platform_key, leased, settings):
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "registry_shared_cache"},
    }
    assert _lookups(client, platform_key, 5) == [200] * 5
    assert leases._leases == {}
    assert _counted(platform_key) == 5


def test_a_bulk_lookup_ends_the_lease_and_its_pending_units_still_reach_redis(client, keys, platform_key, leased):
    assert _lookups(client, platform_key, 3) == [200] * 3  # 2 counted, 1 pending
    isrcs = [factories.isrc() for _ in range(5)]
    assert post_json(client, "/api/v1/lookup", {"isrcs": isrcs}, **bearer(platform_key)).status_code == 200
    # Its first unit went on the lease, the other 4 to Redis; the lease's count now lacks them, so it ends.
    assert _counted(platform_key) == 6
    assert _lookups(client, platform_key, 1) == [200]
    assert _counted(platform_key) == 9  # every unit: 3 + 5 + 1
