"""Crafted input on every URL: NUL bytes and out-of-range integers in each path and query parameter, cookies,
form fields and JSON fields. The answer is a clear 4xx (or the page as usual), never a 5xx, never a write.

The URL patterns are read from Django's resolver, so a view added later is swept
without touching this file. NUL matters on PostgreSQL (its text type cannot hold
it: a NUL that reaches a query is a database error); run with ``DATABASE_URL``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.utils.regex_helper import normalize

from registry.api.tokens import label_token_create, platform_key_create
from registry.catalog.models import Artist, Label, Membership
from registry.converters import MAX_ID, DatabaseIdConverter
from registry.disputes.services import dispute_open
from registry.labels import services as label_services
from registry.labels.models import Batch
from registry.ownership.models import PrefixClaim, PrefixDelegation
from tests import factories
from tests.registry.api.conftest import release_payload
from tests.reliability.test_bad_input import assert_error_shape, snapshot

pytestmark = pytest.mark.django_db

NUL = "%00"
HUGE = "99999999999999999999"  # 20 digits: more than any 64-bit integer
BIGINT_PLUS_ONE = str(MAX_ID + 1)
CRAFTED = [NUL, "a%00b", HUGE, BIGINT_PLUS_ONE, "-1", "%EF%BF%BF"]  # the last is U+FFFF
# Every query parameter a view of ours reads (DRF's "format" too), and those Django's admin reads.
QUERY_PARAMS = ["q", "page", "tracks", "import", "next", "after", "limit", "index", "tree_size", "first", "second"]
QUERY_PARAMS += ["format", "include"]
ADMIN_QUERY_PARAMS = ["q", "o", "p", "e", "_to_field", "_changelist_filters", "_popup"]


def _routes(resolver: URLResolver | None = None, prefix: str = "", converters: dict | None = None) -> Iterator[Any]:
    """Every URL pattern as (path format, parameter names, converters), includes joined as Django reverses them."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        regex = prefix + p.pattern.regex.pattern.removeprefix("^")
        convs = {**(converters or {}), **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            yield from _routes(p, regex, convs)
        elif isinstance(p, URLPattern):
            for fmt, params in normalize(regex):
                yield "/" + fmt, params, convs


ROUTES = sorted({(fmt, tuple(params)) for fmt, params, _ in _routes()})


@pytest.fixture
def world(owner: Any, label: Any, declared: Any, staff: Any) -> dict[str, str]:
    """A valid value for each path parameter name, so that one parameter at a time can be crafted."""
    token, _ = label_token_create(label=label, name="crafted", created_by=owner)
    invitation, invite_token = label_services.invitation_create(
        label=label, email="crafted@example.com", role=Membership.SUBMITTER, created_by=owner
    )
    release = declared.release
    batch = Batch.objects.create(label=label, user=owner, kind=Batch.KIND_CHOICES[0][0])
    claim = PrefixClaim.objects.create(label=label, kind="isrc", prefix="QZTST", evidence="x")
    delegation = PrefixDelegation.objects.create(claim=claim, label=label)
    artist = get_user_model().objects.create_user("crafty", "crafty@example.net", "correct horse battery")
    dispute = dispute_open(
        declaration=declared, actor=artist, role="artist", isrc="", part="artwork", text="The cover is generated."
    )
    return {
        "uid": str(dispute.uid),
        "label_id": str(label.pk),
        "batch_id": str(batch.pk),
        "claim_id": str(claim.pk),
        "delegation_id": str(delegation.pk),
        "upc": release.upc,
        "isrc": release.tracks.first().recording.isrc,
        "artist_id": str(Artist.objects.filter(label=label).first().pk),
        "version": "1",
        "prepared_id": "1",  # a prepared co-signed statement (none exists: the page is a 404, never a 5xx)
        "token_id": str(token.pk),
        "membership_id": str(Membership.objects.get(user=owner).pk),
        "invitation_id": str(invitation.pk),
        "token": invite_token,
        "uidb64": "MQ",
        "object_id": str(label.pk),
        "app_label": "catalog",
        "path": "swagger-ui.css",
        "url": "catalog/",
        "content_type_id": str(ContentType.objects.get_for_model(Label).pk),
        "id": str(owner.pk),  # the admin's user password page
        "platform_id": str(platform_key_create(name="crafted platform")[0].pk),  # its signing keys (§16.1)
    }


def _clients(owner: Any, staff: Any) -> dict[str, Client]:
    signed_in, admin = Client(raise_request_exception=False), Client(raise_request_exception=False)
    signed_in.force_login(owner)
    admin.force_login(staff)
    return {"anonymous": Client(raise_request_exception=False), "owner": signed_in, "staff": admin}


def _personas(fmt: str) -> list[str]:
    # The admin is also swept signed in as staff, or only its login redirect would be seen.
    return ["anonymous", "owner", "staff"] if fmt.startswith("/admin/") else ["anonymous", "owner"]


def test_every_url_pattern_is_swept():
    """The sweep sees the label pages, the public pages, the API and the admin (the resolver walk works)."""
    paths = {fmt for fmt, _ in ROUTES}
    assert "/label/%(label_id)s/releases/%(upc)s/signed/%(version)s/" in paths, sorted(paths)
    assert "/labels/%(label_id)s/" in paths and "/api/v1/recordings/%(isrc)s" in paths
    assert any(p.startswith("/admin/catalog/label/%(object_id)s") for p in paths)
    assert len(ROUTES) > 100


def test_no_url_takes_an_unbounded_integer():
    """Every id in a URL goes through <id:…> (at most 2**63 - 1), none through Django's <int:…>."""
    unbounded = [fmt for fmt, _, convs in _routes() if any(isinstance(c, IntConverter) for c in convs.values())]
    assert unbounded == []
    bounded = {fmt for fmt, _, convs in _routes() if any(isinstance(c, DatabaseIdConverter) for c in convs.values())}
    assert "/label/%(label_id)s/" in bounded and "/artists/%(artist_id)s/" in bounded


@pytest.mark.parametrize("value", CRAFTED)
def test_a_crafted_path_parameter_is_never_a_5xx(world, owner, staff, value):
    """Each parameter of each pattern in turn (the others valid), GET and POST, anonymous and signed in."""
    clients = _clients(owner, staff)
    before = snapshot()
    failures = []
    for fmt, params in ROUTES:
        for name in params:
            path = fmt % {**world, name: value}
            for persona in _personas(fmt):
                for method in ("GET", "POST"):
                    response = clients[persona].generic(method, path)
                    if response.status_code >= 500:
                        failures.append((persona, method, path, response.status_code))
                    elif "%00" in value:
                        assert response.status_code == 400, (persona, method, path, response.status_code)
    assert failures == []
    assert snapshot() == before


@pytest.mark.parametrize("value", [NUL, HUGE, "-1", "%EF%BF%BF"])
def test_a_crafted_query_parameter_is_never_a_5xx(world, owner, staff, value):
    """Each known query parameter in turn on every URL (all path parameters valid), anonymous and signed in.

    The admin's parameters are sent to the admin as staff (anonymous and owner only see its login redirect).
    """
    clients = _clients(owner, staff)
    before = snapshot()
    failures = []
    for fmt, _params in ROUTES:
        path = fmt % world
        admin = fmt.startswith("/admin/")
        for persona in ["staff"] if admin else ["anonymous", "owner"]:
            for param in ADMIN_QUERY_PARAMS if admin else QUERY_PARAMS:
                response = clients[persona].get(f"{path}?{param}={value}")
                if response.status_code >= 500:
                    failures.append((persona, path, param, response.status_code))
                elif "%00" in value:
                    assert response.status_code == 400, (persona, path, param, response.status_code)
    assert failures == []
    assert snapshot() == before


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("anonymous", "/?q=%00"),
        ("owner", "/label/{label_id}/?q=%00"),
        ("owner", "/label/{label_id}/releases/%00/"),
        ("anonymous", "/releases/%00/"),
        ("anonymous", "/api/v1/releases/%00"),
        ("anonymous", "/api/docs/assets/%00"),
        ("anonymous", "/api/v1/feed?%00=1"),
    ],
)
def test_the_reported_nul_requests_are_a_400_that_says_why(world, owner, staff, persona, path):
    response = _clients(owner, staff)[persona].get(path.format(**world))
    assert response.status_code == 400
    if "/api/" in path:
        assert "NUL" in assert_error_shape(response)["message"]
    else:
        assert "NUL character" in response.content.decode()
        assert response["Content-Security-Policy"]  # the site's headers are still set


