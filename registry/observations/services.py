"""Platform keys and observations: register/revoke keys, prepare → sign → submit an observation, hide one.

Every key event and every observation is a log leaf of its own payloadType, signed
through ``registry.declarations.signing`` (the one place that signs). A platform's key
events follow the label-key rules (docs/protocol.md §14.1 via §16.1): its first key is
attested by staff, later events carry a signature by an already-active key of the
platform. An observation carries the platform's signature by a key active now, and the
registry's; it never changes a declaration or its ``contains_ai``.

Lock order: the release row, then the platform row (its key events and head), then the
statement key, then the log (inside ``signing``), as declarations take the release first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from provenance import jcs, labelkeys
from provenance import observations as pobs
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError
from provenance.identifiers import normalize_gtin, normalize_isrc
from provenance.keys import PublicKey, parse_jwk
from registry.api.models import PlatformKey
from registry.api.throttles import Quota
from registry.catalog.models import Membership, Release
from registry.declarations import cache as lookup_cache
from registry.declarations import signing, stored_answers
from registry.declarations.models import Declaration, DeclaredRecording
from registry.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationFailed
from registry.labelkeys.services import check_party_signature
from registry.labelkeys.services import public_key_from as public_key_from  # noqa: PLC0414  (re-exported for the command and admin)
from registry.observations import selectors
from registry.observations.models import Observation, PlatformKeyEvent, PlatformSigningKey

# Throttle scope: observations per platform per day (rate in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).
OBSERVATIONS_PER_PLATFORM = "observation_platform"
# How far ahead of the registry's date a platform's observed_at may be (time zones), and how far back.
OBSERVED_AT_AHEAD = timedelta(days=1)
OBSERVED_AT_BEHIND = timedelta(days=366 * 10)
HIDE_REASON_MAX = 2000


def _locked_platform(platform: PlatformKey) -> PlatformKey:
    return PlatformKey.objects.select_for_update().get(pk=platform.pk)


def history(platform: PlatformKey) -> list[PlatformKeyEvent]:
    return list(PlatformKeyEvent.objects.filter(platform=platform).select_related("leaf").order_by("sequence"))


def key_head(events: Sequence[PlatformKeyEvent]) -> str | None:
    return bytes(events[-1].leaf.leaf_hash).hex() if events else None


def _named(platform: PlatformKey) -> dict[str, str]:
    return {"id": str(platform.pk), "name": platform.name}


def key_event_payload(
    platform: PlatformKey, *, event: str, public_key: bytes, attestation: str, reason: str | None
) -> bytes:
    """The exact bytes of the platform's next key event (what ``key_event_log`` expects signed)."""
    events = history(platform)
    st = labelkeys.build_key_event(
        registry=settings.REGISTRY_LOG_ORIGIN,
        label=_named(platform),
        sequence=len(events) + 1,
        previous=key_head(events),
        event=event,
        public_key=public_key,
        attestation=attestation,
        reason=reason,
        party=labelkeys.PLATFORM,
    )
    return jcs.canonicalize(st)


def _public(key: PlatformSigningKey) -> PublicKey:
    return parse_jwk({**labelkeys.label_key_jwk(bytes(key.public_key)), "purpose": "statement", "status": "active"})


def _check_signature(platform: PlatformKey, payload_type: str, payload: bytes, signature: Any) -> PlatformSigningKey:
    """The active key of ``platform`` whose signature this is; ValidationFailed (400) saying why not."""
    key: PlatformSigningKey = check_party_signature(
        PlatformSigningKey, "platform_id", platform, payload_type, payload, signature
    )
    return key


