"""Label keys and co-signed declarations: key events (register, revoke), prepare and submit (docs/protocol.md §14).

Every key event is a log leaf of its own payloadType, signed by the registry
(``declarations.signing``, the one place that signs) and, unless staff attest it,
by an already-active key of the label: the registry alone cannot add a key to a
label except by a staff attestation that the log shows as such. A label's events
are ordered by the label's row lock (lock order: release, label, claims, statement
key, log), and form a hash chain whose head a co-signed statement names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from provenance import jcs, labelkeys, statement
from provenance.dsse import PAYLOAD_TYPE, pae
from provenance.encoding import b64decode, b64encode, b64url_decode
from provenance.errors import ProvenanceError
from provenance.keys import PublicKey, parse_jwk
from registry.catalog.models import Artist, Label, Membership, Release, ReleaseArtist, Track
from registry.catalog.services import release_create, release_delete
from registry.declarations import signing
from registry.declarations.batch import BATCH_MAX, BatchItem, ItemResult, versions_sign_many
from registry.declarations.models import Declaration
from registry.declarations.services import (
    AMEND,
    CoSign,
    NextVersion,
    declaration_withdraw,
    refuse_unchanged,
    version_preview,
    version_sign,
    withdrawal_preview,
)
from registry.errors import Conflict, DomainError, NotFound, PermissionDenied, RateLimited, ValidationFailed
from registry.labelkeys.models import KeyRequest, LabelKey, LabelKeyEvent, LabelPolicyEvent, PreparedDeclaration
from registry.labelkeys.selectors import policy

PREPARED_TTL = timedelta(minutes=15)  # how long a label has to sign a prepared statement
# Keys requested in the browser for staff to attest (docs/labels.md §3): waiting per label, and per account a day.
KEY_REQUESTS_PENDING_MAX = 3
KEY_REQUESTS_PER_USER = 5
KEY_REQUESTS_WINDOW = timedelta(days=1)
# Open (unexpired, unsubmitted) prepared statements a label may hold: ten full bulk prepares waiting for signatures.
PREPARED_OPEN_MAX = 1000
# A DSSE signature as a label submits it: keyid (an RFC 7638 thumbprint, 43 characters) and sig (base64
# of 64 bytes, 88 characters), with room to spare; the API serializer and the web form read these.
KEYID_MAX = 64
SIG_MAX = 128


def _locked_label(label: Label) -> Label:
    # FOR NO KEY UPDATE: as exclusive between this module's writers, but not against the KEY SHARE lock an
    # insert referencing the label (a batch's new release) takes at commit, after the statement key's lock:
    # FOR UPDATE here, then the key, deadlocked against such a batch (tests/registry/declarations/test_batch.py).
    return Label.objects.select_for_update(no_key=True).get(pk=label.pk)


def history(label: Label) -> list[LabelKeyEvent]:
    return list(LabelKeyEvent.objects.filter(label=label).select_related("leaf").order_by("sequence"))


def key_head(events: Sequence[LabelKeyEvent]) -> str | None:
    return bytes(events[-1].leaf.leaf_hash).hex() if events else None


def public_key_from(value: Any) -> bytes:
    """A label key's 32 public bytes from a JWK (as ``provenance keygen`` prints it) or base64url ``x``."""
    try:
        if isinstance(value, Mapping):
            return parse_jwk({**value, "purpose": "statement", "status": "active"}).raw
        raw = b64url_decode(value, "public key")
    except ProvenanceError as exc:
        raise ValidationFailed(f"not an Ed25519 public key: {exc}", fields={"key": [str(exc)]}) from exc
    if len(raw) != 32:
        raise ValidationFailed("an Ed25519 public key has 32 bytes", fields={"key": ["32 bytes, base64url."]})
    return raw


def key_event_payload(label: Label, *, event: str, public_key: bytes, attestation: str, reason: str | None) -> bytes:
    """The exact bytes of the label's next key event (what ``key_event_log`` expects signed)."""
    events = history(label)
    st = labelkeys.build_key_event(
        registry=settings.REGISTRY_LOG_ORIGIN,
        label={"id": str(label.pk), "name": label.name, "dpid": label.dpid},
        sequence=len(events) + 1,
        previous=key_head(events),
        event=event,
        public_key=public_key,
        attestation=attestation,
        reason=reason,
    )
    return jcs.canonicalize(st)


