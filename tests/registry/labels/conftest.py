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
