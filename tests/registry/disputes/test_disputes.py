"""Disputes through HTTP, per role: an artist opens, the label answers, staff resolve, the opener withdraws.

Every step is a signed leaf of its own payloadType; the words stay in the database (never in the log,
a public page or an API answer) and can be erased with the log still verifying.
"""

from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client, override_settings
from rest_framework.settings import api_settings

import provenance
from provenance import disputes as pdisputes
from registry.catalog.models import Release
from registry.disputes.models import Dispute, DisputeStep
from registry.transparency import keys as tkeys
from registry.transparency.audit import AuditFailure, audit_log
from registry.transparency.models import LogLeaf

pytestmark = pytest.mark.django_db

CLAIM = "The vocals are AI: my voice was cloned (claim 5521)"
EVIDENCE = "Private evidence: session files at https://example.org/evidence-7731"


@pytest.fixture
def artist(django_user_model):
    """An artist's account with a proven email address (User.email is only set from a proof)."""
    return django_user_model.objects.create_user("ada", "ada@example.net", "correct horse battery")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _vocals_isrc(declared) -> str:
    return declared.statement["tracks"][0]["isrc"]


def _open(artist, declared, **extra) -> Dispute:
    isrc = _vocals_isrc(declared)
    body = {"role": "artist", "isrc": isrc, "part": "vocals", "text": CLAIM, "evidence": EVIDENCE,
            "identity": "ISNI 0000000121464383", **extra}  # fmt: skip
    response = _client(artist).post(f"/releases/{declared.release.upc}/dispute/", body)
    assert response.status_code == 302, response.content.decode()[:800]
    dispute = Dispute.objects.get()
    assert response["Location"] == f"/disputes/{dispute.uid}/"
    return dispute


def _verifier() -> provenance.Verifier:
    return provenance.Verifier(tkeys.keyset())


def test_an_artist_opens_a_dispute_from_the_release_page_and_it_is_logged(
    artist, declared, owner, submitter, staff, django_capture_on_commit_callbacks
):
    leaves = LogLeaf.objects.count()
    page = _client(artist).get(f"/releases/{declared.release.upc}/")
    assert f"/releases/{declared.release.upc}/dispute/" in page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        dispute = _open(artist, declared)
    assert LogLeaf.objects.count() == leaves + 1
    step = dispute.steps.get()
    st = step.statement
    assert st["schema"] == pdisputes.DISPUTE_SCHEMA
    assert st["declaration"] == {
        "id": str(declared.uid),
        "version": 1,
        "leaf_hash": bytes(declared.leaf.leaf_hash).hex(),
        "upc": declared.release.upc,
        "isrc": _vocals_isrc(declared),
        "part": "vocals",
    }
    assert (st["dispute"]["step"], st["actor"]["role"], st["outcome"]) == ("opened", "artist", None)
    # The log holds a commitment to the words, never the words.
    leaf = LogLeaf.objects.get(index=step.leaf_id).data
    assert CLAIM not in leaf and "5521" not in json.dumps(st) and "evidence-7731" not in leaf
    assert st["content_sha256"] == pdisputes.content_commitment(bytes(step.nonce), text=CLAIM, evidence=EVIDENCE)
    # Its bundle verifies offline with the declaration's checks and the dispute's payloadType.
    result = provenance.verify_dispute_bundle(step.bundle.encode(), _verifier())
    assert result.valid, result.failed
    assert [c.name for c in result.checks] == list(provenance.CHECKS)
    # A dispute is not a declaration: a declaration verifier refuses its bundle.
    assert _verifier().verify(step.bundle.encode()).failed.name == "payload_type"
    checked = Client().post("/api/v1/verify", step.bundle, content_type="application/json").json()
    assert checked["valid"] is True, checked
    asked = {"bundle": json.loads(step.bundle), "isrc": _vocals_isrc(declared)}
    assert Client().post("/api/v1/verify", asked, content_type="application/json").json()["valid"] is False
    # The label's members and staff are told.
    recipients = {r for m in mail.outbox for r in m.to}
    assert {"olivia@example.com", "sam@example.com", "stella@example.com"} <= recipients
    assert "ada@example.net" not in recipients
    audit_log()


