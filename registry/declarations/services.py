"""Declare, amend, withdraw: the one place where statements are signed and logged.

Each version is built from the catalog plus the AI facts per track, signed
into a DSSE envelope, appended to the log and stored, all in one
transaction: a declaration is either signed and logged, or does not exist.
Per release, the release row lock orders concurrent versions (no duplicate
version numbers); the log lock is always taken after it, so no deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from provenance import bundle as pbundle
from provenance import dsse, jcs, statement, vocabulary
from provenance.disclosure import summary_text
from provenance.errors import StatementError
from provenance.text import refusal
from registry.catalog.models import Release
from registry.declarations import cache as lookup_cache
from registry.declarations.models import Declaration, DeclaredRecording, IdentifierClaim
from registry.errors import Conflict, ValidationFailed
from registry.transparency import log
from registry.transparency.keys import active_key, load_private_key
from registry.transparency.models import SigningKey

TrackAI = Mapping[str, Any]  # {"parts": {...}, "voice_likeness": {...}, "tools": [...]}


def _clean_ai(isrc: str, ai: TrackAI | None) -> dict[str, Any]:
    if not isinstance(ai, Mapping):
        raise ValidationFailed(f"no AI declaration for track {isrc}", fields={f"ai.{isrc}": ["Declare this track."]})
    parts = ai.get("parts")
    if not isinstance(parts, Mapping):
        raise ValidationFailed(f"track {isrc}: parts are required", fields={f"ai.{isrc}.parts": ["Required."]})
    clean_parts = {}
    for part in vocabulary.PARTS:
        level = parts.get(part)
        if level not in vocabulary.LEVELS:
            raise ValidationFailed(
                f"track {isrc}: {part} must be none, partly or all",
                fields={f"ai.{isrc}.parts.{part}": ["Choose none, partly or all."]},
            )
        clean_parts[part] = level
    unknown = set(parts) - set(vocabulary.PARTS)
    if unknown:
        raise ValidationFailed(
            f"track {isrc}: unknown part(s) {', '.join(sorted(map(str, unknown)))}",
            fields={f"ai.{isrc}.parts": ["Unknown part."]},
        )
    likeness = ai.get("voice_likeness") or {}
    if not isinstance(likeness, Mapping):
        raise ValidationFailed(
            f"track {isrc}: voice_likeness must be an object",
            fields={f"ai.{isrc}.voice_likeness": ["Must be an object."]},
        )
    imitates = likeness.get("imitates_real_person", False)
    if not isinstance(imitates, bool):
        raise ValidationFailed(
            f"track {isrc}: imitates_real_person must be true or false",
            fields={f"ai.{isrc}.voice_likeness": ["true or false."]},
        )
    consent = likeness.get("consent_reference") or None
    if consent is not None and (not isinstance(consent, str) or len(consent) > 500):
        raise ValidationFailed(
            f"track {isrc}: consent_reference must be text",
            fields={f"ai.{isrc}.voice_likeness": ["Text, at most 500 characters."]},
        )
    refused = refusal(consent) if consent else None
    if refused is not None:
        raise ValidationFailed(
            f"track {isrc}: consent_reference: {refused}", fields={f"ai.{isrc}.voice_likeness": [refused]}
        )
    if imitates and not (consent and consent.strip()):
        raise ValidationFailed(
            f"track {isrc}: a consent reference is required when the voice imitates a real person",
            fields={f"ai.{isrc}.voice_likeness.consent_reference": ["Required when the voice imitates a real person."]},
        )
    tools = ai.get("tools") or []
    if (
        not isinstance(tools, list)
        or len(tools) > 50
        or not all(isinstance(t, str) and t.strip() and len(t) <= 200 for t in tools)
    ):
        raise ValidationFailed(
            f"track {isrc}: tools must be a list of names", fields={f"ai.{isrc}.tools": ["A list of tool names."]}
        )
    refused = next((r for r in map(refusal, tools) if r is not None), None)
    if refused is not None:
        raise ValidationFailed(f"track {isrc}: a tool name: {refused}", fields={f"ai.{isrc}.tools": [refused]})
    return {
        "parts": clean_parts,
        "voice_likeness": {"imitates_real_person": imitates, "consent_reference": consent.strip() if consent else None},
        "tools": [t.strip() for t in tools],
    }


def _catalog_statement_input(release: Release, ai: Mapping[str, TrackAI]) -> dict[str, Any]:
    tracks = list(release.tracks.select_related("recording").prefetch_related("artists"))
    if not tracks:
        raise ValidationFailed("the release has no tracks to declare")
    known = {t.recording.isrc for t in tracks}
    extra = set(ai) - known
    if extra:
        raise ValidationFailed(
            f"not on this release: {', '.join(sorted(extra))}",
            fields={"ai": [f"Unknown ISRC {i}." for i in sorted(extra)]},
        )
    artists = [a.as_statement() for a in release.artists.order_by("releaseartist__position")]
    if not artists:
        raise ValidationFailed("the release has no artists")
    return {
        "label": {"name": release.label.name, "dpid": release.label.dpid, "verified": release.label.verified},
        "release": {
            "upc": release.upc,
            "title": release.title,
            "release_date": release.release_date,
            "artwork": release.artwork_ai,
        },
        "artists": artists,
        "tracks": [
            {
                "isrc": t.recording.isrc,
                "title": t.title,
                "position": t.position,
                "duration": t.duration,
                "audio_sha256": t.audio_sha256,
                "artists": [a.as_statement() for a in t.artists.all()],
                **_clean_ai(t.recording.isrc, ai.get(t.recording.isrc)),
            }
            for t in tracks
        ],
    }


def _statement_key() -> tuple[SigningKey, Any]:
    """The active statement key, row-locked until commit, so a rotation cannot retire it while we sign.

    key_rotate() locks the same row before it stamps the old key's not_after, so it waits for signers
    holding the key, and its not_after falls after their declared_at. A signer that waited for a rotation
    finds the row no longer active (PostgreSQL re-checks it on unlock) and reads again: the new key.
    Without this, a statement dated after a retired key's not_after would be signed by it: invalid.
    """
    for _ in range(3):
        key = (
            SigningKey.objects.select_for_update(no_key=True)
            .filter(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE)
            .first()
        )
        if key is not None:
            return key, load_private_key(key)
    return active_key(SigningKey.STATEMENT)  # none active: the usual clear error


def _held_elsewhere(release: Release, st: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The statement's identifiers that another label holds (it signed them first)."""
    wanted = [(IdentifierClaim.UPC, release.upc)] + [(IdentifierClaim.ISRC, t["isrc"]) for t in st["tracks"]]
    values = {v for _, v in wanted}
    held = {
        (kind, value)
        for kind, value in IdentifierClaim.objects.filter(value__in=values)
        .exclude(label_id=release.label_id)
        .values_list("kind", "value")
    }
    return [w for w in wanted if w in held]


