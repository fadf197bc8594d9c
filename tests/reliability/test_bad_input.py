"""Hostile and odd input through the HTTP interface: a clear 4xx or an exact round trip, never a 500 or half a write.

Covers hostile XML uploads to the label import form, oversized, deep and
non-standard JSON bodies, unicode edge cases in every name the registry signs
(through the API and the label forms), a zoo of malformed Authorization
headers, wrong content types and every HTTP method on every API path.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from provenance.bundle import Verifier
from provenance.statement import parse_statement
from registry.api.models import IdempotencyRecord, LabelToken
from registry.api.tokens import label_token_create
from registry.catalog.models import Artist, Recording, Release
from registry.declarations.models import Declaration
from registry.labels.models import Invitation, LabelApplication
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import release_payload

pytestmark = pytest.mark.django_db
ERN = Path(__file__).resolve().parents[1] / "data" / "ern"


def snapshot() -> dict[str, int]:
    return {
        "releases": Release.objects.count(),
        "recordings": Recording.objects.count(),
        "artists": Artist.objects.count(),
        "declarations": Declaration.objects.count(),
        "leaves": LogLeaf.objects.count(),
        "tokens": LabelToken.objects.count(),
        "invitations": Invitation.objects.count(),
        "applications": LabelApplication.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def assert_error_shape(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def owner_client(owner: Any) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def api(keys: Any, label: Any, owner: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {label_token_create(label=label, name='bad input', created_by=owner)[1]}")


# --- hostile XML to the import form ------------------------------------------------------------

QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "' + b"x" * 50_000 + b'">]>'
    b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/43">' + b"&a;" * 50_000 + b"</NewReleaseMessage>"
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE NewReleaseMessage SYSTEM "http://attacker.example/ern.dtd">'
    b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/43"/>'
)
PARAMETER_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>'
    b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/43"/>'
)
XINCLUDE = (
    b'<?xml version="1.0"?><NewReleaseMessage xmlns="http://ddex.net/xml/ern/43" '
    b'xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" parse="text"/>'
    b"</NewReleaseMessage>"
)
HOSTILE_UPLOADS = {
    "billion laughs": ((ERN / "billion-laughs.xml").read_bytes(), "DTD, entities or external references"),
    "quadratic blowup": (QUADRATIC, "DTD, entities or external references"),
    "external entity to /etc/passwd": ((ERN / "xxe.xml").read_bytes(), "DTD, entities or external references"),
    "external DTD": (EXTERNAL_DTD, "DTD, entities or external references"),
    "parameter entity": (PARAMETER_ENTITY, "DTD, entities or external references"),
    "XInclude": (XINCLUDE, "no &lt;ReleaseList&gt;&lt;Release&gt;"),
    "PNG image": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not well-formed XML"),
    "UTF-16 garbage": ("\ufeff<<<\ud7ff>>>".encode("utf-16"), "not well-formed XML"),
    "JSON": (b'{"upc": "4006381333931"}', "not well-formed XML"),
    "empty file": (b"", "The submitted file is empty."),
    "over 10 MB": (b"<a>" + b" " * (10 * 1024 * 1024) + b"</a>", "over 10 MB"),
    "wrong root": (b'<?xml version="1.0"?><html><body/></html>', "Expected a DDEX NewReleaseMessage"),
    "unknown namespace": (
        b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/382"/>',
        "ERN 3.8.2 (namespace http://ddex.net/xml/ern/382) is not supported",
    ),
}


@pytest.mark.parametrize("name", HOSTILE_UPLOADS)
def test_hostile_xml_uploads_are_a_clear_form_error_and_create_nothing(owner_client, label, name):
    content, message = HOSTILE_UPLOADS[name]
    before = snapshot()
    response = owner_client.post(
        f"/label/{label.pk}/releases/import/", {"file": SimpleUploadedFile("release.xml", content, "text/xml")}
    )
    assert response.status_code == 400, response.status_code
    text = response.content.decode()
    assert message in text, text[text.find("errorlist") - 200 : text.find("errorlist") + 600]
    assert "root:" not in text  # nothing of /etc/passwd, ever
    assert snapshot() == before
    assert not any(k.startswith("labels:import") for k in owner_client.session.keys())


def test_the_import_form_without_a_file_is_a_form_error(owner_client, label):
    response = owner_client.post(f"/label/{label.pk}/releases/import/", {"upload": "1"})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    # A completely empty POST is bound too (the view binds every POST): the missing file is reported.
    empty = owner_client.post(f"/label/{label.pk}/releases/import/", {})
    assert empty.status_code == 400 and "errorlist" in empty.content.decode()


# --- JSON bodies ------------------------------------------------------------------------------------

WRITE_PATHS = ["/api/v1/releases", "/api/v1/releases/{upc}/amend", "/api/v1/releases/{upc}/withdraw"]
PUBLIC_POSTS = ["/api/v1/lookup", "/api/v1/verify"]


def _post(client: Client, path: str, raw: bytes | str, content_type: str = "application/json", **extra: Any) -> Any:
    return client.generic("POST", path, raw, content_type=content_type, **extra)


@pytest.mark.parametrize("template", WRITE_PATHS + PUBLIC_POSTS)
def test_oversized_bodies_are_413_in_the_error_shape(api, declared, template, settings):
    path = template.format(upc=declared.release.upc)
    before = snapshot()
    big = json.dumps({"reason": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10), **release_payload()})
    response = _post(api, path, big)
    assert response.status_code == 413
    assert assert_error_shape(response)["code"] == "too_large"
    assert snapshot() == before


@pytest.mark.parametrize("template", WRITE_PATHS + PUBLIC_POSTS)
@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400(api, declared, template, depth):
    path = template.format(upc=declared.release.upc)
    before = snapshot()
    for raw in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        response = _post(api, path, raw)
        assert response.status_code == 400, (raw[:20], response.status_code)
        assert_error_shape(response)
    assert snapshot() == before


NON_STANDARD_JSON = {
    "NaN": '{"reason": NaN}',
    "Infinity": '{"reason": "x", "expected_version": Infinity}',
    "-Infinity": '{"reason": "x", "expected_version": -Infinity}',
    "5000-digit integer": '{"reason": "x", "expected_version": ' + "9" * 5000 + "}",
    "float": '{"reason": "x", "expected_version": 1.5}',
    "1e400": '{"reason": "x", "expected_version": 1e400}',
    "not UTF-8": b'{"reason": "\xff\xfe"}',
    "UTF-8 BOM": "\ufeff" + '{"reason": "x"}',
    "trailing garbage": '{"reason": "x"} {}',
    "a bare string": '"reason"',
    "null": "null",
    "an array": '[{"reason": "x"}]',
    "empty": "",
    "lone surrogate": '{"reason": "\\ud800"}',
    "NUL": '{"reason": "a\\u0000b"}',
}


@pytest.mark.parametrize("name", NON_STANDARD_JSON)
def test_non_standard_json_to_a_write_is_a_400_and_writes_nothing(api, declared, name):
    before = snapshot()
    response = _post(api, f"/api/v1/releases/{declared.release.upc}/withdraw", NON_STANDARD_JSON[name])
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert_error_shape(response)
    assert snapshot() == before


@pytest.mark.parametrize("name", NON_STANDARD_JSON)
def test_non_standard_json_to_the_public_posts_is_never_a_500(client, keys, name):
    for path in PUBLIC_POSTS:
        response = _post(client, path, NON_STANDARD_JSON[name])
        assert response.status_code in (200, 400), (path, response.status_code, response.content[:300])
        if response.status_code == 400:
            assert_error_shape(response)
        elif path.endswith("verify"):
            assert response.json()["valid"] is False  # the verifier answers, and says no
        else:
            assert response.json()["results"] == []


def test_duplicate_keys_do_not_split_what_is_signed_from_what_is_stored(api, label):
    """Python's JSON keeps the last duplicate; whatever wins must be what is stored, signed and shown."""
    body = release_payload(title="First title")
    raw = json.dumps(body)[:-1] + ', "title": "Second title"}'
    response = _post(api, "/api/v1/releases", raw)
    if response.status_code == 400:
        assert_error_shape(response)
        return
    assert response.status_code == 201
    release = Release.objects.get(upc=body["upc"])
    envelope = json.loads(release.current_declaration.bundle)["envelope"]
    statement = parse_statement(base64.b64decode(envelope["payload"]))
    assert release.title == statement["release"]["title"] == release.current_declaration.statement["release"]["title"]


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("position", 10**30),
        ("position", -(2**63)),
        ("duration", 2**63),
        ("duration", -1),
        ("expected_version", 2**80),
        ("position", True),
        ("position", "1; DROP TABLE"),
        ("duration", [1]),
    ],
)
def test_out_of_range_numbers_are_a_400_not_a_database_error(api, declared, label, where, value):
    before = snapshot()
    if where == "expected_version":
        response = _post(
            api, f"/api/v1/releases/{declared.release.upc}/amend", json.dumps({"reason": "x", where: value})
        )
    else:
        body = release_payload(tracks=1)
        body["tracks"][0][where] = value
        response = _post(api, "/api/v1/releases", json.dumps(body))
    if where == "expected_version":
        # Any positive whole number is a well-formed expectation; a wrong one is the documented 409.
        assert response.status_code == 409, (response.status_code, response.content[:300])
        assert assert_error_shape(response)["code"] == "conflict"
    else:
        assert response.status_code == 400, (response.status_code, response.content[:300])
        assert where in json.dumps(assert_error_shape(response)["fields"])
    assert snapshot() == before


