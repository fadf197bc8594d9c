"""The OpenAPI document and the interactive docs, served with no CDN and a page-specific CSP."""

from __future__ import annotations


def test_the_openapi_schema_describes_every_endpoint(client, db):
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/.well-known/jwks.json",
        "/api/v1/recordings/{isrc}",
        "/api/v1/releases/{upc}",
        "/api/v1/releases/{upc}/history",
        "/api/v1/lookup",
        "/api/v1/feed",
        "/api/v1/log/checkpoint",
        "/api/v1/log/inclusion",
        "/api/v1/log/consistency",
        "/api/v1/verify",
        "/api/v1/releases",
        "/api/v1/releases/{upc}/amend",
        "/api/v1/releases/{upc}/withdraw",
        "/api/v1/label/releases",
    } <= set(schema["paths"])
    create = schema["paths"]["/api/v1/releases"]["post"]
    assert create["requestBody"]["content"]["application/json"]["examples"]
    assert create["security"] == [{"bearerToken": []}]


def test_the_docs_page_loads_its_assets_locally_under_a_strict_csp(client, db):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "https://" not in html and "http://" not in html
    csp = r["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    assert "<script>" not in html  # the init script is loaded from a URL, not inlined
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        url = f"/api/docs/assets/swagger-ui-dist/{asset}"
        assert url in html
        asset_response = client.get(url)
        assert asset_response.status_code == 200
        b"".join(asset_response.streaming_content)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_docs_assets_cannot_escape_their_directory(client, db):
    for path in ("../../__init__.py", "..%2F..%2F__init__.py", "nope.js"):
        r = client.get(f"/api/docs/assets/{path}")
        assert r.status_code == 404
