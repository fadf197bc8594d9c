"""API personas: a label token, another label's token, a revoked token, a platform key; a real HTTP client."""

from __future__ import annotations

import json
import socket
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from registry.api.tokens import label_token_create, label_token_revoke, platform_key_create
from tests import factories


@pytest.fixture
def client() -> APIClient:  # noqa: PT004 - shadows pytest-django's client on purpose: DRF's test client
    return APIClient()


# A database of its own on the local Redis, and a key prefix per test, removed afterwards.
REDIS_TEST_URL = "redis://127.0.0.1:6379/4"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def shared_redis(settings: Any) -> Any:
    """``CACHES["shared"]`` on Redis as in production; yields the raw redis-py client and the key prefix."""
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "registry.redis_cache.RedisCache", "LOCATION": REDIS_TEST_URL, "KEY_PREFIX": prefix},
    }
    client = redis.Redis.from_url(REDIS_TEST_URL)
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def label_token(label: Any, owner: Any) -> str:
    return label_token_create(label=label, name="CI", created_by=owner)[1]


@pytest.fixture
def other_token(other_label: Any, rival: Any) -> str:
    return label_token_create(label=other_label, name="Rival CI", created_by=rival)[1]


@pytest.fixture
def revoked_token(label: Any) -> str:
    row, token = label_token_create(label=label, name="Old")
    label_token_revoke(label=label, token_id=row.pk)
    return token


@pytest.fixture
def platform_key(db: Any) -> str:
    return platform_key_create(name="Example Streaming")[1]


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_json(client: APIClient, url: str, body: Any, **extra: Any) -> Any:
    return client.generic("POST", url, json.dumps(body), content_type="application/json", **extra)


def track_payload(n: int = 1, level: str = "none", **kw: Any) -> list[dict[str, Any]]:
    return [
        {
            "isrc": kw.get("isrcs", [None] * n)[i] or factories.isrc(),
            "title": f"Song {i + 1}",
            "position": i + 1,
            "duration": 200 + i,
            "ai": factories.track_ai(level, tools=["Suno v4"] if level != "none" else []),
        }
        for i in range(n)
    ]


def release_payload(*, upc: str | None = None, tracks: int = 2, level: str = "none", **kw: Any) -> dict[str, Any]:
    return {
        "upc": upc or factories.upc(),
        "title": kw.get("title", "Night Drive"),
        "genre": kw.get("genre", "Synthwave"),
        "release_date": "2026-03-01",
        "artwork": kw.get("artwork", "none"),
        "artists": [{"name": "Aurora Vale", "isni": None, "persona": kw.get("persona", "human")}],
        "tracks": kw.get("track_list") or track_payload(tracks, level),
    }


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
