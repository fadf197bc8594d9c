"""Who may write what: every API write endpoint, every label page (GET and POST) and the admin, per persona.

Each case is one persona against one endpoint with a request that *would* change
something if it were let through (the owner's run of the same request proves it
does). A refused case must answer the right status (401/403/404/302 to the
login page) and leave every counted table exactly as it was; and no response to
label B, or to staff outside the label, ever contains label A's release title,
token name or invitation address.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from provenance import vocabulary
from provenance.encoding import b64encode
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_pae
from provenance.labelkeys import PLATFORM_KEY_PAYLOAD_TYPE, label_key_jwk
from provenance.labelsign import sign_prepared
from provenance.observations import sign_prepared_observation
from registry.api.models import IdempotencyRecord, LabelToken
from registry.api.tokens import label_token_create, label_token_revoke, platform_key_create
from registry.catalog.models import Artist, Membership, Recording, Release
from registry.declarations.models import Declaration
from registry.declarations.services import NextVersion
from registry.disputes import services as disputes
from registry.disputes.models import Dispute, DisputeStep
from registry.labelkeys import services as labelkeys
from registry.labelkeys.models import PreparedDeclaration
from registry.labels import drafts
from registry.labels import services as label_services
from registry.labels.draft_store import DraftStore
from registry.labels.models import Invitation
from registry.observations import services as observations
from registry.observations.models import Observation, PlatformKeyEvent
from registry.ownership import services as ownership
from registry.ownership.models import ContestRequest, PrefixClaim, PrefixDelegation
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import release_payload

pytestmark = pytest.mark.django_db

ERN = Path(__file__).resolve().parents[1] / "data" / "ern"
SECRET_TITLE = "Quartz Hollow Confidential"
SECRET_TOKEN_NAME = "A-secret-distributor-sync"
SECRET_EMAIL = "new-hire@northern-lights.example"
SECRET_DRAFT_TITLE = "Unreleased Basalt Draft"
SECRET_EVIDENCE = "Pending-claim evidence: agency letter 7731"
SECRET_CLAIM = "My voice was cloned on track 1 (dispute claim 9913)"
SECRET_DISPUTE_EVIDENCE = "Dispute evidence: studio logs 2207"
PERSONAS = ["anonymous", "platform", "owner_a", "submitter_a", "owner_b", "staff"]
API_PERSONAS = ["anonymous", "platform", "token_a", "token_b", "revoked_a", "staff_session"]


def snapshot() -> dict[str, int]:
    """Counts that any successful write would move (revocations included: they change no row count)."""
    return {
        "releases": Release.objects.count(),
        "recordings": Recording.objects.count(),
        "artists": Artist.objects.count(),
        "declarations": Declaration.objects.count(),
        "leaves": LogLeaf.objects.count(),
        "tokens": LabelToken.objects.count(),
        "revoked_tokens": LabelToken.objects.filter(revoked_at__isnull=False).count(),
        "invitations": Invitation.objects.count(),
        "revoked_invitations": Invitation.objects.filter(revoked_at__isnull=False).count(),
        "memberships": Membership.objects.count(),
        "owners": Membership.objects.filter(role=Membership.OWNER).count(),
        "idempotency": IdempotencyRecord.objects.count(),
        "prefix_claims": PrefixClaim.objects.count(),
        "delegations": PrefixDelegation.objects.count(),
        "revoked_delegations": PrefixDelegation.objects.filter(revoked_at__isnull=False).count(),
        "contests": ContestRequest.objects.count(),
        "dispute_steps": DisputeStep.objects.count(),
        "closed_disputes": Dispute.objects.filter(status__in=Dispute.CLOSED).count(),
        "prepared": PreparedDeclaration.objects.count(),
        "observations": Observation.objects.count(),
        "hidden_observations": Observation.objects.filter(hidden_at__isnull=False).count(),
        "platform_key_events": PlatformKeyEvent.objects.count(),
    }


@dataclass
class World:
    label_a: Any
    label_b: Any
    release: Any
    users: dict[str, Any]
    tokens: dict[str, str]
    token_row: Any
    invitation: Any
    draft_release: Any = None
    isrc_claim: Any = None
    delegation: Any = None
    dispute: Any = None
    prepared: Any = None  # an amendment prepared for label A to co-sign, and A's signature of it
    signature: dict[str, str] = field(default_factory=dict)
    # The same through the API (a withdrawal of A's release): API submits take only what the API prepared.
    api_prepared: Any = None
    api_signature: dict[str, str] = field(default_factory=dict)
    # A platform with a signing key: an observation it prepared and signed, and a key event it signed.
    observation: dict[str, Any] = field(default_factory=dict)
    platform_key_event: dict[str, Any] = field(default_factory=dict)
    logged_observation: Any = None
    secrets: list[str] = field(default_factory=list)


@pytest.fixture
def world(keys, label, other_label, owner, submitter, rival, staff) -> World:
    release = factories.make_release(label, tracks=2, title=SECRET_TITLE)
    factories.declare(release, "partly")
    row, token_a = label_token_create(label=label, name=SECRET_TOKEN_NAME, created_by=owner)
    old, revoked = label_token_create(label=label, name="old token")
    label_token_revoke(label=label, token_id=old.pk)
    invitation, _ = label_services.invitation_create(label=label, email=SECRET_EMAIL, created_by=owner)
    draft_release = factories.make_release(label, tracks=1, title=SECRET_DRAFT_TITLE)
    # Label A holds two verified prefixes (one delegated to B) and a pending claim; label B declared an
    # ISRC inside A's ISRC prefix, which A may contest.
    isrc_claim = ownership.prefix_claim_create(label=label, kind="isrc", prefix="QZ-AAA", evidence="letter")
    ownership.prefix_claim_approve(claim=isrc_claim, reviewer=staff)
    gs1 = ownership.prefix_claim_create(label=label, kind="gs1", prefix="0991234", evidence="GS1 certificate")
    ownership.prefix_claim_approve(claim=gs1, reviewer=staff)
    delegation = ownership.prefix_delegate(label=label, claim_id=gs1.pk, to=str(other_label.pk))
    ownership.prefix_claim_create(label=label, kind="isrc", prefix="QZ-SEC", evidence=SECRET_EVIDENCE)
    inside = factories.make_release(
        other_label, track_list=[{"isrc": "QZAAA2600001", "title": "Inside", "position": 1}], title="B inside A"
    )
    factories.declare(inside)
    # An artist (no label) disputes label A's declaration: the words are for the artist, A and staff only.
    artist = get_user_model().objects.create_user("arlo", "arlo@example.net", "correct horse battery")
    dispute = disputes.dispute_open(
        declaration=Declaration.objects.get(release=release), actor=artist, role="artist",
        isrc=_a_track_of(release), part="vocals", text=SECRET_CLAIM, evidence=SECRET_DISPUTE_EVIDENCE,
    )  # fmt: skip
    # Label A has a signing key (held by its owner) and an amendment prepared for it to co-sign.
    label_key = generate_private_key()
    labelkeys.key_attest(label=label, public_key=public_bytes(label_key), actor=staff, reason="first", holder=owner)
    amendment = {
        "mode": "amend",
        "artwork": "none",
        "reason": "AI after all",
        "expected_version": 1,
        "ai": {t.recording.isrc: factories.track_ai("all") for t in release.tracks.select_related("recording")},
    }
    prepared = drafts.declaration_prepare_draft(release=release, draft=amendment)
    api_prepared = labelkeys.declaration_prepare(
        release=release,
        change=NextVersion(reason="Gone", expected_version=1),
        request={"action": "withdraw", "reason": "Gone", "expected_version": 1},
        kind=PreparedDeclaration.WITHDRAW,
    )
    platform_row, platform_token = platform_key_create(name="Example Streaming")
    platform_key = generate_private_key()
    observations.key_attest(platform=platform_row, public_key=public_bytes(platform_key), actor=staff, reason="first")
    observed = {"platform": platform_row, "isrc": _a_track_of(release), "observed": {"vocals": "all"},
                "method": "detector X v2", "observed_at": "2026-11-30"}  # fmt: skip
    logged = observations.observation_prepare(**observed)
    logged = observations.observation_submit(
        platform=platform_row, payload=logged["payload"], signature=sign_prepared_observation(logged, platform_key)
    )
    to_sign = observations.observation_prepare(**{**observed, "method": "detector X v3"})
    new_key = generate_private_key()
    event = observations.key_event_payload(
        platform_row, event="register", public_key=public_bytes(new_key), attestation="platform", reason=None
    )
    return World(
        observation={"payload": to_sign["payload"], "signature": sign_prepared_observation(to_sign, platform_key)},
        platform_key_event={
            "payload": b64encode(event),
            "signature": sign_pae(event, platform_key, payload_type=PLATFORM_KEY_PAYLOAD_TYPE),
        },
        logged_observation=logged,
        dispute=dispute,
        prepared=prepared,
        signature=sign_prepared(labelkeys.prepared_answer(prepared), label_key),
        api_prepared=api_prepared,
        api_signature=sign_prepared(labelkeys.prepared_answer(api_prepared), label_key),
        isrc_claim=isrc_claim,
        delegation=delegation,
        draft_release=draft_release,
        label_a=label,
        label_b=other_label,
        release=release,
        users={"owner_a": owner, "submitter_a": submitter, "owner_b": rival, "staff": staff, "artist": artist},
        tokens={
            "token_a": token_a,
            "token_b": label_token_create(label=other_label, name="B sync", created_by=rival)[1],
            "revoked_a": revoked,
            "platform": platform_token,
        },
        token_row=row,
        invitation=invitation,
        # ISRCs and UPCs are public identifiers (and echoed back to whoever sends them): not secrets.
        secrets=[
            SECRET_TITLE,
            SECRET_TOKEN_NAME,
            SECRET_EMAIL,
            token_a,
            SECRET_DRAFT_TITLE,
            SECRET_EVIDENCE,
            SECRET_CLAIM,
            SECRET_DISPUTE_EVIDENCE,
        ],  # fmt: skip
    )


def _a_track_of(release: Any) -> str:
    return release.tracks.select_related("recording").order_by("position").first().recording.isrc


def page_client(world: World, persona: str) -> Client:
    if persona == "platform":
        # A platform key is an API credential; on the label pages it must count for nothing.
        return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens['platform']}")
    client = Client()
    if persona != "anonymous":
        client.force_login(world.users[persona])
    return client


def api_client(world: World, persona: str) -> Client:
    if persona == "staff_session":
        client = Client()
        client.force_login(world.users["staff"])  # a signed-in superuser's cookie is no API credential
        return client
    if persona == "anonymous":
        return Client()
    return Client(HTTP_AUTHORIZATION=f"Bearer {world.tokens[persona]}")


# --- label pages -------------------------------------------------------------------------------------


def _matrix(n: int, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"artwork": "none"}
    for i in range(n):
        for part in vocabulary.PARTS:
            data[f"t{i}_{part}"] = "all"
        data[f"t{i}_tools"] = "Suno v4"
        data[f"t{i}_consent"] = ""
    data.update(extra)
    return data


def _release_form() -> dict[str, Any]:
    return {
        "upc": factories.upc(),
        "title": "Injected Release",
        "genre": "Pop",
        "release_date": "2026-05-01",
        "artwork_ai": "none",
        "artists-TOTAL_FORMS": "1",
        "artists-INITIAL_FORMS": "0",
        "artists-0-name": "Intruder",
        "artists-0-persona": "human",
        "artists-0-isni": "",
        "tracks-TOTAL_FORMS": "1",
        "tracks-INITIAL_FORMS": "0",
        "tracks-0-isrc": factories.isrc(),
        "tracks-0-title": "Song",
        "tracks-0-position": "1",
        "tracks-0-duration": "3:21",
        "tracks-0-audio_sha256": "",
        "save": "1",
    }


def _ern() -> dict[str, Any]:
    return {"file": SimpleUploadedFile("single.xml", (ERN / "single-43.xml").read_bytes(), "application/xml")}


@dataclass
class Page:
    name: str
    method: str
    path: str  # {a}: label A's id, {b}: label B's id, {upc}: A's release, {token}, {invitation}
    owner_only: bool = False
    body: Callable[[], dict[str, Any]] | None = None
    effect: dict[str, int] = field(default_factory=dict)  # what the owner's request changes
    draft: bool = False  # the persona's session holds a ready draft (as if it had filled in the form)


PAGES = [
    Page("dashboard", "GET", "/label/{a}/"),
    Page("release new (form)", "GET", "/label/{a}/releases/new/"),
    Page(
        "release new (create)",
        "POST",
        "/label/{a}/releases/new/",
        body=_release_form,
        effect={"releases": 1, "recordings": 1, "artists": 1},
    ),
    Page("import (form)", "GET", "/label/{a}/releases/import/"),
    Page("import (upload)", "POST", "/label/{a}/releases/import/", body=_ern),
    Page("release detail and history", "GET", "/label/{a}/releases/{upc}/"),
    Page("declare/amend (form)", "GET", "/label/{a}/releases/{upc}/declare/"),
    Page("declare/amend (draft)", "POST", "/label/{a}/releases/{upc}/declare/", body=lambda: _matrix(2, reason="x")),
    Page("review (page)", "GET", "/label/{a}/releases/{upc}/review/", draft=True),
    Page(
        "review (sign)",
        "POST",
        "/label/{a}/releases/{upc}/review/",
        body=dict,
        draft=True,
        effect={"declarations": 1, "leaves": 1},
    ),
    Page(
        "review (co-sign: prepare)",
        "POST",
        "/label/{a}/releases/{upc}/review/",
        owner_only=True,
        body=lambda: {"cosign": "1"},
        draft=True,
        effect={"prepared": 1},
    ),
    Page("co-sign (page)", "GET", "/label/{a}/releases/{upc}/cosign/{prepared}/", owner_only=True),
    Page("co-sign (download)", "GET", "/label/{a}/releases/{upc}/cosign/{prepared}/prepared.json", owner_only=True),
    Page(
        "co-sign (submit)",
        "POST",
        "/label/{a}/releases/{upc}/cosign/{prepared}/",
        owner_only=True,
        body=lambda: {"keyid": "{keyid}", "sig": "{sig}"},
        effect={"declarations": 1, "leaves": 1},
    ),
    Page(
        "withdraw (co-sign: prepare)",
        "POST",
        "/label/{a}/releases/{upc}/withdraw/",
        owner_only=True,
        body=lambda: {"reason": "Released in error", "cosign": "1"},
        effect={"prepared": 1},
    ),
    Page("signing keys (page)", "GET", "/label/{a}/keys/", owner_only=True),
    Page(
        "signing keys (a later key: the event to sign)",
        "POST",
        "/label/{a}/keys/",
        owner_only=True,
        body=lambda: {"key": label_key_jwk(public_bytes(generate_private_key()))["x"]},
    ),
    Page(
        "signing keys (require co-signature: the event to sign)",
        "POST",
        "/label/{a}/keys/",
        owner_only=True,
        body=lambda: {"policy": "on"},
    ),
    Page("release edit (form)", "GET", "/label/{a}/releases/{upc}/edit/"),
    Page("release edit (save)", "POST", "/label/{a}/releases/{upc}/edit/", body=lambda: {"title": "Hijacked"}),
    Page("signed", "GET", "/label/{a}/releases/{upc}/signed/1/"),
    Page("release delete (ask)", "GET", "/label/{a}/releases/{draft}/delete/"),
    Page(
        "release delete (draft)",
        "POST",
        "/label/{a}/releases/{draft}/delete/",
        effect={"releases": -1, "recordings": -1},
    ),
    Page("withdraw (form)", "GET", "/label/{a}/releases/{upc}/withdraw/"),
    Page(
        "withdraw (sign)",
        "POST",
        "/label/{a}/releases/{upc}/withdraw/",
        body=lambda: {"reason": "Withdrawn by an intruder", "expected_version": "1"},
        effect={"declarations": 1, "leaves": 1},
    ),
    Page("tokens (list)", "GET", "/label/{a}/tokens/", owner_only=True),
    Page(
        "tokens (create)",
        "POST",
        "/label/{a}/tokens/",
        owner_only=True,
        body=lambda: {"name": "x"},
        effect={"tokens": 1},
    ),
    Page(
        "token revoke",
        "POST",
        "/label/{a}/tokens/{token}/revoke/",
        owner_only=True,
        body=dict,
        effect={"revoked_tokens": 1},
    ),
    Page("members (list)", "GET", "/label/{a}/members/", owner_only=True),
    Page(
        "members (invite)",
        "POST",
        "/label/{a}/members/",
        owner_only=True,
        body=lambda: {"email": "intruder@example.com", "role": "owner"},
        effect={"invitations": 1},
    ),
    Page(
        "member role",
        "POST",
        "/label/{a}/members/{membership}/role/",
        owner_only=True,
        body=lambda: {"role": "owner"},
        effect={"owners": 1},
    ),
    Page(
        "member remove",
        "POST",
        "/label/{a}/members/{membership}/remove/",
        owner_only=True,
        body=lambda: {"confirm": "1"},
        effect={"memberships": -1},
    ),
    Page(
        "invitation revoke",
        "POST",
        "/label/{a}/invitations/{invitation}/revoke/",
        owner_only=True,
        body=dict,
        effect={"revoked_invitations": 1},
    ),
    Page("prefixes (list)", "GET", "/label/{a}/prefixes/", owner_only=True),
    Page(
        "prefixes (claim)",
        "POST",
        "/label/{a}/prefixes/",
        owner_only=True,
        body=lambda: {"kind": "isrc", "prefix": "GB-AYE", "evidence": "ours"},
        effect={"prefix_claims": 1},
    ),
    Page(
        "prefix delegate",
        "POST",
        "/label/{a}/prefixes/{claim}/delegate/",
        owner_only=True,
        body=lambda: {"label": "{b}"},
        effect={"delegations": 1},
    ),
    Page(
        "delegation revoke",
        "POST",
        "/label/{a}/delegations/{delegation}/revoke/",
        owner_only=True,
        body=dict,
        effect={"revoked_delegations": 1},
    ),
    Page(
        "prefix contest",
        "POST",
        "/label/{a}/prefixes/contest/",
        owner_only=True,
        body=lambda: {"kind": "isrc", "identifier": "QZAAA2600001", "note": "ours"},
        effect={"contests": 1, "dispute_steps": 1, "leaves": 1},
    ),
    Page("disputes (list)", "GET", "/label/{a}/disputes/"),
    Page(
        "dispute answer",
        "POST",
        "/label/{a}/disputes/{dispute}/answer/",
        body=lambda: {"outcome": "contest", "text": "Recorded live."},
        effect={"dispute_steps": 1, "leaves": 1},
    ),
]


def expected_page_status(persona: str, page: Page) -> str:
    if persona in ("anonymous", "platform"):
        return "login"
    if persona in ("owner_b", "staff"):
        return "404"  # no hint that label A or its release exists, staff included
    if persona == "submitter_a" and page.owner_only:
        return "403"
    return "allowed"


def _fill(world: World, template: str) -> str:
    return template.format(
        a=world.label_a.pk,
        b=world.label_b.pk,
        upc=world.release.upc,
        draft=world.draft_release.upc,
        token=world.token_row.pk,
        invitation=world.invitation.pk,
        membership=Membership.objects.get(user=world.users["submitter_a"]).pk,
        claim=world.isrc_claim.pk,
        delegation=world.delegation.pk,
        dispute=world.dispute.uid,
        prepared=world.prepared.pk,
        keyid=world.signature["keyid"],
        sig=world.signature["sig"],
    )


def _ready_draft(world: World) -> dict[str, Any]:
    """The draft the declare form stores, made by the owner's own client (the persona could not reach it)."""
    owner = Client()
    owner.force_login(world.users["owner_a"])
    r = owner.post(
        f"/label/{world.label_a.pk}/releases/{world.release.upc}/declare/", _matrix(2, reason="AI after all")
    )
    assert r.status_code == 302, r.content.decode()[:500]
    return DraftStore(world.label_a, world.users["owner_a"]).get(f"labels:draft:{world.release.pk}")