@pytest.mark.parametrize("number", [HUGE, BIGINT_PLUS_ONE])
@pytest.mark.parametrize("template", ["/label/{n}/", "/label/{label_id}/releases/{upc}/signed/{n}/", "/artists/{n}/"])
def test_an_id_beyond_bigint_is_a_404(world, owner, staff, number, template):
    response = _clients(owner, staff)["owner"].get(template.format(n=number, **world))
    assert response.status_code == 404


def test_the_largest_bigint_is_an_ordinary_not_found(world, owner, staff):
    assert _clients(owner, staff)["owner"].get(f"/label/{MAX_ID}/").status_code == 404
    assert _clients(owner, staff)["anonymous"].get(f"/labels/{MAX_ID}/").status_code == 404


def test_a_nul_in_a_cookie_is_a_400_not_a_session_lookup(keys):
    client = Client(raise_request_exception=False)
    # A quoted cookie may spell NUL as the octal escape \000, which Django's cookie parser decodes.
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    for path in ("/", "/label/", "/api/v1/feed"):
        response = client.get(path)
        assert response.status_code == 400, (path, response.status_code)


def test_an_integer_query_parameter_with_a_trailing_newline_is_a_400(keys):
    response = Client().get("/api/v1/feed?limit=5%0A")
    assert response.status_code == 400
    assert assert_error_shape(response)["fields"] == {"limit": ["Must be a whole number."]}


