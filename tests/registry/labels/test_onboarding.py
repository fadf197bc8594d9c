"""Applying, staff approval/rejection in the admin, invitations, and proving an email address before it grants anything."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from registry.catalog.models import Label, Membership
from registry.labels import services
from registry.labels.models import Invitation, LabelApplication
from tests.registry.labels.conftest import signed_in

pytestmark = pytest.mark.django_db

APPLICATION = {
    "label_name": "Moss Records",
    "dpid": "PA-DPIDA-3897722461-G",
    "contact_name": "Mia Moss",
    "contact_email": "mia@moss.example",
    "website": "https://moss.example",
    "evidence": "Listed as A&R on https://moss.example/team",
}


def test_anyone_can_apply_and_the_dpid_is_checked(client):
    html = client.post("/label/apply/", {**APPLICATION, "dpid": "PADPIDA3897722461X"}).content.decode()
    assert "DDEX Party ID check character should be G, not X" in html and 'value="Moss Records"' in html
    assert client.post("/label/apply/", APPLICATION)["Location"] == "/label/apply/thanks/"
    app = LabelApplication.objects.get()
    assert (app.dpid, app.status) == ("PADPIDA3897722461G", "pending")
    assert not Label.objects.filter(name="Moss Records").exists()  # nothing is verified by applying


def test_a_registered_dpid_cannot_be_claimed_again(client, label):
    html = client.post("/label/apply/", APPLICATION).content.decode()
    assert "registered already" in html


def approve_in_admin(staff, app):
    admin = signed_in(staff)
    return admin.post(
        "/admin/labels/labelapplication/", {"action": "approve", "_selected_action": [str(app.pk)]}, follow=True
    )


def _path(link: str) -> str:
    return re.sub(r"^http://[^/]+", "", link)


def _link(body: str, kind: str) -> str:
    return _path(re.search(rf"http://\S+/label/{kind}/\S+/", body).group(0))


def test_approval_creates_a_verified_label_and_emails_its_contact_an_owner_invitation(
    staff, django_capture_on_commit_callbacks
):
    app = services.application_submit(**{**APPLICATION, "dpid": None})
    with django_capture_on_commit_callbacks(execute=True):
        assert approve_in_admin(staff, app).status_code == 200
    label = Label.objects.get(name="Moss Records")
    assert label.verified
    assert not Membership.objects.filter(label=label).exists()  # nobody owns it until the contact accepts
    (email,) = mail.outbox
    assert email.to == ["mia@moss.example"]
    client = Client()
    link = _link(email.body, "invite")
    assert "Create account and join" in client.get(link).content.decode()
    ok = client.post(link, {"username": "mia", "password1": "a long passphrase 1", "password2": "a long passphrase 1"})
    assert ok["Location"] == f"/label/{label.pk}/"
    membership = Membership.objects.get(label=label)
    # The link was only emailed, so opening it proved the address.
    assert membership.role == "owner" and membership.user.email == "mia@moss.example"
    assert client.get(f"/label/{label.pk}/tokens/").status_code == 200
    assert Client().get(link).status_code == 404  # used
    app.refresh_from_db()
    assert app.status == "approved" and app.label == label and app.reviewed_by == staff


def test_approval_never_hands_the_label_to_an_account_that_merely_has_the_contact_address(
    staff, owner, django_capture_on_commit_callbacks
):
    app = services.application_submit(**{**APPLICATION, "dpid": None, "contact_email": "OLIVIA@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        approve_in_admin(staff, app)
    assert not Membership.objects.filter(label__name="Moss Records").exists()
    # The real contact (who reads olivia@example.com) signs in and accepts in one click.
    client = signed_in(owner)
    assert client.post(_link(mail.outbox[0].body, "invite"))["Location"].startswith("/label/")
    assert Membership.objects.get(label__name="Moss Records").user == owner


def test_an_owner_of_another_label_cannot_take_over_a_label_before_it_is_approved(
    owner_client, label, staff, django_capture_on_commit_callbacks
):
    """The review's account takeover: invite the victim's address, accept it signed out, wait for approval."""
    with django_capture_on_commit_callbacks(execute=True):
        r = owner_client.post(f"/label/{label.pk}/members/", {"email": "mia@moss.example", "role": "submitter"})
    html = r.content.decode()
    invite_path = _path(re.search(r'value="(http://testserver/label/invite/[^"]+/)"', html).group(1))
    attacker = Client()
    with django_capture_on_commit_callbacks(execute=True):
        page = attacker.post(
            invite_path, {"username": "mallory", "password1": "a long passphrase 1", "password2": "a long passphrase 1"}
        )
    assert "Check your inbox" in page.content.decode()
    mallory = get_user_model().objects.get(username="mallory")
    assert mallory.email == "" and not Membership.objects.filter(user=mallory).exists()
    # The confirmation went to the victim's inbox, not to the attacker.
    assert mail.outbox[-1].to == ["mia@moss.example"] and "Confirm" in mail.outbox[-1].subject
    assert attacker.post(invite_path).status_code == 403  # accepting without the proof is refused
    # The real label applies with that address and is approved.
    app = services.application_submit(**{**APPLICATION, "dpid": None})
    with django_capture_on_commit_callbacks(execute=True):
        approve_in_admin(staff, app)
    moss = Label.objects.get(name="Moss Records")
    assert not Membership.objects.filter(label=moss, user=mallory).exists()
    # Even the owner invitation's link does not help the attacker: it went to the victim only.
    assert mail.outbox[-1].to == ["mia@moss.example"]


def test_a_proof_link_works_only_for_the_account_that_asked_for_it(
    label, rival, owner, django_capture_on_commit_callbacks
):
    _, token = services.invitation_create(label=label, email="rita.work@example.com")
    client = signed_in(rival)
    page = client.get(f"/label/invite/{token}/").content.decode()
    assert "Send a confirmation link" in page and "Accept and join" not in page
    assert client.post(f"/label/invite/{token}/", {"action": "accept"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/label/invite/{token}/", {"action": "confirm-email"})
    confirm = _link(mail.outbox[-1].body, "email")
    assert mail.outbox[-1].to == ["rita.work@example.com"]
    # Another signed-in account cannot use the link; a signed-out visitor is sent to sign in.
    assert signed_in(owner).post(confirm).status_code == 403
    assert Client().get(confirm)["Location"].startswith("/accounts/login/")
    assert "Confirm rita.work@example.com" in client.get(confirm).content.decode()
    assert client.post(confirm)["Location"] == f"/label/invite/{token}/"
    assert client.post(f"/label/invite/{token}/", {"action": "accept"})["Location"] == f"/label/{label.pk}/"
    assert Membership.objects.get(label=label, user=rival).role == "submitter"
    # A tampered or foreign token changes nothing.
    assert client.post(confirm[:-3] + "xx/").status_code == 400


def test_an_address_proven_by_one_account_cannot_be_proven_by_another(label, rival, owner):
    _, token = services.invitation_create(label=label, email="rita@example.com")
    client = signed_in(owner)
    page = client.post(f"/label/invite/{token}/", {"action": "confirm-email"})
    assert page.status_code == 409 and "belongs to another account" in page.content.decode()


def test_rejection_asks_for_a_reason_first(staff, django_capture_on_commit_callbacks):
    app = services.application_submit(**{**APPLICATION, "dpid": None})
    admin = signed_in(staff)
    form = admin.post("/admin/labels/labelapplication/", {"action": "reject", "_selected_action": [str(app.pk)]})
    assert "Reject with this reason" in form.content.decode()
    app.refresh_from_db()
    assert app.status == "pending"
    empty = admin.post(
        "/admin/labels/labelapplication/",
        {"action": "reject", "_selected_action": [str(app.pk)], "apply": "1", "reason": ""},
    )
    assert "This field is required" in empty.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(
            "/admin/labels/labelapplication/",
            {"action": "reject", "_selected_action": [str(app.pk)], "apply": "1", "reason": "No evidence."},
        )
    app.refresh_from_db()
    assert (app.status, app.rejection_reason) == ("rejected", "No evidence.")
    assert "No evidence." in mail.outbox[0].body
    assert not Label.objects.filter(name="Moss Records").exists()


def test_owners_invite_and_the_invitee_signs_up_then_confirms_the_address(
    owner_client, label, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/label/{label.pk}/members/", {"email": "nia@example.com", "role": "submitter"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    link = re.search(r'value="(http://testserver/label/invite/[^"]+/)"', html).group(1)
    assert link.split("/")[-2] in mail.outbox[0].body
    assert link not in owner_client.get(f"/label/{label.pk}/members/").content.decode()  # shown once
    for session in Session.objects.all():  # never kept server-side (the token alone lets anyone join)
        assert link.split("/")[-2] not in str(session.get_decoded())
    invite = Invitation.objects.get()
    assert invite.token_hash not in link and not invite.proves_email
    client = Client()
    path = link.replace("http://testserver", "")
    assert "Create your account" in client.get(path).content.decode()
    bad = client.post(path, {"username": "nia", "password1": "short", "password2": "short"})
    assert bad.status_code == 200 and 'value="nia"' in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            path, {"username": "nia", "password1": "a long passphrase 1", "password2": "a long passphrase 1"}
        )
    assert "Check your inbox" in ok.content.decode()
    assert not Membership.objects.filter(user__username="nia").exists()
    assert client.post(_link(mail.outbox[-1].body, "email"))["Location"] == path
    assert client.post(path, {"action": "accept"})["Location"] == f"/label/{label.pk}/"
    membership = Membership.objects.get(user__username="nia")
    assert membership.role == "submitter" and membership.user.email == "nia@example.com"
    assert client.get(f"/label/{label.pk}/tokens/").status_code == 403
    assert Client().get(path).status_code == 404  # used


def test_a_signed_in_user_accepts_an_invitation(label, rival):
    _, token = services.invitation_create(label=label, email="rita@example.com")
    client = signed_in(rival)
    assert "Accept and join" in client.get(f"/label/invite/{token}/").content.decode()
    assert client.post(f"/label/invite/{token}/")["Location"] == f"/label/{label.pk}/"
    assert Membership.objects.get(label=label, user=rival).role == "submitter"


def test_expired_revoked_and_unknown_invitations_are_refused(label, owner_client):
    inv, token = services.invitation_create(label=label, email="x@example.com")
    Invitation.objects.filter(pk=inv.pk).update(expires_at="2000-01-01T00:00:00Z")
    assert "expired" in Client().get(f"/label/invite/{token}/").content.decode()
    inv2, token2 = services.invitation_create(label=label, email="y@example.com")
    owner_client.post(f"/label/{label.pk}/invitations/{inv2.pk}/revoke/")
    assert Client().get(f"/label/invite/{token2}/").status_code == 404
    assert Client().get("/label/invite/nonsense/").status_code == 404


def test_inviting_a_member_again_is_a_form_error(owner_client, label, submitter):
    html = owner_client.post(f"/label/{label.pk}/members/", {"email": "SAM@example.com", "role": "submitter"})
    assert "already a member" in html.content.decode()
