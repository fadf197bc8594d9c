"""Every 4xx is JSON in one shape: unknown URLs, wrong methods and media types, bad, huge and deep bodies."""

from __future__ import annotations

from django.test import override_settings

from registry.api.parsers import MAX_DEPTH
from tests.registry.api.conftest import bearer, error_of, post_json


def test_an_unknown_api_url_is_a_json_404(client, db):
    for url in ("/api/v2/recordings/x", "/api/v1/nope", "/api", "/api/v1/releases/123/unknown", "/api/v1/lookup/"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r["Content-Type"] == "application/json"
        assert error_of(r)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405(client, db):
    r = client.delete("/api/v1/lookup")
    assert r.status_code == 405
    assert error_of(r)["code"] == "method_not_allowed"
    assert client.get("/api/v1/verify").status_code == 405


def test_a_body_that_is_not_json_is_a_json_415(client, db):
    r = client.post("/api/v1/lookup", "isrcs=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    assert error_of(r)["code"] == "unsupported_media_type"


def test_malformed_json_is_a_400_parse_error(client, db):
    for raw in (b"{", b'{"isrcs": [NaN]}', b"\xff\xfe", b'{"a": 1' + b"0" * 5000 + b"}"):
        r = client.generic("POST", "/api/v1/lookup", raw, content_type="application/json")
        assert r.status_code == 400, raw[:20]
        assert error_of(r)["code"] == "parse_error"


def test_json_nested_too_deep_is_refused_before_parsing(client, db):
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    r = client.generic("POST", "/api/v1/verify", deep, content_type="application/json")
    assert r.status_code == 400
    assert "nested deeper" in error_of(r)["message"]
    very = b'{"a":' * 100000 + b"1" + b"}" * 100000
    assert client.generic("POST", "/api/v1/verify", very, content_type="application/json").status_code == 400


def test_brackets_inside_strings_do_not_count_as_nesting(client, keys):
    r = post_json(client, "/api/v1/verify", {"mediaType": "[[[[" * 50 + '\\"{{{' * 50})
    assert r.status_code == 200


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_upload_limit_is_a_413(client, db):
    r = post_json(client, "/api/v1/lookup", {"isrcs": ["USSKG1912345"] * 200})
    assert r.status_code == 413
    assert error_of(r)["code"] == "too_large"


def test_an_invalid_platform_key_on_a_read_is_401_not_silently_anonymous(client, db):
    r = client.get("/api/v1/feed", HTTP_X_API_KEY="adrp_000000000000_nope")
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")
    error_of(r)


def test_a_valid_platform_key_reads_normally(client, declared, platform_key):
    assert client.get(f"/api/v1/releases/{declared.release.upc}", **bearer(platform_key)).status_code == 200


def test_any_accept_header_gets_json_rather_than_a_406(client, declared):
    r = client.get(f"/api/v1/releases/{declared.release.upc}", HTTP_ACCEPT="text/html")
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    r = client.get("/api/v1/log/checkpoint", HTTP_ACCEPT="application/json")
    assert r["Content-Type"] == "text/plain; charset=utf-8"
    r = client.get("/api/v1/recordings/bad", HTTP_ACCEPT="text/html")
    assert r.status_code == 400 and r["Content-Type"] == "application/json"