# --- form fields ---------------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The fields of each POST form on a page, with the values a browser would send unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.forms.append({})
        elif not self.forms or "name" not in a:
            return
        elif tag == "input" and a.get("type") not in ("checkbox", "radio", "file") or "checked" in a:
            self.forms[-1].setdefault(a["name"], []).append(a.get("value", ""))
        elif tag in ("input", "select"):
            self.forms[-1].setdefault(a["name"], [])
        elif tag == "textarea":
            self._textarea = a["name"]
            self.forms[-1].setdefault(a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.forms[-1][self._textarea].append(data)
            self._textarea = None


FORM_PAGES = [
    ("anonymous", "/label/apply/"),
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/accounts/password_reset/"),
    ("anonymous", "/label/invite/{token}/"),
    ("owner", "/label/{label_id}/releases/new/"),
    ("owner", "/label/{label_id}/releases/import/"),
    ("owner", "/label/{label_id}/releases/{upc}/edit/"),
    ("owner", "/label/{label_id}/releases/{upc}/declare/"),
    ("owner", "/label/{label_id}/releases/{upc}/withdraw/"),
    ("owner", "/label/{label_id}/tokens/"),
    ("owner", "/label/{label_id}/members/"),
    ("owner", "/accounts/password_change/"),
    ("staff", "/admin/catalog/label/{label_id}/change/"),
    ("staff", "/admin/catalog/release/"),
]


@pytest.mark.parametrize("value", ["a\x00b", HUGE, "\uffff"])
@pytest.mark.parametrize(("persona", "template"), FORM_PAGES)
def test_a_crafted_value_in_any_form_field_is_never_a_5xx(world, owner, staff, persona, template, value):
    """Each field of each form on the page in turn (the others as the page filled them in)."""
    client = _clients(owner, staff)[persona]
    path = template.format(**world)
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    parser = _FormFields()
    parser.feed(page.content.decode())
    assert parser.forms, path
    failures = []
    for form in parser.forms:
        for name in form:
            # A huge TOTAL_FORMS is capped by the formsets' absolute_max (tests/registry/labels/test_release_form.py
            # ::test_a_huge_total_forms_builds_at_most_the_track_cap_of_rows); here it would only be slow.
            if name == "csrfmiddlewaretoken" or (value == HUGE and name.endswith("_FORMS")):
                continue
            response = client.post(path, {**form, name: value})
            if response.status_code >= 500:
                failures.append((name, response.status_code))
    assert failures == []


def test_bypassing_form_inputs_with_nul_are_refused(world, owner, staff, declared):
    """POST values the views read without a form field: the amend shortcut, expected_version, a member's role."""
    client = _clients(owner, staff)["owner"]
    before = snapshot()
    base = f"/label/{world['label_id']}/releases/{world['upc']}"
    # Not a shortcut: the form itself, refused for its missing answers.
    assert client.post(f"{base}/declare/", {"shortcut": "no_ai\x00"}).status_code == 400
    response = client.post(f"{base}/withdraw/", {"reason": "Crafted", "expected_version": "1\x00"})
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()
    response = client.post(f"{base}/withdraw/", {"reason": "Crafted", "expected_version": HUGE})
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()
    response = client.post(f"/label/{world['label_id']}/members/{world['membership_id']}/role/", {"role": "o\x00"})
    assert response.status_code == 302
    assert snapshot() == before


# --- JSON fields -------------------------------------------------------------------------------------


@pytest.fixture
def api_client(keys: Any, label: Any, owner: Any) -> Client:
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {label_token_create(label=label, name='crafted api', created_by=owner)[1]}"
    )


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leaves(item, (*path, i))
    else:
        yield path


