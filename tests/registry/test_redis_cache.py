"""registry/redis_cache.py: Django's Redis backend with one client per pool, shared by threads, otherwise Django's."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from registry.redis_cache import RedisCache
from tests.registry.api.conftest import REDIS_TEST_URL, redis_up


@pytest.fixture
def store() -> Any:
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}"
    cache = RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": prefix})
    yield cache
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_one_client_serves_every_operation(store):
    assert isinstance(store, DjangoRedisCache)
    first = store._cache.get_client("a")
    assert store._cache.get_client("b", write=True) is first
    assert first.connection_pool is store._cache._get_connection_pool(True)


def test_it_behaves_as_djangos_backend(store):
    assert store.add("n", 1, 30) and not store.add("n", 2, 30)
    assert store.incr("n", 4) == 5
    store.set_many({"a": {"x": [1, 2]}, "b": "text"}, 30)
    assert store.get_many(["a", "b", "missing"]) == {"a": {"x": [1, 2]}, "b": "text"}
    assert store.touch("a", 60) and 0 < store._cache.get_client().ttl(store.make_key("a")) <= 60
    store.delete_many(["a", "b"])
    assert store.get("a") is None and store.get("n") == 5


def test_threads_share_the_client_safely(store):
    def work(n: int) -> bool:
        for i in range(100):
            store.set(f"t{n}:{i}", (n, i), 30)
        return all(store.get(f"t{n}:{i}") == (n, i) for i in range(100))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))
