"""The API personas of tests/registry/api (DRF's client, label tokens, a revoked one) for the dispute API's tests."""

from __future__ import annotations

from tests.registry.api.conftest import client, label_token, other_token, revoked_token  # noqa: F401 (fixtures)