def _refuse_held(release: Release, taken: list[tuple[str, str]]) -> None:
    if not taken:
        return
    fields: dict[str, list[str]] = {}
    names = []
    for kind, value in taken:
        name = f"{'UPC' if kind == IdentifierClaim.UPC else 'ISRC'} {value}"
        names.append(name)
        field = "upc" if kind == IdentifierClaim.UPC else f"isrc.{value}"
        fields.setdefault(field, []).append(f"{name} belongs to another label, which declared it first.")
    if len(names) == 1:
        raise Conflict(f"{names[0]} belongs to another label, which declared it first", fields=fields)
    raise Conflict(f"{', '.join(names)} belong to another label, which declared them first", fields=fields)


def _claim(release: Release, st: Mapping[str, Any], declaration: Declaration) -> None:
    """Hold the statement's identifiers for the label; refuse (rolling the whole version back) if another does.

    Inserted with ON CONFLICT DO NOTHING, then read back: a label that signed the same
    identifier a moment earlier wins, and this transaction (leaf included) is undone.
    """
    wanted = [(IdentifierClaim.UPC, release.upc)] + [(IdentifierClaim.ISRC, t["isrc"]) for t in st["tracks"]]
    IdentifierClaim.objects.bulk_create(
        [IdentifierClaim(kind=k, value=v, label_id=release.label_id, declaration=declaration) for k, v in wanted],
        ignore_conflicts=True,
    )
    _refuse_held(release, _held_elsewhere(release, st))


