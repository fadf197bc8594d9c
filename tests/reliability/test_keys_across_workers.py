"""The real platform path under gunicorn: a revocation and a quota hold whichever of three workers answers.

Credentials are checked through the key cache and counted by the throttles, both in
``CACHES["shared"]``: the database table (``make run``) or Redis (production). The
revocations go through the real doors, the owner's token page and the admin's action,
served by the workers themselves.
"""

from __future__ import annotations

import re
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