@transaction.atomic
def key_event_log(
    *, platform: PlatformKey, payload: bytes, signatures: Sequence[Any] = (), actor: Any = None
) -> PlatformKeyEvent:
    """Log a platform key event whose bytes came from ``key_event_payload``: checked, signed, appended.

    Attested by ``"platform"``: a signature by a key of the platform active now (for a register,
    another key than the new one). By staff: ``actor`` must be staff. 409 when another key event
    of the platform landed since the payload was made.
    """
    platform = _locked_platform(platform)
    party = labelkeys.PLATFORM
    try:
        event = labelkeys.validate_key_event(jcs.loads(payload), party)
    except ProvenanceError as exc:
        raise ValidationFailed(f"not a platform key event: {exc}") from exc
    if payload != jcs.canonicalize(event):
        raise ValidationFailed("the key event is not in RFC 8785 canonical form")
    events = history(platform)
    if event["platform"]["id"] != str(platform.pk) or event["registry"] != settings.REGISTRY_LOG_ORIGIN:
        raise ValidationFailed("this key event is for another platform or registry")
    if event["sequence"] != len(events) + 1 or event["previous"] != key_head(events):
        raise Conflict("another key event of this platform was logged since this one was prepared: prepare it again")
    if len(events) >= labelkeys.HISTORY_MAX:  # a bundle carries the whole history: past this, none would verify
        raise ValidationFailed(f"a platform has at most {labelkeys.HISTORY_MAX} key events")
    attestation, kid = event["attestation"], event["key"]["kid"]
    if attestation == PlatformKeyEvent.PLATFORM:
        if not events:
            raise ValidationFailed("a platform's first key is attested by staff")
        signers = [_check_signature(platform, party.payload_type, payload, s) for s in signatures[:1]]
        if not signers or (event["event"] == "register" and signers[0].kid == kid):
            raise ValidationFailed(
                "sign this key event with another active key of the platform", fields={"signature": ["Required."]}
            )
    elif not getattr(actor, "is_staff", False):
        raise PermissionDenied("only staff attest a platform key")
    existing = PlatformSigningKey.objects.filter(kid=kid).first()
    if event["event"] == "register" and existing is not None:
        raise Conflict(f"key {kid} is registered already")
    if event["event"] == "revoke" and (
        existing is None or existing.platform_id != platform.pk or existing.status != PlatformSigningKey.ACTIVE
    ):
        raise ValidationFailed(f"key {kid} is not an active key of {platform.name}")
    appended = signing.sign_and_log_entry(
        payload_type=party.payload_type, payload=payload, signatures=[dict(s) for s in signatures[:1]]
    )
    row = PlatformKeyEvent.objects.create(
        platform=platform,
        sequence=event["sequence"],
        event=event["event"],
        kid=kid,
        attestation=attestation,
        reason=event["reason"] or "",
        leaf_id=appended.index,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if event["event"] == "register":
        PlatformSigningKey.objects.create(
            platform=platform, kid=kid, public_key=labelkeys.public_key_of(event["key"]), registered=row
        )
    else:
        assert existing is not None
        existing.status, existing.revoked = PlatformSigningKey.REVOKED, row
        existing.save(update_fields=["status", "revoked"])
    return row


def key_attest(
    *, platform: PlatformKey, public_key: bytes, actor: Any, reason: str, recovery: bool = False
) -> PlatformKeyEvent:
    """Staff register a platform's key: its first, or a recovery after every key was lost."""
    with transaction.atomic():
        _locked_platform(platform)
        if not recovery and PlatformKeyEvent.objects.filter(platform=platform).exists():
            raise Conflict("the platform has keys: a later key is signed by one of them, or use a recovery")
        payload = key_event_payload(
            platform,
            event="register",
            public_key=public_key,
            attestation=PlatformKeyEvent.RECOVERY if recovery else PlatformKeyEvent.STAFF,
            reason=reason,
        )
        return key_event_log(platform=platform, payload=payload, actor=actor)


def key_revoke_by_staff(*, platform: PlatformKey, kid: str, actor: Any, reason: str) -> PlatformKeyEvent:
    """A recovery revocation: staff revoke a platform key that leaked or that the platform lost."""
    with transaction.atomic():
        _locked_platform(platform)
        key = PlatformSigningKey.objects.filter(platform=platform, kid=kid).first()
        if key is None:
            raise ValidationFailed(f"key {kid} is not a key of {platform.name}")
        payload = key_event_payload(
            platform, event="revoke", public_key=bytes(key.public_key), attestation="recovery", reason=reason
        )
        return key_event_log(platform=platform, payload=payload, actor=actor)


def jwks(platform: PlatformKey) -> dict[str, Any]:
    """The platform's keys, as published at /platforms/<id>/keys.json, with their log indexes."""
    rows = PlatformSigningKey.objects.filter(platform=platform).select_related("registered", "revoked")
    out = []
    for k in rows.order_by("registered__sequence"):
        jwk: dict[str, Any] = {**labelkeys.label_key_jwk(bytes(k.public_key)), "alg": "Ed25519", "use": "sig"}
        jwk.update(
            status=k.status,
            registered_at=k.registered.leaf_id,
            attestation=k.registered.attestation,
            revoked_at=k.revoked.leaf_id if k.revoked else None,
        )
        out.append(jwk)
    return {"platform": str(platform.pk), "name": platform.name, "key_head": key_head(history(platform)), "keys": out}


# --- observations -------------------------------------------------------------------------------


def _observed_release(isrc: str, upc: str | None) -> Release:
    """The release an observation is shown with: the UPC's, else the one whose declaration answers the ISRC (§12)."""
    if upc is None:
        answer = stored_answers.recording_answers([isrc]).get(isrc)
        release = Release.objects.filter(upc=answer.upc).first() if answer is not None else None
    else:  # what the release's current declaration signed, not the catalog's editable tracks
        covering = DeclaredRecording.objects.filter(isrc=isrc).values("declaration_id")
        release = Release.objects.filter(upc=upc, current_declaration__in=covering).first()
    if release is None:
        where = f" on release {upc}" if upc else ""
        raise NotFound(
            f"no public declaration of ISRC {isrc}{where}: only a declared recording can be observed",
            fields={"isrc": ["Not declared."]},
        )
    return release


def _identifiers(isrc: Any, upc: Any) -> tuple[str, str | None]:
    try:
        return normalize_isrc(isrc), (normalize_gtin(upc) if upc not in (None, "") else None)
    except ProvenanceError as exc:
        raise ValidationFailed(str(exc), fields={"isrc" if "ISRC" in str(exc) else "upc": [str(exc)]}) from exc


def _check_date(observed_at: str) -> None:
    try:
        when = date.fromisoformat(observed_at)
    except (TypeError, ValueError):
        raise ValidationFailed("observed_at must be a date, YYYY-MM-DD", fields={"observed_at": ["A date."]}) from None
    today = timezone.now().date()
    if when > today + OBSERVED_AT_AHEAD or when < today - OBSERVED_AT_BEHIND:
        raise ValidationFailed(
            "observed_at must be a date up to today (not in the future)", fields={"observed_at": ["Not in the future."]}
        )


def observation_prepare(
    *,
    platform: PlatformKey,
    isrc: str,
    upc: str | None = None,
    observed: Mapping[str, str],
    method: str,
    observed_at: str,
    declaration_version: int | None = None,
) -> dict[str, Any]:
    """The exact observation for the platform to sign: ``{"payloadType", "payload"}`` (docs/protocol.md §16.2)."""
    isrc, upc = _identifiers(isrc, upc)
    _check_date(observed_at)
    release = _observed_release(isrc, upc)
    decl = None
    if declaration_version is not None:
        found = Declaration.objects.filter(release=release, version=declaration_version).select_related("leaf").first()
        if found is None:
            raise ValidationFailed(
                f"release {release.upc} has no declaration version {declaration_version}",
                fields={"declaration_version": ["No such version."]},
            )
        decl = {"id": str(found.uid), "version": found.version, "leaf_hash": bytes(found.leaf.leaf_hash).hex()}
    head = key_head(history(platform))
    if head is None or not PlatformSigningKey.objects.filter(platform=platform, status="active").exists():
        raise ValidationFailed(f"{platform.name} has no active signing key: ask the registry to register one first")
    try:
        st = pobs.build_observation(
            registry=settings.REGISTRY_LOG_ORIGIN,
            platform={**_named(platform), "key_head": head},
            isrc=isrc,
            upc=upc,
            declaration=decl,
            observed=observed,
            method=method.strip() if isinstance(method, str) else method,
            observed_at=observed_at,
        )
    except ProvenanceError as exc:
        raise ValidationFailed(str(exc)) from exc
    return {"payloadType": pobs.OBSERVATION_PAYLOAD_TYPE, "payload": b64encode(jcs.canonicalize(st))}


def _spend(platform: PlatformKey) -> Quota | None:
    quota = Quota.of(OBSERVATIONS_PER_PLATFORM, str(platform.pk))
    if quota is not None:
        wait = quota.spend(1)
        if wait:
            raise RateLimited(f"too many observations from {platform.name}: try again in {int(wait) + 1} seconds",
                              wait=wait)  # fmt: skip
    return quota


def observation_submit(*, platform: PlatformKey, payload: str, signature: Any) -> Observation:
    """Log a prepared observation with the platform's signature and the registry's (400 why not, 409 if stale).

    Counted against the platform's daily limit before anything is signed; a refusal after
    counting gives the unit back, so only logged observations count.
    """
    try:
        raw = b64decode(payload, "payload")
        st = pobs.parse_observation(raw)
    except ProvenanceError as exc:
        raise ValidationFailed(f"not an observation: {exc}", fields={"payload": [str(exc)]}) from exc
    if st["registry"] != settings.REGISTRY_LOG_ORIGIN:
        raise ValidationFailed("this observation is for another registry", fields={"payload": ["Another registry."]})
    if st["platform"]["id"] != str(platform.pk):
        raise ValidationFailed(
            "this observation names another platform than your API key's", fields={"payload": ["Another platform."]}
        )
    _check_date(st["observed_at"])
    quota = _spend(platform)
    try:
        return _log_observation(platform=platform, raw=raw, st=st, signature=signature)
    except BaseException:
        if quota is not None:
            quota.refund(1)
        raise


@transaction.atomic
def _log_observation(*, platform: PlatformKey, raw: bytes, st: dict[str, Any], signature: Any) -> Observation:
    rec = st["recording"]
    release = _observed_release(rec["isrc"], rec["upc"])
    _lock_release(release.pk)
    platform = _locked_platform(platform)
    events = history(platform)
    if st["platform"]["name"] != platform.name or st["platform"]["key_head"] != key_head(events):
        raise Conflict("the platform's keys (or name) changed since this observation was prepared: prepare it again")
    decl = None
    if st["declaration"] is not None:
        decl = Declaration.objects.filter(release=release, uid=st["declaration"]["id"]).select_related("leaf").first()
        if decl is None or bytes(decl.leaf.leaf_hash).hex() != st["declaration"]["leaf_hash"]:
            raise ValidationFailed("the observation names a declaration this release does not have")
    key = _check_signature(platform, pobs.OBSERVATION_PAYLOAD_TYPE, raw, signature)
    digest = hashlib.sha256(raw).hexdigest()
    logged = Observation.objects.filter(platform=platform, payload_sha256=digest).values_list("leaf_id", flat=True)
    if logged:  # under the platform's lock: a retry of the same statement never logs it twice
        raise Conflict(f"this observation is logged already, at log index {logged[0]}")
    _invalidate_answers(release)
    appended, bundle = signing.sign_and_log_bundled(
        payload_type=pobs.OBSERVATION_PAYLOAD_TYPE,
        payload=raw,
        signatures=[{"keyid": key.kid, "sig": signature["sig"]}],
        key_history=("platform_keys", [e.leaf_id for e in events]),
    )
    row = Observation.objects.create(
        platform=platform,
        release=release,
        declaration=decl,
        isrc=rec["isrc"],
        statement=st,
        payload_sha256=digest,
        leaf_id=appended.index,
        bundle=jcs.canonicalize(bundle).decode("utf-8"),
    )
    _publish(release.pk)
    _notify_label(release, row)
    return row


def _notify_label(release: Release, row: Observation) -> None:
    """The label's members hear of every observation on their release: they may amend, or ask staff to review it."""
    st = row.statement
    levels = ", ".join(f"{part} {level}" for part, level in st["observed"].items())
    body = (
        f"{st['platform']['name']} attached a signed observation to {row.isrc} on {release.title} (UPC {release.upc}): "
        f"{levels}, observed on {st['observed_at']} ({st['method']}); log index {row.leaf_id}.\n\n"
        "It is shown apart from your declaration and never changes it. If the platform is right, amend your "
        "declaration; if the observation is abuse, ask the registry to review it."
    )
    members = Membership.objects.filter(label_id=release.label_id).values_list("user__email", flat=True)
    to = sorted({e for e in members if e})
    if to:
        transaction.on_commit(lambda: send_mail(f"Observation on {release.title} by {st['platform']['name']}", body,
                                                None, to))  # fmt: skip


@transaction.atomic
def observation_hide(*, observation: Observation, actor: Any, reason: str) -> Observation:
    """Staff hide an abusive observation from pages and answers; its signed leaf stays in the log.

    Recorded with who and why (the admin's history keeps it too); showing it again is ``observation_unhide``.
    """
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("only registry staff hide an observation")
    reason = (reason or "").strip()
    if not reason or len(reason) > HIDE_REASON_MAX:
        raise ValidationFailed(f"say why, in at most {HIDE_REASON_MAX} characters", fields={"reason": ["Required."]})
    _lock_release(observation.release_id)
    row = Observation.objects.select_for_update().get(pk=observation.pk)
    if row.hidden_at is not None:
        raise Conflict("this observation is hidden already")
    row.hidden_at, row.hidden_by, row.hidden_reason = timezone.now(), actor, reason
    row.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
    _invalidate_answers(row.release)
    _publish(row.release_id)
    return row


def _lock_release(release_id: int) -> None:
    Release.objects.select_for_update(of=("self",)).filter(pk=release_id).values_list("pk", flat=True).first()


def _publish(release_id: int) -> None:
    """Rewrite the release's public observations (what answers splice), under the release's lock."""
    Release.objects.filter(pk=release_id).update(public_observations=selectors.public_json(release_id))


def _invalidate_answers(release: Release) -> None:
    if not lookup_cache.enabled():
        return
    current = Declaration.objects.filter(pk=release.current_declaration_id).values_list("statement", flat=True).first()
    if current is not None:
        lookup_cache.invalidate_on_commit(upc=release.upc, statement=current, previous_id=None)
