"""The fictional demo catalog covers what issue 3 promises, through the real services, and audits clean."""

from __future__ import annotations

import io
import json
import re
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from provenance import vocabulary
from provenance.bundle import MEDIA_TYPE_COSIGNED, Verifier
from provenance.issue.keys import load_private_key, public_bytes
from provenance.keys import KeySet
from registry.catalog.models import Label, Release, Track
from registry.declarations.demo import DEMO_PASSWORD, demo_key_path, demo_label_key
from registry.declarations.models import Declaration
from registry.labelkeys.models import LabelKey, LabelKeyEvent
from registry.transparency.audit import audit_log
from registry.transparency.keys import jwks


@pytest.fixture
def demo(keys):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_catalog_has_the_promised_breadth(demo):
    assert "demo only" in demo
    assert Label.objects.count() >= 3 and Release.objects.count() >= 10 and Track.objects.count() >= 40
    assert all(label.is_demo for label in Label.objects.all())
    statements = [d.statement for d in Declaration.objects.all()]
    seen = {(part, t["parts"][part]) for st in statements for t in st["tracks"] for part in vocabulary.PARTS}
    assert seen == {(part, level) for part in vocabulary.PARTS for level in vocabulary.LEVELS}
    personas = {a["persona"] for st in statements for a in st["artists"]}
    assert "synthetic" in personas
    assert any(
        st["release"]["contains_ai"] == "none" and all(a["persona"] == "human" for a in st["artists"])
        for st in statements
    ), "a human artist who declared no AI"
    assert Declaration.objects.filter(version=2, status="active").exists(), "an amended declaration"
    assert Declaration.objects.filter(status="withdrawn").exists(), "a withdrawn declaration"
    assert audit_log().declarations == Declaration.objects.count()


@pytest.mark.django_db(transaction=True)  # committed, as under `make run`: the notifications go out on commit
def test_the_demo_sends_no_email_to_its_fictional_owners(keys):
    """Its key events, disputes and observations notify owners who do not exist: nothing is sent or printed."""
    from django.core import mail

    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert mail.outbox == []
    assert re.search(r"; [1-9][0-9]* notification emails to its fictional owners held back", out.getvalue())


def test_the_demo_loads_only_into_an_empty_registry(demo):
    out = io.StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert "not loaded" in out.getvalue()
    with pytest.raises(CommandError, match="not empty"):
        call_command("load_demo")


def test_the_demo_shows_a_label_with_verified_prefixes_and_a_declaration_outside_them(demo):
    from registry.ownership.models import PrefixClaim

    aurora = Label.objects.get(name="Aurora Fjord Records")
    assert set(PrefixClaim.objects.filter(label=aurora, status="verified").values_list("kind", "prefix")) == {
        ("isrc", "QZAFR"),
        ("gs1", "0990000"),
    }
    checked = {
        r.title: r.current_declaration.statement["release"]["identifiers_verified"]
        for r in Release.objects.filter(label=aurora).select_related("current_declaration")
    }
    outside = {title for title, c in checked.items() if not c["upc"] or c["isrcs_unverified"]}
    assert outside == {"Field Recordings"}
    assert checked["Field Recordings"]["upc"] is True and len(checked["Field Recordings"]["isrcs_unverified"]) == 3


def test_the_demo_label_has_a_key_in_the_var_dir_and_a_co_signed_amendment(demo):
    aurora = Label.objects.get(name="Aurora Fjord Records")
    key = LabelKey.objects.select_related("registered__actor", "holder").get(label=aurora)
    assert key.status == "active" and key.holder.username == "demo"
    assert key.registered.attestation == LabelKeyEvent.STAFF and key.registered.actor.is_staff
    assert not key.registered.actor.has_usable_password()  # the demo's staff member cannot sign in
    path = demo_key_path(aurora.name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_bytes(load_private_key(path.read_bytes(), None)) == bytes(key.public_key)
    assert str(path) in demo  # load_demo says where the key is

    glass = Release.objects.get(title="Glass Meridian").current_declaration
    assert glass.version == 2 and json.loads(glass.bundle)["mediaType"] == MEDIA_TYPE_COSIGNED
    result = Verifier(KeySet.from_jwks(jwks()), require_label_signature=True).verify(glass.bundle.encode())
    assert result.valid, result.summary()
    assert result.label_key.kid == key.kid
    # Every other declaration is the registry's alone.
    assert [d.pk for d in Declaration.objects.all() if '"label_keys"' in d.bundle] == [glass.pk]


def test_a_demo_key_file_left_in_the_var_dir_is_reused_not_overwritten(tmp_path):
    path = tmp_path / "keys" / "label.key"
    first = demo_label_key(path)
    assert public_bytes(demo_label_key(path)) == public_bytes(first)


def test_the_demo_shows_an_open_dispute_and_one_resolved_by_an_amendment(demo, client):
    from registry.disputes.models import Dispute

    assert "demo-artist" in demo  # load_demo says how to sign in as the artist
    open_, resolved = (Dispute.objects.get(release__title=t) for t in ("Second Voice", "Basement Tapes Vol. 1"))
    assert (open_.status, open_.part, open_.opener_role) == ("open", "vocals", "artist")
    assert [s.step for s in open_.steps.all()] == ["opened"]
    assert resolved.status == "upheld"
    assert [(s.step, s.outcome) for s in resolved.steps.all()] == [
        ("opened", ""), ("answered", "amend"), ("resolved", "upheld"),
    ]  # fmt: skip
    amended = resolved.release.current_declaration
    assert amended.version == 2 and resolved.declaration.version == 1
    lamp_oil = next(t for t in amended.statement["tracks"] if t["title"] == "Lamp Oil")
    assert lamp_oil["parts"]["instrumentation"] == "partly"
    page = client.get(f"/releases/{open_.release.upc}/").content.decode()
    assert "Disputed by an artist: vocals of" in page and "— open" in page
    page = client.get(f"/releases/{resolved.release.upc}/").content.decode()
    assert "— upheld" in page
    assert client.post("/accounts/login/", {"username": "demo-artist", "password": DEMO_PASSWORD}).status_code == 302
    assert client.get(f"/disputes/{open_.uid}/").status_code == 200
    audit_log()


def test_the_demo_has_a_platform_observation_that_disagrees_with_the_label(demo, client):
    from registry.observations.models import Observation

    obs = Observation.objects.select_related("platform", "release").get()
    assert obs.platform.name == "Demo Streaming" and obs.release.title == "Quiet Hours"
    assert obs.release.current_declaration.statement["release"]["contains_ai"] == "none"  # never merged in
    page = client.get(f"/recordings/{obs.isrc}/").content.decode()
    assert "Observed by platform Demo Streaming" in page
    assert "The platform's observation disagrees with the label's declaration." in page
    assert audit_log().entries >= Declaration.objects.count() + 3  # the platform's key event and observation too