def test_public_pages_and_api_show_the_dispute_beside_the_declaration_without_its_words(artist, declared):
    dispute = _open(artist, declared)
    isrc = _vocals_isrc(declared)
    anonymous = Client()
    for path in (f"/releases/{declared.release.upc}/", f"/recordings/{isrc}/"):
        text = anonymous.get(path).content.decode()
        assert f"Disputed by an artist: vocals of {isrc} — open" in text, path
        assert CLAIM not in text and "evidence-7731" not in text and "0000000121464383" not in text
    answer = anonymous.get(f"/api/v1/releases/{declared.release.upc}").json()
    assert answer["disputes"] == [
        {
            "id": str(dispute.uid),
            "opened_by": "artist",
            "isrc": isrc,
            "part": "vocals",
            "declaration_version": 1,
            "status": "open",
            "opened_at": answer["disputes"][0]["opened_at"],
            "log_indexes": [dispute.steps.get().leaf_id],
        }
    ]
    assert anonymous.get(f"/api/v1/recordings/{isrc}").json()["disputes"][0]["id"] == str(dispute.uid)
    other = declared.statement["tracks"][1]["isrc"]
    assert anonymous.get(f"/api/v1/recordings/{other}").json()["disputes"] == []  # a track-level dispute
    bulk = anonymous.post(
        "/api/v1/lookup", {"isrcs": [isrc], "upcs": [declared.release.upc]}, content_type="application/json"
    ).json()
    assert [len(r["disputes"]) for r in bulk["results"]] == [1, 1]
    feed = anonymous.get("/api/v1/feed").json()["entries"]
    assert all("kind" not in e for e in feed)  # declarations only, unless asked
    with_disputes = anonymous.get("/api/v1/feed?include=disputes").json()["entries"]
    assert [e["index"] for e in with_disputes if e.get("kind") == "dispute"] == [dispute.steps.get().leaf_id]
    assert anonymous.get("/api/v1/feed?include=everything").status_code == 400


def test_the_feed_pages_through_declarations_and_dispute_steps_in_log_order_each_once(artist, declared, label):
    from tests import factories

    _open(artist, declared)  # leaves: declaration, dispute step, then two more declarations
    factories.declare(factories.make_release(label, tracks=1))
    factories.declare(factories.make_release(label, tracks=1))
    anonymous = Client()
    for include, kinds in (("&include=disputes", [None, "dispute", None, None]), ("", [None, None, None])):
        seen, after = [], None
        while True:
            query = "?limit=1" + include + (f"&after={after}" if after is not None else "")
            page = anonymous.get(f"/api/v1/feed{query}").json()
            seen += page["entries"]
            after = page["next"]
            if after is None:
                break
        assert [e.get("kind") for e in seen] == kinds
        indexes = [e["index"] for e in seen]
        assert indexes == sorted(set(indexes))
        assert all(e["bundle"]["log"]["index"] == e["index"] for e in seen)
        wanted = LogLeaf.objects.filter(**({} if include else {"declaration__isnull": False}))
        assert indexes == sorted(wanted.values_list("index", flat=True))


def test_the_words_are_for_the_opener_the_label_and_staff_only(
    artist, declared, owner, rival, staff, django_user_model
):
    dispute = _open(artist, declared)
    path = f"/disputes/{dispute.uid}/"
    for user in (artist, owner, staff):
        assert CLAIM in _client(user).get(path).content.decode()
    # Who the opener says they are is for staff to check, not for the label.
    assert "0000000121464383" in _client(staff).get(path).content.decode()
    assert "0000000121464383" not in _client(owner).get(path).content.decode()
    stranger = django_user_model.objects.create_user("sid", "sid@example.net", "correct horse battery")
    for user in (rival, stranger):
        response = _client(user).get(path)
        assert response.status_code == 404 and CLAIM not in response.content.decode()
    assert Client().get(path).status_code == 302  # to the login page


