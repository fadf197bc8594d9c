"""Declare, amend, withdraw: how every version of a declaration is built, previewed and signed.

``version_sign`` is the one write path for a new active version (the web forms,
the API, the DDEX import and batches call it); ``version_preview`` is the same
code in dry-run mode. Each version is built from the catalog plus the AI facts
per track and handed to ``signing.sign_and_log``, all in one transaction: a
declaration is either signed and logged, or does not exist. Per release, the
release row lock orders concurrent versions (no duplicate version numbers); the
log lock is always taken after it, so no deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from provenance import limits, statement, vocabulary
from provenance.errors import StatementError
from provenance.text import refusal
from registry.catalog.models import TRACK_ARTISTS_ORDER, Artist, Label, Release
from registry.catalog.services import release_update
from registry.declarations import signing
from registry.declarations.models import Declaration
from registry.errors import Conflict, ValidationFailed
from registry.ownership.selectors import identifiers_verified

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
    if consent is not None and (not isinstance(consent, str) or len(consent) > limits.CONSENT_REFERENCE_MAX):
        raise ValidationFailed(
            f"track {isrc}: consent_reference must be text",
            fields={f"ai.{isrc}.voice_likeness": [f"Text, at most {limits.CONSENT_REFERENCE_MAX} characters."]},
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
        or len(tools) > limits.TOOLS_MAX
        or not all(isinstance(t, str) and t.strip() and len(t) <= limits.TOOL_MAX for t in tools)
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
    tracks = list(
        release.tracks.select_related("recording").prefetch_related(
            Prefetch("artists", queryset=Artist.objects.order_by(*TRACK_ARTISTS_ORDER))
        )
    )
    return catalog_content(
        label=release.label,
        release=release,
        artists=list(release.artists.order_by("releaseartist__position")),
        tracks=[
            {
                "isrc": t.recording.isrc,
                "title": t.title,
                "position": t.position,
                "duration": t.duration,
                "audio_sha256": t.audio_sha256,
                "artists": list(t.artists.all()),
            }
            for t in tracks
        ],
        ai=ai,
    )


def catalog_content(
    *,
    label: Label,
    release: Release,
    artists: Sequence[Artist],
    tracks: Sequence[Mapping[str, Any]],
    ai: Mapping[str, TrackAI],
    held: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """What a statement says of the catalog, checked against the AI facts: from rows read back, or from a batch's memory.

    ``held``: the label's verified prefixes when the caller read them already (a batch), else read here.

    ``tracks``: isrc, title, position, duration, audio_sha256 and artists (in ``TRACK_ARTISTS_ORDER``).
    ``registry.declarations.batch`` builds new releases' statements with this too, before their rows exist.
    """
    if not tracks:
        raise ValidationFailed("the release has no tracks to declare")
    tracks = sorted(tracks, key=lambda t: t["position"])
    known = {t["isrc"] for t in tracks}
    extra = set(ai) - known
    if extra:
        raise ValidationFailed(
            f"not on this release: {', '.join(sorted(extra))}",
            fields={"ai": [f"Unknown ISRC {i}." for i in sorted(extra)]},
        )
    if not artists:
        raise ValidationFailed("the release has no artists")
    # Which identifiers fall outside the label's verified prefixes, as of signing (docs/protocol.md §1).
    checked = identifiers_verified(release.label_id, release.upc, known, held)
    return {
        "label": {"name": label.name, "dpid": label.dpid, "verified": label.verified},
        "release": {
            "upc": release.upc,
            "title": release.title,
            "genre": release.genre,
            "release_date": release.release_date,
            "artwork": release.artwork_ai,
            "identifiers_verified": checked,
        },
        "artists": [a.as_statement() for a in artists],
        "tracks": [
            {
                "isrc": t["isrc"],
                "title": t["title"],
                "position": t["position"],
                "duration": t["duration"],
                "audio_sha256": t["audio_sha256"],
                "artists": [a.as_statement() for a in t["artists"]],
                **_clean_ai(t["isrc"], ai.get(t["isrc"])),
            }
            for t in tracks
        ],
    }


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
    # of=("self",): the release row only. Without it PostgreSQL locks the joined label row FOR UPDATE too,
    # which serializes a label's writers and conflicts with the KEY SHARE lock every insert referencing the
    # label takes at commit (a batch's new releases): a deadlock against the statement key's lock.
    locked = Release.objects.select_for_update(of=("self",)).select_related("label").get(pk=release.pk)
    current = None
    if locked.current_declaration_id:
        current = Declaration.objects.select_related("leaf").get(pk=locked.current_declaration_id)
    return locked, current


class StaleVersion(Conflict):
    """A version was signed after the caller read the one it builds on (``expected_version``)."""


def _check_expected(current: Declaration | None, expected_version: int | None) -> None:
    have = current.version if current else 0
    if expected_version is not None and expected_version != have:
        raise StaleVersion(
            f"the declaration is at version {have}, not {expected_version}: someone else signed version {have} "
            "while you were reviewing; start again from the current version"
        )


def _reason(reason: str | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(
            "a reason is required", fields={"reason": ["Say why this version replaces the last one."]}
        )
    if len(reason) > limits.REASON_MAX:
        raise ValidationFailed(
            "the reason is too long", fields={"reason": [f"At most {limits.REASON_MAX} characters."]}
        )
    refused = refusal(reason, multiline=True)
    if refused is not None:
        raise ValidationFailed(f"reason: {refused}", fields={"reason": [refused]})
    return reason.strip()


@dataclass(frozen=True)
class CatalogChange:
    """Catalog details a version changes: ``catalog.services.release_update``'s arguments (None: unchanged)."""

    title: str | None = None
    genre: str | None = None
    release_date: date | None = None
    clear_release_date: bool = False
    artwork_ai: str | None = None
    artists: Sequence[Artist | Mapping[str, Any]] | None = None
    tracks: Sequence[Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class NextVersion:
    """What the next active version says, relative to the current one.

    ``ai``: facts per ISRC; on an amendment, tracks not named keep their previous facts.
    ``catalog``: catalog details changed in the same transaction as the signature.
    ``expected_version``: the version the caller read (0: none yet); None skips the check.
    """

    ai: Mapping[str, TrackAI] = field(default_factory=dict)
    reason: str | None = None
    catalog: CatalogChange | None = None
    expected_version: int | None = None
    # An amendment must change a signed fact (a reason alone explains a change, it is not one): every door
    # sets it (label forms, DDEX imports, batches, the API single and bulk). Off by default for what
    # re-signs on purpose: the administrators' re-sign after a key revocation (``declaration_resign``).
    require_change: bool = False


class NothingChanges(ValidationFailed):
    """An amendment that would sign the current version's facts again."""

    code = "unchanged"


# Members of a statement's label that say how it is signed (docs/protocol.md §14.2), not what is declared.
COSIGN_LABEL_MEMBERS = ("id", "key_head")


def _declared(st: Mapping[str, Any]) -> dict[str, Any]:
    label = {k: v for k, v in st["label"].items() if k not in COSIGN_LABEL_MEMBERS}
    return {key: value for key, value in st.items() if key != "declaration"} | {"label": label}


def unchanged(previous: Mapping[str, Any], st: Mapping[str, Any]) -> bool:
    """True when ``st`` states exactly ``previous``'s facts and status: only version, reason and times differ.

    Whether either version is co-signed by the label (``label.id``, ``label.key_head``) is not a fact it states.
    """
    if previous["declaration"]["status"] != st["declaration"]["status"]:
        return False
    return _declared(previous) == _declared(st)


def refuse_unchanged(release: Release, change: NextVersion, st: Mapping[str, Any]) -> None:
    """NothingChanges when ``change.require_change`` and ``st`` states the current version's facts again.

    Every door that signs a next version asks this after building it (``version_sign``, and
    ``batch.versions_sign_many`` per item); ``release`` is the row locked by the build.
    """
    if not change.require_change or release.current_declaration_id is None:
        return
    current = Declaration.objects.only("statement", "version").get(pk=release.current_declaration_id)
    if unchanged(current.statement, st):
        raise NothingChanges(
            f"nothing changes from version {current.version}: an amendment must change a declared fact "
            "(the reason alone is not a change)",
            fields={"ai": ["Change an answer or a catalog detail, or leave the declaration as it is."]},
        )


FIRST, AMEND, EITHER = "first", "amend", "either"


def _check_next(release: Release, current: Declaration | None, change: NextVersion, kind: str) -> None:
    if kind == FIRST and current is not None:
        raise Conflict(f"release {release.upc} is declared already (version {current.version}); amend it instead")
    if kind == AMEND and current is None:
        raise Conflict(f"release {release.upc} has no declaration to amend; declare it first")
    _check_expected(current, change.expected_version)


def _first(release: Release, content: Mapping[str, Any]) -> dict[str, Any]:
    return _build(
        release,
        version=1,
        status=Declaration.ACTIVE,
        supersedes=None,
        reason=None,
        uid=str(uuid.uuid4()),
        content=content,
    )


def _next_statement(release: Release, change: NextVersion, *, kind: str) -> tuple[Release, dict[str, Any]]:
    """Lock, check the version, apply the catalog change, merge, build: the statement the next version signs.

    The one path of every door (web forms, the API, the DDEX import, batches): ``version_sign``
    signs what this returns, ``version_preview`` shows it and rolls the catalog change back.
    ``new_release_statement`` is this for a release a batch has not inserted yet.
    """
    release, current = _locked(release)
    _check_next(release, current, change, kind)
    if change.catalog is not None:
        release_update(release=release, **asdict(change.catalog))
    if current is None:
        st = _first(release, _catalog_statement_input(release, change.ai))
    else:
        st = _build(
            release,
            version=current.version + 1,
            status=Declaration.ACTIVE,
            supersedes=current.leaf_hash_hex,
            reason=_reason(change.reason),
            uid=str(current.uid),
            content=_catalog_statement_input(release, _merged_ai(release, current, change.ai)),
        )
    return release, st


@dataclass(frozen=True)
class CoSign:
    """A statement prepared earlier and signed by the label (docs/protocol.md §14.2).

    ``prepared``: the statement as the registry fixed it (id, version, declared_at, supersedes,
    label.id and label.key_head); ``signature``: the label's, checked by the caller.
    """

    prepared: Mapping[str, Any]
    signature: signing.LabelSignature


def _as_prepared(st: dict[str, Any], cosign: CoSign) -> dict[str, Any]:
    """``st`` rebuilt now, with what prepare fixed; Conflict when anything else differs from what the label signed."""
    prepared = cosign.prepared
    st["declaration"]["id"] = prepared["declaration"]["id"]
    st["declaration"]["declared_at"] = prepared["declaration"]["declared_at"]
    st["label"] = {**st["label"], "id": prepared["label"]["id"], "key_head": prepared["label"]["key_head"]}
    if statement.statement_bytes(st) != statement.statement_bytes(prepared):
        raise Conflict("the release changed since this statement was prepared: prepare and sign it again")
    return st


def new_release_statement(
    release: Release,
    *,
    artists: Sequence[Artist],
    tracks: Sequence[Mapping[str, Any]],
    change: NextVersion,
    kind: str,
    held: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """``_next_statement`` of a release about to be created, from the catalog facts in memory (no row read back).

    Same checks and the same statement, byte for byte, as ``_next_statement`` once the release
    exists (``catalog_content``; tests/registry/declarations/test_batch_catalog.py). A catalog
    change is not applied here: such items take ``_next_statement``.
    """
    if change.catalog is not None:
        raise ValueError("a catalog change is applied by _next_statement, to a release that exists")
    _check_next(release, None, change, kind)
    content = catalog_content(
        label=release.label, release=release, artists=artists, tracks=tracks, ai=change.ai, held=held
    )
    return _first(release, content)


@transaction.atomic
def version_sign(
    *,
    release: Release,
    change: NextVersion,
    actor: Any = None,
    via: str = "web",
    kind: str = EITHER,
    cosign: CoSign | None = None,
) -> Declaration:
    """Sign the next active version of ``release`` (the first, or an amendment), catalog change included.

    One transaction: if anything fails, the catalog change is not kept either. With ``cosign``
    the statement must come out exactly as prepared (a version that landed in between: 409).
    """
    release, st = _next_statement(release, change, kind=kind)
    if cosign is not None:
        st = _as_prepared(st, cosign)
    refuse_unchanged(release, change, st)
    return signing.sign_and_log(
        release=release, st=st, actor=actor, via=via, cosigned=cosign.signature if cosign is not None else None
    )


def version_preview(*, release: Release, change: NextVersion, kind: str = EITHER) -> dict[str, Any]:
    """The statement ``version_sign`` would sign now, built by the same code; nothing is kept.

    For review pages: every fact is as it will be signed; the declaration id of a first
    version and the timestamp are placeholders until signing.
    """
    with transaction.atomic():
        locked, st = _next_statement(release, change, kind=kind)
        signing.refuse_held(locked, st)  # signing checks again, authoritatively
        signing.refuse_oversized(st)
        transaction.set_rollback(True)
    return st


def declaration_create(
    *, release: Release, ai: Mapping[str, TrackAI], actor: Any = None, via: str = "web"
) -> Declaration:
    """Version 1 of a release's declaration."""
    return version_sign(release=release, change=NextVersion(ai=ai), actor=actor, via=via, kind=FIRST)


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
    merged: dict[str, Any] = previous_ai(current)
    merged.update(ai or {})
    # Tracks removed from the release since the last version drop out with their facts.
    return {isrc: facts for isrc, facts in merged.items() if isrc in isrcs}


def previous_ai(current: Declaration) -> dict[str, dict[str, Any]]:
    """The AI facts per ISRC of a signed version, to carry into the next one."""
    return {
        t["isrc"]: {"parts": t["parts"], "voice_likeness": t["voice_likeness"], "tools": t["tools"]}
        for t in current.statement["tracks"]
    }


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
    change = NextVersion(ai=ai or {}, reason=reason, expected_version=expected_version)
    return version_sign(release=release, change=change, actor=actor, via=via, kind=AMEND)


def _withdrawal_statement(
    release: Release, *, reason: str | None, expected_version: int | None
) -> tuple[Release, dict[str, Any]]:
    """Lock, check, build: the statement of a withdrawal (same content, status withdrawn, with the reason)."""
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
    return release, st


@transaction.atomic
def declaration_withdraw(
    *,
    release: Release,
    reason: str,
    actor: Any = None,
    via: str = "web",
    expected_version: int | None = None,
    cosign: CoSign | None = None,
) -> Declaration:
    """A withdrawal is a signed version too: same content, status withdrawn, with the reason.

    With ``cosign``, the withdrawal must come out exactly as prepared (``withdrawal_preview``).
    """
    release, st = _withdrawal_statement(release, reason=reason, expected_version=expected_version)
    if cosign is not None:
        st = _as_prepared(st, cosign)
    return signing.sign_and_log(
        release=release,
        st=st,
        actor=actor,
        via=via,
        restates=True,
        cosigned=cosign.signature if cosign is not None else None,
    )


def withdrawal_preview(*, release: Release, reason: str, expected_version: int | None = None) -> dict[str, Any]:
    """The statement ``declaration_withdraw`` would sign now, built by the same code; nothing is kept."""
    with transaction.atomic():
        _, st = _withdrawal_statement(release, reason=reason, expected_version=expected_version)
        signing.refuse_oversized(st)
        transaction.set_rollback(True)
    return st


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
    return signing.sign_and_log(release=release, st=st, actor=actor, via=via, restates=True)
