"""Rate limits: anonymous per client, platform keys higher and per key, label writes per token; 429 in the error shape."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.settings import api_settings

from registry.api import throttles
from tests import factories
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload

RATES = {"lookup_anon": "2/min", "lookup_platform": "4/min", "write": "1/min"}


@pytest.fixture
def throttled():
    # The counters live in CACHES["shared"], a database table in tests: each test's roll back with it.
    # Not on the settings fixture, so a test's own settings.X = … is undone first (LIFO), not after.
    rest = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(REGISTRY_THROTTLE=True, REST_FRAMEWORK=rest):
        assert api_settings.DEFAULT_THROTTLE_RATES == RATES
        yield


def test_anonymous_lookups_are_limited_per_client(client, keys, throttled):
    codes = [client.get("/.well-known/jwks.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = client.get("/api/v1/feed")
    assert r.status_code == 429
    assert error_of(r)["code"] == "throttled"
    assert int(r["Retry-After"]) > 0
    other = client.get("/.well-known/jwks.json", REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


def test_rotating_x_forwarded_for_does_not_escape_the_anonymous_limit(client, keys, throttled):
    codes = [client.get("/.well-known/jwks.json", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_a_forged_x_forwarded_for_does_not_spend_another_clients_quota(client, keys, throttled):
    for _ in range(3):
        client.get("/.well-known/jwks.json", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.7")
    victim = client.get("/.well-known/jwks.json", REMOTE_ADDR="192.0.2.7")
    assert victim.status_code == 200


def test_behind_trusted_proxies_the_client_is_the_address_the_first_of_them_saw(client, keys, throttled):
    # The client wrote the left-most entry itself; the two proxies appended the rest.
    with override_settings(REGISTRY_TRUSTED_PROXIES=2):  # nested inside throttled's override, undone first
        codes = [
            client.get(
                "/.well-known/jwks.json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 192.0.2.7, 10.0.0.1"
            ).status_code
            for i in range(3)
        ]
        assert codes == [200, 200, 429]
        other = client.get("/.well-known/jwks.json", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.8, 10.0.0.1")
        assert other.status_code == 200


def test_a_platform_key_gets_the_higher_limit_on_its_own_counter(client, keys, platform_key, throttled):
    for _ in range(2):
        client.get("/.well-known/jwks.json")
    assert client.get("/.well-known/jwks.json").status_code == 429
    codes = [client.get("/.well-known/jwks.json", HTTP_X_API_KEY=platform_key).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]


def test_label_writes_are_limited_per_token(client, keys, label_token, throttled):
    first = post_json(client, "/api/v1/releases", release_payload(), **bearer(label_token))
    second = post_json(client, "/api/v1/releases", release_payload(), **bearer(label_token))
    assert (first.status_code, second.status_code) == (201, 429)


def test_throttling_is_off_when_the_setting_says_so(client, keys, settings):
    settings.REGISTRY_THROTTLE = False
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(REST_FRAMEWORK=rest):
        assert all(client.get("/.well-known/jwks.json").status_code == 200 for _ in range(5))


# --- counters, windows and bulk accounting (registry/api/throttles.py) ----------------------------------

MINUTE_59 = 60.0 * 29_000_000 + 59  # second 59 of some minute


@pytest.fixture
def clock(monkeypatch):
    now = [MINUTE_59]
    monkeypatch.setattr(throttles, "_clock", lambda: now[0])
    return now


def _lookups(client, n, **extra):
    return [client.get("/.well-known/jwks.json", **extra).status_code for _ in range(n)]


@pytest.mark.parametrize(
    ("previous", "current", "cost", "elapsed", "wait"),
    [
        (0, 4, 1, 10, 0),  # fits
        (4, 0 + 1, 1, 1, 14),  # the previous window's 4 fade: 4 × (1 − 15/60) + 1 = 4 at second 15
        (0, 5, 1, 59, 16),  # this window is full: 4 × (1 − 15/60) + 1 = 4 at second 15 of the next
        (0, 4, 4, 30, 0),  # a bulk of 4 fits exactly
        (0, 6, 4, 30, 90),  # 2 already and a bulk of 4: 2 × (1 − f) + 4 ≤ 4 at the end of the next window
    ],
)
def test_the_decision_and_the_wait_follow_the_sliding_window(previous, current, cost, elapsed, wait):
    got = throttles.decide(previous=previous, current=current, cost=cost, limit=4, elapsed=elapsed, period=60)
    assert got == wait


def test_a_window_boundary_does_not_double_the_rate_and_retry_after_is_honest(
    client, keys, platform_key, throttled, clock
):
    key = {"HTTP_X_API_KEY": platform_key}
    assert _lookups(client, 4, **key) == [200] * 4
    refused = client.get("/.well-known/jwks.json", **key)
    assert (refused.status_code, refused["Retry-After"]) == (429, "16")
    clock[0] += 2  # a fixed window would allow 4 more now, 8 in two seconds
    refused = client.get("/.well-known/jwks.json", **key)
    assert (refused.status_code, refused["Retry-After"]) == (429, "14")
    clock[0] += 14  # as told
    assert _lookups(client, 2, **key) == [200, 429]


def test_refused_requests_spend_nothing(client, keys, throttled, clock):
    assert _lookups(client, 12) == [200, 200] + [429] * 10
    clock[0] += 31  # second 30 of the next minute: the previous 2 weigh 1; had the 10 counted, 6
    assert _lookups(client, 2) == [200, 429]


def test_a_bulk_lookup_spends_one_unit_per_identifier(client, keys, platform_key, throttled):
    key = {"HTTP_X_API_KEY": platform_key}
    assert (
        post_json(client, "/api/v1/lookup", {"isrcs": [factories.isrc() for _ in range(3)]}, **key).status_code == 200
    )
    refused = post_json(client, "/api/v1/lookup", {"isrcs": [factories.isrc()], "upcs": [factories.upc()]}, **key)
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # The refused call spent nothing: one more lookup fits (4 in all), then none.
    assert _lookups(client, 2, **key) == [200, 429]


def test_duplicates_and_malformed_identifiers_count_too(client, keys, platform_key, throttled):
    key = {"HTTP_X_API_KEY": platform_key}
    body = {"isrcs": ["not-an-isrc", "not-an-isrc"], "upcs": ["123"]}
    assert post_json(client, "/api/v1/lookup", body, **key).status_code == 200
    assert _lookups(client, 2, **key) == [200, 429]


def test_an_empty_bulk_lookup_costs_one_request(client, keys, platform_key, throttled):
    key = {"HTTP_X_API_KEY": platform_key}
    codes = [post_json(client, "/api/v1/lookup", {"isrcs": []}, **key).status_code for _ in range(5)]
    assert codes == [200] * 4 + [429]


def test_a_bulk_lookup_larger_than_the_whole_quota_is_refused_saying_how_many_fit(client, keys, throttled):
    r = post_json(client, "/api/v1/lookup", {"isrcs": [factories.isrc() for _ in range(3)]})
    assert r.status_code == 400
    error = error_of(r)
    assert error["code"] == "invalid"
    assert "at most 2 per request" in error["message"] and "platform key" in error["message"]
    assert _lookups(client, 2) == [200, 429]  # the refused call cost one request, as any bad request does


def test_the_counters_live_in_the_shared_store(client, keys, throttled):
    assert _lookups(client, 1) == [200]
    quota = throttles.Quota.of("lookup_anon", "127.0.0.1")
    assert caches["shared"].get(quota.current_key) == 1
    assert caches["default"].get(quota.current_key) is None


def test_an_address_sending_bad_credentials_is_stopped_before_the_database(client, keys, platform_key, throttled):
    # override_settings, not the settings fixture: throttled's override must be undone last.
    with override_settings(REGISTRY_KEY_CACHE_SECONDS=60):
        assert _lookups(client, 1, HTTP_X_API_KEY=platform_key) == [200]  # cached from now on
        bad = {"HTTP_X_API_KEY": f"adrp_{'0' * 12}_{'x' * 43}"}
        assert _lookups(client, 2, **bad) == [401, 401]
        with CaptureQueriesContext(connection) as queries:
            refused = client.get("/.well-known/jwks.json", **bad)
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        assert not [q for q in queries.captured_queries if "api_platformkey" in q["sql"]]
        assert _lookups(client, 1, REMOTE_ADDR="192.0.2.7", **bad) == [401]  # another address is not affected
        assert _lookups(client, 1, HTTP_X_API_KEY=platform_key) == [200]  # nor this address's cached key


def test_redis_counts_every_increment_of_concurrent_workers(shared_redis, settings):
    settings.REGISTRY_THROTTLE = True
    client, _ = shared_redis
    quota = throttles.Quota.of("lookup_platform", "key-concurrency")

    def count(_: int) -> None:
        for _ in range(50):
            throttles._add(quota, 1)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(count, range(8)))
    assert caches["shared"].get(quota.current_key) == 400
    assert 0 < client.ttl(caches["shared"].make_key(quota.current_key)) <= 120


@pytest.mark.parametrize("store", ["database", "redis"])
def test_forged_tokens_naming_a_key_do_not_spend_its_quota(
    client, keys, platform_key, throttled, settings, store, request
):
    settings.REGISTRY_KEY_CACHE_SECONDS = 60
    if store == "redis":
        request.getfixturevalue("shared_redis")
    assert _lookups(client, 1, HTTP_X_API_KEY=platform_key) == [200]  # cached: counted in one script from now on
    public_id = platform_key.split("_")[1]
    forged = [f"adrp_{public_id}_{'A' * 43}", f"adrp_{public_id}_{platform_key.split('_', 2)[2][:-1]}B"]
    for token in forged:  # from another address, so the bad-credential brake does not stop them first
        assert _lookups(client, 1, REMOTE_ADDR="203.0.113.9", HTTP_X_API_KEY=token) == [401]
    assert _lookups(client, 4, HTTP_X_API_KEY=platform_key) == [200, 200, 200, 429]


@pytest.mark.postgres
def test_a_count_never_turns_off_the_wal_flush_of_a_transaction_it_joins(db, settings):
    settings.REGISTRY_THROTTLE = True
    throttles._add(throttles.Quota.of("lookup_anon", "192.0.2.1"), 1)  # inside the test's transaction
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
