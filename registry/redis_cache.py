"""Django's Redis cache backend, with one redis-py client per connection pool instead of one per operation.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
cache call. redis-py 8 fills a case-insensitive table of some 170 response
callbacks in that constructor: about 65 µs, more than a round trip to a local
Redis (about 45 µs), so every cache read cost twice what it had to (measured in
the real-platform-path issue: a keyed lookup spends two cache calls per request).

Invariants this relies on, checked by tests/registry/test_redis_cache.py:
- a ``redis.Redis`` may be shared between threads: each command checks a
  connection out of the pool and returns it (redis-py's documented guarantee;
  pipelines and pub/sub objects are not shared, and nothing here shares them);
- the pools stay Django's own (one per server and process); redis-py resets a
  pool in a forked child, and the client only points at its pool;
- everything else (keys, serializer, options, timeouts) is Django's unchanged.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class ReusingRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