# --- unicode in names ---------------------------------------------------------------------------

NAMES = {
    "RTL override": "Nice \u202egnos\u202c Song",
    "zero-width joiner": "Fam\u200dily \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "zero-width space and BOM": "Zero\u200bWidth\ufeffName",
    "combining marks": "Cafe\u0301 Z\u0351\u0334a\u0337l\u0335g\u0336o\u0338",
    "emoji": "\U0001f3b5 Night \U0001f680 Drive \U0001f30c",
    "astral CJK": "\U00020000\u4e16\u754c",
    "HTML": '<script>alert("x")</script>&amp;',
    "quotes and backslashes": 'It\'s "quoted" \\ back\\slashed',
    "line separators": "Line\u2028Para\u2029End",
    "NUL": "Nul\x00Byte",
    "lone surrogate": "Lone \ud800 surrogate",
    "10k characters": "x" * 10_000,
    "control characters": "Bell\x07Esc\x1bDel\x7f",
    "only whitespace": " \t\u00a0\u3000 ",
}


def _api_payload(field: str, value: str) -> dict[str, Any]:
    body = release_payload(tracks=1)
    if field == "release title":
        body["title"] = value
    elif field == "artist name":
        body["artists"][0]["name"] = value
    elif field == "track title":
        body["tracks"][0]["title"] = value
    elif field == "tool name":
        body["tracks"][0]["ai"] = factories.track_ai("partly", tools=[value])
    return body