def _public(key: Any) -> PublicKey:
    """A label's or a platform's signing key row as a verifying key."""
    raw = bytes(key.public_key)
    return parse_jwk({**labelkeys.label_key_jwk(raw), "purpose": "statement", "status": "active"})


def check_party_signature(
    model: Any, owner_field: str, owner: Any, payload_type: str, payload: bytes, signature: Any
) -> Any:
    """The active key of ``owner`` (a label's ``LabelKey`` or a platform's signing key, ``model``; its
    ``owner_field`` names the owner) whose signature this is; ValidationFailed (400) saying why not."""
    if not isinstance(signature, Mapping) or not isinstance(signature.get("keyid"), str):
        raise ValidationFailed(
            "the signature must be an object with keyid and sig", fields={"signature": ["Required."]}
        )
    kid = signature["keyid"]
    key = model.objects.filter(kid=kid).first()
    if key is None or getattr(key, owner_field) != owner.pk:
        raise ValidationFailed(f"key {kid} is not a key of {owner.name}", fields={"signature": ["Unknown key."]})
    if key.status != model.ACTIVE:
        raise ValidationFailed(f"key {kid} is revoked", fields={"signature": ["This key is revoked."]})
    try:
        sig = b64decode(signature.get("sig"), "sig")
    except ProvenanceError as exc:
        raise ValidationFailed(str(exc), fields={"signature": [str(exc)]}) from exc
    if not _public(key).verify(sig, pae(payload_type, payload)):
        raise ValidationFailed(
            f"the signature does not verify with key {kid} over this statement",
            fields={"signature": ["Does not verify: sign exactly the prepared payload."]},
        )
    return key


def _check_signature(label: Label, payload_type: str, payload: bytes, signature: Any) -> LabelKey:
    """The active key of ``label`` whose signature this is; ValidationFailed (400) saying why not."""
    key: LabelKey = check_party_signature(LabelKey, "label_id", label, payload_type, payload, signature)
    return key


def _owners(label: Label) -> list[str]:
    return [
        e
        for e in Membership.objects.filter(label=label, role=Membership.OWNER).values_list("user__email", flat=True)
        if e
    ]


