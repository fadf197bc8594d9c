"""The real platform path under gunicorn: a revocation and a quota hold whichever of three workers answers.

Credentials are checked through the key cache and counted by the throttles, both in
``CACHES["shared"]``: the database table (``make run``) or Redis (production). The
revocations go through the real doors, the owner's token page and the admin's action,
served by the workers themselves. On Redis, a platform key in steady use is leased per
worker (``registry/api/leases.py``): the last tests show the bounds it documents, a
revocation honoured everywhere within ``REGISTRY_KEY_SYNC_MS`` and a quota exceeded by at
most (workers − 1) × ``REGISTRY_THROTTLE_BATCH``.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client

from registry.api.models import PlatformKey
from registry.api.tokens import label_token_create, platform_key_create
from tests.registry.api.conftest import REDIS_TEST_URL, redis_up
from tests.reliability.server import Gunicorn
from tests.reliability.server import request as http

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
QUOTA = 20  # platform requests a minute, for these workers


@pytest.fixture(params=["database cache (make run)", "Redis"])
def server(request: Any, monkeypatch: Any) -> Any:
    monkeypatch.delenv("REDIS_URL", raising=False)  # the workers' default cache is then per process
    env = {"THROTTLE_LOOKUP_PLATFORM": f"{QUOTA}/min", "THROTTLE_LOOKUP_ANON": "1000/min"}
    prefix = None
    if request.param == "Redis":
        if not redis_up():
            pytest.skip("Redis is not reachable on 127.0.0.1:6379")
        prefix = f"test-{uuid.uuid4().hex}"
        env.update({"TEST_SHARED_REDIS_URL": REDIS_TEST_URL, "TEST_SHARED_PREFIX": prefix})
    gunicorn = Gunicorn(workers=3, threads=1, env=env, settings="tests.reliability.platform_settings")
    yield gunicorn
    gunicorn.stop()
    caches["shared"].clear()  # the cache table is outside the tables the test flush empties
    if prefix:
        import redis

        client = redis.Redis.from_url(REDIS_TEST_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post_as(server: Gunicorn, user: Any, page: str, action: str, fields: dict[str, Any]) -> int:
    """Sign ``user`` in, load ``page`` for its CSRF cookie and post the form to ``action``, all on the workers."""
    session = Client()
    session.force_login(user)  # a session row in the database the workers read
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.cookies[settings.SESSION_COOKIE_NAME].value}"
    with urllib.request.urlopen(urllib.request.Request(server.url + page, headers={"Cookie": cookie})) as resp:  # noqa: S310
        csrf = next(m.group(1) for c in resp.headers.get_all("Set-Cookie") if (m := re.match(r"csrftoken=([^;]+)", c)))
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, **fields}, doseq=True).encode()
    post = urllib.request.Request(  # noqa: S310
        server.url + action, data=body, headers={"Cookie": f"{cookie}; csrftoken={csrf}"}, method="POST"
    )
    try:
        with urllib.request.build_opener(_NoRedirect()).open(post, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _statuses(server: Gunicorn, path: str, token: str, n: int = 15) -> list[int]:
    # A new connection each time, so any of the workers may answer.
    return [http("GET", server.url + path, token=token)[0] for _ in range(n)]


def test_a_revoked_credential_is_refused_by_every_worker_at_once(server, keys, label, owner, staff):
    row, token = label_token_create(label=label, name="CI", created_by=owner)
    key = platform_key_create(name="Example Streaming")[1]
    assert _statuses(server, "/api/v1/label/releases", token) == [200] * 15  # cached, for all of them
    assert _statuses(server, "/.well-known/jwks.json", key, n=8) == [200] * 8

    page = f"/label/{label.pk}/tokens/"
    assert _post_as(server, owner, page, f"{page}{row.pk}/revoke/", {}) == 302
    assert _statuses(server, "/api/v1/label/releases", token) == [401] * 15

    admin = "/admin/api/platformkey/"
    fields = {"action": "revoke", "_selected_action": [str(PlatformKey.objects.get().pk)]}
    assert _post_as(server, staff, admin, admin, fields) == 302
    assert _statuses(server, "/.well-known/jwks.json", key) == [401] * 15


def test_a_platform_quota_holds_whichever_worker_answers(server, keys):
    key = platform_key_create(name="Example Streaming")[1]
    if time.time() % 60 > 45:  # start well inside a minute, so the whole run falls in one window
        time.sleep(61 - time.time() % 60)
    answers = [http("GET", server.url + "/.well-known/jwks.json", token=key) for _ in range(QUOTA + 6)]
    # Counted per process, three workers would have let about three times the quota through.
    assert [status for status, _ in answers] == [200] * QUOTA + [429] * 6
    assert all(body["error"]["code"] == "throttled" for _, body in answers[QUOTA:])


# --- leases (registry/api/leases.py), on Redis ---------------------------------------------------------------

LEASE_MS = 1000  # long enough for the workers' leases to be seen at work; the production default is 250
BATCH = 20
WORKERS = 3
LEASED_QUOTA = 1500  # a minute: leases start at 64 units of headroom (leases.HEADROOM_SHARE)


@pytest.fixture
def leased_server(monkeypatch: Any) -> Any:
    if not redis_up():
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    monkeypatch.delenv("REDIS_URL", raising=False)
    prefix = f"test-{uuid.uuid4().hex}"
    env = {
        "THROTTLE_LOOKUP_PLATFORM": f"{LEASED_QUOTA}/min",
        "THROTTLE_LOOKUP_ANON": "1000/min",
        "REGISTRY_KEY_SYNC_MS": str(LEASE_MS),
        "REGISTRY_THROTTLE_BATCH": str(BATCH),
        "TEST_SHARED_REDIS_URL": REDIS_TEST_URL,
        "TEST_SHARED_PREFIX": prefix,
    }
    gunicorn = Gunicorn(workers=WORKERS, threads=2, env=env, settings="tests.reliability.platform_settings")
    gunicorn.prefix = prefix
    yield gunicorn
    gunicorn.stop()
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def _counted_in_redis(server: Gunicorn, key: str) -> int:
    """What Redis holds for platform key ``key``'s windows (Django's key layout: prefix:version:key)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    public_id = key.split("_")[1]
    return sum(int(client.get(k)) for k in client.scan_iter(f"{server.prefix}:1:throttle:v1:*:key{public_id}:*"))