def _give_draft(world: World, client: Client, draft: dict[str, Any]) -> None:
    """Put ``draft`` in the client's own draft store, under label A and label B alike."""
    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    for label in (world.label_a, world.label_b):
        DraftStore(label, user)[f"labels:draft:{world.release.pk}"] = draft


def _assert_no_leak(world: World, body: bytes, where: str) -> None:
    text = body.decode(errors="replace")
    for secret in world.secrets:
        assert secret not in text, f"{where} shows label A's {secret!r}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.method} {p.name}")
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_label_page_lets_in_only_the_labels_members(world, persona, page):
    client = page_client(world, persona)
    if page.draft:
        draft = _ready_draft(world)
        if persona != "anonymous" and persona != "platform":
            _give_draft(world, client, draft)
    path = _fill(world, page.path)
    before = snapshot()
    if page.method == "GET":
        response = client.get(path)
    else:
        body = page.body() if page.body else {}
        response = client.post(path, {k: _fill(world, v) if isinstance(v, str) else v for k, v in body.items()})
    after = snapshot()
    outcome = expected_page_status(persona, page)

    if outcome == "allowed":
        assert response.status_code in (200, 302), (response.status_code, response.content[:500])
        if response.status_code == 302:
            assert "/accounts/login/" not in response["Location"]
        changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        assert changed == page.effect, f"the owner's request should change {page.effect}, changed {changed}"
        return

    assert after == before, f"{persona} changed data through {page.method} {path}"
    if outcome == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next="), response["Location"]
    else:
        assert response.status_code == int(outcome), (response.status_code, response.content[:300])
    _assert_no_leak(world, response.content, f"{persona} {page.method} {path}")


