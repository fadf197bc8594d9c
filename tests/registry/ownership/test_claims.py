"""Claiming, verifying, delegating and contesting prefixes through HTTP; what a declaration then signs and shows."""

from __future__ import annotations

import base64
import json
import re

import pytest
from django.core import mail
from django.test import Client

from provenance import statement as st_mod
from provenance.disclosure import summary_text
from registry.catalog.services import membership_add
from registry.ownership import services
from registry.ownership.models import ContestRequest, PrefixClaim
from tests import factories

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def claim_verified(label, kind: str, prefix: str, staff=None) -> PrefixClaim:
    claim = services.prefix_claim_create(label=label, kind=kind, prefix=prefix, evidence="Agency letter")
    return services.prefix_claim_approve(claim=claim, reviewer=staff)


def test_an_owner_claims_a_prefix_and_sees_it_pending(label, owner):
    client = signed_in(owner)
    r = client.post(f"/label/{label.pk}/prefixes/", {"kind": "isrc", "prefix": "gb-aye", "evidence": "PPL letter"})
    assert r.status_code == 302
    claim = PrefixClaim.objects.get(label=label)
    assert (claim.prefix, claim.status) == ("GBAYE", "pending")
    page = client.get(f"/label/{label.pk}/prefixes/").content.decode()
    assert "GB-AYE" in page and "Waiting for staff" in page


def test_a_malformed_prefix_is_refused_with_a_clear_error(label, owner):
    r = signed_in(owner).post(f"/label/{label.pk}/prefixes/", {"kind": "gs1", "prefix": "1234", "evidence": "x"})
    assert r.status_code == 400
    assert "A GS1 company prefix has 6 to 12 digits, got 4" in r.content.decode()
    assert not PrefixClaim.objects.exists()


def test_a_pending_claim_grants_nothing(keys, label, owner):
    services.prefix_claim_create(label=label, kind="isrc", prefix="QZ-TST", evidence="trust me")
    release = factories.make_release(label, tracks=1)
    decl = factories.declare(release)
    assert decl.statement["release"]["identifiers_verified"]["isrcs_unverified"] == [
        release.tracks.get().recording.isrc
    ]


def test_claims_of_other_labels_are_never_told(label, other_label, owner, rival):
    services.prefix_claim_create(label=other_label, kind="isrc", prefix="GB-AYE", evidence="Rival's secret evidence")
    # Label A may claim the same prefix: accepted as pending, nothing said about B's claim.
    r = signed_in(owner).post(f"/label/{label.pk}/prefixes/", {"kind": "isrc", "prefix": "GB-AYE", "evidence": "ours"})
    assert r.status_code == 302
    page = signed_in(owner).get(f"/label/{label.pk}/prefixes/").content.decode()
    assert other_label.name not in page and "Rival's secret evidence" not in page


def test_claiming_the_same_prefix_twice_is_refused(label, owner):
    services.prefix_claim_create(label=label, kind="isrc", prefix="GB-AYE", evidence="x")
    r = signed_in(owner).post(f"/label/{label.pk}/prefixes/", {"kind": "isrc", "prefix": "GBAYE", "evidence": "x"})
    assert r.status_code == 400 and "You claimed this prefix already." in r.content.decode()


def test_staff_approve_in_the_admin_and_the_label_is_emailed(label, owner, staff, django_capture_on_commit_callbacks):
    claim = services.prefix_claim_create(label=label, kind="gs1", prefix="0036000", evidence="GS1 certificate")
    client = signed_in(staff)
    data = {"action": "approve", "_selected_action": [claim.pk], "apply": "1", "note": "Checked with GS1 UK."}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/ownership/prefixclaim/", data).status_code == 302
    claim.refresh_from_db()
    assert claim.status == "verified" and claim.decided_by == staff
    (email,) = mail.outbox
    assert email.to == ["olivia@example.com"] and "0036000 verified" in email.subject
    assert "Checked with GS1 UK." in email.body


