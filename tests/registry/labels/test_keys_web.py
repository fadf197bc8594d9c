"""An owner's signing keys on the web: request the first (staff attest it), register later ones signed by the label."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from provenance import labelkeys
from provenance.encoding import b64decode
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import KeySet
from provenance.labelkeys import KEY_PAYLOAD_TYPE, label_key_jwk
from registry.errors import Conflict
from registry.labelkeys import services
from registry.labelkeys.models import KeyRequest, LabelKey, LabelKeyEvent
from registry.transparency.models import LogLeaf
from tests.registry.labels.conftest import signed_in

pytestmark = pytest.mark.django_db


def url(label: Any) -> str:
    return f"/label/{label.pk}/keys/"


def x_of(key: Any) -> str:
    return label_key_jwk(public_bytes(key))["x"]


def test_only_owners_see_the_keys_page(owner_client, submitter_client, label):
    assert owner_client.get(url(label)).status_code == 200
    assert submitter_client.get(url(label)).status_code == 403
    assert submitter_client.post(url(label), {"key": x_of(generate_private_key())}).status_code == 403
    assert not KeyRequest.objects.exists()


def test_a_first_key_made_in_the_browser_waits_for_staff_who_attest_it_in_the_admin(
    owner_client, keys, label, owner, staff, django_capture_on_commit_callbacks
):
    key = generate_private_key()
    mail.outbox.clear()
    leaves = LogLeaf.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url(label), {"key": x_of(key), "reason": ""})
    assert response.status_code == 302
    request = KeyRequest.objects.get()
    assert request.status == KeyRequest.PENDING and request.requested_by == owner
    assert LogLeaf.objects.count() == leaves and not LabelKey.objects.exists()  # nothing logged before staff
    assert "Key requested" in mail.outbox[0].subject
    page = owner_client.get(url(label)).content.decode()
    assert "Waiting for the registry&#x27;s staff" in page or "Waiting for the registry's staff" in page
    # The same key again is refused.
    assert owner_client.post(url(label), {"key": x_of(key)}).status_code == 409

    admin = signed_in(staff)
    response = admin.post(
        "/admin/labelkeys/keyrequest/", {"action": "attest", "_selected_action": [request.pk]}, follow=True
    )
    assert response.status_code == 200
    event = LabelKeyEvent.objects.get(label=label)
    assert event.attestation == "staff" and event.actor == staff
    assert LabelKey.objects.get(label=label).holder == owner
    assert KeyRequest.objects.get().status == KeyRequest.ATTESTED


def test_a_later_key_is_registered_by_an_event_signed_with_an_active_key(owner_client, keys, label, owner, staff):
    first = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(first), actor=staff, reason="first", holder=None)
    second = generate_private_key()
    response = owner_client.post(url(label), {"key": x_of(second), "reason": "a second owner"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="key-register"' in page and label_key_jwk(public_bytes(second))["kid"] in page
    payload_b64 = page.split('data-payload="', 1)[1].split('"', 1)[0]
    payload = b64decode(payload_b64)
    assert json.loads(payload)["attestation"] == "label"
    assert not KeyRequest.objects.exists()  # no staff needed

    # Signed by the new key itself: the registry refuses, nothing logged.
    leaves = LogLeaf.objects.count()
    own = sign_pae(payload, second, payload_type=KEY_PAYLOAD_TYPE)
    bad = owner_client.post(url(label), {"register": "1", "payload": payload_b64, "signature": json.dumps(own)})
    assert bad.status_code == 400 and "Nothing was registered" in bad.content.decode()
    assert LogLeaf.objects.count() == leaves

    signature = sign_pae(payload, first, payload_type=KEY_PAYLOAD_TYPE)
    ok = owner_client.post(url(label), {"register": "1", "payload": payload_b64, "signature": json.dumps(signature)})
    assert ok.status_code == 302, ok.content.decode()[:800]
    added = LabelKey.objects.get(kid=label_key_jwk(public_bytes(second))["kid"])
    assert added.status == "active" and added.holder == owner and added.registered.attestation == "label"


@pytest.mark.parametrize("body", [{"key": "not base64!"}, {"key": "AAAA"}, {"register": "1", "payload": "%%"}])
def test_malformed_keys_and_registrations_are_form_errors(owner_client, keys, label, body):
    response = owner_client.post(url(label), body)
    assert response.status_code == 400
    assert not KeyRequest.objects.exists() and not LabelKeyEvent.objects.exists()


def test_an_owner_turns_the_co_sign_only_policy_on_with_a_label_key_signature(
    owner_client, submitter_client, keys, label, staff
):
    from provenance.labelkeys import POLICY_PAYLOAD_TYPE

    first = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(first), actor=staff, reason="first", holder=None)
    assert submitter_client.post(url(label), {"policy": "on"}).status_code == 403
    page = owner_client.post(url(label), {"policy": "on"})
    assert page.status_code == 200 and 'id="policy-sign"' in page.content.decode()
    payload_b64 = page.content.decode().split('id="policy-sign" data-payload-type="', 1)[1]
    payload_b64 = payload_b64.split('data-payload="', 1)[1].split('"', 1)[0]
    payload = b64decode(payload_b64)
    assert json.loads(payload)["cosign_only"] is True and not services.jwks(label)["cosign_only"]

    leaves = LogLeaf.objects.count()
    forged = sign_pae(payload, generate_private_key(), payload_type=POLICY_PAYLOAD_TYPE)
    bad = owner_client.post(url(label), {"policy_submit": "1", "payload": payload_b64, "signature": json.dumps(forged)})
    assert bad.status_code == 400 and "Nothing was changed" in bad.content.decode()
    assert LogLeaf.objects.count() == leaves

    signature = sign_pae(payload, first, payload_type=POLICY_PAYLOAD_TYPE)
    ok = owner_client.post(
        url(label), {"policy_submit": "1", "payload": payload_b64, "signature": json.dumps(signature)}
    )
    assert ok.status_code == 302
    assert services.jwks(label)["cosign_only"] is True
    assert "requires co-signature" in owner_client.get(url(label)).content.decode()


def _request_key(client: Any, label: Any) -> Any:
    return client.post(url(label), {"key": x_of(generate_private_key()), "reason": ""})


def _decline(staff: Any, *requests: Any) -> None:
    response = signed_in(staff).post(
        "/admin/labelkeys/keyrequest/",
        {"action": "decline", "_selected_action": [r.pk for r in requests]},
        follow=True,
    )
    assert response.status_code == 200


def test_a_label_has_at_most_three_key_requests_waiting_and_a_fourth_is_refused_with_429(
    owner_client, keys, label, staff, django_capture_on_commit_callbacks
):
    for _ in range(services.KEY_REQUESTS_PENDING_MAX):
        assert _request_key(owner_client, label).status_code == 302
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _request_key(owner_client, label)
    assert response.status_code == 429
    assert "3 key requests waiting for the registry" in response.content.decode()
    assert KeyRequest.objects.count() == 3 and not mail.outbox  # nothing queued, no owner emailed

    # Staff decline one (nothing is logged); the label may ask again.
    declined = KeyRequest.objects.order_by("pk").first()
    _decline(staff, declined)
    declined.refresh_from_db()
    assert declined.status == KeyRequest.DECLINED and not LabelKeyEvent.objects.exists()
    assert _request_key(owner_client, label).status_code == 302
    # A declined request cannot be attested afterwards.
    with pytest.raises(Conflict, match="declined already"):
        services.key_request_attest(request=declined, actor=staff)


def test_one_account_may_request_five_keys_a_day_whatever_staff_decline(owner_client, keys, label, owner, staff):
    for _ in range(services.KEY_REQUESTS_PER_USER):
        assert _request_key(owner_client, label).status_code == 302
        _decline(staff, *KeyRequest.objects.filter(status=KeyRequest.PENDING))
    response = _request_key(owner_client, label)
    assert response.status_code == 429
    assert "you asked for 5 keys in the last 24 hours" in response.content.decode()
    assert KeyRequest.objects.filter(requested_by=owner).count() == 5


def _two_keys(label: Any, staff: Any, owner: Any) -> tuple[Any, Any]:
    """A first key (staff) and a second one registered by an event the first signed."""
    first, second = generate_private_key(), generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(first), actor=staff, reason="first", holder=owner)
    payload = services.key_event_payload(
        label, event="register", public_key=public_bytes(second), attestation="label", reason="second"
    )
    services.key_event_log(
        label=label, payload=payload, signatures=[sign_pae(payload, first, payload_type=KEY_PAYLOAD_TYPE)]
    )
    return first, second


def _revocation_page(client: Any, label: Any, kid: str, reason: str = "Laptop stolen") -> tuple[Any, str]:
    response = client.post(url(label), {"revoke": "1", "revoke-kid": kid, "revoke-reason": reason})
    assert response.status_code == 200, response.content.decode()[:800]
    page = response.content.decode()
    assert 'id="key-register"' in page and f'data-revoke-kid="{kid}"' in page
    return response, page.split('data-payload="', 1)[1].split('"', 1)[0]


def test_an_owner_revokes_a_key_by_an_event_signed_with_another_key_of_the_label(
    owner_client, keys, label, owner, staff, django_capture_on_commit_callbacks
):
    first, second = _two_keys(label, staff, owner)
    kid = label_key_jwk(public_bytes(first))["kid"]
    page = owner_client.get(url(label)).content.decode()
    assert 'id="key-revoke"' in page and kid in page

    _, payload_b64 = _revocation_page(owner_client, label, kid)
    event = json.loads(b64decode(payload_b64))
    assert (event["event"], event["key"]["kid"], event["attestation"], event["reason"]) == (
        "revoke", kid, "label", "Laptop stolen"
    )  # fmt: skip
    assert LabelKey.objects.get(kid=kid).status == "active"  # prepared, nothing logged yet

    signature = sign_pae(b64decode(payload_b64), second, payload_type=KEY_PAYLOAD_TYPE)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ok = owner_client.post(
            url(label), {"register": "1", "payload": payload_b64, "signature": json.dumps(signature)}, follow=True
        )
    assert ok.status_code == 200 and f"Key {kid} is revoked" in ok.content.decode()
    revoked = LabelKey.objects.get(kid=kid)
    assert revoked.status == "revoked" and revoked.revoked.attestation == "label"
    assert "revoked" in mail.outbox[0].subject
    events = list(LabelKeyEvent.objects.filter(label=label).select_related("leaf").order_by("sequence"))
    history = labelkeys.replay([(e.leaf_id, json.loads(e.leaf.data)) for e in events], KeySet.from_jwks(keys))
    assert [k.kid for k in history.active()] == [label_key_jwk(public_bytes(second))["kid"]]


def test_a_revocation_signed_by_a_stranger_or_for_another_labels_key_changes_nothing(
    owner_client, keys, label, other_label, owner, staff, rival
):
    first, _ = _two_keys(label, staff, owner)
    kid = label_key_jwk(public_bytes(first))["kid"]
    foreign = generate_private_key()
    services.key_attest(label=other_label, public_key=public_bytes(foreign), actor=staff, reason="x", holder=rival)
    leaves = LogLeaf.objects.count()

    # Another label's key is not a choice: a form error, no event prepared.
    foreign_kid = label_key_jwk(public_bytes(foreign))["kid"]
    response = owner_client.post(url(label), {"revoke": "1", "revoke-kid": foreign_kid})
    assert response.status_code == 400 and 'id="key-register"' not in response.content.decode()

    _, payload_b64 = _revocation_page(owner_client, label, kid)
    stranger = sign_pae(b64decode(payload_b64), foreign, payload_type=KEY_PAYLOAD_TYPE)  # another label's key
    bad = owner_client.post(url(label), {"register": "1", "payload": payload_b64, "signature": json.dumps(stranger)})
    assert bad.status_code == 400 and "Nothing was revoked" in bad.content.decode()
    assert LogLeaf.objects.count() == leaves and LabelKey.objects.get(kid=kid).status == "active"


def test_a_submitter_cannot_prepare_a_revocation(submitter_client, keys, label, owner, staff):
    first, _ = _two_keys(label, staff, owner)
    response = submitter_client.post(
        url(label), {"revoke": "1", "revoke-kid": label_key_jwk(public_bytes(first))["kid"]}
    )
    assert response.status_code == 403