CROSS_LABEL = [
    ("GET", "/label/{b}/releases/{upc}/"),
    ("GET", "/label/{b}/releases/{upc}/declare/"),
    ("POST", "/label/{b}/releases/{upc}/declare/"),
    ("POST", "/label/{b}/releases/{upc}/review/"),
    ("GET", "/label/{b}/releases/{upc}/signed/1/"),
    ("GET", "/label/{b}/releases/{upc}/cosign/{prepared}/"),
    ("GET", "/label/{b}/releases/{upc}/cosign/{prepared}/prepared.json"),
    ("POST", "/label/{b}/releases/{upc}/cosign/{prepared}/"),
    ("POST", "/label/{b}/releases/{draft}/delete/"),
    ("POST", "/label/{b}/releases/{upc}/withdraw/"),
    ("POST", "/label/{b}/tokens/{token}/revoke/"),
    ("POST", "/label/{b}/invitations/{invitation}/revoke/"),
    ("GET", "/label/{b}/releases/{upc}/edit/"),
    ("POST", "/label/{b}/releases/{upc}/edit/"),
    ("POST", "/label/{b}/members/{membership}/role/"),
    ("POST", "/label/{b}/members/{membership}/remove/"),
    ("POST", "/label/{b}/prefixes/{claim}/delegate/"),
    ("POST", "/label/{b}/delegations/{delegation}/revoke/"),
    ("POST", "/label/{b}/disputes/{dispute}/answer/"),
]


