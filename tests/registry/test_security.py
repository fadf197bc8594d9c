"""Abuse and hardening: sign-in throttling, security headers and CSP, CSRF, database outages answer 503."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from registry import auth_views


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roomy_delays(monkeypatch):
    """A 3-second first delay: these tests assert that the next attempt lands inside a delay, which a busy
    machine must not miss by taking over a second between two requests (the rule is the same at any delay)."""
    monkeypatch.setattr(auth_views, "FIRST_DELAY", 3)


SIGN_IN = ["/accounts/login/", "/admin/login/"]
RIGHT = "correct horse battery"


def _sign_in(path, password, address="127.0.0.1", username="stella", **extra):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(path, {"username": username, "password": password}, **extra)


@pytest.mark.parametrize("path", SIGN_IN)
def test_failures_elsewhere_never_keep_the_owner_out(staff, path):
    for i in range(25):
        _sign_in(path, "wrong", address="198.51.100.9")
        _sign_in(path, "wrong", address=f"10.0.0.{i}")
    client, r = _sign_in(path, RIGHT, address="192.0.2.1")
    assert r.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.parametrize("path", SIGN_IN)
@pytest.mark.usefixtures("roomy_delays")
def test_guesses_from_one_address_wait_ever_longer_even_with_the_right_password(staff, path):
    for _ in range(auth_views.FREE_FAILURES + 1):  # the free ones, then one that takes the first delay
        assert _sign_in(path, "wrong")[1].status_code == 200
    client, r = _sign_in(path, RIGHT)
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.content.decode()
    assert r["Retry-After"] == str(auth_views.FIRST_DELAY)
    assert "_auth_user_id" not in client.session
    time.sleep(auth_views.FIRST_DELAY + 0.1)
    assert _sign_in(path, "wrong")[1].status_code == 200
    assert _sign_in(path, RIGHT)[1]["Retry-After"] == str(2 * auth_views.FIRST_DELAY)


@pytest.mark.usefixtures("roomy_delays")
def test_the_right_password_after_the_delay_signs_in_and_clears_the_count(owner):
    for _ in range(auth_views.FREE_FAILURES + 1):
        _sign_in("/accounts/login/", "wrong", username="olivia")
    time.sleep(auth_views.FIRST_DELAY + 0.1)
    assert _sign_in("/accounts/login/", RIGHT, username="olivia")[1].status_code == 302
    assert _sign_in("/accounts/login/", "wrong", username="olivia")[1].status_code == 200
    assert _sign_in("/accounts/login/", RIGHT, username="olivia")[1].status_code == 302


@pytest.mark.usefixtures("roomy_delays")
def test_spelling_the_username_differently_shares_its_count(owner):
    for spelling in ["olivia", " olivia", "olivia ", "OLIVIA", "ｏｌｉｖｉａ", "Olivia"]:
        _sign_in("/accounts/login/", "wrong", username=spelling)
    assert _sign_in("/accounts/login/", RIGHT, username="olivia")[1].status_code == 429


@pytest.mark.usefixtures("roomy_delays")
def test_a_forged_x_forwarded_for_neither_escapes_the_brake_nor_spends_another_addresses(owner):
    for i in range(auth_views.FREE_FAILURES + 1):
        _sign_in("/accounts/login/", "wrong", username="olivia", HTTP_X_FORWARDED_FOR=f"10.1.0.{i}, 192.0.2.1")
    assert _sign_in("/accounts/login/", RIGHT, username="olivia")[1].status_code == 429
    assert _sign_in("/accounts/login/", RIGHT, username="olivia", address="192.0.2.1")[1].status_code == 302


@pytest.mark.usefixtures("roomy_delays")
def test_one_address_guessing_many_usernames_is_slowed_down_too(owner):
    for i in range(auth_views.FREE_ADDRESS_FAILURES + 1):
        _sign_in("/accounts/login/", "wrong", username=f"user{i}")
    assert _sign_in("/accounts/login/", RIGHT, username="olivia")[1].status_code == 429
    assert _sign_in("/accounts/login/", RIGHT, username="olivia", address="192.0.2.1")[1].status_code == 302


def test_delays_double_up_to_fifteen_minutes():
    free = auth_views.FREE_FAILURES
    assert [auth_views.delay_after(n, free) for n in range(free + 4)] == [0] * free + [1, 2, 4, 8]
    assert auth_views.delay_after(10**6, free) == auth_views.MAX_DELAY == 900


def test_a_correct_sign_in_works_below_the_limit(client, owner):
    for _ in range(3):
        client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
    r = client.post("/accounts/login/", {"username": "olivia", "password": RIGHT})
    assert r.status_code == 302


def test_the_sign_in_form_needs_a_csrf_token(db, owner):
    strict = Client(enforce_csrf_checks=True)
    r = strict.post("/accounts/login/", {"username": "olivia", "password": "correct horse battery"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "path", ["/", "/accounts/login/", "/api/v1/log/checkpoint", "/.well-known/jwks.json", "/transparency/"]
)
def test_pages_and_api_carry_security_headers(client, keys, path):
    r = client.get(path)
    csp = r["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert r["X-Frame-Options"] == "DENY"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"


def test_a_database_outage_answers_503_not_500(client, keys, monkeypatch):
    from registry.declarations import stored_answers

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(stored_answers, "release_answers", down)
    r = client.get("/api/v1/releases/036000291452")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "unavailable"
    assert r["Retry-After"] == "5"
