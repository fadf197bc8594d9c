"""API tokens: owners create, list and revoke; the plaintext is shown once."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.sessions.models import Session

from registry.api.models import LabelToken
from registry.api.tokens import label_token_check

pytestmark = pytest.mark.django_db


def test_owners_create_a_token_and_see_it_once(owner_client, label):
    response = owner_client.post(f"/label/{label.pk}/tokens/", {"name": "Distributor sync"})
    assert response.status_code == 200
    token = re.search(r'value="(adrl_[^"]+)"', response.content.decode()).group(1)
    assert label_token_check(token).label == label
    assert "no-store" in response["Cache-Control"]
    again = owner_client.get(f"/label/{label.pk}/tokens/").content.decode()
    assert token not in again and "Distributor sync" in again


def test_a_new_token_is_never_stored_in_a_session(owner_client, label):
    owner_client.post(f"/label/{label.pk}/tokens/", {"name": "Distributor sync"})
    token_start = f"adrl_{LabelToken.objects.get().public_id}_"
    rows = list(Session.objects.all())
    assert rows, "the owner's session is a row in the database"
    for row in rows:
        assert token_start not in row.session_data and token_start not in json.dumps(row.get_decoded())


def test_a_token_needs_a_name(owner_client, label):
    html = owner_client.post(f"/label/{label.pk}/tokens/", {"name": ""}).content.decode()
    assert "This field is required" in html and not LabelToken.objects.exists()


def test_owners_revoke_tokens(owner_client, label, other_label):
    html = owner_client.post(f"/label/{label.pk}/tokens/", {"name": "CI"}).content.decode()
    token = re.search(r'value="(adrl_[^"]+)"', html).group(1)
    row = LabelToken.objects.get()
    assert owner_client.post(f"/label/{label.pk}/tokens/{row.pk}/revoke/").status_code == 302
    assert label_token_check(token) is None
    assert "Revoked" in owner_client.get(f"/label/{label.pk}/tokens/").content.decode()


def test_a_token_of_another_label_cannot_be_revoked_from_mine(owner_client, label, other_label):
    from registry.api.tokens import label_token_create

    row, _ = label_token_create(label=other_label, name="theirs")
    response = owner_client.post(f"/label/{label.pk}/tokens/{row.pk}/revoke/", follow=True)
    assert "no such token" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is None


def test_revoke_is_post_only(owner_client, label):
    assert owner_client.get(f"/label/{label.pk}/tokens/1/revoke/").status_code == 405
