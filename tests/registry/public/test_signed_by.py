"""The public pages say who signed a declaration, as the verifier found it (docs/protocol.md §14.3)."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from provenance.encoding import b64encode
from registry.declarations.models import Declaration
from registry.labelkeys.models import LabelKey
from tests.registry.public.test_pages import first_isrc, text

pytestmark = pytest.mark.django_db


def test_a_co_signed_release_says_which_label_key_signed_it_and_where_the_log_registered_it(client, demo):
    glass = demo["Glass Meridian"]  # the demo's co-signed amendment
    key = LabelKey.objects.select_related("registered").get(label=glass.label)
    response = client.get(f"/releases/{glass.upc}/")
    page = text(response)
    expected = (
        f"Signed by label key {key.kid} (registered at log index {key.registered.leaf_id}, attested by registry staff)"
    )
    assert expected in page
    assert page.count(expected) == 2  # the summary and the proof panel
    assert "all 9 checks passed" in page and "label_signature" in page
    assert "Registry attestation only" not in page
    assert f"--upc {glass.upc} --require-label-signature" in page  # the command checks it too
    assert f'href="/labels/{glass.label_id}/keys.json"' in response.content.decode()
    # The recording page, from the same proof.
    assert expected in text(client.get(f"/recordings/{first_isrc(glass)}/"))


def test_a_registry_only_declaration_says_registry_attestation_only(client, demo):
    quiet = demo["Quiet Hours"]  # Aurora's too, declared before its key was registered
    page = text(client.get(f"/releases/{quiet.upc}/"))
    assert "Registry attestation only" in page
    assert "Signed by label key" not in page and "Signed by the label" not in page
    assert "all 8 checks passed" in page
    assert "--require-label-signature" not in page


def test_a_label_signature_that_does_not_verify_is_never_shown_as_the_labels(client, demo):
    glass = demo["Glass Meridian"]
    decl = Declaration.objects.get(pk=glass.current_declaration_id)
    bundle = json.loads(decl.bundle)
    kid = LabelKey.objects.get(label=glass.label).kid
    label_sig = next(s for s in bundle["envelope"]["signatures"] if s["keyid"] == kid)
    label_sig["sig"] = b64encode(bytes(64))  # the label's key id, someone else's bytes
    # Tampering behind the registry's back: PostgreSQL's append-only trigger refuses the UPDATE, so switch it off.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE declarations_declaration DISABLE TRIGGER USER")
        Declaration.objects.filter(pk=decl.pk).update(bundle=json.dumps(bundle))
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE declarations_declaration ENABLE TRIGGER USER")
    page = text(client.get(f"/releases/{glass.upc}/"))
    assert "Signed by label key" not in page and "Signed by the label" not in page
    assert "Does not verify" in page


def test_the_label_page_links_its_keys_and_the_keys_say_where_the_log_registered_them(client, demo):
    aurora = demo["Glass Meridian"].label
    response = client.get(f"/labels/{aurora.pk}/")
    assert f'href="/labels/{aurora.pk}/keys.json"' in response.content.decode()
    published = client.get(f"/labels/{aurora.pk}/keys.json").json()
    key = LabelKey.objects.select_related("registered").get(label=aurora)
    assert [(k["kid"], k["registered_at"], k["attestation"], k["status"]) for k in published["keys"]] == [
        (key.kid, key.registered.leaf_id, "staff", "active")
    ]
