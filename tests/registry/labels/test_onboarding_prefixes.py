"""A label claims its identifier prefixes when it applies: pending claims at approval, verified only by staff."""

from __future__ import annotations

import pytest

from registry.catalog.models import Label
from registry.labels.models import LabelApplication
from registry.ownership.models import PrefixClaim
from tests import factories
from tests.registry.labels.test_onboarding import APPLICATION, approve_in_admin

pytestmark = pytest.mark.django_db

WITH_PREFIXES = {
    **APPLICATION,
    "dpid": "",
    "isrc_prefixes": "GB-AYE, gb aye\nQZ-MOS",
    "gs1_prefixes": "0614141",
    "prefix_evidence": "ISRC agency letter 2024-118; GS1 membership 77120",
}


def test_an_applicant_lists_its_prefixes_and_staff_approval_claims_them_pending(client, staff, keys):
    assert client.post("/label/apply/", WITH_PREFIXES)["Location"] == "/label/apply/thanks/"
    app = LabelApplication.objects.get()
    assert app.prefixes == [["isrc", "GBAYE"], ["isrc", "QZMOS"], ["gs1", "0614141"]]  # each once, stored form
    assert not PrefixClaim.objects.exists()  # applying grants nothing
    page = approve_in_admin(staff, app).content.decode()
    assert "3 prefix claims wait in Prefix claims" in page
    label = Label.objects.get(name="Moss Records")
    claims = PrefixClaim.objects.filter(label=label)
    assert sorted(claims.values_list("kind", "prefix", "status")) == [
        ("gs1", "0614141", "pending"), ("isrc", "GBAYE", "pending"), ("isrc", "QZMOS", "pending"),
    ]  # fmt: skip
    assert {c.evidence for c in claims} == {WITH_PREFIXES["prefix_evidence"]}
    # Until staff verify a claim, a declaration inside it says its identifiers are not verified.
    release = factories.make_release(label, tracks=1)
    decl = factories.declare(release)
    assert decl.statement["release"]["identifiers_verified"]["isrcs_unverified"] == [
        release.tracks.get().recording.isrc
    ]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"isrc_prefixes": "GB-AYE, GBAYE2500001"}, "isrc_prefixes", "That is a whole ISRC"),
        ({"isrc_prefixes": "G1-AYE"}, "isrc_prefixes", "2-letter country code"),
        ({"gs1_prefixes": "0614141, 12ab"}, "gs1_prefixes", "digits only"),
        ({"gs1_prefixes": ",".join(f"06141{i:02d}" for i in range(21))}, "gs1_prefixes", "At most 20"),
        ({"prefix_evidence": ""}, "prefix_evidence", "Say how staff can check"),
        ({"prefix_evidence": "letter\x00"}, "prefix_evidence", ""),
    ],
)
def test_a_bad_prefix_list_is_a_form_error_and_nothing_is_applied_for(client, change, field, says):
    response = client.post("/label/apply/", {**WITH_PREFIXES, **change})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}"' in html and 'aria-invalid="true"' in html
    assert says in html
    assert not LabelApplication.objects.exists()


def test_an_application_without_prefixes_needs_no_prefix_evidence(client):
    body = {**APPLICATION, "dpid": "", "isrc_prefixes": " , ", "prefix_evidence": "ignored"}
    assert client.post("/label/apply/", body).status_code == 302
    app = LabelApplication.objects.get()
    assert (app.prefixes, app.prefix_evidence) == ([], "")