def test_staff_reject_needs_a_note_which_is_emailed(label, owner, staff, django_capture_on_commit_callbacks):
    claim = services.prefix_claim_create(label=label, kind="isrc", prefix="GB-AYE", evidence="none")
    client = signed_in(staff)
    base = {"action": "reject", "_selected_action": [claim.pk], "apply": "1"}
    client.post("/admin/ownership/prefixclaim/", {**base, "note": ""})
    claim.refresh_from_db()
    assert claim.status == "pending" and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/ownership/prefixclaim/", {**base, "note": "No agency letter."})
    claim.refresh_from_db()
    assert claim.status == "rejected"
    assert "No agency letter." in mail.outbox[0].body and "GB-AYE not verified" in mail.outbox[0].subject


def test_a_verified_prefix_cannot_be_held_by_two_labels(label, other_label):
    claim_verified(label, "gs1", "0036000")
    overlapping = services.prefix_claim_create(label=other_label, kind="gs1", prefix="00360001", evidence="x")
    with pytest.raises(services.Conflict, match="holds 0036000"):
        services.prefix_claim_approve(claim=overlapping, reviewer=None)
    same = services.prefix_claim_create(label=other_label, kind="gs1", prefix="0036000", evidence="x")
    with pytest.raises(services.Conflict):
        services.prefix_claim_approve(claim=same, reviewer=None)


def test_the_statement_says_which_identifiers_are_outside_the_verified_prefixes(keys, label):
    claim_verified(label, "isrc", "QZ-TST")
    claim_verified(label, "gs1", "0990000")
    inside, outside = factories.isrc(registrant="TST"), factories.isrc(registrant="OUT")
    release = factories.make_release(
        label,
        upc=factories.upc(99_000_000_001),
        track_list=[{"isrc": inside, "title": "A", "position": 1}, {"isrc": outside, "title": "B", "position": 2}],
    )
    decl = factories.declare(release)
    assert decl.statement["release"]["identifiers_verified"] == {"upc": True, "isrcs_unverified": [outside]}
    # Signed: the bundle's payload carries it, and it validates.
    payload = json.loads(decl.bundle)["envelope"]["payload"]
    parsed = st_mod.parse_statement(base64.b64decode(payload), canonical=True)
    assert parsed["release"]["identifiers_verified"]["isrcs_unverified"] == [outside]


def test_pages_and_api_say_the_registry_has_not_verified_the_isrc(client, keys, label):
    claim_verified(label, "isrc", "QZ-TST")
    outside = factories.isrc(registrant="OUT")
    release = factories.make_release(
        label,
        track_list=[
            {"isrc": factories.isrc(registrant="TST"), "title": "A", "position": 1},
            {"isrc": outside, "title": "B", "position": 2},
        ],
    )
    factories.declare(release)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/releases/{release.upc}/").content.decode()))
    assert "The registry has not verified that this label owns this ISRC" in page
    assert page.count("ISRC not verified") == 1
    assert "has not verified that this label owns this release's UPC" in page
    answer = client.get(f"/api/v1/recordings/{outside}").json()
    assert answer["disclosure"]["track"]["isrc_verified"] is False
    assert answer["disclosure"]["release"]["identifiers_verified"] == {"upc": False, "isrcs_unverified": [outside]}


def test_older_statements_keep_their_summary_byte_for_byte(keys, label):
    decl = factories.declare(factories.make_release(label, tracks=1))
    old = json.loads(json.dumps(decl.statement))
    del old["release"]["identifiers_verified"]  # as signed before 2026-12
    assert 'verified":false,"isrc' not in summary_text(old)
    assert "identifiers_verified" not in summary_text(old) and "isrc_verified" not in summary_text(old)


