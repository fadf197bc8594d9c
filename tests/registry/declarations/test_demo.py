"""The fictional demo catalog covers what issue 3 promises, through the real services, and audits clean."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from provenance import vocabulary
from registry.catalog.models import Label, Release, Track
from registry.declarations.models import Declaration
from registry.transparency.audit import audit_log


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