def _shown(statement: dict[str, Any], field: str) -> str:
    return {
        "release title": statement["release"]["title"],
        "artist name": statement["artists"][0]["name"],
        "track title": statement["tracks"][0]["title"],
        "tool name": (statement["tracks"][0]["tools"] or [""])[0],
    }[field]


@pytest.mark.parametrize("field", ["release title", "artist name", "track title", "tool name"])
@pytest.mark.parametrize("name", NAMES)
def test_odd_names_through_the_api_round_trip_exactly_or_are_refused_whole(api, client, label, name, field):
    value = NAMES[name]
    body = _api_payload(field, value)
    # json.dumps escapes the lone surrogate as \ud800: the wire form a hostile client would send.
    raw = json.dumps(body)
    before = snapshot()
    response = _post(api, "/api/v1/releases", raw)
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 201:
        assert 400 <= response.status_code < 500
        assert assert_error_shape(response)["fields"], "the refusal names the field"
        assert snapshot() == before
        return

    # Accepted: the exact string is signed, looked up, verified and shown (escaped) on the public page.
    upc = body["upc"]
    lookup = client.get(f"/api/v1/releases/{upc}")
    assert lookup.status_code == 200
    bundle = lookup.json()["bundle"]
    jwks = client.get("/.well-known/jwks.json").json()
    result = Verifier.from_jwks(jwks).verify(bundle)
    assert result.valid, result.summary()
    signed = _shown(result.statement, field)
    assert signed == value or (signed == value.strip() and value != value.strip()), (signed, value)
    assert client.post("/api/v1/verify", bundle, content_type="application/json").json()["valid"] is True
    page = client.get(f"/releases/{upc}/")
    assert page.status_code == 200
    text = page.content.decode()
    if field != "tool name" or value.strip():
        assert html.escape(signed, quote=False) in text.replace("&#x27;", "'").replace("&quot;", '"'), field
    assert "<script>alert" not in text