@transaction.atomic
def key_event_log(
    *,
    label: Label,
    payload: bytes,
    signatures: Sequence[Any] = (),
    actor: Any = None,
    holder: Any = None,
) -> LabelKeyEvent:
    """Log a key event whose bytes came from ``key_event_payload``: checked, signed by the registry, appended.

    Attested by ``"label"``: one signature must verify with a key of the label active now
    (for a register event, another key than the new one). By staff: ``actor`` must be staff,
    and the label's first key is always staff's. 409 when another key event landed since
    the payload was made.
    """
    label = _locked_label(label)
    try:
        event = labelkeys.validate_key_event(jcs.loads(payload))
    except ProvenanceError as exc:
        raise ValidationFailed(f"not a key event: {exc}") from exc
    if payload != jcs.canonicalize(event):
        raise ValidationFailed("the key event is not in RFC 8785 canonical form")
    events = history(label)
    if event["label"]["id"] != str(label.pk) or event["registry"] != settings.REGISTRY_LOG_ORIGIN:
        raise ValidationFailed("this key event is for another label or registry")
    if event["sequence"] != len(events) + 1 or event["previous"] != key_head(events):
        raise Conflict("another key event of this label was logged since this one was prepared: prepare it again")
    attestation, kid = event["attestation"], event["key"]["kid"]
    if attestation == LabelKeyEvent.LABEL:
        if not events:
            raise ValidationFailed("a label's first key is attested by staff")
        signers = [_check_signature(label, labelkeys.KEY_PAYLOAD_TYPE, payload, s) for s in signatures[:1]]
        if not signers or (event["event"] == "register" and signers[0].kid == kid):
            raise ValidationFailed(
                "sign this key event with an active key of the label", fields={"signature": ["Required."]}
            )
    elif not getattr(actor, "is_staff", False):
        raise PermissionDenied("only staff attest a label key")
    existing = LabelKey.objects.filter(kid=kid).first()
    if event["event"] == "register" and existing is not None:
        raise Conflict(f"key {kid} is registered already")
    if event["event"] == "revoke" and (
        existing is None or existing.label_id != label.pk or existing.status != "active"
    ):
        raise ValidationFailed(f"key {kid} is not an active key of {label.name}")
    appended = signing.sign_and_log_entry(
        payload_type=labelkeys.KEY_PAYLOAD_TYPE, payload=payload, signatures=[dict(s) for s in signatures[:1]]
    )
    row = LabelKeyEvent.objects.create(
        label=label,
        sequence=event["sequence"],
        event=event["event"],
        kid=kid,
        attestation=attestation,
        reason=event["reason"] or "",
        leaf_id=appended.index,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if event["event"] == "register":
        if holder is not None and LabelKey.objects.filter(label=label, holder=holder, status=LabelKey.ACTIVE).exists():
            holder = None  # one active key per holder: a second one (mid-rotation) is held by the label jointly
        LabelKey.objects.create(
            label=label,
            kid=kid,
            public_key=labelkeys.public_key_of(event["key"]),
            holder=holder,
            registered=row,
        )
    else:
        assert existing is not None
        existing.status, existing.revoked = LabelKey.REVOKED, row
        existing.save(update_fields=["status", "revoked"])
    _notify(label, row)
    return row


def _notify(label: Label, row: LabelKeyEvent) -> None:
    """Every owner hears of every key event: a key added behind their back is the attack this defends."""
    how = {"staff": "attested by registry staff", "label": "signed by a key of the label", "recovery": "STAFF RECOVERY"}
    body = (
        f"A signing key of {label.name} was {'registered' if row.event == 'register' else 'revoked'}: key {row.kid}, "
        f"{how[row.attestation]}, log index {row.leaf_id}.\n"
        f"Reason: {row.reason or '(none given)'}\n\n"
        "If you did not expect this, contact the registry at once: the log keeps the event for everyone to see."
    )
    owners = _owners(label)
    if owners:
        done = LabelKeyEvent.DONE[row.event]
        transaction.on_commit(lambda: send_mail(f"Key {done} for {label.name}", body, None, owners))


def key_attest(
    *, label: Label, public_key: bytes, actor: Any, reason: str, recovery: bool = False, holder: Any = None
) -> LabelKeyEvent:
    """Staff register a key for a label: its first key, or a recovery after every key was lost."""
    with transaction.atomic():
        _locked_label(label)
        attestation = LabelKeyEvent.RECOVERY if recovery else LabelKeyEvent.STAFF
        if not recovery and LabelKeyEvent.objects.filter(label=label).exists():
            raise Conflict("the label has keys: a later key is signed by one of them, or use a recovery")
        payload = key_event_payload(
            label, event="register", public_key=public_key, attestation=attestation, reason=reason
        )
        return key_event_log(label=label, payload=payload, actor=actor, holder=holder)


def key_revoke_by_staff(*, label: Label, kid: str, actor: Any, reason: str) -> LabelKeyEvent:
    """A recovery revocation: staff revoke a key the label can no longer use or that leaked."""
    with transaction.atomic():
        _locked_label(label)
        key = LabelKey.objects.filter(label=label, kid=kid).first()
        if key is None:
            raise ValidationFailed(f"key {kid} is not a key of {label.name}")
        payload = key_event_payload(
            label, event="revoke", public_key=bytes(key.public_key), attestation="recovery", reason=reason
        )
        return key_event_log(label=label, payload=payload, actor=actor)


def jwks(label: Label) -> dict[str, Any]:
    """The label's keys, as published at /labels/<id>/keys.json: each with where the log registered (and revoked) it."""
    keys = LabelKey.objects.filter(label=label).select_related("registered", "revoked").order_by("registered__sequence")
    out = []
    for k in keys:
        jwk: dict[str, Any] = {**labelkeys.label_key_jwk(bytes(k.public_key)), "alg": "Ed25519", "use": "sig"}
        jwk["status"] = k.status
        jwk["registered_at"] = k.registered.leaf_id
        jwk["attestation"] = k.registered.attestation
        jwk["revoked_at"] = k.revoked.leaf_id if k.revoked else None
        out.append(jwk)
    events = history(label)
    return {"label": str(label.pk), "key_head": key_head(events), **policy(label), "keys": out}


# --- keys made in the browser (docs/labels.md §3) ----------------------------------------------


def key_request(*, label: Label, public_key: bytes, actor: Any) -> KeyRequest:
    """An owner asks for the label's first key: it waits for staff, who check who asks (``key_request_attest``).

    A label with an active key registers later keys signed by one of them instead (``key_event_log``).
    """
    with transaction.atomic():
        label = _locked_label(label)
        if LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).exists():
            raise Conflict("your label has an active key: sign the new key's registration with it instead")
        kid = labelkeys.label_key_jwk(public_key)["kid"]
        if LabelKey.objects.filter(kid=kid).exists() or KeyRequest.objects.filter(label=label, kid=kid).exists():
            raise Conflict(f"key {kid} is registered or requested already")
        _refuse_too_many_requests(label, actor)
        row = KeyRequest.objects.create(label=label, kid=kid, public_key=public_key, requested_by=actor)
    body = (
        f"{actor.get_username()} asked the registry's staff to register a first signing key for {label.name}: "
        f"key {kid}.\n\nIf you did not expect this, tell the registry before staff attest it."
    )
    owners = _owners(label)
    if owners:
        transaction.on_commit(lambda: send_mail(f"Key requested for {label.name}", body, None, owners))
    return row


