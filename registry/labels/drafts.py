"""Drafts of a release's next signed version: their stored form, and that form as the signing service's input.

A draft (kept in the server-side draft store, ``registry.labels.draft_store``)
holds the AI answers per ISRC and, when the catalog details of a declared
release are being edited, the pending catalog edit. This module only
(de)serializes: the rules live in ``catalog.services`` and
``declarations.services.version_sign``, which applies the edit and signs in one
transaction, so an abandoned edit leaves the catalog exactly as the signed
declaration describes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from django.db import transaction

from provenance import vocabulary
from registry.catalog.models import Artist, Recording, Release, Track
from registry.catalog.services import release_update
from registry.declarations.models import Declaration
from registry.declarations.services import (
    CatalogChange,
    NextVersion,
    NothingChanges,
    StaleVersion,
    unchanged,
    version_preview,
    version_sign,
)
from registry.errors import ValidationFailed
from registry.labelkeys.models import PreparedDeclaration
from registry.labelkeys.services import declaration_prepare, declaration_submit

# {"mode", "artwork", "reason", "expected_version", "ai": {isrc: TrackAI}, "catalog": CatalogEdit (optional),
#  "imported", "sources", "import_changes" (optional: from a DDEX file, see registry.labels.imports)}
Draft = Mapping[str, Any]
# {"title", "release_date": ISO date or None, "artwork_ai",
#  "artists": [{"id": pk} or {"name", "isni", "persona"}],
#  "tracks": [{"isrc", "title", "position", "duration", "audio_sha256"}]}
CatalogEdit = Mapping[str, Any]


# Someone signed a version after this draft was started: it describes an older version.
StaleDraft = StaleVersion


def session_key(release: Release) -> str:
    return f"labels:draft:{release.pk}"


def version_of(release: Release) -> int:
    return release.current_declaration.version if release.current_declaration_id else 0


# --- catalog edits ----------------------------------------------------------


def catalog_edit(
    *,
    title: str,
    genre: str,
    release_date: date | None,
    artwork_ai: str,
    artists: Sequence[Artist | Mapping[str, Any]],
    tracks: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A catalog edit as it is kept in the session (JSON: dates as text, picked artists by id)."""
    return {
        "title": title,
        "genre": genre,
        "release_date": release_date.isoformat() if release_date else None,
        "artwork_ai": artwork_ai,
        "artists": [{"id": a.pk} if isinstance(a, Artist) else dict(a) for a in artists],
        "tracks": [dict(t) for t in tracks],
    }


def catalog_snapshot(release: Release) -> dict[str, Any]:
    """The release's current catalog details, in the shape of a catalog edit."""
    tracks = release.tracks.select_related("recording").order_by("position")
    return {
        "title": release.title,
        "genre": release.genre,
        "release_date": release.release_date.isoformat() if release.release_date else None,
        "artwork_ai": release.artwork_ai,
        "artists": [{"id": a.pk} for a in release.artists.order_by("releaseartist__position")],
        "tracks": [
            {
                "isrc": t.recording.isrc,
                "title": t.title,
                "position": t.position,
                "duration": t.duration,
                "audio_sha256": t.audio_sha256,
            }
            for t in tracks
        ],
    }


def catalog_unchanged(release: Release, catalog: CatalogEdit) -> bool:
    """True when saving ``catalog`` would change nothing (a blank duration or hash keeps the known one)."""
    now = catalog_snapshot(release)
    known = {t["isrc"]: t for t in now["tracks"]}
    tracks = []
    for t in sorted(catalog["tracks"], key=lambda t: t["position"]):
        before = known.get(t["isrc"], {})
        tracks.append(
            {
                **t,
                "duration": t.get("duration") if t.get("duration") is not None else before.get("duration"),
                "audio_sha256": t.get("audio_sha256") or before.get("audio_sha256"),
            }
        )
    # A draft saved before genres were collected has none: it keeps the release's.
    return {**catalog, "genre": catalog.get("genre") or now["genre"], "tracks": tracks} == now


def catalog_change(release: Release, catalog: CatalogEdit) -> CatalogChange:
    """A stored catalog edit as the catalog service's arguments (artists picked by id looked up again)."""
    picked = [a["id"] for a in catalog["artists"] if "id" in a]
    known = Artist.objects.filter(label_id=release.label_id).in_bulk(picked)
    artists: list[Artist | Mapping[str, Any]] = []
    for a in catalog["artists"]:
        if "id" not in a:
            artists.append(a)
        elif a["id"] in known:
            artists.append(known[a["id"]])
        else:
            raise ValidationFailed(
                "an artist you picked is no longer in the catalog", fields={"artists": ["Pick the artists again."]}
            )
    when = catalog.get("release_date")
    return CatalogChange(
        title=catalog["title"],
        genre=catalog.get("genre") or None,
        release_date=date.fromisoformat(when) if when else None,
        clear_release_date=not when,
        artwork_ai=catalog["artwork_ai"],
        artists=artists,
        tracks=[dict(t) for t in catalog["tracks"]],
    )


def catalog_check(*, release: Release, catalog: CatalogEdit) -> None:
    """Raise the DomainError that saving ``catalog`` would raise; change nothing (the catalog service validates)."""
    with transaction.atomic():
        locked = Release.objects.select_related("label").get(pk=release.pk)
        release_update(release=locked, **asdict(catalog_change(locked, catalog)))
        transaction.set_rollback(True)