def post_form(client: Client, path: str, data: dict[str, str]) -> Any:
    """POST urlencoded bytes as a browser would; a lone surrogate goes out as its (invalid) UTF-8 bytes."""
    body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in data.items()})
    return client.generic("POST", path, body, content_type="application/x-www-form-urlencoded")


def sent(value: str) -> str:
    """What Django reads from those bytes: invalid UTF-8 becomes U+FFFD (no surrogate reaches the database)."""
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


FORM_FIELDS = {"release title": "title", "artist name": "artists-0-name", "track title": "tracks-0-title"}


@pytest.mark.parametrize("field", FORM_FIELDS)
@pytest.mark.parametrize("name", NAMES)
def test_odd_names_through_the_label_form_are_saved_exactly_or_are_a_form_error(owner_client, label, name, field):
    value = NAMES[name]
    data = {
        "upc": factories.upc(),
        "title": "Plain",
        "genre": "Pop",
        "release_date": "2026-05-01",
        "artwork_ai": "none",
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "Plain Artist",
        "artists-0-persona": "human",
        "artists-0-isni": "",
        "tracks-TOTAL_FORMS": "1",
        "tracks-INITIAL_FORMS": "0",
        "tracks-0-isrc": factories.isrc(),
        "tracks-0-title": "Plain Song",
        "tracks-0-position": "1",
        "tracks-0-duration": "3:00",
        "tracks-0-audio_sha256": "",
        "save": "1",
        FORM_FIELDS[field]: value,
    }
    before = snapshot()
    response = post_form(owner_client, f"/label/{label.pk}/releases/new/", data)
    assert response.status_code in (400, 302), response.status_code
    if response.status_code == 400:
        assert 'id="error-summary"' in response.content.decode()
        assert snapshot() == before
        return
    release = Release.objects.get(upc=data["upc"])
    stored = {
        "release title": release.title,
        "artist name": release.artists.get().name,
        "track title": release.tracks.get().title,
    }[field]
    expected = sent(value).strip()  # Django forms strip surrounding whitespace, nothing else
    if field == "track title" and not expected:
        expected = release.title  # a single's track title left blank is the release's (the form says so)
    assert stored == expected, (stored, value)
    page = owner_client.get(f"/label/{label.pk}/releases/{release.upc}/")
    assert page.status_code == 200
    assert "<script>alert" not in page.content.decode()


@pytest.mark.parametrize("name", NAMES)
def test_odd_label_names_in_an_application_are_stored_exactly_or_a_form_error(client, db, name):
    value = NAMES[name]
    before = snapshot()
    response = post_form(
        client,
        "/label/apply/",
        {
            "label_name": value,
            "contact_name": value,
            "contact_email": "owner@example.com",
            "website": "",
            "dpid": "",
            "evidence": "We are listed on our distributor's page.",
        },
    )
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert "errorlist" in response.content.decode()
        assert snapshot() == before
    else:
        assert LabelApplication.objects.get().label_name == sent(value).strip()


# --- headers, content types, methods -----------------------------------------------------------

AUTH_ZOO = [
    "Bearer",
    "Bearer ",
    "Bearer  ",
    "Basic dXNlcjpwYXNz",
    "Token adrl_abc",
    "adrl_abc",
    "Bearer adrl_",
    "Bearer adrl_\x00",
    "Bearer adrl_" + "A" * 10_000,
    "Bearer adrp_" + "a" * 40,
    "Bearer adrl_x.y.z",
    "Bearer adrl_ü",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "Bearer a b c",
    "Digest username=x",
    "Bearer %00",
    "\ud800",
]


