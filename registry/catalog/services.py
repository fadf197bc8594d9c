"""Catalog writes: labels, members, artists, releases with their tracks.

Identifiers are normalized and validated with ``provenance.identifiers``. The
catalog is each label's private working copy: only the label's own rows are
looked at, and another label's identifiers are refused at signing, not here
(``registry.declarations.services``, IdentifierClaim).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from provenance import identifiers, limits, vocabulary
from provenance.errors import IdentifierError
from provenance.text import refusal
from registry.catalog.models import Artist, Label, Membership, Recording, Release, ReleaseArtist, Track
from registry.errors import Conflict, ValidationFailed

# The most tracks a release may have, at every door: the services, the API, the forms and the ERN import.
RELEASE_MAX_TRACKS = limits.RELEASE_TRACKS_MAX


def _normalize(func: Any, value: Any, field: str) -> str:
    try:
        return func(value)
    except IdentifierError as exc:
        raise ValidationFailed(str(exc), fields={field: [str(exc)]}) from exc


def _level(value: Any, field: str) -> str:
    if value not in vocabulary.LEVELS:
        raise ValidationFailed(f"{field} must be none, partly or all", fields={field: ["must be none, partly or all"]})
    return value


def _text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{field} is required", fields={field: ["This field is required."]})
    value = value.strip()
    if len(value) > max_len:
        raise ValidationFailed(f"{field} is too long", fields={field: [f"At most {max_len} characters."]})
    refused = refusal(value)
    if refused is not None:
        raise ValidationFailed(f"{field}: {refused}", fields={field: [refused]})
    return value


def _genre(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(
            "genre is required (DDEX requires a genre for every release)",
            fields={"genre": ["Give the genre, like Pop, Jazz or Afrobeats."]},
        )
    return _text(value, "genre", limits.GENRE_MAX)


def label_create(
    *,
    name: str,
    dpid: str | None = None,
    verified: bool = False,
    contact_email: str = "",
    is_demo: bool = False,
) -> Label:
    name = _text(name, "name", 255)
    if dpid:
        dpid = _normalize(identifiers.normalize_dpid, dpid, "dpid")
        if Label.objects.filter(dpid=dpid).exists():
            raise Conflict(
                f"DDEX Party ID {dpid} is already registered to another label", fields={"dpid": ["Already registered."]}
            )
    return Label.objects.create(
        name=name, dpid=dpid or None, verified=verified, contact_email=contact_email, is_demo=is_demo
    )


def membership_add(*, label: Label, user: Any, role: str = Membership.SUBMITTER) -> Membership:
    if role not in (Membership.OWNER, Membership.SUBMITTER):
        raise ValidationFailed("role must be owner or submitter", fields={"role": ["Unknown role."]})
    membership, created = Membership.objects.get_or_create(label=label, user=user, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def _persona(value: Any) -> str:
    if value not in vocabulary.PERSONAS:
        raise ValidationFailed(
            "persona must be human, ai_assisted or synthetic", fields={"persona": ["Unknown persona."]}
        )
    return str(value)


def artist_create(*, label: Label, name: str, isni: str | None = None, persona: str = vocabulary.HUMAN) -> Artist:
    name = _text(name, "name", 255)
    persona = _persona(persona)
    if isni:
        isni = _normalize(identifiers.normalize_isni, isni, "isni")
        existing = Artist.objects.filter(label=label, isni=isni).first()
        if existing is not None:
            return existing
    return Artist.objects.create(label=label, name=name, isni=isni or None, persona=persona)


class ArtistBook:
    """Where ``resolve_artists`` finds a label's artists and makes new ones: here, one query each.

    ``registry.catalog.bulk`` answers the same three questions from rows it read for a
    whole batch; the rules (what matches, what is valid) stay in ``resolve_artists``.
    """

    def by_isni(self, label: Label, isni: str) -> Artist | None:
        return Artist.objects.filter(label=label, isni=isni).first()

    def by_facts(self, label: Label, name: str, isni: str | None, persona: str) -> Artist | None:
        # The oldest of equal artists, so the choice is the same wherever it is made.
        return Artist.objects.filter(label=label, name=name, isni=isni, persona=persona).order_by("pk").first()

    def create(self, label: Label, name: str, isni: str | None, persona: str) -> Artist:
        return artist_create(label=label, name=name, isni=isni, persona=persona)


def resolve_artists(
    label: Label,
    artists: Sequence[Artist | Mapping[str, Any]],
    field: str = "artists",
    book: ArtistBook | None = None,
) -> list[Artist]:
    """Accept Artist rows of this label, or dicts ``{name, isni, persona}`` (reused when the name/ISNI match)."""
    book = book or ArtistBook()
    resolved: list[Artist] = []
    for item in artists:
        if isinstance(item, Artist):
            if item.label_id != label.pk:
                raise ValidationFailed("an artist belongs to another label", fields={field: ["Unknown artist."]})
            artist = item
        else:
            name = _text(item.get("name"), f"{field}.name", 255)
            isni = item.get("isni") or None
            persona = item.get("persona") or vocabulary.HUMAN
            match = None
            if isni:
                isni = _normalize(identifiers.normalize_isni, isni, f"{field}.isni")
                match = book.by_isni(label, isni)
            if match is None:
                match = book.by_facts(label, name, isni, persona)
            artist = match or book.create(label, name, isni, persona)
        if artist not in resolved:  # an unsaved artist (a batch's) equals only itself
            resolved.append(artist)
    return resolved


def _clean_tracks(tracks: Sequence[Mapping[str, Any]], *, require_duration: bool = False) -> list[dict[str, Any]]:
    if not tracks:
        raise ValidationFailed("a release needs at least one track", fields={"tracks": ["Add at least one track."]})
    if len(tracks) > RELEASE_MAX_TRACKS:
        raise ValidationFailed(
            f"a release may have at most {RELEASE_MAX_TRACKS} tracks",
            fields={"tracks": [f"At most {RELEASE_MAX_TRACKS} tracks."]},
        )
    cleaned: list[dict[str, Any]] = []
    seen_isrc: set[str] = set()
    seen_pos: set[int] = set()
    for i, t in enumerate(tracks):
        f = f"tracks[{i}]"
        isrc = _normalize(identifiers.normalize_isrc, t.get("isrc"), f"{f}.isrc")
        if isrc in seen_isrc:
            raise ValidationFailed(
                f"ISRC {isrc} appears twice", fields={f"{f}.isrc": ["This ISRC is already on the release."]}
            )
        seen_isrc.add(isrc)
        position = t.get("position", i + 1)
        if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= 999:
            raise ValidationFailed(
                "position must be a whole number from 1 to 999", fields={f"{f}.position": ["Must be 1–999."]}
            )
        if position in seen_pos:
            raise ValidationFailed(
                f"position {position} appears twice", fields={f"{f}.position": ["Duplicate position."]}
            )
        seen_pos.add(position)
        duration = t.get("duration")
        if duration is None and require_duration:
            raise ValidationFailed(
                f"track {i + 1} needs its duration (DDEX requires every track's duration)",
                fields={f"{f}.duration": ["Give the duration, like 3:21 or 201 (seconds)."]},
            )
        if duration is not None and (
            not isinstance(duration, int) or isinstance(duration, bool) or not 0 <= duration <= 86400
        ):
            raise ValidationFailed(
                "duration must be whole seconds (0–86400)", fields={f"{f}.duration": ["Whole seconds, 0–86400."]}
            )
        sha = t.get("audio_sha256") or None
        if sha is not None:
            sha = str(sha).strip().lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValidationFailed(
                    "audio_sha256 must be 64 hex digits", fields={f"{f}.audio_sha256": ["64 hex digits."]}
                )
        cleaned.append(
            {
                "isrc": isrc,
                "title": _text(t.get("title"), f"{f}.title", limits.TITLE_MAX),
                "position": position,
                "duration": duration,
                "audio_sha256": sha,
                "artists": t.get("artists") or [],
            }
        )
    return cleaned


def _refuse_declared_elsewhere(
    label: Label,
    *,
    upc: str | None,
    tracks: list[dict[str, Any]],
    holders: Mapping[tuple[str, str], int] | None = None,
    take_over: bool = True,
) -> None:
    """Tell the label early when another label has *signed* one of these identifiers (public anyway).

    The signing service checks the same claims again, authoritatively, in its transaction.
    ``holders``: ``IdentifierClaim.holders`` of these identifiers (or more), read by the caller for a batch.
    An ISRC the label may take over (its verified registrant prefix, ``ownership.selectors.takeovers``)
    passes when ``take_over``; a batch (``take_over=False``) is told to declare that release alone.
    """
    from registry.declarations.models import IdentifierClaim  # declarations builds on the catalog
    from registry.declarations.signing import TAKE_OVER_ALONE
    from registry.ownership.selectors import takeovers

    wanted = {t["isrc"]: i for i, t in enumerate(tracks)}
    asked = [(IdentifierClaim.ISRC, isrc) for isrc in wanted] + ([(IdentifierClaim.UPC, upc)] if upc else [])
    if holders is None:
        holders = IdentifierClaim.holders(asked)
    held = {claim: holders[claim] for claim in asked if holders.get(claim, label.pk) != label.pk}
    allowed = takeovers(label.pk, held) if held else set()
    fields: dict[str, list[str]] = {}
    names = []
    for kind, value in held:
        if kind == IdentifierClaim.UPC:
            fields["upc"] = ["This UPC is declared by another label."]
            names.append(f"UPC {value}")
        elif (kind, value) in allowed and take_over:
            continue
        else:
            fields[f"tracks[{wanted[value]}].isrc"] = ["This ISRC is declared by another label."]
            if (kind, value) in allowed:
                fields[f"tracks[{wanted[value]}].isrc"].append(TAKE_OVER_ALONE)
            names.append(f"ISRC {value}")
    if names:
        verb = "belongs" if len(names) == 1 else "belong"
        raise Conflict(f"{', '.join(sorted(names))} {verb} to another label, which declared it first", fields=fields)


def _recordings(label: Label, tracks: list[dict[str, Any]]) -> dict[str, Recording]:
    """This label's Recording row per ISRC, created when new. Another label's rows are never looked at."""
    isrcs = [t["isrc"] for t in tracks]
    existing = {r.isrc: r for r in Recording.objects.filter(label=label, isrc__in=isrcs)}
    missing = [Recording(label=label, isrc=i) for i in isrcs if i not in existing]
    if missing:
        Recording.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent edit may add the same ISRC
        existing = {r.isrc: r for r in Recording.objects.filter(label=label, isrc__in=isrcs)}
    return existing


def _write_tracks(release: Release, tracks: list[dict[str, Any]], kept: Mapping[str, Track] | None = None) -> None:
    """Create the release's tracks with their own facts (title, duration, audio hash, artists).

    ``kept``: the release's previous tracks by ISRC; a duration or audio hash this input
    leaves out keeps the one that appearance had (never erased by omission).
    """
    kept = kept or {}
    recordings = _recordings(release.label, tracks)
    rows = []
    for t in tracks:
        before = kept.get(t["isrc"])
        rows.append(
            Track(
                release=release,
                recording=recordings[t["isrc"]],
                position=t["position"],
                title=t["title"],
                duration=t["duration"] if t["duration"] is not None else getattr(before, "duration", None),
                audio_sha256=t["audio_sha256"] or getattr(before, "audio_sha256", None),
            )
        )
    created = Track.objects.bulk_create(rows)
    through = []
    for i, (t, row) in enumerate(zip(tracks, created, strict=True)):
        if t["artists"]:
            artists = resolve_artists(release.label, t["artists"], f"tracks[{i}].artists")
        else:
            before = kept.get(t["isrc"])
            artists = list(before.artists.all()) if before is not None else []
        through += [Track.artists.through(track_id=row.pk, artist_id=a.pk) for a in artists]
    if through:
        Track.artists.through.objects.bulk_create(through)


@dataclass
class NewRelease:
    """``release_create``'s input, validated and normalized (no query made yet); artists not resolved yet."""

    label: Label
    upc: str
    title: str
    genre: str
    release_date: date | None
    artwork_ai: str
    artists: Sequence[Artist | Mapping[str, Any]]
    tracks: list[dict[str, Any]]

    def exists_error(self) -> Conflict:
        return Conflict(
            f"UPC {self.upc} is already in your catalog", fields={"upc": ["You registered this UPC already."]}
        )


