"""The lookup cache: answers served from it, dropped when a declaration commits, never stale after a withdrawal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache import cache

from registry.declarations import cache as lookup_cache
from registry.declarations.services import declaration_amend, declaration_withdraw
from tests import factories
from tests.registry.api.conftest import redis_up


@pytest.fixture
def cached(settings: Any) -> Any:
    settings.REGISTRY_LOOKUP_CACHE_SECONDS = 30
    cache.clear()  # LocMemCache lives as long as the test process
    yield
    cache.clear()


@pytest.fixture
def redis_cached(settings: Any) -> Any:
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    settings.REGISTRY_LOOKUP_CACHE_SECONDS = 30
    yield
    import redis

    client = redis.Redis("127.0.0.1", 6379)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _urls(declaration: Any) -> list[str]:
    isrc = declaration.release.tracks.select_related("recording").first().recording.isrc
    return [f"/api/v1/recordings/{isrc}", f"/api/v1/releases/{declaration.release.upc}"]


def _amend_and_withdraw_are_never_served_stale(client: Any, declared: Any, capture: Any) -> None:
    urls = _urls(declared)
    for url in urls:
        assert client.get(url).json()["disclosure"]["version"] == 1
    with capture(execute=True):
        declaration_amend(release=declared.release, reason="Vocals were AI after all", ai={})
    for url in urls:
        assert client.get(url).json()["disclosure"]["version"] == 2
    with capture(execute=True):
        declaration_withdraw(release=declared.release, reason="Released by mistake")
    for url in urls:
        body = client.get(url).json()
        assert (body["disclosure"]["version"], body["disclosure"]["status"]) == (3, "withdrawn")


@pytest.mark.usefixtures("cached")
def test_it_serves_a_repeated_lookup_from_the_cache_byte_for_byte(client, declared, django_assert_num_queries):
    urls = _urls(declared)
    first = [client.get(url) for url in urls]
    with django_assert_num_queries(0):
        again = [client.get(url) for url in urls]
    for a, b in zip(first, again, strict=True):
        assert (a.status_code, a.content, a["ETag"]) == (b.status_code, b.content, b["ETag"])
        assert b["Cache-Control"] == "public, max-age=60"


@pytest.mark.usefixtures("cached")
def test_it_answers_304_from_the_cache(client, declared, django_assert_num_queries):
    url = _urls(declared)[0]
    etag = client.get(url)["ETag"]
    with django_assert_num_queries(0):
        r = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert r.status_code == 304 and r["ETag"] == etag


@pytest.mark.usefixtures("cached")
def test_it_drops_cached_answers_on_amend_and_withdraw(client, declared, django_capture_on_commit_callbacks):
    _amend_and_withdraw_are_never_served_stale(client, declared, django_capture_on_commit_callbacks)


@pytest.mark.usefixtures("redis_cached")
def test_it_drops_cached_answers_on_amend_and_withdraw_with_redis(client, declared, django_capture_on_commit_callbacks):
    _amend_and_withdraw_are_never_served_stale(client, declared, django_capture_on_commit_callbacks)


@pytest.mark.usefixtures("cached")
def test_it_never_serves_an_answer_read_before_a_withdrawal_committed(
    client, declared, django_capture_on_commit_callbacks
):
    # A reader takes the token and reads the old rows; the withdrawal commits before it stores its answer.
    url = _urls(declared)[1]
    upc = declared.release.upc

    def slow_reader() -> tuple[bytes, int, str]:
        old = client.get(url)  # cache miss inside a miss: renders from the database (still active)
        with django_capture_on_commit_callbacks(execute=True):
            declaration_withdraw(release=declared.release, reason="Released by mistake")
        return old.content, old.status_code, old["ETag"]

    cache.clear()
    lookup_cache.get_or_render("upc", upc, slow_reader)
    assert client.get(url).json()["disclosure"]["status"] == "withdrawn"


@pytest.mark.usefixtures("cached")
def test_it_drops_a_cached_not_declared_answer_when_the_release_is_declared(client, release):
    isrc = release.tracks.select_related("recording").first().recording.isrc
    assert client.get(f"/api/v1/recordings/{isrc}").status_code == 404
    factories.declare(release)
    assert client.get(f"/api/v1/recordings/{isrc}").status_code == 200


def test_it_reads_the_database_every_time_when_switched_off(client, declared, settings, django_assert_num_queries):
    settings.REGISTRY_LOOKUP_CACHE_SECONDS = 0
    url = _urls(declared)[0]
    client.get(url)
    with django_assert_num_queries(1):
        assert client.get(url).status_code == 200


def test_it_answers_from_the_database_when_the_cache_is_down(client, declared, settings):
    settings.REGISTRY_LOOKUP_CACHE_SECONDS = 30
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    for url in _urls(declared):
        assert client.get(url).status_code == 200
    declaration_withdraw(release=declared.release, reason="Released by mistake")  # invalidation fails quietly
