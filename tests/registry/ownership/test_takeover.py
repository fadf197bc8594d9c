"""Verified registrant prefixes take precedence over first-signed, through HTTP for both labels.

Label A (first signer) declared an ISRC outside its verified prefixes; label B holds the verified
registrant prefix covering it. B's declaration is accepted, the ISRC's claim moves to B, B's answers
the ISRC, A's declaration stays as signed and is disputed (rights holder, identifier), A can no longer
sign a version with that ISRC but can still withdraw. Nothing in the log is rewritten.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from registry.api.tokens import label_token_create
from registry.catalog.models import Release
from registry.declarations.models import Declaration, IdentifierClaim
from registry.disputes.models import Dispute
from registry.ownership import services
from registry.ownership.models import ContestRequest
from registry.transparency.audit import audit_log
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import bearer, post_json, release_payload, track_payload
from tests.registry.labels.test_declare_flow import matrix, url

pytestmark = pytest.mark.django_db

ISRC = "QZBBB2600001"


@pytest.fixture
def first(label, owner, keys):
    """Label A's token, and its release declared first with ISRC (outside any prefix verified as A's)."""
    token = label_token_create(label=label, name="A", created_by=owner)[1]
    body = release_payload(title="A's single", track_list=track_payload(2, isrcs=[ISRC, None]))
    response = post_json(APIClient(), "/api/v1/releases", body, **bearer(token))
    assert response.status_code == 201, response.content
    return token, response.json()["upc"]


@pytest.fixture
def holder(other_label, rival, staff):
    """Label B's token; staff verified that B holds the registrant prefix QZ-BBB."""
    claim = services.prefix_claim_create(label=other_label, kind="isrc", prefix="QZ-BBB", evidence="Agency letter")
    services.prefix_claim_approve(claim=claim, reviewer=staff)
    return label_token_create(label=other_label, name="B", created_by=rival)[1]


def _declare(token, title="B's album", isrc=ISRC):
    body = release_payload(title=title, track_list=track_payload(1, isrcs=[isrc]))
    return post_json(APIClient(), "/api/v1/releases", body, **bearer(token))


def test_the_prefix_holder_declares_an_isrc_another_label_signed_first_and_that_label_is_contested(
    first, holder, label, other_label
):
    token_a, upc_a = first
    a_decl = Release.objects.get(label=label, upc=upc_a).current_declaration
    a_bundle = a_decl.bundle
    leaves = LogLeaf.objects.count()
    response = _declare(holder)
    assert response.status_code == 201, response.content
    upc_b = response.json()["upc"]
    assert IdentifierClaim.objects.get(kind="isrc", value=ISRC).label == other_label
    b_decl = Release.objects.get(label=other_label, upc=upc_b).current_declaration
    assert b_decl.statement["release"]["identifiers_verified"]["isrcs_unverified"] == []
    # One leaf for B's declaration, one for the dispute opened on A's: nothing rewritten.
    assert LogLeaf.objects.count() == leaves + 2
    a_decl.refresh_from_db()
    assert a_decl.bundle == a_bundle and Release.objects.get(pk=a_decl.release_id).current_declaration == a_decl
    dispute = Dispute.objects.get()
    assert (dispute.release_id, dispute.opener_role, dispute.part, dispute.isrc) == (
        a_decl.release_id, "rights_holder", "identifier", ISRC,
    )  # fmt: skip
    assert dispute.opened_by_label == other_label and dispute.steps.get().leaf_id == leaves + 1
    contest = ContestRequest.objects.get()
    assert (contest.label, contest.identifier, contest.dispute) == (other_label, ISRC, dispute)
    # The ISRC answers B's declaration; A's release still answers A's, disputed.
    client = APIClient()
    recording = client.get(f"/api/v1/recordings/{ISRC}").json()
    assert recording["disclosure"]["release"]["upc"] == upc_b and recording["also_in"] == [upc_a]
    release_a = client.get(f"/api/v1/releases/{upc_a}").json()
    assert [(d["opened_by"], d["part"], d["status"]) for d in release_a["disputes"]] == [
        ("rights_holder", "identifier", "open")
    ]
    page = client.get(f"/releases/{upc_a}/").content.decode()
    assert f"Disputed by a rights holder: identifier of {ISRC} — open" in page
    audit_log()