def _sign_and_log(
    *,
    release: Release,
    st: dict[str, Any],
    actor: Any,
    via: str,
) -> Declaration:
    """The only place that signs a statement and appends it to the log."""
    _refuse_held(release, _held_elsewhere(release, st))  # before signing: the usual case costs no leaf
    key, private = _statement_key()
    # Dated now, under the key's lock: inside the key's validity window however long we waited for it.
    st["declaration"]["declared_at"] = statement.format_timestamp(timezone.now())
    envelope = dsse.sign_envelope(statement.statement_bytes(st), private)
    leaf_data = jcs.canonicalize(envelope).decode("ascii")
    # Everything derived from the statement is computed before the log lock is taken:
    # appends are serialized, so work under the lock caps the registry's write rate.
    release_summary = summary_text(st)
    track_summaries = {t["isrc"]: summary_text(st, t["isrc"]) for t in st["tracks"]}
    appended = log.append_one(leaf_data)
    bundle = pbundle.make_bundle(
        envelope,
        origin=settings.REGISTRY_LOG_ORIGIN,
        index=appended.index,
        tree_size=appended.tree_size,
        proof=appended.inclusion_proof,
        checkpoint=appended.checkpoint,
    )
    decl = st["declaration"]
    declaration = Declaration.objects.create(
        uid=decl["id"],
        release=release,
        version=decl["version"],
        status=decl["status"],
        reason=decl["reason"] or "",
        supersedes=decl["supersedes"],
        declared_at=statement.parse_timestamp(decl["declared_at"]),
        declared_by=actor if getattr(actor, "is_authenticated", False) else None,
        via=via,
        contains_ai=st["release"]["contains_ai"],
        statement=st,
        leaf_id=appended.index,
        key=key,
        bundle=jcs.canonicalize(bundle).decode("utf-8"),
        summary=release_summary,
    )
    DeclaredRecording.objects.bulk_create(
        [
            DeclaredRecording(
                declaration=declaration,
                isrc=t["isrc"],
                position=t["position"],
                contains_ai=t["contains_ai"],
                summary=track_summaries[t["isrc"]],
            )
            for t in st["tracks"]
        ]
    )
    _claim(release, st, declaration)
    lookup_cache.invalidate_on_commit(upc=release.upc, statement=st, previous_id=release.current_declaration_id)
    release.current_declaration = declaration
    release.save(update_fields=["current_declaration"])
    return declaration


def _build(
    release: Release,
    *,
    version: int,
    status: str,
    supersedes: str | None,
    reason: str | None,
    uid: str,
    content: Mapping[str, Any],
) -> dict[str, Any]:
    try:
        return statement.build_statement(
            registry=settings.REGISTRY_LOG_ORIGIN,
            declaration_id=uid,
            version=version,
            status=status,
            supersedes=supersedes,
            reason=reason,
            declared_at=timezone.now(),
            label=content["label"],
            release=content["release"],
            artists=content["artists"],
            tracks=content["tracks"],
        )
    except StatementError as exc:
        raise ValidationFailed(str(exc), fields={exc.path or "statement": [str(exc)]}) from exc


def _locked(release: Release) -> tuple[Release, Declaration | None]:
    locked = Release.objects.select_for_update().select_related("label").get(pk=release.pk)
    current = None
    if locked.current_declaration_id:
        current = Declaration.objects.select_related("leaf").get(pk=locked.current_declaration_id)
    return locked, current


def _check_expected(current: Declaration | None, expected_version: int | None) -> None:
    have = current.version if current else 0
    if expected_version is not None and expected_version != have:
        raise Conflict(f"the declaration is at version {have}, not {expected_version}; reload and try again")


