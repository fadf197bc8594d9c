"""A longer schemathesis run of the whole API: 150 examples per operation, anonymous and with a label token.

The same wiring as tests/registry/api/test_schema_fuzz.py (schema from the
app's own OpenAPI document, raw WSGI calls, derandomized), six times the
examples. Every generated request must answer without a 5xx and conform to
the schema (status codes, content types, headers, response bodies). Each call
is counted per operation; docs/reliability.md reports the totals.
"""

from __future__ import annotations

from collections import Counter

import pytest

from registry.api.tokens import label_token_create
from tests import factories
from tests.schemafuzz import EXCLUDED_CHECKS, fuzz_settings, schema

pytestmark = pytest.mark.slow
EXAMPLES = 150
CALLS: Counter[str] = Counter()
FUZZ = fuzz_settings(EXAMPLES)


@pytest.fixture
def catalog(keys, label, other_label, same_connection):
    releases = [factories.make_release(label, tracks=2) for _ in range(3)]
    for rel in releases:
        factories.declare(rel, "partly")
    return releases


@pytest.fixture
def label_token(label, owner):
    return label_token_create(label=label, name="fuzz", created_by=owner)[1]


def _call(case, **kwargs):
    CALLS[f"{case.method} {case.path}"] += 1
    case.call_and_validate(excluded_checks=EXCLUDED_CHECKS, **kwargs)


@schema.parametrize()
@FUZZ
def test_the_whole_api_anonymously_never_answers_5xx_and_conforms(case, catalog):
    _call(case)


@schema.parametrize()
@FUZZ
def test_the_whole_api_with_a_label_token_never_answers_5xx_and_conforms(case, catalog, label_token):
    _call(case, headers={"Authorization": f"Bearer {label_token}"})


def test_zz_report_how_many_requests_were_generated(capsys):
    # Runs last in this module (alphabetical within the file order is not guaranteed: it is defined last).
    with capsys.disabled():
        total = sum(CALLS.values())
        print(f"\nschemathesis: {total} generated requests over {len(CALLS)} operations")
        for op, n in sorted(CALLS.items()):
            print(f"  {n:5d}  {op}")
