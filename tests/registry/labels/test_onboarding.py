"""Applying, staff approval/rejection in the admin, the welcome link, invitations."""

from __future__ import annotations

import re

import pytest
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


def test_approval_creates_a_verified_label_and_owner_who_sets_a_password(staff, django_capture_on_commit_callbacks):
    app = services.application_submit(**{**APPLICATION, "dpid": None})
    with django_capture_on_commit_callbacks(execute=True):
        assert approve_in_admin(staff, app).status_code == 200
    label = Label.objects.get(name="Moss Records")
    assert label.verified
    membership = Membership.objects.get(label=label)
    assert membership.role == "owner" and membership.user.email == "mia@moss.example"
    assert not membership.user.has_usable_password()
    (email,) = mail.outbox
    link = re.search(r"http://\S+/label/welcome/\S+/", email.body).group(0)
    client = Client()
    page = client.get(link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert "Choose a password" in page.content.decode() or "new_password1" in page.content.decode()
    response = client.post(
        page.redirect_chain[-1][0], {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"}
    )
    assert response["Location"] == "/label/"
    assert client.get("/label/", follow=True).content.decode().count("Moss Records") >= 1
    # The link works once.
    assert "used already" in Client().get(link.replace("http://127.0.0.1:8000", ""), follow=True).content.decode()
    app.refresh_from_db()
    assert app.status == "approved" and app.label == label and app.reviewed_by == staff


def test_approval_reuses_an_existing_account(staff, owner, django_capture_on_commit_callbacks):
    app = services.application_submit(**{**APPLICATION, "dpid": None, "contact_email": "OLIVIA@example.com"})
    with django_capture_on_commit_callbacks(execute=True):
        approve_in_admin(staff, app)
    assert Membership.objects.get(label__name="Moss Records").user == owner
    assert "welcome" not in mail.outbox[0].body


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


def test_owners_invite_and_the_invitee_signs_up(owner_client, label, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(f"/label/{label.pk}/members/", {"email": "nia@example.com", "role": "submitter"})
    assert response.status_code == 302
    html = owner_client.get(f"/label/{label.pk}/members/").content.decode()
    link = re.search(r'value="(http://testserver/label/invite/[^"]+/)"', html).group(1)
    assert link.split("/")[-2] in mail.outbox[0].body
    assert link not in owner_client.get(f"/label/{label.pk}/members/").content.decode()  # shown once
    invite = Invitation.objects.get()
    assert invite.token_hash not in link
    client = Client()
    path = link.replace("http://testserver", "")
    assert "Create your account" in client.get(path).content.decode()
    bad = client.post(path, {"username": "nia", "password1": "short", "password2": "short"})
    assert bad.status_code == 200 and 'value="nia"' in bad.content.decode()
    ok = client.post(path, {"username": "nia", "password1": "a long passphrase 1", "password2": "a long passphrase 1"})
    assert ok["Location"] == f"/label/{label.pk}/"
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
