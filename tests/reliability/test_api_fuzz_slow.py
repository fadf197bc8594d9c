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
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from registry.api.tokens import label_token_create
from registry.wsgi import application
from tests import factories

pytestmark = pytest.mark.slow
EXAMPLES = 150
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
CALLS: Counter[str] = Counter()
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def same_connection():
    """Keep the test's transaction across raw WSGI calls (see tests/registry/api/test_schema_fuzz.py)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


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
    case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection], **kwargs)


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