def _replaced(body: Any, path: tuple, value: Any) -> Any:
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _amend_body(upc_tracks: list[str]) -> dict[str, Any]:
    return {
        "reason": "Crafted amendment",
        "expected_version": 1,
        "title": "Signals",
        "ai": {isrc: factories.track_ai("partly", tools=["Suno v4"]) for isrc in upc_tracks},
    }


@pytest.mark.parametrize("value", ["a\x00b", "\uffff", int(HUGE), 2**63])
def test_a_crafted_value_in_any_json_field_is_a_400_never_a_5xx(api_client, declared, value):
    """Every leaf of a release creation, an amendment, a withdrawal and a dispute in turn; NUL or U+FFFF is a 400."""
    isrcs = [t.recording.isrc for t in declared.release.tracks.select_related("recording")]
    upc = declared.release.upc
    cases = [
        ("/api/v1/releases", release_payload(tracks=2, level="partly")),
        (f"/api/v1/releases/{upc}/amend", _amend_body(isrcs)),
        (f"/api/v1/releases/{upc}/withdraw", {"reason": "Crafted withdrawal", "expected_version": 1}),
        ("/api/v1/lookup", {"isrcs": isrcs[:1], "upcs": [upc]}),
        # The label's own release: refused (403) once the body checks out, so nothing is ever opened.
        ("/api/v1/disputes", {"upc": upc, "isrc": isrcs[0], "part": "vocals", "text": "Crafted", "evidence": "e"}),
    ]
    before = snapshot()
    for path, body in cases:
        for leaf in _leaves(body):
            response = api_client.post(path, _replaced(body, leaf, value), content_type="application/json")
            assert response.status_code < 500, (path, leaf, response.status_code)
            if response.status_code >= 400:
                assert_error_shape(response)
            if isinstance(value, str) and not path.endswith("lookup"):
                assert response.status_code == 400, (path, leaf, response.status_code, response.content[:200])
                assert snapshot() == before, (path, leaf)
            elif response.status_code < 300 and not path.endswith("lookup"):
                before = snapshot()  # a huge number in a text field (a title) is just text
    # An ISRC key of ``ai`` is a JSON member name, not a value: crafted, it is named, not looked up.
    key = "QZ\x00" if isinstance(value, str) else str(value)
    response = api_client.post(
        f"/api/v1/releases/{upc}/amend",
        {"reason": "x", "ai": {key: factories.track_ai("none")}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "not on this release" in assert_error_shape(response)["message"]


def test_the_id_converter_refuses_what_bigint_cannot_hold():
    assert re.fullmatch(DatabaseIdConverter.regex, HUGE) is None
    assert re.fullmatch(DatabaseIdConverter.regex, BIGINT_PLUS_ONE)
    with pytest.raises(ValueError):
        DatabaseIdConverter().to_python(BIGINT_PLUS_ONE)
