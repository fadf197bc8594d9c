"""Rate limits: anonymous per client, platform keys higher and per key, label writes per token; 429 in the error shape."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.settings import api_settings

from tests.registry.api.conftest import bearer, error_of, post_json, release_payload

RATES = {"lookup_anon": "2/min", "lookup_platform": "4/min", "write": "1/min"}


@pytest.fixture
def throttled(settings):
    cache.clear()
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(REGISTRY_THROTTLE=True, REST_FRAMEWORK=rest):
        assert api_settings.DEFAULT_THROTTLE_RATES == RATES
        yield
    cache.clear()


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
    cache.clear()
    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": RATES}
    with override_settings(REST_FRAMEWORK=rest):
        assert all(client.get("/.well-known/jwks.json").status_code == 200 for _ in range(5))
