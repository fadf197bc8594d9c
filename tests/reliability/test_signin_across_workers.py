"""Sign-in throttling under gunicorn: every worker process sees the same counts (no Redis: the database cache)."""

from __future__ import annotations

import http.cookiejar
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.cache import caches

from registry import auth_views
from tests.reliability.server import Gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(db, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)  # the workers' default cache is then per process
    gunicorn = Gunicorn(workers=3, threads=1)
    yield gunicorn
    gunicorn.stop()
    caches["shared"].clear()  # the cache table is outside the tables the test flush empties


def _sign_in(url: str, password: str) -> tuple[int, str]:
    """A fresh browser each time (new cookies, new connection, so any worker may answer)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(url + "/accounts/login/", timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode({"username": "stella", "password": password, "csrfmiddlewaretoken": csrf})
    no_redirect = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    try:
        with no_redirect.open(url + "/accounts/login/", data=body.encode(), timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_sign_in_brake_holds_whichever_worker_answers(server, staff):
    assert caches["shared"].__class__.__name__ == "DatabaseCache"
    failures = [_sign_in(server.url, "wrong")[0] for _ in range(auth_views.FREE_FAILURES + 1)]
    for n in range(2):  # two more, each after its delay: the next one is 4 s away, time enough for the test
        time.sleep(auth_views.delay_after(auth_views.FREE_FAILURES + n, auth_views.FREE_FAILURES) + 0.2)
        failures.append(_sign_in(server.url, "wrong")[0])
    assert failures == [200] * (auth_views.FREE_FAILURES + 3)
    # Spread over three workers, each would have seen about two failures if counts were per process.
    answers = [_sign_in(server.url, "correct horse battery") for _ in range(6)]
    assert [status for status, _ in answers] == [429] * 6
    assert all("Too many failed sign-in attempts" in page for _, page in answers)