@pytest.mark.parametrize("header", AUTH_ZOO, ids=lambda h: repr(h[:24]))
def test_malformed_authorization_headers_are_401_json(client, declared, header):
    before = snapshot()
    for method, path in [
        ("POST", "/api/v1/releases"),
        ("POST", f"/api/v1/releases/{declared.release.upc}/withdraw"),
        ("GET", "/api/v1/label/releases"),
        ("GET", f"/api/v1/releases/{declared.release.upc}"),
    ]:
        response = client.generic(
            method,
            path,
            json.dumps({"reason": "x", **release_payload()}),
            content_type="application/json",
            HTTP_AUTHORIZATION=header,
        )
        assert response.status_code == 401, (method, path, response.status_code, response.content[:200])
        assert assert_error_shape(response)["code"] in ("authentication_failed", "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_an_empty_x_api_key_counts_as_none_and_a_bad_one_is_401(client, keys):
    assert client.get("/api/v1/feed", HTTP_X_API_KEY="   ").status_code == 200
    response = client.get("/api/v1/feed", HTTP_X_API_KEY="adrp_nope")
    assert response.status_code == 401
    assert_error_shape(response)


CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jsonx",
    "application/json-patch+json",
    "",
]


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_wrong_content_types_are_415_json_and_write_nothing(api, declared, content_type):
    before = snapshot()
    for path in [*WRITE_PATHS, *PUBLIC_POSTS]:
        path = path.format(upc=declared.release.upc)
        response = api.generic("POST", path, json.dumps({"reason": "x"}), content_type=content_type)
        assert response.status_code == 415, (path, content_type, response.status_code, response.content[:200])
        assert assert_error_shape(response)["code"] == "unsupported_media_type"
    assert snapshot() == before


def test_json_with_a_charset_parameter_is_accepted(api, declared):
    response = api.generic(
        "POST",
        f"/api/v1/releases/{declared.release.upc}/amend",
        json.dumps({"reason": "charset", "artwork": "partly"}),
        content_type="Application/JSON; charset=utf-8",
    )
    assert response.status_code == 200, response.content[:200]


API_PATHS = [
    "/.well-known/jwks.json",
    "/api/v1/recordings/{isrc}",
    "/api/v1/releases",
    "/api/v1/releases/{upc}",
    "/api/v1/releases/{upc}/history",
    "/api/v1/releases/{upc}/amend",
    "/api/v1/releases/{upc}/withdraw",
    "/api/v1/lookup",
    "/api/v1/feed",
    "/api/v1/log/checkpoint",
    "/api/v1/log/inclusion?index=0&tree_size=1",
    "/api/v1/log/consistency?first=1&second=1",
    "/api/v1/verify",
    "/api/v1/label/releases",
    "/api/schema/",  # drf-spectacular's view: its errors have our shape but render as the schema's YAML
    "/api/v1/nothing-here",
    "/api/v1/releases/not-a-upc/amend",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND", "BREW"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_on_every_api_path_is_a_documented_answer_never_a_500(api, declared, method):
    upc = declared.release.upc
    isrc = declared.release.tracks.first().recording.isrc
    seen = {}
    for template in API_PATHS:
        path = template.format(upc=upc, isrc=isrc)
        before = snapshot()
        response = api.generic(method, path, b"", content_type="application/json")
        seen[path] = response.status_code
        assert response.status_code < 500, (method, path, response.status_code)
        if response.status_code >= 400 and method != "HEAD" and not path.startswith("/api/schema/"):
            assert_error_shape(response)
        if method not in ("POST",):
            assert snapshot() == before, (method, path)
    # The write paths take POST only; anything else is 405 (or 404 for an unknown path).
    if method not in ("POST", "OPTIONS"):
        assert seen[f"/api/v1/releases/{upc}/amend"] == 405
        assert seen["/api/v1/nothing-here"] == 404