def test_opening_needs_a_signed_in_account_with_a_proven_email(declared, django_user_model):
    path = f"/releases/{declared.release.upc}/dispute/"
    body = {"role": "artist", "isrc": _vocals_isrc(declared), "part": "vocals", "text": CLAIM}
    response = Client().post(path, body)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    unproven = django_user_model.objects.create_user("noemail", "", "correct horse battery")
    response = _client(unproven).post(path, body)
    assert response.status_code == 400
    assert "confirm your email address" in response.content.decode()
    assert not Dispute.objects.exists()


def test_a_label_does_not_dispute_its_own_declaration(declared, owner):
    body = {"role": "artist", "isrc": _vocals_isrc(declared), "part": "vocals", "text": CLAIM}
    response = _client(owner).post(f"/releases/{declared.release.upc}/dispute/", body)
    assert response.status_code == 400 and "amending it" in response.content.decode()
    assert not Dispute.objects.exists()


def test_a_track_not_on_the_release_is_refused(artist, declared):
    body = {"role": "artist", "isrc": "QZZZZ2699999", "part": "vocals", "text": CLAIM}
    response = _client(artist).post(f"/releases/{declared.release.upc}/dispute/", body)
    assert response.status_code == 400
    assert not Dispute.objects.exists()


def test_the_label_contests_and_only_the_label_answers(
    artist, declared, owner, rival, staff, django_capture_on_commit_callbacks
):
    dispute = _open(artist, declared)
    leaves = LogLeaf.objects.count()
    answer = f"/label/{declared.release.label_id}/disputes/{dispute.uid}/answer/"
    for outsider in (rival, staff, artist):
        assert _client(outsider).post(answer, {"outcome": "contest", "text": "no"}).status_code == 404
    assert LogLeaf.objects.count() == leaves
    page = _client(owner).get(f"/label/{declared.release.label_id}/disputes/")
    assert CLAIM in page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(owner).post(answer, {"outcome": "contest", "text": "Recorded live, session logs attached."})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.ANSWERED and LogLeaf.objects.count() == leaves + 1
    step = dispute.steps.get(sequence=2)
    assert (step.statement["dispute"]["previous"], step.outcome) == (
        bytes(dispute.steps.get(sequence=1).leaf.leaf_hash).hex(),
        "contest",
    )
    assert "ada@example.net" in {r for m in mail.outbox for r in m.to}
    # Answered once: a second answer is refused.
    assert _client(owner).post(answer, {"outcome": "amend", "text": ""}).status_code == 400
    audit_log()


