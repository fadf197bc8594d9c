"""The label's signing keys on the web (owners): see them, make a key in the browser, register or revoke one (docs/labels.md §3).

The browser makes the key (WebCrypto Ed25519, ``static/labels/keys.js``) and keeps its private
half non-extractable in IndexedDB; only the public key is posted. The label's first key waits
for staff (``services.key_request``); a later key's registration, and a key's revocation, is a
key event the page signs with (another) key of the label this browser holds, or whose signature
the owner pastes (``services.key_event_log``).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from provenance import labelkeys
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError
from registry.catalog.models import Label
from registry.errors import DomainError, ValidationFailed
from registry.labelkeys import services
from registry.labelkeys.models import KeyRequest, LabelKey, LabelKeyEvent
from registry.labels.forms import KeyRegisterForm, KeyRevokeForm, PublicKeyForm
from registry.labels.views.access import label_view


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest, label: Label) -> HttpResponse:
    add, register = PublicKeyForm(), KeyRegisterForm()
    active = list(LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).values_list("kid", flat=True))
    revoke = KeyRevokeForm(active=active, prefix="revoke")
    to_sign = policy_to_sign = None
    status = 200
    if request.method == "POST" and ("policy" in request.POST or "policy_submit" in request.POST):
        policy_to_sign, register, status = _policy(request, label)
        if policy_to_sign is None:
            return redirect("labels:keys", label_id=label.pk)
    elif request.method == "POST" and "revoke" in request.POST:
        revoke = KeyRevokeForm(request.POST, active=active, prefix="revoke")
        if revoke.is_valid():
            try:
                to_sign = _revocation(label, revoke.cleaned_data["kid"], revoke.cleaned_data["reason"] or None)
            except DomainError as exc:
                revoke.add_error(None, exc.message)
                status = exc.status
            else:
                register = KeyRegisterForm(initial={"payload": to_sign["payload"]})
        else:
            status = 400
    elif request.method == "POST" and "register" in request.POST:
        register = KeyRegisterForm(request.POST)
        posted = request.POST.get("payload", "")
        to_sign = {"payloadType": labelkeys.KEY_PAYLOAD_TYPE, "payload": posted[:8000], **_event_of(posted)}
        if register.is_valid():
            try:
                payload = b64decode(register.cleaned_data["payload"], "payload")
                row = services.key_event_log(
                    label=label,
                    payload=payload,
                    signatures=[register.cleaned_data["parsed"]],
                    actor=request.user,
                    holder=request.user,
                )
            except (DomainError, ProvenanceError) as exc:
                undone = LabelKeyEvent.DONE.get(to_sign["event"], LabelKeyEvent.DONE[LabelKeyEvent.REGISTER])
                register.add_error(None, f"Nothing was {undone}: {getattr(exc, 'message', str(exc))}.")
                status = getattr(exc, "status", 400)
            else:
                messages.success(
                    request,
                    f"Key {row.kid} is {LabelKeyEvent.DONE[row.event]} (log index {row.leaf_id}), signed by your label.",
                )
                return redirect("labels:keys", label_id=label.pk)
        else:
            status = 400
    elif request.method == "POST":
        add = PublicKeyForm(request.POST)
        if add.is_valid():
            public_key = add.cleaned_data["public_key"]
            try:
                if LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).exists():
                    payload = services.key_event_payload(
                        label, event="register", public_key=public_key, attestation=LabelKeyEvent.LABEL,
                        reason=add.cleaned_data["reason"] or None,
                    )  # fmt: skip
                    to_sign = {
                        "payloadType": labelkeys.KEY_PAYLOAD_TYPE,
                        "payload": b64encode(payload),
                        "kid": labelkeys.label_key_jwk(public_key)["kid"],
                        "event": LabelKeyEvent.REGISTER,
                    }
                    register = KeyRegisterForm(initial={"payload": to_sign["payload"]})
                else:
                    row = services.key_request(label=label, public_key=public_key, actor=request.user)
                    messages.success(
                        request,
                        f"Key {row.kid} is requested: the registry's staff check who asked and attest it as your "
                        "label's first key. Every owner was emailed.",
                    )
                    return redirect("labels:keys", label_id=label.pk)
            except DomainError as exc:
                add.add_error(None, exc.message)
                status = exc.status
        else:
            status = 400
    context = {
        "label": label,
        "keys": services.jwks(label),
        "requests": KeyRequest.objects.filter(label=label, status=KeyRequest.PENDING),
        "add": add,
        "revoke": revoke,
        "register": register,
        "to_sign": to_sign,
        "policy_to_sign": policy_to_sign,
    }
    return render(request, "labels/keys.html", context, status=status)


def _event_of(payload: str) -> dict[str, str]:
    """The key id and event a posted key event names, to show it again with its error (empty when it is not one)."""
    try:
        event = labelkeys.validate_key_event(json.loads(b64decode(payload, "payload")))
    except (ProvenanceError, ValueError, TypeError):
        return {"kid": "", "event": LabelKeyEvent.REGISTER}
    return {"kid": str(event["key"]["kid"]), "event": str(event["event"])}


def _revocation(label: Label, kid: str, reason: str | None) -> dict[str, str]:
    """The revocation event of the label's active key ``kid``, for a key of the label to sign (docs/protocol.md §14.1).

    The page signs it with another active key this browser holds, or takes a pasted signature;
    ``services.key_event_log`` checks it as the API's ``POST /api/v1/label/keys`` does.
    """
    key = LabelKey.objects.filter(label=label, kid=kid, status=LabelKey.ACTIVE).first()
    if key is None:  # revoked since the page was shown
        raise ValidationFailed(f"key {kid} is not an active key of {label.name}")
    payload = services.key_event_payload(
        label, event=LabelKeyEvent.REVOKE, public_key=bytes(key.public_key), attestation=LabelKeyEvent.LABEL,
        reason=reason,
    )  # fmt: skip
    return {
        "payloadType": labelkeys.KEY_PAYLOAD_TYPE,
        "payload": b64encode(payload),
        "kid": kid,
        "event": LabelKeyEvent.REVOKE,
    }


def _policy(request: HttpRequest, label: Label) -> tuple[dict | None, KeyRegisterForm, int]:
    """Turn the co-sign-only policy on or off (docs/protocol.md §14.5): the event to sign, then the signed event.

    Returns (the event to sign, its form, status); no event when it was logged (the caller redirects).
    """
    form = KeyRegisterForm(request.POST if "policy_submit" in request.POST else None)
    if "policy_submit" not in request.POST:
        on = request.POST.get("policy") == "on"
        payload = services.policy_payload(label, cosign_only=on, reason=None)
        encoded = b64encode(payload)
        form = KeyRegisterForm(initial={"payload": encoded})
        form.fields["signature"].label = "Signature of the policy event"
        return {"payloadType": labelkeys.POLICY_PAYLOAD_TYPE, "payload": encoded, "cosign_only": on}, form, 200
    posted = request.POST.get("payload", "")[:8000]
    try:
        on = bool(labelkeys.validate_policy_event(json.loads(b64decode(posted, "payload")))["cosign_only"])
    except (ProvenanceError, ValueError, TypeError):
        on = False
    shown = {"payloadType": labelkeys.POLICY_PAYLOAD_TYPE, "payload": posted, "cosign_only": on}
    if not form.is_valid():
        return shown, form, 400
    try:
        row = services.policy_log(
            label=label,
            payload=b64decode(form.cleaned_data["payload"], "payload"),
            signature=form.cleaned_data["parsed"],
            actor=request.user,
        )
    except (DomainError, ProvenanceError) as exc:
        form.add_error(None, f"Nothing was changed: {getattr(exc, 'message', str(exc))}.")
        return shown, form, getattr(exc, "status", 400)
    state = "requires co-signature" if row.cosign_only else "no longer requires co-signature"
    messages.success(request, f"Your label {state} (log index {row.leaf_id}, signed with key {row.kid}).")
    return None, form, 302