def test_the_first_signer_can_no_longer_sign_the_isrc_but_can_still_withdraw(first, holder, label):
    token_a, upc_a = first
    assert _declare(holder).status_code == 201
    before = Declaration.objects.count()
    amend = post_json(
        APIClient(), f"/api/v1/releases/{upc_a}/amend", {"reason": "Still ours?", "title": "Renamed"}, **bearer(token_a)
    )
    assert amend.status_code == 409 and f"isrc.{ISRC}" in amend.json()["error"]["fields"]
    again = _declare(token_a, title="A again")
    assert again.status_code == 409 and Declaration.objects.count() == before
    withdraw = post_json(APIClient(), f"/api/v1/releases/{upc_a}/withdraw", {"reason": "Not ours."}, **bearer(token_a))
    assert withdraw.status_code == 200, withdraw.content
    # A's newer withdrawal does not take the ISRC's answer back: the claim holder's declaration answers it.
    assert APIClient().get(f"/api/v1/recordings/{ISRC}").json()["disclosure"]["release"]["upc"] != upc_a
    audit_log()


def test_a_label_without_the_verified_prefix_is_still_refused_as_before(first, other_label, rival, staff):
    token = label_token_create(label=other_label, name="B", created_by=rival)[1]
    services.prefix_claim_create(label=other_label, kind="isrc", prefix="QZ-BBB", evidence="pending only")
    leaves = LogLeaf.objects.count()
    response = _declare(token)
    assert response.status_code == 409
    assert IdentifierClaim.objects.get(kind="isrc", value=ISRC).label_id != other_label.pk
    assert LogLeaf.objects.count() == leaves and not Dispute.objects.exists()


def test_the_first_signer_keeps_an_isrc_delegated_to_it_by_the_prefix_holder(first, holder, label, other_label):
    """B delegated QZ-BBB to A: A's declarations inside it count as verified, so B takes nothing over."""
    claim = other_label.prefix_claims.get()
    services.prefix_delegate(label=other_label, claim_id=claim.pk, to=str(label.pk))
    response = _declare(holder)
    assert response.status_code == 409
    assert IdentifierClaim.objects.get(kind="isrc", value=ISRC).label == label and not Dispute.objects.exists()


def test_a_batch_does_not_take_over_and_says_to_declare_the_release_alone(first, holder):
    body = {"releases": [release_payload(title="Batch", track_list=track_payload(1, isrcs=[ISRC]))]}
    response = post_json(APIClient(), "/api/v1/releases/bulk", body, **bearer(holder))
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["status"] == "error" and result["error"]["code"] == "conflict"
    assert "declare this release on its own" in json.dumps(result["error"]["fields"])
    assert not Dispute.objects.exists()


def test_the_label_pages_let_the_prefix_holder_create_review_and_sign_the_release(first, holder, other_label, rival):
    client = Client()
    client.force_login(rival)
    form = {
        "upc": factories.upc(), "title": "B on the web", "genre": "Pop", "release_date": "2026-05-01",
        "artwork_ai": "none", "artists-TOTAL_FORMS": "1", "artists-INITIAL_FORMS": "0",
        "artists-0-name": "B Artist", "artists-0-persona": "human", "artists-0-isni": "",
        "tracks-TOTAL_FORMS": "1", "tracks-INITIAL_FORMS": "0", "tracks-0-isrc": ISRC,
        "tracks-0-title": "Song", "tracks-0-position": "1", "tracks-0-duration": "3:21",
        "tracks-0-audio_sha256": "", "save": "1",
    }  # fmt: skip
    response = client.post(f"/label/{other_label.pk}/releases/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    release = Release.objects.get(label=other_label, title="B on the web")
    assert client.post(url(other_label, release, "declare"), matrix(1)).status_code == 302
    review = client.get(url(other_label, release, "review"))
    assert review.status_code == 200 and "belongs to another label" not in review.content.decode()
    notice = review.content.decode()
    assert 'id="takeover-notice"' in notice and f"covers {ISRC}, which another label declared first" in notice
    assert client.post(url(other_label, release, "review"), {"confirm": "1"}).status_code == 302
    release.refresh_from_db()
    assert release.current_declaration.version == 1
    assert IdentifierClaim.objects.get(kind="isrc", value=ISRC).label == other_label
    assert Dispute.objects.get().opened_by_label == other_label
