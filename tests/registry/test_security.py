"""Abuse and hardening: sign-in throttling, security headers and CSP, CSRF, database outages answer 503."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_sign_in_is_throttled_after_ten_failures_even_with_the_right_password(client, staff, path):
    for _ in range(10):
        r = client.post(path, {"username": "stella", "password": "wrong"})
        assert r.status_code == 200
    r = client.post(path, {"username": "stella", "password": "correct horse battery"})
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.content.decode()
    assert r["Retry-After"]
    assert "_auth_user_id" not in client.session


def test_the_username_brake_holds_across_addresses(client, owner):
    for i in range(10):
        Client(REMOTE_ADDR=f"10.0.0.{i}").post("/accounts/login/", {"username": "olivia", "password": "nope"})
    r = Client(REMOTE_ADDR="10.9.9.9").post(
        "/accounts/login/", {"username": "olivia", "password": "correct horse battery"}
    )
    assert r.status_code == 429


def test_a_correct_sign_in_works_below_the_limit(client, owner):
    for _ in range(3):
        client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
    r = client.post("/accounts/login/", {"username": "olivia", "password": "correct horse battery"})
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
    from registry.declarations import selectors

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "release_answers", down)
    r = client.get("/api/v1/releases/036000291452")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "unavailable"
    assert r["Retry-After"] == "5"