def _start_early_in_a_minute(seconds_needed: float) -> None:
    if time.time() % 60 > 60 - seconds_needed:
        time.sleep(61 - time.time() % 60)


def test_a_revoked_platform_key_stops_on_every_worker_within_the_lease_bound(leased_server, keys, staff):
    key = platform_key_create(name="Example Streaming")[1]
    _start_early_in_a_minute(30)
    assert _statuses(leased_server, "/.well-known/jwks.json", key, n=30) == [200] * 30
    # The workers answered most of them on their leases, without telling Redis yet: the leases are at work.
    assert _counted_in_redis(leased_server, key) < 30

    admin = "/admin/api/platformkey/"
    fields = {"action": "revoke", "_selected_action": [str(PlatformKey.objects.get().pk)]}
    assert _post_as(leased_server, staff, admin, admin, fields) == 302  # committed before the answer
    time.sleep(LEASE_MS / 1000)  # the documented bound: REGISTRY_KEY_SYNC_MS
    assert _statuses(leased_server, "/.well-known/jwks.json", key, n=30) == [401] * 30


def test_a_leased_quota_is_exceeded_by_at_most_workers_minus_one_batches(leased_server, keys):
    key = platform_key_create(name="Example Streaming")[1]
    _start_early_in_a_minute(35)
    statuses: list[int] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        got = [http("GET", leased_server.url + "/.well-known/jwks.json", token=key)[0] for _ in range(n)]
        with lock:
            statuses.extend(got)

    clients = [threading.Thread(target=client, args=(LEASED_QUOTA // 8 + 25,)) for _ in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert set(statuses) == {200, 429}
    let_through = statuses.count(200)
    # A refusal comes only from Redis, which has then seen at least the quota; each other worker may
    # still let through the units it has not told Redis about, at most one batch.
    assert LEASED_QUOTA <= let_through <= LEASED_QUOTA + (WORKERS - 1) * BATCH
