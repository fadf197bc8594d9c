"""The key cache (registry/api/key_cache.py): one read per keyed request, revocations at once, nothing to fill or leak.

Each test runs against both shared stores: the database table (``make run``) and
Redis (production). Revocations go through the real doors: the owner's token page
and the admin's action.
"""

from __future__ import annotations

import base64
import pickle
import secrets
from typing import Any

import pytest
import redis.client
from django.core.cache import caches
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from registry.api import key_cache, tokens
from registry.api.models import LabelToken, PlatformKey
from registry.api.tokens import credential_check, label_token_create, platform_key_create
from tests.registry.api.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "redis"])
def store(request: Any, settings: Any) -> str:
    settings.REGISTRY_KEY_CACHE_SECONDS = 60
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    return request.param


def stored(store: str) -> dict[str, Any]:
    """Every entry of the shared store, raw key → (raw value, unpickled value)."""
    shared = caches["shared"]
    if store == "redis":
        client = redis.Redis.from_url(shared._servers[0])
        out = {}
        for key in client.scan_iter(f"{shared.key_prefix}:*"):
            raw = client.get(key)
            out[key.decode()] = (raw, shared._cache._serializer.loads(raw))
        return out
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM registry_shared_cache")
        return {k: (v, pickle.loads(base64.b64decode(v))) for k, v in cursor.fetchall()}  # noqa: S301 - our table


def key_entries(store: str) -> dict[str, Any]:
    return {k: v[1] for k, v in stored(store).items() if key_cache.PREFIX in k}


def test_a_cached_key_is_checked_with_one_read_and_no_query(client, keys, platform_key, store, monkeypatch):
    assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 200
    reads = []
    shared = caches["shared"]
    original = shared.get
    monkeypatch.setattr(shared, "get", lambda *a, **k: reads.append(a) or original(*a, **k))
    monkeypatch.setattr(tokens, "_row_check", lambda *a: pytest.fail("the row was read on a cache hit"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 200
    assert len(reads) == 1
    assert not [q for q in queries.captured_queries if "api_platformkey" in q["sql"]]


def test_a_keyed_throttled_lookup_is_one_round_trip_to_redis(client, keys, platform_key, settings, shared_redis):
    settings.REGISTRY_KEY_CACHE_SECONDS = 60
    settings.REGISTRY_THROTTLE = True
    client.get("/.well-known/jwks.json", **bearer(platform_key))  # fills the key cache
    commands = []
    original = redis.client.Redis.execute_command

    def spy(self: Any, *args: Any, **options: Any) -> Any:
        commands.append(args[0])
        return original(self, *args, **options)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redis.client.Redis, "execute_command", spy)
        assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 200
    assert commands == ["EVALSHA"]  # the key's facts read and the request counted, in one script


def test_a_label_token_revoked_on_the_owners_page_is_refused_at_once(
    client, keys, label, owner, store, django_capture_on_commit_callbacks
):
    row, token = label_token_create(label=label, name="CI", created_by=owner)
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 200
    assert key_entries(store), "the token's facts are cached"
    page = Client()
    page.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert page.post(f"/label/{label.pk}/tokens/{row.pk}/revoke/").status_code == 302
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 401
    assert [facts[3] for facts in key_entries(store).values()] == [True]  # marked revoked, for every worker


def test_a_platform_key_revoked_in_the_admin_is_refused_at_once(
    client, keys, platform_key, staff, store, django_capture_on_commit_callbacks
):
    assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 200
    admin = Client()
    admin.force_login(staff)
    row = PlatformKey.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post("/admin/api/platformkey/", {"action": "revoke", "_selected_action": [str(row.pk)]})
    assert done.status_code == 302
    assert PlatformKey.objects.get().revoked_at is not None
    assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 401


def test_a_request_that_read_the_row_before_the_revocation_cannot_cache_it_again(
    client, keys, label, store, django_capture_on_commit_callbacks
):
    row, token = label_token_create(label=label, name="CI")
    stale = tokens._facts(row)  # what a slow request read while the revocation was committing
    with django_capture_on_commit_callbacks(execute=True):
        tokens.label_token_revoke(label=label, token_id=row.pk)
    key_cache.remember(row.digest, stale)  # ...and then tries to cache
    assert credential_check(token) is None
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 401


def test_a_revocation_that_never_commits_leaves_the_key_working(client, keys, label, store):
    row, token = label_token_create(label=label, name="CI")
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 200
    with pytest.raises(RuntimeError), transaction.atomic():
        tokens.label_token_revoke(label=label, token_id=row.pk)
        raise RuntimeError("rolled back")
    assert LabelToken.objects.get().revoked_at is None
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 200


def test_unknown_forged_and_malformed_tokens_are_never_cached(client, keys, platform_key, store):
    public_id = tokens.public_id_of(platform_key)
    attempts = [
        f"adrp_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}" for _ in range(20)
    ] + [  # the real key's id with another secret; another kind's prefix; no secret at all
        f"adrp_{public_id}_{secrets.token_urlsafe(32)}",
        platform_key.replace("adrp_", "adrl_", 1),
        f"adrp_{public_id}",
        "adrp_",
    ]
    for attempt in attempts:
        assert client.get("/.well-known/jwks.json", **bearer(attempt)).status_code == 401
    assert key_entries(store) == {}
    assert client.get("/.well-known/jwks.json", **bearer(platform_key)).status_code == 200
    assert len(key_entries(store)) == 1


def test_the_store_holds_neither_a_token_nor_its_secret(client, keys, label_token, platform_key, store):
    for token in (label_token, platform_key):
        client.get("/api/v1/label/releases", **bearer(token))
    # <prefix>_<hex id>_<secret>; the secret itself may hold "_".
    secrets_seen = [label_token, platform_key, label_token.split("_", 2)[2], platform_key.split("_", 2)[2]]
    for key, (raw, value) in stored(store).items():
        for secret in secrets_seen:
            assert secret not in key and secret.encode() not in (raw if isinstance(raw, bytes) else raw.encode())
            assert secret not in repr(value)


def test_last_used_at_is_written_when_the_row_is_read_not_per_request(client, keys, label_token, store):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/api/v1/label/releases", **bearer(label_token)).status_code == 200
    updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "api_labeltoken"')]
    assert len(updates) == 1
    assert LabelToken.objects.get().last_used_at is not None


def test_a_store_outage_falls_back_to_the_database_and_revocation_still_holds(
    client, keys, label, settings, django_capture_on_commit_callbacks
):
    settings.REGISTRY_KEY_CACHE_SECONDS = 60
    settings.REGISTRY_THROTTLE = True
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "registry.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"},
    }
    row, token = label_token_create(label=label, name="CI")
    key = platform_key_create(name="Example Streaming")[1]
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 200
    assert client.get("/.well-known/jwks.json", **bearer(key)).status_code == 200  # throttle lets it through
    with django_capture_on_commit_callbacks(execute=True):
        tokens.label_token_revoke(label=label, token_id=row.pk)
    assert client.get("/api/v1/label/releases", **bearer(token)).status_code == 401


def test_a_label_token_is_no_platform_key_even_when_cached(client, keys, label_token, store, settings):
    settings.REGISTRY_THROTTLE = True
    assert client.get("/api/v1/label/releases", **bearer(label_token)).status_code == 200
    credential = credential_check(label_token)
    assert credential.is_label and not credential.is_platform
    platform = platform_key_create(name="Example Streaming")[1]
    assert client.get("/api/v1/label/releases", **bearer(platform)).status_code == 403