def test_answering_amend_sends_the_label_to_the_ordinary_write_path(artist, declared, owner):
    dispute = _open(artist, declared)
    response = _client(owner).post(
        f"/label/{declared.release.label_id}/disputes/{dispute.uid}/answer/", {"outcome": "amend", "text": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/label/{declared.release.label_id}/releases/{declared.release.upc}/declare/"
    declared.release.refresh_from_db()
    assert declared.release.current_declaration_id == declared.pk  # a dispute never changes a declaration


def test_staff_resolve_in_the_admin_and_nobody_else_does(artist, declared, owner, staff):
    from registry.disputes import services
    from registry.errors import PermissionDenied

    dispute = _open(artist, declared)
    for user in (owner, artist):
        with pytest.raises(PermissionDenied):
            services.dispute_resolve(dispute=dispute, actor=user, outcome="upheld")
    admin = _client(staff)
    listing = admin.get("/admin/disputes/dispute/")
    assert listing.status_code == 200
    assert admin.get(f"/admin/disputes/dispute/{dispute.pk}/change/").status_code == 200
    form = {"action": "uphold", "_selected_action": [dispute.pk]}
    assert admin.post("/admin/disputes/dispute/", form).status_code == 200  # asks for the reason
    response = admin.post("/admin/disputes/dispute/", {**form, "apply": "1", "text": "Voice match confirmed."})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.UPHELD
    last = dispute.steps.order_by("-sequence").first()
    assert (last.step, last.role, last.outcome) == ("resolved", "staff", "upheld")
    text = Client().get(f"/releases/{declared.release.upc}/").content.decode()
    assert "— upheld" in text
    audit_log()


def test_the_opener_withdraws_and_only_the_opener(artist, declared, owner):
    dispute = _open(artist, declared)
    assert _client(owner).post(f"/disputes/{dispute.uid}/withdraw/").status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.OPEN
    assert _client(artist).post(f"/disputes/{dispute.uid}/withdraw/").status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == Dispute.WITHDRAWN
    last = dispute.steps.order_by("-sequence").first()
    assert (last.role, last.outcome) == ("artist", "withdrawn")
    audit_log()


def test_erasing_the_words_keeps_the_log_verifiable(artist, declared, staff):
    dispute = _open(artist, declared)
    step = dispute.steps.get()
    commitment, bundle = step.content_sha256, step.bundle
    response = _client(staff).post(
        "/admin/disputes/dispute/", {"action": "erase", "_selected_action": [dispute.pk], "apply": "1"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    dispute.refresh_from_db()
    assert (step.text, step.evidence, step.nonce, dispute.identity) == ("", "", None, "")
    assert dispute.erased_at is not None
    assert (step.content_sha256, step.bundle) == (commitment, bundle)
    assert provenance.verify_dispute_bundle(bundle.encode(), _verifier()).valid
    audit_log()


def test_the_audit_catches_edited_words_and_unaccounted_leaves(artist, declared):
    dispute = _open(artist, declared)
    DisputeStep.objects.filter(dispute=dispute).update(text="something else")
    with pytest.raises(AuditFailure, match="does not match its logged commitment"):
        audit_log()
    DisputeStep.objects.filter(dispute=dispute).update(text=CLAIM)
    audit_log()
    Release.objects.filter(pk=declared.release_id).update(public_disputes="[]")
    with pytest.raises(AuditFailure, match="the disputes its answers show differ"):
        audit_log()
    DisputeStep.objects.filter(dispute=dispute).delete()
    Dispute.objects.filter(pk=dispute.pk).delete()
    with pytest.raises(AuditFailure, match="carry no declaration or other known statement"):
        audit_log()


@pytest.fixture
def throttled():
    rates = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "dispute_account": "2/day",
             "dispute_declaration": "3/day"}  # fmt: skip
    rest = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    with override_settings(REGISTRY_THROTTLE=True, REST_FRAMEWORK=rest):
        assert api_settings.DEFAULT_THROTTLE_RATES == rates
        yield


def test_opening_is_rate_limited_per_account_and_per_release(declared, django_user_model, throttled):
    path = f"/releases/{declared.release.upc}/dispute/"
    body = {"role": "artist", "isrc": _vocals_isrc(declared), "part": "vocals", "text": CLAIM}
    one = _client(django_user_model.objects.create_user("u1", "u1@example.net", "x"))
    assert [one.post(path, body).status_code for _ in range(3)] == [302, 302, 400]
    assert "too many disputes from this account" in one.post(path, body).content.decode()
    two = _client(django_user_model.objects.create_user("u2", "u2@example.net", "x"))
    assert [two.post(path, body).status_code for _ in range(2)] == [302, 400]
    assert "too many disputes about this release" in two.post(path, body).content.decode()
    assert Dispute.objects.count() == 3


def test_a_platform_disputes_the_artwork_and_the_answers_say_so(declared, django_user_model):
    platform = django_user_model.objects.create_user("pat", "trust@platform.example", "correct horse battery")
    body = {"role": "platform", "isrc": "", "part": "artwork", "text": "The cover is generated (our classifier)."}
    response = _client(platform).post(f"/releases/{declared.release.upc}/dispute/", body)
    assert response.status_code == 302, response.content.decode()[:500]
    step = Dispute.objects.get().steps.get()
    assert step.statement["declaration"]["isrc"] is None and step.statement["actor"]["role"] == "platform"
    # A release-wide dispute concerns every track's answer.
    for isrc in (t["isrc"] for t in declared.statement["tracks"]):
        assert Client().get(f"/api/v1/recordings/{isrc}").json()["disputes"][0]["part"] == "artwork"
    assert (
        "Disputed by a platform: artwork — open" in Client().get(f"/releases/{declared.release.upc}/").content.decode()
    )
    audit_log()
