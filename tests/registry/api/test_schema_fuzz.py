"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis, bounded and derandomized)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.schemafuzz import EXCLUDED_CHECKS, fuzz_settings, schema


@pytest.fixture
def catalog(keys, label, other_label, same_connection):
    """Some declared data, so lookups, proofs and the feed have something to answer."""
    releases = [factories.make_release(label, tracks=2) for _ in range(2)]
    for rel in releases:
        factories.declare(rel, "partly")
    return releases


@pytest.mark.slow
@schema.parametrize()
@fuzz_settings(25)
def test_the_api_conforms_to_its_schema_and_never_fails_with_a_5xx(case, catalog):
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS)


@pytest.mark.slow
@schema.include(tag="label").parametrize()
@fuzz_settings(25)
def test_the_label_api_with_a_valid_token_never_fails_with_a_5xx(case, catalog, label_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {label_token}"},
        excluded_checks=EXCLUDED_CHECKS,
    )