def clean_release(
    *,
    label: Label,
    upc: str,
    title: str,
    genre: str,
    release_date: date | None = None,
    artwork_ai: str = vocabulary.NONE,
    artists: Sequence[Artist | Mapping[str, Any]],
    tracks: Sequence[Mapping[str, Any]],
) -> NewRelease:
    """The checks of a new release that need no query, in the order ``release_create`` makes them."""
    upc = _normalize(identifiers.normalize_gtin, upc, "upc")
    title = _text(title, "title", limits.TITLE_MAX)
    genre = _genre(genre)
    artwork_ai = _level(artwork_ai, "artwork_ai")
    if not artists:
        raise ValidationFailed("a release needs at least one artist", fields={"artists": ["Add at least one artist."]})
    cleaned = _clean_tracks(tracks, require_duration=True)
    return NewRelease(label, upc, title, genre, release_date, artwork_ai, artists, cleaned)


@transaction.atomic
def release_create(
    *,
    label: Label,
    upc: str,
    title: str,
    genre: str,
    release_date: date | None = None,
    artwork_ai: str = vocabulary.NONE,
    artists: Sequence[Artist | Mapping[str, Any]],
    tracks: Sequence[Mapping[str, Any]],
) -> Release:
    """A new release in the label's catalog. DDEX requires a genre and every track's duration, so a new
    release needs them (releases created before they were collected may lack them; see ``release_update``).

    ``registry.catalog.bulk.release_create_many`` creates many with the same checks, in this order.
    """
    new = clean_release(
        label=label,
        upc=upc,
        title=title,
        genre=genre,
        release_date=release_date,
        artwork_ai=artwork_ai,
        artists=artists,
        tracks=tracks,
    )
    # Only this label's catalog is looked at: which label holds a UPC publicly is decided
    # when it is first signed (IdentifierClaim), so a draft never informs another label.
    if Release.objects.filter(label=label, upc=new.upc).exists():
        raise new.exists_error()
    _refuse_declared_elsewhere(label, upc=new.upc, tracks=new.tracks)
    resolved = resolve_artists(label, new.artists)
    try:
        with transaction.atomic():
            release = Release.objects.create(
                label=label,
                upc=new.upc,
                title=new.title,
                genre=new.genre,
                release_date=new.release_date,
                artwork_ai=new.artwork_ai,
            )
    except IntegrityError:
        raise Conflict(f"UPC {new.upc} is already in your catalog", fields={"upc": ["Already registered."]}) from None
    ReleaseArtist.objects.bulk_create(
        [ReleaseArtist(release=release, artist=a, position=i + 1) for i, a in enumerate(resolved)]
    )
    _write_tracks(release, new.tracks)
    return release


