"""The dispute API through HTTP, per role: a platform key opens and follows, another label's token opens as a
rights holder, the disputed label's token answers, the opener withdraws, staff resolve; bad input is a clear 4xx.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import override_settings

import provenance
from registry.api.tokens import platform_key_create
from registry.declarations.services import declaration_withdraw
from registry.disputes import services
from registry.disputes.models import Dispute, DisputeStep
from registry.transparency import keys as tkeys
from registry.transparency.audit import audit_log
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import bearer, post_json

pytestmark = pytest.mark.django_db

CLAIM = "Our detector finds the lead vocal synthetic (score 0.97, report 4471)"


@pytest.fixture
def platform(db):
    row, key = platform_key_create(name="Example Streaming", contact_email="trust@streaming.example")
    return row, key


def _body(declared, **extra):
    return {"upc": declared.release.upc, "isrc": declared.statement["tracks"][1]["isrc"], "part": "vocals",
            "text": CLAIM, "evidence": "Detector report 2026-12-01", **extra}  # fmt: skip


def _open(client, key, declared, **extra):
    return post_json(client, "/api/v1/disputes", _body(declared, **extra), **bearer(key))


def _counts():
    return (Dispute.objects.count(), DisputeStep.objects.count(), LogLeaf.objects.count())


def test_a_platform_opens_a_dispute_with_its_key_and_follows_it(
    client, platform, declared, owner, label_token, django_capture_on_commit_callbacks
):
    row, key = platform
    leaves = LogLeaf.objects.count()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _open(client, key, declared, isrc=declared.statement["tracks"][1]["isrc"].lower())
    assert response.status_code == 201, response.content
    body = response.json()
    dispute = Dispute.objects.get()
    assert (dispute.opened_by_platform, dispute.opened_by, dispute.opener_role) == (row, None, "platform")
    assert LogLeaf.objects.count() == leaves + 1
    assert body["id"] == str(dispute.uid) and body["opened_by"] == "platform" and body["status"] == "open"
    assert body["isrc"] == declared.statement["tracks"][1]["isrc"] and body["declaration_version"] == 1
    assert body["steps"] == [{"sequence": 1, "step": "opened", "role": "platform", "outcome": None,
                              "log_index": dispute.steps.get().leaf_id, "text": CLAIM,
                              "evidence": "Detector report 2026-12-01"}]  # fmt: skip
    step = dispute.steps.get()
    assert step.statement["actor"] == {"role": "platform"} and CLAIM not in LogLeaf.objects.get(index=step.leaf_id).data
    assert provenance.verify_dispute_bundle(step.bundle.encode(), provenance.Verifier(tkeys.keyset())).valid
    assert "olivia@example.com" in {r for m in mail.outbox for r in m.to}  # the label is told
    # The opener and the disputed label read it; anyone else is told it does not exist.
    assert client.get(f"/api/v1/disputes/{dispute.uid}", **bearer(key)).json()["steps"][0]["text"] == CLAIM
    assert client.get(f"/api/v1/disputes/{dispute.uid}", **bearer(label_token)).status_code == 200
    _, stranger = platform_key_create(name="Another Platform")
    for headers in (bearer(stranger), {}):
        refused = client.get(f"/api/v1/disputes/{dispute.uid}", **headers)
        assert refused.status_code in (401, 404) and CLAIM not in refused.content.decode()
    assert client.get(f"/api/v1/disputes/{dispute.uid}").status_code == 401
    # Public answers say a platform disputes it, never what it said.
    public = client.get(f"/api/v1/releases/{declared.release.upc}")
    assert public.json()["disputes"][0]["opened_by"] == "platform" and CLAIM not in public.content.decode()
    audit_log()


def test_another_label_s_token_disputes_as_a_rights_holder_but_never_its_own_declarations(
    client, declared, label_token, other_token, other_label
):
    before = _counts()
    own = _open(client, label_token, declared)
    assert own.status_code == 403 and "amending it" in own.json()["error"]["message"]
    assert own.json()["error"]["code"] == "permission_denied"  # the code docs/platform-quickstart.md lists
    assert _counts() == before
    response = _open(client, other_token, declared, part="identifier")
    assert response.status_code == 201, response.content
    dispute = Dispute.objects.get()
    assert (dispute.opener_role, dispute.opened_by_label) == ("rights_holder", other_label)
    assert dispute.steps.get().statement["declaration"]["part"] == "identifier"
    assert client.get(f"/api/v1/disputes/{dispute.uid}", **bearer(other_token)).status_code == 200


def test_the_label_answers_through_the_api_the_opener_is_told_and_staff_resolve(
    client, platform, declared, label_token, other_token, staff, django_capture_on_commit_callbacks
):
    _, key = platform
    uid = _open(client, key, declared).json()["id"]
    answer = {"outcome": "contest", "text": "Recorded live at Studio 4; session files on request."}
    before = _counts()
    # Neither the opener nor another label answers for the disputed label.
    assert post_json(client, f"/api/v1/disputes/{uid}/answer", answer, **bearer(key)).status_code == 403
    assert post_json(client, f"/api/v1/disputes/{uid}/answer", answer, **bearer(other_token)).status_code == 404
    assert post_json(client, f"/api/v1/disputes/{uid}/answer", {"outcome": "contest"}, **bearer(label_token)).json()[
        "error"
    ]["fields"] == {"text": ["Required."]}
    assert _counts() == before
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(client, f"/api/v1/disputes/{uid}/answer", answer, **bearer(label_token))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "answered" and response.json()["steps"][1]["outcome"] == "contest"
    assert "trust@streaming.example" in {r for m in mail.outbox for r in m.to}  # the platform's contact
    again = post_json(client, f"/api/v1/disputes/{uid}/answer", answer, **bearer(label_token))
    assert again.status_code == 409
    services.dispute_resolve(dispute=Dispute.objects.get(uid=uid), actor=staff, outcome="rejected", text="Stands.")
    followed = client.get(f"/api/v1/disputes/{uid}", **bearer(key)).json()
    assert [(s["step"], s["role"], s["outcome"]) for s in followed["steps"]] == [
        ("opened", "platform", None), ("answered", "label", "contest"), ("resolved", "staff", "rejected"),
    ]  # fmt: skip
    audit_log()


def test_only_the_opener_withdraws_through_the_api(client, platform, declared, label_token):
    _, key = platform
    uid = _open(client, key, declared).json()["id"]
    before = _counts()
    assert post_json(client, f"/api/v1/disputes/{uid}/withdraw", {}, **bearer(label_token)).status_code == 403
    assert _counts() == before
    response = post_json(client, f"/api/v1/disputes/{uid}/withdraw", {"text": "Detector error."}, **bearer(key))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert response.json()["steps"][-1]["role"] == "platform"
    assert post_json(client, f"/api/v1/disputes/{uid}/withdraw", {}, **bearer(key)).status_code == 409


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"text": ""}, 400, "text"),
        ({"text": "x" * (services.TEXT_MAX + 1)}, 400, "text"),
        ({"text": "bad\u0000byte"}, 400, "text"),
        ({"part": "mood"}, 400, "part"),
        ({"upc": "12345"}, 400, "upc"),
        ({"upc": ["036000291452"]}, 400, "upc"),
        ({"isrc": "not-an-isrc"}, 400, "isrc"),
        ({"isrc": "QZTST2699999"}, 400, "isrc"),  # not a track of this release
        ({"upc": "036000291452"}, 404, "upc"),  # declared nowhere here
        ({"declaration_version": 2}, 409, "declaration_version"),
        ({"declaration_version": 0}, 400, "declaration_version"),
        ({"declaration_version": "one"}, 400, "declaration_version"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_opens_nothing(client, platform, declared, change, status, field):
    before = _counts()
    response = _open(client, platform[1], declared, **change)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and field in error["fields"], error
    assert _counts() == before


def test_malformed_requests_and_unknown_disputes_are_refused_cleanly(client, platform, declared, revoked_token):
    _, key = platform
    before = _counts()
    not_json = client.generic("POST", "/api/v1/disputes", b"{not json", content_type="application/json", **bearer(key))
    assert not_json.status_code == 400
    assert post_json(client, "/api/v1/disputes", ["a list"], **bearer(key)).status_code == 400
    assert _open(client, revoked_token, declared).status_code == 401
    assert post_json(client, "/api/v1/disputes", _body(declared)).status_code == 401  # no credential
    for uid in (str(uuid.uuid4()), "not-a-uuid", "../../etc"):
        assert client.get(f"/api/v1/disputes/{uid}", **bearer(key)).status_code == 404
        assert post_json(client, f"/api/v1/disputes/{uid}/withdraw", {}, **bearer(key)).status_code == 404
    assert client.delete("/api/v1/disputes", **bearer(key)).status_code == 405
    assert _counts() == before


def test_a_withdrawn_declaration_takes_no_dispute(client, platform, declared):
    declaration_withdraw(release=declared.release, reason="Taken down.", via="web")
    before = _counts()
    response = _open(client, platform[1], declared)
    assert response.status_code == 409 and _counts() == before


@pytest.fixture
def throttled():
    rates = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "dispute_credential": "2/day",
             "dispute_declaration": "3/day"}  # fmt: skip
    rest = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    with override_settings(REGISTRY_THROTTLE=True, REST_FRAMEWORK=rest):
        yield


def test_opening_through_the_api_is_rate_limited_per_credential_and_per_release(
    client, platform, declared, other_token, throttled
):
    _, key = platform
    assert [_open(client, key, declared).status_code for _ in range(2)] == [201, 201]
    before = _counts()
    refused = _open(client, key, declared)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "too many disputes with this credential" in refused.json()["error"]["message"]
    assert _counts() == before
    # A refused opening spent nothing: the release's own counter still has one left, for someone else.
    assert _open(client, other_token, declared).status_code == 201
    refused = _open(client, other_token, declared)
    assert refused.status_code == 429 and "about this release" in refused.json()["error"]["message"]
    assert Dispute.objects.count() == 3


def test_the_openapi_document_describes_the_dispute_endpoints(client):
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/json").content)
    paths = schema["paths"]
    assert {"/api/v1/disputes", "/api/v1/disputes/{uid}", "/api/v1/disputes/{uid}/answer",
            "/api/v1/disputes/{uid}/withdraw"} <= set(paths)  # fmt: skip
    opened = paths["/api/v1/disputes"]["post"]
    assert {"201", "400", "401", "403", "404", "409", "429"} <= set(opened["responses"])
    assert opened["security"] == [{"bearerToken": []}, {"apiKey": []}]
    assert opened["tags"] == ["disputes"]


@pytest.mark.parametrize("persona", ["platform", "other_token"])
def test_a_declaration_stays_as_signed_whatever_a_dispute_says(client, platform, declared, other_token, persona):
    key = platform[1] if persona == "platform" else other_token
    bundle = declared.bundle
    assert _open(client, key, declared).status_code == 201
    declared.refresh_from_db()
    declared.release.refresh_from_db()
    assert declared.bundle == bundle and declared.release.current_declaration_id == declared.pk


def test_a_label_token_disputes_nothing_of_its_own_label_not_even_the_artwork(client, keys, label, label_token):
    release = factories.make_release(label, tracks=2, title="Own")
    decl = factories.declare(release)
    before = _counts()
    assert _open(client, label_token, decl, part="artwork", isrc=None).status_code == 403
    assert _counts() == before
