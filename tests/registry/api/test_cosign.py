"""Label keys and co-signed declarations through the HTTP API: prepare → `provenance sign` → submit → verify."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from provenance import jcs
from provenance.bundle import MEDIA_TYPE, MEDIA_TYPE_COSIGNED, Verifier
from provenance.cli import main
from provenance.encoding import b64decode, b64encode
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import KeySet
from provenance.labelkeys import KEY_PAYLOAD_TYPE, label_key_jwk
from provenance.labelsign import sign_prepared
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import LabelKey, PreparedDeclaration
from registry.transparency.models import LogLeaf
from tests.registry.api.conftest import bearer, error_of, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_key(label: Any, staff: Any, owner: Any) -> Any:
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    return key


def _prepare(client: Any, token: str, upc: str, **body: Any) -> dict[str, Any]:
    r = post_json(client, f"/api/v1/releases/{upc}/prepare", {"reason": "Vocals were AI", **body}, **bearer(token))
    assert r.status_code == 201, r.content
    return r.json()


def _submit(client: Any, token: str, upc: str, prepared: dict[str, Any], signature: dict[str, str]) -> Any:
    body = {"prepared": prepared["prepared"], "signature": signature}
    return post_json(client, f"/api/v1/releases/{upc}/submit", body, **bearer(token))


def _ai(declared: Any) -> dict[str, Any]:
    isrc = declared.statement["tracks"][1]["isrc"]
    return {isrc: {"parts": dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), "all")}}


def test_prepare_sign_with_the_cli_submit_and_verify_end_to_end(
    client, keys, declared, label_token, label_key, tmp_path, capsys
):
    mail.outbox.clear()
    upc = declared.release.upc
    prepared = _prepare(client, label_token, upc, ai=_ai(declared), expected_version=1)
    (tmp_path / "prepared.json").write_text(json.dumps(prepared))
    (tmp_path / "label.key").write_bytes(private_key_to_pem(label_key, None))
    assert main(["sign", "--key", str(tmp_path / "label.key"), str(tmp_path / "prepared.json")]) == 0
    signature = json.loads(capsys.readouterr().out)

    r = _submit(client, label_token, upc, prepared, signature)
    assert r.status_code == 200, r.content
    bundle = r.json()["bundle"]
    assert bundle["mediaType"] == MEDIA_TYPE_COSIGNED
    assert [s["keyid"] for s in bundle["envelope"]["signatures"]][0] == signature["keyid"]
    # The registry signed exactly the bytes the label signed.
    assert bundle["envelope"]["payload"] == prepared["payload"]

    (tmp_path / "bundle.json").write_bytes(jcs.canonicalize(bundle))
    (tmp_path / "jwks.json").write_text(json.dumps(keys))
    argv = ["verify", str(tmp_path / "bundle.json"), "--jwks", str(tmp_path / "jwks.json")]
    assert main([*argv, "--require-label-signature"]) == 0
    out = capsys.readouterr().out
    assert f"signed by label key {signature['keyid']} (registered at log index 1, attested by staff" in out

    # The label's JWKS names the key and where the log registered it.
    published = client.get(f"/labels/{declared.release.label_id}/keys.json").json()
    assert published["keys"][0]["kid"] == signature["keyid"] and published["keys"][0]["registered_at"] == 1
    assert published["key_head"] == bytes(LogLeaf.objects.get(index=1).leaf_hash).hex()


def test_a_registry_only_declaration_keeps_its_v1_bundle_and_fails_only_when_a_label_signature_is_required(
    keys, declared
):
    bundle = declared.bundle
    assert json.loads(bundle)["mediaType"] == MEDIA_TYPE
    assert Verifier(KeySet.from_jwks(keys)).verify(bundle.encode()).valid
    result = Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(bundle.encode())
    assert not result.valid and "registry attestation only" in result.failed.detail


@pytest.mark.parametrize("case", ["bad", "foreign", "revoked"])
def test_the_registry_refuses_a_label_signature_that_is_not_an_active_key_of_the_label(
    client, keys, declared, label_token, label_key, other_label, staff, case
):
    upc = declared.release.upc
    prepared = _prepare(client, label_token, upc, ai=_ai(declared))
    payload = b64decode(prepared["payload"])
    if case == "bad":
        signature = sign_pae(payload + b" ", label_key)
        expected = "does not verify"
    elif case == "foreign":
        foreign = generate_private_key()
        services.key_attest(label=other_label, public_key=public_bytes(foreign), actor=staff, reason="theirs")
        signature, expected = sign_pae(payload, foreign), "is not a key of Northern Lights Records"
    else:
        signature = sign_pae(payload, label_key)
        k2 = generate_private_key()
        services.key_attest(
            label=declared.release.label, public_key=public_bytes(k2), actor=staff, reason="lost", recovery=True
        )
        kid = label_key_jwk(public_bytes(label_key))["kid"]
        services.key_revoke_by_staff(label=declared.release.label, kid=kid, actor=staff, reason="leaked")
        expected = "is revoked"
    before = LogLeaf.objects.count()
    r = _submit(client, label_token, upc, prepared, signature)
    assert r.status_code == 400, r.content
    assert expected in error_of(r)["message"]
    assert LogLeaf.objects.count() == before


def test_an_expired_or_stale_prepared_statement_is_refused(client, keys, declared, label_token, label_key):
    upc = declared.release.upc
    prepared = _prepare(client, label_token, upc, ai=_ai(declared))
    signature = sign_prepared(prepared, label_key)
    PreparedDeclaration.objects.filter(pk=prepared["prepared"]).update(expires_at=timezone.now() - timedelta(1))
    r = _submit(client, label_token, upc, prepared, signature)
    assert r.status_code == 400 and "expired" in error_of(r)["message"]

    prepared = _prepare(client, label_token, upc, ai=_ai(declared), expected_version=1)
    # A version lands in between (registry-only, through the ordinary amend door).
    r = post_json(
        client, f"/api/v1/releases/{upc}/amend", {"reason": "Typo", "title": "Signals II"}, **bearer(label_token)
    )
    assert r.status_code == 200, r.content
    r = _submit(client, label_token, upc, prepared, sign_prepared(prepared, label_key))
    assert r.status_code == 409, r.content
    assert Declaration.objects.filter(release=declared.release).count() == 2


def test_a_key_added_by_the_label_is_signed_by_an_active_key_and_every_owner_is_emailed(
    client, keys, declared, label_token, label_key, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    k2 = generate_private_key()
    r = post_json(
        client,
        "/api/v1/label/keys/prepare",
        {"event": "register", "key": label_key_jwk(public_bytes(k2)), "reason": "second owner"},
        **bearer(label_token),
    )
    assert r.status_code == 200, r.content
    payload = b64decode(r.json()["payload"])
    # Signed only by the new key itself: the registry alone (or a thief of that key) cannot add it.
    r2 = post_json(
        client,
        "/api/v1/label/keys",
        {"payload": b64encode(payload), "signature": sign_pae(payload, k2, payload_type=KEY_PAYLOAD_TYPE)},
        **bearer(label_token),
    )
    assert r2.status_code == 400, r2.content
    with django_capture_on_commit_callbacks(execute=True):
        r3 = post_json(
            client,
            "/api/v1/label/keys",
            {"payload": b64encode(payload), "signature": sign_pae(payload, label_key, payload_type=KEY_PAYLOAD_TYPE)},
            **bearer(label_token),
        )
    assert r3.status_code == 201, r3.content
    assert LabelKey.objects.filter(label=declared.release.label, status="active").count() == 2
    assert [m.to for m in mail.outbox] == [["olivia@example.com"]]
    assert "signed by a key of the label" in mail.outbox[0].body

    # The new key co-signs; the bundle's history holds both events and verifies offline.
    upc = declared.release.upc
    prepared = _prepare(client, label_token, upc, ai=_ai(declared))
    r = _submit(client, label_token, upc, prepared, sign_prepared(prepared, k2))
    assert r.status_code == 200, r.content
    result = Verifier(KeySet.from_jwks(keys)).verify(jcs.canonicalize(r.json()["bundle"]))
    assert result.valid, result.summary()
    assert result.label_key.attestation == "label" and len(r.json()["bundle"]["label_keys"]) == 2


def test_the_audit_accepts_key_events_and_co_signed_declarations(client, keys, declared, label_token, label_key):
    from django.core.management import call_command

    upc = declared.release.upc
    prepared = _prepare(client, label_token, upc, ai=_ai(declared))
    assert _submit(client, label_token, upc, prepared, sign_prepared(prepared, label_key)).status_code == 200
    call_command("audit_log")


def test_staff_attest_a_first_key_from_the_command_line_and_a_second_attestation_needs_recovery(keys, label, staff):
    from django.core.management import CommandError, call_command

    jwk = json.dumps(label_key_jwk(public_bytes(generate_private_key())))
    call_command("label_key_attest", str(label.pk), "--key", jwk, "--staff", staff.username, "--reason", "onboarding")
    assert LabelKey.objects.filter(label=label, status="active").count() == 1
    other = json.dumps(label_key_jwk(public_bytes(generate_private_key())))
    with pytest.raises(CommandError, match="use a recovery"):
        call_command("label_key_attest", str(label.pk), "--key", other, "--staff", staff.username, "--reason", "x")
    call_command(
        "label_key_attest", str(label.pk), "--key", other, "--staff", staff.username, "--reason", "lost", "--recovery"
    )
    assert services.jwks(label)["keys"][1]["attestation"] == "recovery"