@transaction.atomic
def release_edit(*, release: Release, catalog: CatalogEdit) -> Release:
    """Save catalog details of a release that is not declared yet (a declared one changes with a new version)."""
    locked = Release.objects.select_for_update().select_related("label").get(pk=release.pk)
    if locked.current_declaration_id is not None:
        raise StaleDraft(
            f"release {locked.upc} was declared meanwhile; its details now change with a new signed version"
        )
    release_update(release=locked, **asdict(catalog_change(locked, catalog)))
    return locked


def pending_tracks(catalog: CatalogEdit) -> list[Track]:
    """The tracks a pending edit would give the release, as unsaved rows (for the declare matrix)."""
    return [
        Track(position=t["position"], title=t["title"], recording=Recording(isrc=t["isrc"]))
        for t in sorted(catalog["tracks"], key=lambda t: t["position"])
    ]


# --- the draft as the one signing service's input ---------------------------------


def no_ai_draft(release: Release) -> dict[str, Any]:
    """A first declaration's draft saying "No AI" for every part of every track (the release form's shortcut).

    The artwork level is the one the release form gave; the label reviews everything before signing.
    """
    isrcs = release.tracks.values_list("recording__isrc", flat=True)
    return {
        "mode": "declare",
        "artwork": release.artwork_ai,
        "reason": None,
        "expected_version": version_of(release),
        "ai": {
            isrc: {
                "parts": dict.fromkeys(vocabulary.PARTS, vocabulary.NONE),
                "voice_likeness": {"imitates_real_person": False, "consent_reference": None},
                "tools": [],
            }
            for isrc in isrcs
        },
    }


def next_version(release: Release, draft: Draft) -> NextVersion:
    """A reviewed draft as what the next version says (``declarations.services.NextVersion``)."""
    try:
        ai = {isrc: dict(facts) for isrc, facts in draft["ai"].items()}
        artwork = draft["artwork"]
    except KeyError as exc:
        raise ValidationFailed(f"the draft cannot be signed: missing {exc}") from exc
    if draft.get("catalog") is not None:
        catalog = replace(catalog_change(release, draft["catalog"]), artwork_ai=artwork)
    else:
        catalog = CatalogChange(artwork_ai=artwork)
    return NextVersion(
        ai=ai,
        reason=draft.get("reason") or None,
        catalog=catalog,
        expected_version=draft.get("expected_version", 0),
        require_change=True,
    )


def preview_statement(release: Release, draft: Draft) -> dict[str, Any]:
    """The statement that confirming ``draft`` would sign (the signing service in dry-run mode)."""
    return version_preview(release=release, change=next_version(release, draft))


def declaration_sign_draft(*, release: Release, draft: Draft, actor: Any) -> Declaration:
    """Sign a reviewed draft: its catalog edit, artwork level and AI facts, in one transaction."""
    return version_sign(release=release, change=next_version(release, draft), actor=actor, via="web")


# --- the draft co-signed by the label (docs/protocol.md §14.2) ---------------------------------


@transaction.atomic
def declaration_prepare_draft(*, release: Release, draft: Draft) -> PreparedDeclaration:
    """Fix the statement confirming ``draft`` would sign, for the label to sign with its own key.

    The same service as the API's prepare; the draft itself is kept with it, so the submit
    signs what was prepared even if the member's draft changes meanwhile (then: 409). A
    release never declared gets its first version; a declared one an amendment.
    """
    declared = Declaration.objects.filter(release=release).exists()  # the row, not a caller's stale instance
    kind = PreparedDeclaration.AMEND if declared else PreparedDeclaration.FIRST
    prepared = declaration_prepare(release=release, change=next_version(release, draft), request=draft, kind=kind)
    if kind == PreparedDeclaration.FIRST:
        return prepared
    version = prepared.statement["declaration"]["version"] - 1  # the version it amends (prepare locked and read it)
    current = Declaration.objects.only("statement", "version").get(release=release, version=version)
    if unchanged(current.statement, prepared.statement):  # version_sign refuses it too; say so before signing
        raise NothingChanges(
            f"nothing changes from version {current.version}: an amendment must change a declared fact",
            fields={"ai": ["Change an answer or a catalog detail."]},
        )
    return prepared


def withdrawal_prepare(*, release: Release, reason: str, expected_version: int) -> PreparedDeclaration:
    """Fix a withdrawal's statement for the label to sign with its own key (the withdraw page's co-sign)."""
    request = {"reason": reason, "expected_version": expected_version}
    change = NextVersion(reason=reason, expected_version=expected_version)
    return declaration_prepare(release=release, change=change, request=request, kind=PreparedDeclaration.WITHDRAW)


def declaration_submit_draft(*, prepared: PreparedDeclaration, signature: Mapping[str, str], actor: Any) -> Declaration:
    """Sign and log a prepared draft (or withdrawal) with the label's signature and the registry's."""
    if prepared.kind == PreparedDeclaration.WITHDRAW:
        asked = prepared.request
        change = NextVersion(reason=asked.get("reason"), expected_version=asked.get("expected_version"))
    else:
        change = next_version(prepared.release, prepared.request)
    return declaration_submit(prepared=prepared, change=change, signature=dict(signature), actor=actor, via="web")