def _reason(reason: str | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(
            "a reason is required", fields={"reason": ["Say why this version replaces the last one."]}
        )
    if len(reason) > 2000:
        raise ValidationFailed("the reason is too long", fields={"reason": ["At most 2000 characters."]})
    refused = refusal(reason, multiline=True)
    if refused is not None:
        raise ValidationFailed(f"reason: {refused}", fields={"reason": [refused]})
    return reason.strip()


@transaction.atomic
def declaration_create(
    *, release: Release, ai: Mapping[str, TrackAI], actor: Any = None, via: str = "web"
) -> Declaration:
    """Version 1 of a release's declaration."""
    release, current = _locked(release)
    if current is not None:
        raise Conflict(f"release {release.upc} is declared already (version {current.version}); amend it instead")
    st = _build(
        release,
        version=1,
        status=Declaration.ACTIVE,
        supersedes=None,
        reason=None,
        uid=str(uuid.uuid4()),
        content=_catalog_statement_input(release, ai),
    )
    return _sign_and_log(release=release, st=st, actor=actor, via=via)


def _merged_ai(release: Release, current: Declaration, ai: Mapping[str, TrackAI] | None) -> dict[str, Any]:
    """The facts of the next version: the previous version's, updated with ``ai``."""
    isrcs = set(release.tracks.values_list("recording__isrc", flat=True))
    unknown = set(ai or {}) - isrcs
    if unknown:
        # Never sign a version that silently drops facts the label meant to declare.
        raise ValidationFailed(
            f"not on this release: {', '.join(sorted(unknown))}",
            fields={"ai": [f"Unknown ISRC {i}." for i in sorted(unknown)]},
        )
    merged = previous_ai(current)
    merged.update(ai or {})
    # Tracks removed from the release since the last version drop out with their facts.
    return {isrc: facts for isrc, facts in merged.items() if isrc in isrcs}


def statement_preview(
    *, release: Release, ai: Mapping[str, TrackAI], reason: str | None = None, artwork: str | None = None
) -> dict[str, Any]:
    """The statement the next active version of ``release`` would sign, built by the signing code.

    For review pages: every fact is as it will be signed; the declaration id of a
    first version and the timestamp are placeholders until signing. ``artwork``
    previews a change of the artwork level before it is saved.
    """
    current = Declaration.objects.filter(pk=release.current_declaration_id).select_related("leaf").first()
    content = _catalog_statement_input(release, _merged_ai(release, current, ai) if current else ai)
    if artwork is not None:
        content["release"]["artwork"] = artwork
    return _build(
        release,
        version=current.version + 1 if current else 1,
        status=Declaration.ACTIVE,
        supersedes=current.leaf_hash_hex if current else None,
        reason=reason,
        uid=str(current.uid) if current else str(uuid.uuid4()),
        content=content,
    )


def previous_ai(current: Declaration) -> dict[str, dict[str, Any]]:
    """The AI facts per ISRC of a signed version, to carry into the next one."""
    return {
        t["isrc"]: {"parts": t["parts"], "voice_likeness": t["voice_likeness"], "tools": t["tools"]}
        for t in current.statement["tracks"]
    }


@transaction.atomic
def declaration_amend(
    *,
    release: Release,
    reason: str,
    ai: Mapping[str, TrackAI] | None = None,
    actor: Any = None,
    via: str = "web",
    expected_version: int | None = None,
) -> Declaration:
    """A new active version; tracks not named in ``ai`` keep their previous facts."""
    reason = _reason(reason)
    release, current = _locked(release)
    if current is None:
        raise Conflict(f"release {release.upc} has no declaration to amend; declare it first")
    _check_expected(current, expected_version)
    merged = _merged_ai(release, current, ai)
    st = _build(
        release,
        version=current.version + 1,
        status=Declaration.ACTIVE,
        supersedes=current.leaf_hash_hex,
        reason=reason,
        uid=str(current.uid),
        content=_catalog_statement_input(release, merged),
    )
    return _sign_and_log(release=release, st=st, actor=actor, via=via)


@transaction.atomic
def declaration_withdraw(
    *,
    release: Release,
    reason: str,
    actor: Any = None,
    via: str = "web",
    expected_version: int | None = None,
) -> Declaration:
    """A withdrawal is a signed version too: same content, status withdrawn, with the reason."""
    reason = _reason(reason)
    release, current = _locked(release)
    if current is None:
        raise Conflict(f"release {release.upc} has no declaration to withdraw")
    if current.status == Declaration.WITHDRAWN:
        raise Conflict(f"release {release.upc} is withdrawn already")
    _check_expected(current, expected_version)
    prev = current.statement
    st = _build(
        release,
        version=current.version + 1,
        status=Declaration.WITHDRAWN,
        supersedes=current.leaf_hash_hex,
        reason=reason,
        uid=str(current.uid),
        content={
            "label": {"name": release.label.name, "dpid": release.label.dpid, "verified": release.label.verified},
            "release": {**prev["release"]},
            "artists": prev["artists"],
            "tracks": prev["tracks"],
        },
    )
    return _sign_and_log(release=release, st=st, actor=actor, via=via)


@transaction.atomic
def declaration_resign(*, release: Release, reason: str, actor: Any = None, via: str = "admin") -> Declaration:
    """Re-sign the current version's facts as a new version (after a statement key is revoked)."""
    reason = _reason(reason)
    release, current = _locked(release)
    if current is None:
        raise Conflict(f"release {release.upc} has no declaration to re-sign")
    prev = current.statement
    st = _build(
        release,
        version=current.version + 1,
        status=current.status,
        supersedes=current.leaf_hash_hex,
        reason=reason,
        uid=str(current.uid),
        content={
            "label": prev["label"],
            "release": prev["release"],
            "artists": prev["artists"],
            "tracks": prev["tracks"],
        },
    )
    return _sign_and_log(release=release, st=st, actor=actor, via=via)
