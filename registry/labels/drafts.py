"""Drafts of a release's next signed version, kept in the session until the label confirms.

A draft holds the AI answers per ISRC and, when the catalog details of a
declared release are being edited, the pending catalog edit. The signed facts
only change with a new signed version, so a declared release's catalog changes
only in the transaction that signs that version: an abandoned edit leaves the
catalog exactly as the signed declaration describes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.db import transaction

from registry.catalog.models import Artist, Recording, Release, Track
from registry.catalog.services import release_update
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_amend, declaration_create, statement_preview
from registry.errors import Conflict, ValidationFailed

# {"mode", "artwork", "reason", "expected_version", "ai": {isrc: TrackAI}, "catalog": CatalogEdit (optional)}
Draft = Mapping[str, Any]
# {"title", "release_date": ISO date or None, "artwork_ai",
#  "artists": [{"id": pk} or {"name", "isni", "persona"}],
#  "tracks": [{"isrc", "title", "position", "duration", "audio_sha256"}]}
CatalogEdit = Mapping[str, Any]


class StaleDraft(Conflict):
    """Someone signed a version after this draft was started: it describes an older version."""


def session_key(release: Release) -> str:
    return f"labels:draft:{release.pk}"


def version_of(release: Release) -> int:
    return release.current_declaration.version if release.current_declaration_id else 0


# --- catalog edits ----------------------------------------------------------


def catalog_edit(
    *,
    title: str,
    release_date: date | None,
    artwork_ai: str,
    artists: list[Artist | Mapping[str, Any]],
    tracks: list[Mapping[str, Any]],
) -> dict[str, Any]:
    """A catalog edit as it is kept in the session (JSON: dates as text, picked artists by id)."""
    return {
        "title": title,
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
    return {**catalog, "tracks": tracks} == now


def _apply_catalog(release: Release, catalog: CatalogEdit) -> None:
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
    release_update(
        release=release,
        title=catalog["title"],
        release_date=date.fromisoformat(when) if when else None,
        clear_release_date=not when,
        artwork_ai=catalog["artwork_ai"],
        artists=artists,
        tracks=[dict(t) for t in catalog["tracks"]],
    )


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Run catalog writes whose effects are only looked at, never kept: they are rolled back on the way out.

    The catalog services are then the one place that validates and resolves an edit (conflicts,
    reused artists and recordings), and the preview is what confirming will sign.
    """
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _fresh(release: Release) -> Release:
    return Release.objects.select_related("label", "current_declaration").get(pk=release.pk)


def catalog_check(*, release: Release, catalog: CatalogEdit) -> None:
    """Raise the DomainError that saving ``catalog`` would raise; change nothing."""
    with _rolled_back():
        _apply_catalog(_fresh(release), catalog)


@transaction.atomic
def release_edit(*, release: Release, catalog: CatalogEdit) -> Release:
    """Save catalog details of a release that is not declared yet (a declared one changes with a new version)."""
    locked = Release.objects.select_for_update().select_related("label").get(pk=release.pk)
    if locked.current_declaration_id is not None:
        raise StaleDraft(
            f"release {locked.upc} was declared meanwhile; its details now change with a new signed version"
        )
    _apply_catalog(locked, catalog)
    return locked


def pending_tracks(catalog: CatalogEdit) -> list[Track]:
    """The tracks a pending edit would give the release, as unsaved rows (for the declare matrix)."""
    return [
        Track(position=t["position"], title=t["title"], recording=Recording(isrc=t["isrc"]))
        for t in sorted(catalog["tracks"], key=lambda t: t["position"])
    ]


# --- preview and signing ----------------------------------------------------


def _statement(release: Release, draft: Draft) -> dict[str, Any]:
    # The declaration services build the preview: what is reviewed is what gets signed.
    try:
        ai = draft["ai"]
        artwork = draft["artwork"]
    except KeyError as exc:
        raise ValidationFailed(f"the draft cannot be signed: missing {exc}") from exc
    return statement_preview(release=release, ai=ai, reason=draft.get("reason") or None, artwork=artwork)


def preview_statement(release: Release, draft: Draft) -> dict[str, Any]:
    """The statement that confirming ``draft`` would sign, built the way the declaration services build it.

    The id, timestamp and leaf hash are placeholders until signing; every fact is as it will be
    signed, including a pending catalog edit (applied, looked at, rolled back).
    """
    if draft.get("catalog") is None:
        return _statement(release, draft)
    with _rolled_back():
        edited = _fresh(release)
        _apply_catalog(edited, draft["catalog"])
        return _statement(edited, draft)


@transaction.atomic
def declaration_sign_draft(*, release: Release, draft: Draft, actor: Any) -> Declaration:
    """Sign a reviewed draft: apply a pending catalog edit and the artwork level, then declare or amend.

    One transaction: if signing fails, the catalog edit is not kept either.
    """
    current = Release.objects.select_for_update().select_related("label").get(pk=release.pk)
    have = current.current_declaration.version if current.current_declaration_id else 0
    if draft.get("expected_version", 0) != have:
        raise StaleDraft(
            f"someone else signed version {have} while you were reviewing; start again from the current version"
        )
    if draft.get("catalog") is not None:
        _apply_catalog(current, draft["catalog"])
    if draft["artwork"] != current.artwork_ai:
        release_update(release=current, artwork_ai=draft["artwork"])
    ai = {isrc: dict(facts) for isrc, facts in draft["ai"].items()}
    if have == 0:
        return declaration_create(release=current, ai=ai, actor=actor, via="web")
    return declaration_amend(
        release=current, reason=draft.get("reason") or "", ai=ai, actor=actor, via="web", expected_version=have
    )
