"""Helpers for the label-area tests: signed-in clients per persona."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: Any) -> Client:
    return signed_in(owner)


@pytest.fixture
def submitter_client(submitter: Any) -> Client:
    return signed_in(submitter)


def client_draft_data(client: Client, label: Any, key: str) -> Any:
    """What the signed-in client's server-side draft store holds under ``key`` at ``label``, or None."""
    from django.contrib.auth import get_user_model

    from registry.labels.draft_store import DraftStore

    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return DraftStore(label, user).get(key)


def client_draft(client: Client, release: Any) -> Any:
    """The draft of ``release``'s next version in the signed-in client's server-side draft store, or None."""
    from django.contrib.auth import get_user_model

    from registry.labels.draft_store import DraftStore

    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    return DraftStore(release.label_id, user).get(f"labels:draft:{release.pk}")