def _refuse_too_many_requests(label: Label, actor: Any) -> None:
    """429 beyond ``KEY_REQUESTS_PENDING_MAX`` waiting for staff per label, or ``KEY_REQUESTS_PER_USER`` a day per user.

    Each request emails every owner and waits in the staff's queue: these bound both, whoever
    asks (an owner's session, stolen or not). Counted under the label's row lock, so they hold exactly
    per label; per user, across labels, two concurrent requests may both pass once.
    """
    pending = KeyRequest.objects.filter(label=label, status=KeyRequest.PENDING).count()
    if pending >= KEY_REQUESTS_PENDING_MAX:
        raise RateLimited(
            f"{label.name} has {pending} key requests waiting for the registry's staff, the most a label may have: "
            "wait until staff attest or decline one",
            wait=KEY_REQUESTS_WINDOW.total_seconds(),
        )
    since = timezone.now() - KEY_REQUESTS_WINDOW
    recent = list(
        KeyRequest.objects.filter(requested_by=actor, created_at__gt=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(recent) >= KEY_REQUESTS_PER_USER:
        raise RateLimited(
            f"you asked for {len(recent)} keys in the last {KEY_REQUESTS_WINDOW.days * 24} hours, the most one "
            "account may: try again later",
            wait=(recent[0] - since).total_seconds(),
        )


@transaction.atomic
def key_request_decline(*, request: KeyRequest, actor: Any) -> KeyRequest:
    """Staff decline a pending request (not who they expected, or a label's queue filled by mistake): nothing is logged."""
    request = KeyRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != KeyRequest.PENDING:
        raise Conflict(f"this key request was {request.status} already")
    request.status = KeyRequest.DECLINED
    request.save(update_fields=["status"])
    return request


@transaction.atomic
def key_request_attest(*, request: KeyRequest, actor: Any, reason: str = "") -> LabelKeyEvent:
    """Staff attest a pending request: the key becomes the label's first (or, after losing every key, a recovery)."""
    request = KeyRequest.objects.select_for_update().select_related("label", "requested_by").get(pk=request.pk)
    if request.status != KeyRequest.PENDING:
        raise Conflict(f"this key request was {request.status} already")
    recovery = LabelKeyEvent.objects.filter(label=request.label).exists()
    if recovery and LabelKey.objects.filter(label=request.label, status=LabelKey.ACTIVE).exists():
        raise Conflict("the label has an active key: a later key is signed by it, not attested by staff")
    row = key_attest(
        label=request.label,
        public_key=bytes(request.public_key),
        actor=actor,
        reason=reason or f"requested on the web by {request.requested_by.get_username()}",
        recovery=recovery,
        holder=request.requested_by,
    )
    request.status, request.event = KeyRequest.ATTESTED, row
    request.save(update_fields=["status", "event"])
    return row


# --- the co-sign-only policy (docs/protocol.md §14.5) ------------------------------------------


def policy_events(label: Label) -> list[LabelPolicyEvent]:
    return list(LabelPolicyEvent.objects.filter(label=label).select_related("leaf").order_by("sequence"))


def policy_payload(label: Label, *, cosign_only: bool, reason: str | None) -> bytes:
    """The exact bytes of the label's next policy event, for an active label key to sign."""
    events = policy_events(label)
    st = labelkeys.build_policy_event(
        registry=settings.REGISTRY_LOG_ORIGIN,
        label={"id": str(label.pk), "name": label.name, "dpid": label.dpid},
        sequence=len(events) + 1,
        previous=bytes(events[-1].leaf.leaf_hash).hex() if events else None,
        cosign_only=cosign_only,
        reason=reason,
    )
    return jcs.canonicalize(st)


@transaction.atomic
def policy_log(*, label: Label, payload: bytes, signature: Any, actor: Any = None) -> LabelPolicyEvent:
    """Turn the label's co-sign-only policy on or off: a policy event signed by an active label key, then logged.

    The registry never makes one alone (there is no staff door): turning the policy off needs
    the label's key as much as turning it on. A label that lost every key gets one back by a
    staff recovery, which the log shows (§14.1), then signs. 409 when another policy event landed
    since the payload was made; 400 when it changes nothing or the signature does not verify.
    """
    label = _locked_label(label)
    try:
        event = labelkeys.validate_policy_event(jcs.loads(payload))
    except ProvenanceError as exc:
        raise ValidationFailed(f"not a policy event: {exc}", fields={"payload": [str(exc)]}) from exc
    if payload != jcs.canonicalize(event):
        raise ValidationFailed(
            "the policy event is not in RFC 8785 canonical form", fields={"payload": ["Not canonical."]}
        )
    if event["label"]["id"] != str(label.pk) or event["registry"] != settings.REGISTRY_LOG_ORIGIN:
        raise ValidationFailed("this policy event is for another label or registry", fields={"payload": ["Not yours."]})
    events = policy_events(label)
    head = bytes(events[-1].leaf.leaf_hash).hex() if events else None
    if event["sequence"] != len(events) + 1 or event["previous"] != head:
        raise Conflict("another policy event of this label was logged since this one was prepared: prepare it again")
    if event["cosign_only"] == (events[-1].cosign_only if events else False):
        state = "on" if event["cosign_only"] else "off"
        raise ValidationFailed(f"the co-sign-only policy is {state} already", fields={"cosign_only": ["No change."]})
    key = _check_signature(label, labelkeys.POLICY_PAYLOAD_TYPE, payload, signature)
    appended = signing.sign_and_log_entry(
        payload_type=labelkeys.POLICY_PAYLOAD_TYPE,
        payload=payload,
        signatures=[{"keyid": key.kid, "sig": signature["sig"]}],
    )
    row = LabelPolicyEvent.objects.create(
        label=label,
        sequence=event["sequence"],
        cosign_only=event["cosign_only"],
        kid=key.kid,
        reason=event["reason"] or "",
        leaf_id=appended.index,
    )
    body = (
        f"{label.name}'s co-sign-only policy was turned {'ON' if row.cosign_only else 'OFF'}, signed by label key "
        f"{row.kid}, log index {row.leaf_id}.\nReason: {row.reason or '(none given)'}\n\n"
        + (
            "From now on the registry refuses any declaration of the label that the label's key did not sign."
            if row.cosign_only
            else "The registry may again log declarations it alone signs for the label."
        )
    )
    owners = _owners(label)
    if owners:
        transaction.on_commit(lambda: send_mail(f"Co-sign-only policy changed for {label.name}", body, None, owners))
    return row


# --- co-signed declarations -------------------------------------------------------------------


KINDS = (PreparedDeclaration.FIRST, PreparedDeclaration.AMEND, PreparedDeclaration.WITHDRAW)


def declaration_prepare(
    *,
    release: Release,
    change: NextVersion,
    request: Mapping[str, Any],
    kind: str = AMEND,
    created_release: bool = False,
) -> PreparedDeclaration:
    """Fix the next version's statement for the label to sign (prepare → sign → submit), dated now.

    ``kind``: a first version, an amendment or a withdrawal (``change.reason`` and
    ``change.expected_version`` are the withdrawal's). The statement is built by the
    signing service in dry-run mode; ``declaration_submit`` builds it again and signs it
    only if it comes out byte for byte the same. A label holds at most ``PREPARED_OPEN_MAX``
    open (unexpired, unsubmitted) prepared statements: 429 beyond, so that a token spamming
    prepare cannot grow the database without bound (``prepared_expire`` deletes expired ones).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    label = release.label
    events = history(label)
    if not LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).exists():
        raise ValidationFailed(f"{label.name} has no active signing key: register one first")
    if kind == PreparedDeclaration.WITHDRAW:
        st = withdrawal_preview(release=release, reason=change.reason or "", expected_version=change.expected_version)
    else:
        st = version_preview(release=release, change=change, kind=kind)
        if kind == AMEND:
            refuse_unchanged(release, change, st)  # submit would refuse it: say so before the label signs
    st["label"] = {**st["label"], "id": str(label.pk), "key_head": key_head(events)}
    statement.validate_statement(st)
    now = timezone.now()
    if _held(label) >= PREPARED_OPEN_MAX and not created_release:
        prepared_expire(label=label, now=now)  # the label's own expired ones first (outside our locks)
    with transaction.atomic():
        # Lock order: the release (as every version does), then the label (as key events do). The release
        # lock orders this insert against prepared_expire deleting an undeclared release.
        if Release.objects.select_for_update().filter(pk=release.pk).values_list("pk", flat=True).first() is None:
            raise NotFound("no such release in your catalog", fields={"upc": ["Not in your catalog."]})
        label = _locked_label(label)
        open_now = _open_prepared(label, now)
        if open_now >= PREPARED_OPEN_MAX:
            oldest = (
                PreparedDeclaration.objects.filter(label=label, used=False, expires_at__gt=now)
                .order_by("expires_at")
                .values_list("expires_at", flat=True)
                .first()
            )
            wait = (oldest - now).total_seconds() if oldest is not None else PREPARED_TTL.total_seconds()
            raise RateLimited(
                f"{label.name} has {open_now:,} prepared statements waiting for a signature, the most a label may "
                f"hold: submit or let them expire ({int(PREPARED_TTL.total_seconds() // 60)} minutes after "
                "prepare), then prepare again",
                wait=wait,
            )
        return PreparedDeclaration.objects.create(
            label=label,
            release=release,
            kind=kind,
            statement=st,
            payload=b64encode(statement.statement_bytes(st)),
            request=json.loads(json.dumps(request, default=str)),
            expires_at=now + PREPARED_TTL,
            created_release=created_release,
        )


def _open_prepared(label: Label, now: Any) -> int:
    return PreparedDeclaration.objects.filter(label=label, used=False, expires_at__gt=now).count()


def _held(label: Label) -> int:
    """The label's prepared rows, expired and submitted ones included. At the cap, a prepare deletes the expired
    ones first, so whether or not ``manage.py expire_prepared`` runs, a label holds at most ``PREPARED_OPEN_MAX``
    rows plus those it submitted in the last ``PREPARED_TTL`` (each a logged declaration)."""
    return PreparedDeclaration.objects.filter(label=label).count()


def release_create_prepare(
    *, create: Mapping[str, Any], change: NextVersion, request: Mapping[str, Any]
) -> PreparedDeclaration:
    """A new release for the label to co-sign: created in its catalog (unsigned, private), version 1 prepared.

    Both or neither: a refused prepare (no active key, an identifier another label holds, too
    many open prepared statements) leaves no release behind. Until the prepared statement
    expires, it can be prepared again by ``POST /api/v1/releases/{upc}/prepare`` with
    ``"action": "declare"``; once every prepared statement of it has expired unsubmitted,
    ``prepared_expire`` deletes the release, still undeclared.
    """
    label = create["label"]
    if _held(label) >= PREPARED_OPEN_MAX:
        prepared_expire(label=label)  # the label's own expired ones first, outside the transaction below
    with transaction.atomic():
        release = release_create(**create)
        return declaration_prepare(
            release=release, change=change, request=request, kind=PreparedDeclaration.FIRST, created_release=True
        )


def prepared_expire(*, label: Label | None = None, now: Any = None, limit: int = 10_000) -> tuple[int, int]:
    """Delete expired prepared statements (at most ``limit``), and the releases prepares created that nobody declared.

    Returns (prepared statements deleted, releases deleted). Run by ``manage.py expire_prepared``
    (docs/operations.md), and for one label by a prepare that finds the label at its cap. A
    release a first-version prepare created goes when every prepared statement of it has
    expired, it is still undeclared (``catalog.services.release_delete``), no prepare is
    open on it and no member keeps a web draft of it; each such release in a transaction of
    its own, locking as submit does (the release's prepared statements, then the release), so
    a concurrent prepare or submit of it either finds it gone (404) or keeps it.
    """
    now = now or timezone.now()
    expired = PreparedDeclaration.objects.filter(expires_at__lte=now)
    if label is not None:
        expired = expired.filter(label=label)
    rows = list(expired.order_by("pk").values_list("pk", "release_id", "created_release")[:limit])
    releases = 0
    for release_id in sorted({release_id for _, release_id, created in rows if created}):
        with transaction.atomic():
            mine = list(PreparedDeclaration.objects.select_for_update().filter(release_id=release_id).order_by("pk"))
            release = Release.objects.select_for_update().filter(pk=release_id).first()
            if (
                release is None
                or release.current_declaration_id is not None
                or any(p.used or p.expires_at > now for p in mine)
                or PreparedDeclaration.objects.filter(release_id=release_id, expires_at__gt=now).exists()
                or Declaration.objects.filter(release_id=release_id).exists()
                or _worked_on(release)
            ):
                continue
            PreparedDeclaration.objects.filter(pk__in=[p.pk for p in mine]).delete()
            artists = _artists_of(release)
            release_delete(release=release)
            # The artists its prepare created and nothing else names go with it (release_delete keeps a
            # label's artists: on the web they are its roster); older artists are the label's own.
            created = min(p.created_at for p in mine) - timedelta(seconds=1)
            try:
                Artist.objects.filter(
                    pk__in=artists, created_at__gte=created, releases__isnull=True, tracks__isnull=True
                ).delete()
            except ProtectedError:  # named by a row of another kind: kept
                pass
            releases += 1
    deleted, _ = PreparedDeclaration.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    return deleted, releases


def _artists_of(release: Release) -> set[int]:
    on_release = ReleaseArtist.objects.filter(release=release).values_list("artist_id", flat=True)
    on_tracks = Track.artists.through.objects.filter(track__release=release).values_list("artist_id", flat=True)
    return set(on_release) | set(on_tracks)


def _worked_on(release: Release) -> bool:
    """Whether a member keeps a draft of the release's next version on the web: then it is theirs, not a leftover."""
    from registry.labels.drafts import session_key  # the labels app builds on this one
    from registry.labels.models import Draft

    return Draft.objects.filter(label_id=release.label_id, key=session_key(release)).exists()


def prepared_answer(prepared: PreparedDeclaration) -> dict[str, Any]:
    return {
        "prepared": prepared.pk,
        "payloadType": PAYLOAD_TYPE,
        "payload": prepared.payload,
        "expires_at": statement.format_timestamp(prepared.expires_at),
        "key_head": prepared.statement["label"]["key_head"],
    }


def _cosign(prepared: PreparedDeclaration, label: Label, signature: Any, events: Sequence[LabelKeyEvent]) -> CoSign:
    """What every submit checks, the prepared row, the release and the label locked: the label's signature.

    Refused: a statement submitted already or expired, a signature that is not by an active
    key of the label (400), keys that changed since prepare (409).
    """
    if prepared.used:
        raise Conflict("this prepared statement was submitted already")
    if prepared.expires_at <= timezone.now():
        raise ValidationFailed("the prepared statement expired: prepare it again", fields={"prepared": ["Expired."]})
    payload = b64decode(prepared.payload, "payload")
    key = _check_signature(label, PAYLOAD_TYPE, payload, signature)
    if key_head(events) != prepared.statement["label"]["key_head"]:
        raise Conflict("the label's keys changed since this statement was prepared: prepare and sign it again")
    return CoSign(
        prepared=prepared.statement,
        signature=signing.LabelSignature(
            signature={"keyid": key.kid, "sig": signature["sig"]}, history=[e.leaf_id for e in events]
        ),
    )


@transaction.atomic
def declaration_submit(
    *, prepared: PreparedDeclaration, change: NextVersion, signature: Any, actor: Any = None, via: str = "api"
) -> Declaration:
    """Log a prepared statement with the label's signature and the registry's; 400 for a bad signature, 409 if stale."""
    prepared = PreparedDeclaration.objects.select_for_update().get(pk=prepared.pk)
    # Lock order: the prepared row, the release (as every version does), then the label (as key events do).
    Release.objects.select_for_update().filter(pk=prepared.release_id).first()
    label = _locked_label(prepared.label)
    cosign = _cosign(prepared, label, signature, history(label))
    if prepared.kind == PreparedDeclaration.WITHDRAW:
        decl = declaration_withdraw(
            release=prepared.release,
            reason=change.reason or "",
            expected_version=change.expected_version,
            actor=actor,
            via=via,
            cosign=cosign,
        )
    else:
        decl = version_sign(
            release=prepared.release, change=change, actor=actor, via=via, kind=prepared.kind, cosign=cosign
        )
    prepared.used = True
    prepared.save(update_fields=["used"])
    return decl


@dataclass(frozen=True)
class Submission:
    """One item of a bulk submit: a prepared statement of the label, the version it asked for, the label's signature."""

    prepared: PreparedDeclaration
    change: NextVersion
    signature: Any


def declarations_submit_many(
    *, label: Label, submissions: Sequence[Submission], actor: Any = None, via: str = "api"
) -> list[ItemResult]:
    """Log many prepared statements with the label's signatures as one batch: one transaction, one checkpoint.

    Each item is checked as ``declaration_submit`` checks it (``_cosign``) and built by the
    batch path (``declarations.batch.versions_sign_many`` with ``BatchItem.cosign``), so a
    bad signature, an expired or used statement, or a version that landed since prepare
    (409) refuses that item alone; a result per item, in order. Locks as the single submit
    takes them, each kind in primary-key order: prepared rows, releases, the label.
    """
    if len(submissions) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} items per batch")
    refused: dict[int, DomainError] = {}
    with transaction.atomic():
        wanted = {sub.prepared.pk for sub in submissions if sub.prepared.label_id == label.pk}
        rows = {
            p.pk: p
            for p in PreparedDeclaration.objects.select_for_update(of=("self",))
            .filter(pk__in=wanted)
            .select_related("release")
            .order_by("pk")
        }
        list(
            Release.objects.select_for_update(of=("self",))
            .filter(pk__in={p.release_id for p in rows.values()})
            .order_by("pk")
        )
        label = _locked_label(label)
        events = history(label)
        not_before = signing.statement_key_not_before()
        items: list[BatchItem] = []
        positions: list[int] = []
        seen: set[int] = set()
        for i, sub in enumerate(submissions):
            prepared = rows.get(sub.prepared.pk)
            try:
                if prepared is None:
                    raise ValidationFailed(
                        "no such prepared statement for your label", fields={"prepared": ["Unknown."]}
                    )
                if prepared.pk in seen:
                    raise ValidationFailed(
                        "this prepared statement is named twice in this request", fields={"prepared": ["Named twice."]}
                    )
                seen.add(prepared.pk)
                cosign = _cosign(prepared, label, sub.signature, events)
                signing.refuse_prepared_before(prepared.statement, not_before)
            except DomainError as exc:
                refused[i] = exc
                continue
            items.append(BatchItem(release=prepared.release, change=sub.change, kind=prepared.kind, cosign=cosign))
            positions.append(i)
        results = [ItemResult(index=i, error=refused.get(i)) for i in range(len(submissions))]
        for position, result in zip(positions, versions_sign_many(items=items, actor=actor, via=via), strict=True):
            result.index = position
            results[position] = result
        done = [submissions[r.index].prepared.pk for r in results if r.ok]
        PreparedDeclaration.objects.filter(pk__in=done).update(used=True)
    return results