@transaction.atomic
def release_update(
    *,
    release: Release,
    title: str | None = None,
    genre: str | None = None,
    release_date: date | None = None,
    clear_release_date: bool = False,
    artwork_ai: str | None = None,
    artists: Sequence[Artist | Mapping[str, Any]] | None = None,
    tracks: Sequence[Mapping[str, Any]] | None = None,
) -> Release:
    """Change catalog details (before an amendment). The UPC never changes: it is the release's identity.

    ``None`` means "no change" for every field; ``clear_release_date=True`` removes a known date
    (``release_date=None`` cannot say that without changing what API callers already mean by it).
    """
    if clear_release_date and release_date is not None:
        raise ValidationFailed(
            "give a release date or clear it, not both", fields={"release_date": ["Give a date or clear it."]}
        )
    fields = []
    if title is not None:
        release.title = _text(title, "title", limits.TITLE_MAX)
        fields.append("title")
    if genre is not None:
        release.genre = _genre(genre)
        fields.append("genre")
    if release_date is not None or clear_release_date:
        release.release_date = release_date
        fields.append("release_date")
    if artwork_ai is not None:
        release.artwork_ai = _level(artwork_ai, "artwork_ai")
        fields.append("artwork_ai")
    if fields:
        release.save(update_fields=fields)
    if artists is not None:
        if not artists:
            raise ValidationFailed(
                "a release needs at least one artist", fields={"artists": ["Add at least one artist."]}
            )
        resolved = resolve_artists(release.label, artists)
        ReleaseArtist.objects.filter(release=release).delete()
        ReleaseArtist.objects.bulk_create(
            [ReleaseArtist(release=release, artist=a, position=i + 1) for i, a in enumerate(resolved)]
        )
    if tracks is not None:
        cleaned = _clean_tracks(tracks)
        _refuse_declared_elsewhere(release.label, upc=None, tracks=cleaned)
        kept = {
            t.recording.isrc: t
            for t in Track.objects.filter(release=release).select_related("recording").prefetch_related("artists")
        }
        Track.objects.filter(release=release).delete()
        _write_tracks(release, cleaned, kept)
    return release


@transaction.atomic
def release_delete(*, release: Release) -> None:
    """Delete a release that was never signed (a draft); a declared release is withdrawn instead."""
    locked = Release.objects.select_for_update().get(pk=release.pk)
    if locked.current_declaration_id is not None:
        raise Conflict(
            f"release {locked.upc} is declared: its history is public and cannot be deleted; withdraw it instead"
        )
    recording_ids = list(Track.objects.filter(release=locked).values_list("recording_id", flat=True))
    Track.objects.filter(release=locked).delete()
    ReleaseArtist.objects.filter(release=locked).delete()
    locked.delete()
    # Recordings that no other release of the label uses go with it.
    Recording.objects.filter(pk__in=recording_ids, tracks__isnull=True).delete()