@pytest.mark.parametrize(("method", "template"), CROSS_LABEL)
def test_label_b_cannot_reach_label_a_objects_through_its_own_label_id(world, method, template):
    """Label B's owner passes the membership check for B; A's release, token and invitation stay out of reach."""
    client = page_client(world, "owner_b")
    _give_draft(world, client, _ready_draft(world))
    before = snapshot()
    body = {"reason": "mine now", "expected_version": "1", "role": "owner", "confirm": "1", **_matrix(2, reason="x")}
    response = client.get(_fill(world, template)) if method == "GET" else client.post(_fill(world, template), body)
    assert snapshot() == before
    if "/revoke/" in template or "/delegate/" in template:
        # Revocation is scoped to the label in the URL: the row of A is not found, B's page says so.
        assert response.status_code == 302
        assert response["Location"].startswith(f"/label/{world.label_b.pk}/")
        assert LabelToken.objects.get(pk=world.token_row.pk).revoked_at is None
        assert Invitation.objects.get(pk=world.invitation.pk).revoked_at is None
    else:
        assert response.status_code == 404
    _assert_no_leak(world, response.content, f"{method} {template}")


def test_label_b_own_pages_never_show_label_a_data(world):
    client = page_client(world, "owner_b")
    b = world.label_b.pk
    for path in [
        f"/label/{b}/",
        f"/label/{b}/tokens/",
        f"/label/{b}/members/",
        f"/label/{b}/prefixes/",
        f"/label/{b}/disputes/",
        f"/label/{b}/?q={SECRET_TITLE[:6]}",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_no_leak(world, response.content, path)


# --- admin -------------------------------------------------------------------------------------------

ADMIN_PATHS = [
    "/admin/",
    "/admin/catalog/release/",
    "/admin/catalog/label/",
    "/admin/declarations/declaration/",
    "/admin/labels/invitation/",
    "/admin/ownership/prefixclaim/",
    "/admin/ownership/contestrequest/",
    "/admin/transparency/signingkey/",
    "/admin/disputes/dispute/",
    "/admin/observations/observation/",
    "/admin/observations/platformkeyevent/",
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_is_for_staff_only(world, persona):
    client = page_client(world, persona)
    before = snapshot()
    for path in ADMIN_PATHS:
        response = client.get(path)
        if persona == "staff":
            assert response.status_code == 200, path
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith("/admin/login/"), path
    response = client.post(f"/admin/catalog/release/{world.release.pk}/delete/", {"post": "yes"})
    response_label = client.post(f"/admin/catalog/label/{world.label_a.pk}/change/", {"name": "Hijacked"})
    if persona != "staff":
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        assert response_label.status_code == 302
        assert snapshot() == before
        world.label_a.refresh_from_db()
        assert world.label_a.name == "Northern Lights Records"


# --- disputes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [*PERSONAS, "artist"])
def test_a_disputes_words_reach_only_its_opener_the_label_and_staff(world, persona):
    """The dispute page shows the claim to those three; everyone else gets a 404 (or the login page)."""
    client = page_client(world, persona)
    response = client.get(f"/disputes/{world.dispute.uid}/")
    if persona in ("anonymous", "platform"):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    elif persona in ("artist", "owner_a", "submitter_a", "staff"):
        assert response.status_code == 200 and SECRET_CLAIM in response.content.decode()
    else:
        assert response.status_code == 404
    if persona not in ("artist", "owner_a", "submitter_a", "staff"):
        assert SECRET_CLAIM not in response.content.decode()
    # Public surfaces show that a dispute exists, never its words.
    for path in (
        f"/releases/{world.release.upc}/",
        f"/api/v1/releases/{world.release.upc}",
        "/api/v1/feed?include=disputes",
    ):
        text = client.get(path).content.decode()
        assert SECRET_CLAIM not in text and SECRET_DISPUTE_EVIDENCE not in text, path


@pytest.mark.parametrize("persona", [*PERSONAS, "artist"])
def test_only_staff_resolve_and_only_the_opener_withdraws(world, persona):
    client = page_client(world, persona)
    before = snapshot()
    uphold = {"action": "uphold", "_selected_action": [world.dispute.pk], "apply": "1", "text": "ok"}
    response = client.post("/admin/disputes/dispute/", uphold)
    if persona == "staff":
        assert response.status_code == 302
        assert snapshot()["closed_disputes"] == before["closed_disputes"] + 1
        return
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert snapshot() == before
    client.post(f"/disputes/{world.dispute.uid}/withdraw/")
    after = snapshot()
    if persona == "artist":
        assert after["closed_disputes"] == before["closed_disputes"] + 1
        assert after["dispute_steps"] == before["dispute_steps"] + 1
    else:
        assert after == before


# --- observations ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [*PERSONAS, "artist"])
def test_only_staff_hide_an_observation_and_no_label_removes_one(world, persona):
    client = page_client(world, persona)
    before = snapshot()
    hide = {"action": "hide", "_selected_action": [world.logged_observation.pk], "apply": "1", "reason": "abuse"}
    response = client.post("/admin/observations/observation/", hide)
    if persona == "staff":
        assert response.status_code == 302
        assert snapshot() == {**before, "hidden_observations": before["hidden_observations"] + 1}
        return
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert snapshot() == before
    assert "Observed by platform Example Streaming" in client.get(f"/releases/{world.release.upc}/").content.decode()


# --- API ---------------------------------------------------------------------------------------------


@dataclass
class Call:
    name: str
    method: str
    path: str
    body: Callable[[World], Any] | None
    expect: dict[str, int]  # persona -> status
    effect: dict[str, int] = field(default_factory=dict)  # for the 2xx personas


REFUSED = {"anonymous": 401, "platform": 403, "revoked_a": 401, "staff_session": 401}
PLATFORM_ONLY = {"anonymous": 401, "platform": 201, "token_a": 403, "token_b": 403, "revoked_a": 401,
                 "staff_session": 401}  # fmt: skip
# A dispute endpoint takes either credential; one that did not open the dispute nor speaks for its label gets 404.
DISPUTE_REFUSED = {"anonymous": 401, "platform": 404, "token_b": 404, "revoked_a": 401, "staff_session": 401}


def _a_track(world: World) -> str:
    return world.release.tracks.select_related("recording").first().recording.isrc


API_CALLS = [
    Call(
        "create",
        "POST",
        "/api/v1/releases",
        lambda w: release_payload(),
        {**REFUSED, "token_a": 201, "token_b": 201},
        {"releases": 1, "recordings": 2, "artists": 1, "declarations": 1, "leaves": 1},
    ),
    Call(
        "create with label A's UPC",
        "POST",
        "/api/v1/releases",
        lambda w: release_payload(upc=w.release.upc),
        {**REFUSED, "token_a": 409, "token_b": 409},
    ),
    Call(
        "create with label A's ISRC",
        "POST",
        "/api/v1/releases",
        lambda w: {
            **release_payload(tracks=1),
            "tracks": [
                {"isrc": _a_track(w), "title": "Taken", "position": 1, "duration": 200, "ai": factories.track_ai("all")}
            ],
        },
        {**REFUSED, "token_b": 409},
    ),
    Call(
        "amend",
        "POST",
        "/api/v1/releases/{upc}/amend",
        lambda w: {"reason": "The vocal was generated.", "ai": {_a_track(w): factories.track_ai("all")}},
        {**REFUSED, "token_a": 200, "token_b": 404},
        {"declarations": 1, "leaves": 1},
    ),
    Call(
        "withdraw",
        "POST",
        "/api/v1/releases/{upc}/withdraw",
        lambda w: {"reason": "Withdrawn."},
        {**REFUSED, "token_a": 200, "token_b": 404},
        {"declarations": 1, "leaves": 1},
    ),
    Call("label releases", "GET", "/api/v1/label/releases", None, {**REFUSED, "token_a": 200, "token_b": 200}),
    # Disputes: a platform key opens as a platform, another label's token as a rights holder; a label never
    # disputes its own declaration. A dispute is read by its opener and the disputed label only (else 404),
    # answered by the disputed label, withdrawn by its opener (here an artist, on the pages).
    Call(
        "dispute open",
        "POST",
        "/api/v1/disputes",
        lambda w: {"upc": w.release.upc, "isrc": _a_track(w), "part": "vocals", "text": "Cloned voice."},
        {**DISPUTE_REFUSED, "platform": 201, "token_a": 403, "token_b": 201},
        {"dispute_steps": 1, "leaves": 1},
    ),
    Call("dispute read", "GET", "/api/v1/disputes/{dispute}", None, {**DISPUTE_REFUSED, "token_a": 200}),
    Call(
        "dispute answer",
        "POST",
        "/api/v1/disputes/{dispute}/answer",
        lambda w: {"outcome": "contest", "text": "Recorded live."},
        {**DISPUTE_REFUSED, "token_a": 200},
        {"dispute_steps": 1, "leaves": 1},
    ),
    Call(
        "dispute withdraw",
        "POST",
        "/api/v1/disputes/{dispute}/withdraw",
        lambda w: {},
        {**DISPUTE_REFUSED, "token_a": 403},
    ),
    Call(
        "prepare a co-signed new release (label B has no key: refused, nothing created)",
        "POST",
        "/api/v1/releases/prepare",
        lambda w: release_payload(),
        {**REFUSED, "token_a": 201, "token_b": 400},
        {"releases": 1, "recordings": 2, "artists": 1, "prepared": 1},
    ),
    Call(
        "bulk prepare",
        "POST",
        "/api/v1/releases/bulk/prepare",
        lambda w: {"releases": [{"action": "withdraw", "upc": w.release.upc, "reason": "Gone"}]},
        {**REFUSED, "token_a": 200},
        {"prepared": 1},
    ),
    Call(
        "bulk submit",
        "POST",
        "/api/v1/releases/bulk/submit",
        lambda w: {"releases": [{"prepared": w.api_prepared.pk, "signature": w.api_signature}]},
        {**REFUSED, "token_a": 200},
        {"declarations": 1, "leaves": 1},
    ),
    Call(
        "co-sign-only policy: prepare",
        "POST",
        "/api/v1/label/policy/prepare",
        lambda w: {"cosign_only": True},
        {**REFUSED, "token_a": 200, "token_b": 200},
    ),
    # Observations are a platform's (docs/protocol.md §16): a label token is refused, as a platform key is on writes.
    Call(
        "observation submit",
        "POST",
        "/api/v1/observations",
        lambda w: w.observation,
        PLATFORM_ONLY,
        {"observations": 1, "leaves": 1},
    ),
    Call(
        "observation prepare",
        "POST",
        "/api/v1/observations/prepare",
        lambda w: {"isrc": _a_track(w), "observed": {"vocals": "all"}, "method": "m", "observed_at": "2026-11-30"},
        {**PLATFORM_ONLY, "platform": 200},
    ),
    Call(
        "platform key event",
        "POST",
        "/api/v1/platform/keys",
        lambda w: w.platform_key_event,
        PLATFORM_ONLY,
        {"platform_key_events": 1, "leaves": 1},
    ),
]


@pytest.mark.parametrize(
    ("persona", "call"),
    [pytest.param(p, c, id=f"{p}-{c.name}") for c in API_CALLS for p in API_PERSONAS if p in c.expect],
)
def test_each_api_write_endpoint_answers_only_the_owning_label(world, persona, call):
    client = api_client(world, persona)
    path = call.path.format(upc=world.release.upc, dispute=world.dispute.uid)
    before = snapshot()
    if call.method == "GET":
        response = client.get(path)
    else:
        response = client.generic(call.method, path, json.dumps(call.body(world)), content_type="application/json")
    after = snapshot()
    expected = call.expect[persona]
    assert response.status_code == expected, (persona, response.status_code, response.content[:300])
    body = response.json()
    if expected >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
        assert after == before, f"{persona} changed data through {call.name}"
    else:
        changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        assert changed == call.effect, changed
    if persona != "token_a":
        _assert_no_leak(world, response.content, f"{persona} {call.name}")
    else:
        assert call.name != "label releases" or SECRET_TITLE in response.content.decode()  # the listing sees its own


def test_a_dispute_opened_through_the_api_is_read_and_withdrawn_by_its_opener_only(world):
    opened = api_client(world, "platform").post(
        "/api/v1/disputes",
        {"upc": world.release.upc, "part": "artwork", "text": "Generated cover."},
        content_type="application/json",
    )
    assert opened.status_code == 201, opened.content
    uid = opened.json()["id"]
    for persona, expected in [("token_b", 404), ("anonymous", 401), ("revoked_a", 401), ("token_a", 403)]:
        before = snapshot()
        response = api_client(world, persona).post(f"/api/v1/disputes/{uid}/withdraw", {}, "application/json")
        assert response.status_code == expected, (persona, response.content)
        assert snapshot() == before
        if persona != "token_a":
            assert "Generated cover." not in response.content.decode()
    assert api_client(world, "token_b").get(f"/api/v1/disputes/{uid}").status_code == 404
    before = snapshot()
    response = api_client(world, "platform").post(f"/api/v1/disputes/{uid}/withdraw", {}, "application/json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert snapshot()["closed_disputes"] == before["closed_disputes"] + 1


def test_an_idempotency_key_of_label_a_replays_nothing_to_label_b(world):
    a = api_client(world, "token_a")
    b = api_client(world, "token_b")
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key-123"}
    first = a.post(
        "/api/v1/releases", json.dumps(release_payload(title=SECRET_TITLE + " II")), "application/json", **key
    )
    assert first.status_code == 201
    before = snapshot()
    second = b.post("/api/v1/releases", json.dumps(release_payload(title="B's own")), "application/json", **key)
    assert second.status_code == 201
    assert second.get("Idempotent-Replayed") is None
    assert second.json()["upc"] != first.json()["upc"]
    assert SECRET_TITLE not in second.content.decode()
    assert snapshot()["releases"] == before["releases"] + 1
    assert Release.objects.get(upc=second.json()["upc"]).label == world.label_b
