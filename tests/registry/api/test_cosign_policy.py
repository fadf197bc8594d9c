"""The co-sign-only policy (docs/protocol.md §14.5): on, the registry logs no declaration of the label it alone signed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from provenance import jcs
from provenance.cli import main
from provenance.encoding import b64decode, b64encode
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import KeySet
from provenance.labelkeys import POLICY_PAYLOAD_TYPE, replay, replay_policy
from provenance.labelsign import sign_prepared
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import LabelKeyEvent, LabelPolicyEvent
from registry.transparency.models import LogLeaf
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_key(label: Any, staff: Any, owner: Any) -> Any:
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    return key


def _policy(client: Any, token: str, on: bool, signer: Any) -> Any:
    r = post_json(client, "/api/v1/label/policy/prepare", {"cosign_only": on, "reason": "we sign"}, **bearer(token))
    assert r.status_code == 200, r.content
    prepared = r.json()
    assert prepared["payloadType"] == POLICY_PAYLOAD_TYPE
    signature = sign_pae(b64decode(prepared["payload"]), signer, payload_type=POLICY_PAYLOAD_TYPE)
    return post_json(
        client, "/api/v1/label/policy", {"payload": prepared["payload"], "signature": signature}, **bearer(token)
    )


def test_turning_the_policy_on_is_signed_by_a_label_key_logged_published_and_emailed(
    client, keys, label, declared, label_token, label_key, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = _policy(client, label_token, True, label_key)
    assert r.status_code == 201, r.content
    index = r.json()["log_index"]
    assert r.json()["cosign_only"] is True and LogLeaf.objects.filter(index=index).exists()
    published = client.get(f"/labels/{label.pk}/keys.json").json()
    assert published["cosign_only"] is True and published["policy_index"] == index
    assert "This label requires co-signature" in client.get(f"/labels/{label.pk}/").content.decode()
    assert [m.to for m in mail.outbox] == [["olivia@example.com"]] and "turned ON" in mail.outbox[0].body
    # The same again changes nothing: refused, nothing logged.
    before = LogLeaf.objects.count()
    r = _policy(client, label_token, True, label_key)
    assert r.status_code == 400 and "on already" in error_of(r)["message"]
    assert LogLeaf.objects.count() == before


def test_with_the_policy_on_every_registry_only_door_is_refused_and_the_label_co_signs(
    client, keys, label, declared, label_token, label_key
):
    assert _policy(client, label_token, True, label_key).status_code == 201
    before = LogLeaf.objects.count()
    upc = declared.release.upc
    body = release_payload()
    for url, payload in (
        ("/api/v1/releases", body),
        (f"/api/v1/releases/{upc}/amend", {"reason": "Retitled", "title": "Signals II"}),
        (f"/api/v1/releases/{upc}/withdraw", {"reason": "Gone"}),
    ):
        r = post_json(client, url, payload, **bearer(label_token))
        assert r.status_code == 403, (url, r.content)
        error = error_of(r)
        assert error["code"] == "cosign_required" and "requires co-signature" in error["message"]
    r = post_json(
        client,
        "/api/v1/releases/bulk",
        {"releases": [release_payload(), {"action": "amend", "upc": upc, "reason": "x", "title": "Y"}]},
        **bearer(label_token),
    )
    assert r.status_code == 200, r.content
    assert [x["error"]["code"] for x in r.json()["results"]] == ["cosign_required", "cosign_required"]
    assert LogLeaf.objects.count() == before and not Release.objects.filter(upc=body["upc"]).exists()

    # Co-signed, the same amendment is logged.
    prepared = post_json(
        client, f"/api/v1/releases/{upc}/prepare", {"reason": "Retitled", "title": "Signals II"}, **bearer(label_token)
    ).json()
    body = {"prepared": prepared["prepared"], "signature": sign_prepared(prepared, label_key)}
    r = post_json(client, f"/api/v1/releases/{upc}/submit", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    call_command("audit_log")


def test_the_registry_cannot_turn_the_policy_off_without_a_label_key(
    client, keys, label, other_label, declared, label_token, label_key, staff
):
    assert _policy(client, label_token, True, label_key).status_code == 201
    foreign = generate_private_key()
    services.key_attest(label=other_label, public_key=public_bytes(foreign), actor=staff, reason="theirs")
    for signer in (foreign, generate_private_key()):
        r = _policy(client, label_token, False, signer)
        assert r.status_code == 400, r.content
    assert services.jwks(label)["cosign_only"] is True
    # The label's own key turns it off; registry-only declarations are logged again.
    assert _policy(client, label_token, False, label_key).status_code == 201
    r = post_json(client, "/api/v1/releases", release_payload(), **bearer(label_token))
    assert r.status_code == 201, r.content
    call_command("audit_log")


def test_a_verifier_replays_the_policy_and_refuses_one_the_registry_signed_alone(
    client, keys, label, declared, label_token, label_key
):
    assert _policy(client, label_token, True, label_key).status_code == 201
    registry_keys = KeySet.from_jwks(keys)
    history = replay(
        [(e.leaf_id, json.loads(e.leaf.data)) for e in LabelKeyEvent.objects.filter(label=label).order_by("sequence")],
        registry_keys,
    )
    row = LabelPolicyEvent.objects.get(label=label)
    envelope = json.loads(row.leaf.data)
    state = replay_policy([(row.leaf_id, envelope)], registry_keys, history)
    assert state.cosign_only and state.at(row.leaf_id + 1) and not state.at(row.leaf_id)
    # The same event with the label's signature stripped: only the registry vouches for it.
    stripped = {**envelope, "signatures": [s for s in envelope["signatures"] if s["keyid"] != row.kid]}
    with pytest.raises(Exception, match="no key of the label active at that index signed it"):
        replay_policy([(row.leaf_id, stripped)], registry_keys, history)


def test_the_audit_finds_a_registry_only_declaration_logged_while_the_policy_was_on(
    client, keys, label, declared, label_token, label_key
):
    from registry.declarations.services import declaration_amend

    assert _policy(client, label_token, True, label_key).status_code == 201
    # A registry that edits its own database to slip one past its policy, then puts the row back.
    LabelPolicyEvent.objects.filter(label=label).update(cosign_only=False)
    declaration_amend(release=declared.release, reason="Behind the label's back", ai={}, via="api")
    LabelPolicyEvent.objects.filter(label=label).update(cosign_only=True)
    assert Declaration.objects.filter(release=declared.release).count() == 2
    with pytest.raises(CommandError, match="signed by the registry alone, while the label's co-sign-only policy"):
        call_command("audit_log")


def test_the_cli_signs_a_policy_event_and_says_what_it_signs(client, keys, label_token, label_key, tmp_path, capsys):
    r = post_json(client, "/api/v1/label/policy/prepare", {"cosign_only": True}, **bearer(label_token))
    (tmp_path / "policy.json").write_text(json.dumps(r.json()))
    (tmp_path / "label.key").write_bytes(private_key_to_pem(label_key, None))
    assert main(["sign", "--key", str(tmp_path / "label.key"), str(tmp_path / "policy.json")]) == 0
    out = capsys.readouterr()
    assert "co-sign-only policy ON" in out.err
    body = {"payload": r.json()["payload"], "signature": json.loads(out.out)}
    assert post_json(client, "/api/v1/label/policy", body, **bearer(label_token)).status_code == 201


def test_a_malformed_policy_submission_is_a_400_and_logs_nothing(client, keys, label_token, label_key):
    before = LogLeaf.objects.count()
    not_policy = b64encode(jcs.canonicalize({"schema": "x"}))
    for body in (
        {"payload": "%%%", "signature": {"keyid": "k", "sig": "s"}},
        {"payload": not_policy, "signature": {"keyid": "k", "sig": "s"}},
        {"payload": not_policy},
    ):
        r = post_json(client, "/api/v1/label/policy", body, **bearer(label_token))
        assert r.status_code == 400, (body, r.content)
        error_of(r)
    assert LogLeaf.objects.count() == before