def test_a_delegated_prefix_counts_as_verified_for_the_delegate(keys, label, other_label, owner):
    claim = claim_verified(label, "isrc", "QZ-DST")
    r = signed_in(owner).post(
        f"/label/{label.pk}/prefixes/{claim.pk}/delegate/", {"label": other_label.dpid or str(other_label.pk)}
    )
    assert r.status_code == 302
    release = factories.make_release(
        other_label, track_list=[{"isrc": factories.isrc(registrant="DST"), "title": "A", "position": 1}]
    )
    assert factories.declare(release).statement["release"]["identifiers_verified"]["isrcs_unverified"] == []


def test_the_holder_contests_another_labels_declaration_inside_its_prefix(keys, label, other_label, owner, staff):
    claim_verified(label, "isrc", "QZ-HLD")
    isrc = factories.isrc(registrant="HLD")
    factories.declare(
        factories.make_release(
            other_label, title="Squatter", track_list=[{"isrc": isrc, "title": "Ours", "position": 1}]
        )
    )
    client = signed_in(owner)
    page = client.get(f"/label/{label.pk}/prefixes/").content.decode()
    assert "Ours" in page and other_label.name in page and "Contest" in page
    r = client.post(f"/label/{label.pk}/prefixes/contest/", {"kind": "isrc", "identifier": isrc, "note": "Our master"})
    assert r.status_code == 302
    contest = ContestRequest.objects.get()
    assert (contest.identifier, contest.note, contest.declared_version) == (isrc, "Our master", 1)
    assert "Contested: staff have it" in client.get(f"/label/{label.pk}/prefixes/").content.decode()
    assert isrc in signed_in(staff).get("/admin/ownership/contestrequest/").content.decode()
    # The contest is a signed dispute by a rights holder on the identifier, shown beside the declaration.
    step = contest.dispute.steps.get()
    assert (step.role, step.statement["declaration"]["part"], step.statement["declaration"]["isrc"]) == (
        "rights_holder",
        "identifier",
        isrc,
    )
    assert (
        f"Disputed by a rights holder: identifier of {isrc} — open"
        in client.get(f"/recordings/{isrc}/").content.decode()
    )


def test_an_identifier_outside_the_prefix_cannot_be_contested(keys, label, other_label, owner):
    claim_verified(label, "isrc", "QZ-HLD")
    isrc = factories.isrc(registrant="ELS")
    factories.declare(factories.make_release(other_label, track_list=[{"isrc": isrc, "title": "T", "position": 1}]))
    signed_in(owner).post(f"/label/{label.pk}/prefixes/contest/", {"kind": "isrc", "identifier": isrc})
    assert not ContestRequest.objects.exists()


def test_a_submitter_cannot_claim(label, django_user_model):
    user = django_user_model.objects.create_user("sam", "sam@example.com", "pw-long-enough-1")
    membership_add(label=label, user=user, role="submitter")
    r = signed_in(user).post(f"/label/{label.pk}/prefixes/", {"kind": "isrc", "prefix": "GB-AYE", "evidence": "x"})
    assert r.status_code == 403 and not PrefixClaim.objects.exists()


def test_staff_revoke_a_verified_prefix_and_its_delegations_end(keys, label, other_label, staff):
    claim = claim_verified(label, "isrc", "QZ-RVK")
    services.prefix_delegate(label=label, claim_id=claim.pk, to=str(other_label.pk))
    client = signed_in(staff)
    data = {"action": "revoke", "_selected_action": [claim.pk], "apply": "1", "note": "Issued in error."}
    client.post("/admin/ownership/prefixclaim/", data)
    claim.refresh_from_db()
    assert claim.status == "revoked" and not claim.delegations.filter(revoked_at__isnull=True).exists()
    release = factories.make_release(
        label, track_list=[{"isrc": factories.isrc(registrant="RVK"), "title": "A", "position": 1}]
    )
    assert factories.declare(release).statement["release"]["identifiers_verified"]["isrcs_unverified"] != []
