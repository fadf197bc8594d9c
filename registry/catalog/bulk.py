"""Many new releases at once: ``release_create``'s checks item by item, then a few multi-row inserts for all.

``registry.declarations.batch`` creates a batch's new releases here instead of calling
``services.release_create`` once per release (about 20 queries each). Invariants, checked by
tests/registry/catalog/test_bulk.py and tests/registry/declarations/test_batch_catalog.py:

- **The same rules.** Each item goes through ``services.clean_release``, the catalog's UPC
  check, ``_refuse_declared_elsewhere`` and ``resolve_artists`` in ``release_create``'s order,
  with its messages; only where they read is different: rows read once for the batch (the
  labels' releases with these UPCs, the claims of these identifiers, the labels' artists with
  these names or ISNIs) instead of a query each, and an item sees the releases and artists the
  items before it would create.
- **A refused item writes nothing.** Every check, the caller's ``check`` included (the batch
  builds and checks the item's statement there), runs before the first insert; the artists a
  refused item would have created are forgotten with it.
- **Lock order** (docs/architecture.md, "Batched appends"): items are taken by (label, UPC), and
  the releases inserted by one statement in that order.
- **Races.** A concurrent insert of the same UPC, ISRC row or artist ISNI in the same label's
  catalog fails a unique index: the inserts are rolled back to before them and the
  IntegrityError raised, so the caller falls back to ``release_create`` one release at a time
  (a savepoint each), which reports the race as that item's Conflict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.bulk_insert import AnyOf, insert_missing, insert_rows
from registry.catalog.models import Artist, Label, Recording, Release, ReleaseArtist, Track
from registry.catalog.services import (
    ArtistBook,
    NewRelease,
    _persona,
    _refuse_declared_elsewhere,
    clean_release,
    resolve_artists,
)
from registry.errors import DomainError

T = TypeVar("T")


@dataclass
class Prepared:
    """A new release checked and not inserted yet: what its statement is built from.

    ``release`` is unsaved until the inserts (its ``pk`` is None in ``check``); ``tracks`` are
    the cleaned tracks, each with ``artists`` resolved and in ``TRACK_ARTISTS_ORDER``.
    """

    release: Release
    artists: list[Artist]
    tracks: list[dict[str, Any]]


class _BatchBook(ArtistBook):
    """The labels' artists that the batch may name, read in one query; new ones kept unsaved until the inserts."""

    def __init__(self, new: Sequence[NewRelease]) -> None:
        labels, names, isnis = set(), set(), set()
        for n in new:
            labels.add(n.label.pk)
            for spec in [*n.artists, *(a for t in n.tracks for a in t["artists"])]:
                if isinstance(spec, Artist):
                    continue
                name, isni = spec.get("name"), spec.get("isni")
                if isinstance(name, str):
                    names.add(name.strip())
                if isni:
                    try:
                        isnis.add(identifiers.normalize_isni(isni))
                    except (IdentifierError, TypeError, ValueError, AttributeError):
                        pass  # refused by resolve_artists, with its message
        self._isni: dict[tuple[int, str], Artist] = {}
        self._facts: dict[tuple[int, str, str | None, str], Artist] = {}
        self.pending: list[Artist] = []
        if labels and (names or isnis):
            found = Artist.objects.filter(label_id__in=labels).filter(Q(name__in=names) | Q(isni__in=isnis))
            for a in found.order_by("pk"):  # the oldest of equal artists, as ArtistBook.by_facts
                self._add(a)

    def _add(self, a: Artist) -> None:
        if a.isni:
            self._isni.setdefault((a.label_id, a.isni), a)
        self._facts.setdefault((a.label_id, a.name, a.isni, a.persona), a)

    def by_isni(self, label: Label, isni: str) -> Artist | None:
        return self._isni.get((label.pk, isni))

    def by_facts(self, label: Label, name: str, isni: str | None, persona: str) -> Artist | None:
        return self._facts.get((label.pk, name, isni, persona))

    def create(self, label: Label, name: str, isni: str | None, persona: str) -> Artist:
        # artist_create's checks: name and ISNI were checked by resolve_artists, the persona is checked here.
        artist = Artist(label=label, name=name, isni=isni or None, persona=_persona(persona))
        self._add(artist)
        self.pending.append(artist)
        return artist

    def forget_after(self, mark: int) -> None:
        """Drop the artists created after ``mark`` (``len(pending)`` then): their item was refused."""
        for a in self.pending[mark:]:
            if a.isni and self._isni.get((a.label_id, a.isni)) is a:
                del self._isni[(a.label_id, a.isni)]
            if self._facts.get(key := (a.label_id, a.name, a.isni, a.persona)) is a:
                del self._facts[key]
        del self.pending[mark:]

    def order(self, artists: list[Artist]) -> list[Artist]:
        """``TRACK_ARTISTS_ORDER`` (name, then primary key) for rows of which some have no key yet.

        The pending ones get theirs in ``pending``'s order, after every existing row's.
        """
        rank = {id(a): i for i, a in enumerate(self.pending)}
        return sorted(artists, key=lambda a: (a.name, a.pk is None, a.pk or rank[id(a)]))


def release_create_many(
    releases: Sequence[Mapping[str, Any]], check: Callable[[int, Prepared], T]
) -> list[tuple[Release, T] | DomainError]:
    """Create the releases (``release_create``'s arguments each) that pass its checks and ``check``; a result each.

    ``check(index, prepared)`` runs once per item before anything is inserted; a DomainError it raises
    refuses that item, whatever it returns comes back with the release. Inside the caller's
    transaction; raises IntegrityError (nothing inserted) when a concurrent insert raced one of
    the rows: the caller then creates them one at a time with ``release_create``.
    """
    results: list[Any] = [None] * len(releases)
    new: dict[int, NewRelease] = {}
    for i, arguments in enumerate(releases):
        try:
            new[i] = clean_release(**arguments)
        except DomainError as exc:
            results[i] = exc
    if not new:
        return results

    from registry.declarations.models import IdentifierClaim  # declarations builds on the catalog

    labels = {n.label.pk for n in new.values()}
    taken = set(
        Release.objects.filter(label_id__in=labels, upc__in={n.upc for n in new.values()}).values_list(
            "label_id", "upc"
        )
    )
    holders = IdentifierClaim.holders(
        [(IdentifierClaim.UPC, n.upc) for n in new.values()]
        + [(IdentifierClaim.ISRC, t["isrc"]) for n in new.values() for t in n.tracks]
    )
    book = _BatchBook(list(new.values()))
    kept: list[tuple[int, Prepared, T]] = []
    for i in sorted(new, key=lambda i: (new[i].label.pk, new[i].upc, i)):
        n = new[i]
        mark = len(book.pending)
        try:
            prepared = _prepare(n, taken, holders, book)
            outcome = check(i, prepared)
        except DomainError as exc:
            book.forget_after(mark)
            results[i] = exc
            continue
        taken.add((n.label.pk, n.upc))
        kept.append((i, prepared, outcome))
    if kept:
        _insert([p for _, p, _ in kept], book.pending)
    for i, prepared, outcome in kept:
        results[i] = (prepared.release, outcome)
    return results


def _prepare(n: NewRelease, taken: set[tuple[int, str]], holders: Mapping[Any, int], book: _BatchBook) -> Prepared:
    """``release_create``'s checks after ``clean_release``, in its order, from the batch's reads."""
    if (n.label.pk, n.upc) in taken:
        raise n.exists_error()
    _refuse_declared_elsewhere(n.label, upc=n.upc, tracks=n.tracks, holders=holders, take_over=False)
    artists = resolve_artists(n.label, n.artists, book=book)
    tracks = [
        {
            **t,
            "artists": book.order(resolve_artists(n.label, t["artists"], f"tracks[{j}].artists", book=book))
            if t["artists"]
            else [],
        }
        for j, t in enumerate(n.tracks)
    ]
    release = Release(
        label=n.label,
        upc=n.upc,
        title=n.title,
        genre=n.genre,
        # As the row will read back (a date given as text becomes a date), since the statement is built from this.
        release_date=Release._meta.get_field("release_date").to_python(n.release_date),
        artwork_ai=n.artwork_ai,
    )
    return Prepared(release=release, artists=artists, tracks=tracks)


def _insert(prepared: list[Prepared], new_artists: list[Artist]) -> None:
    """The batch's rows in a few multi-row inserts, in a savepoint: all of them, or none and IntegrityError."""
    with transaction.atomic():
        if new_artists:
            Artist.objects.bulk_create(new_artists)  # primary keys returned (PostgreSQL, SQLite)
        Release.objects.bulk_create([p.release for p in prepared])  # in (label, UPC) order: the lock order
        ReleaseArtist.objects.bulk_create(
            [
                ReleaseArtist(release=p.release, artist=a, position=k + 1)
                for p in prepared
                for k, a in enumerate(p.artists)
            ]
        )
        recordings = _recordings({(p.release.label_id, t["isrc"]) for p in prepared for t in p.tracks})
        insert_rows(
            Track,
            ("release_id", "recording_id", "position", "title", "duration", "audio_sha256"),
            (
                (
                    p.release.pk,
                    recordings[(p.release.label_id, t["isrc"])],
                    t["position"],
                    t["title"],
                    t["duration"],
                    t["audio_sha256"],
                )
                for p in prepared
                for t in p.tracks
            ),
        )
        named = [(p.release.pk, t["position"], t["artists"]) for p in prepared for t in p.tracks if t["artists"]]
        if named:
            # No keys come back from the insert: the tracks' ids by (release, position), unique.
            ids = Track.objects.filter(release_id__in={r for r, _, _ in named}).values_list(
                "release_id", "position", "pk"
            )
            track_ids = {(r, pos): pk for r, pos, pk in ids}
            through = Track.artists.through
            insert_rows(
                through,
                ("track_id", "artist_id"),
                ((track_ids[(r, pos)], a.pk) for r, pos, artists in named for a in artists),
            )


def _recordings(wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Each label's Recording id per ISRC, the row created when new (``services._recordings`` for many labels and releases).

    Read as values, not model objects: a batch of 100 new releases names 1,200 recordings.
    """
    rows = _recording_ids(wanted)
    missing = sorted(wanted - rows.keys())
    if missing:
        # ON CONFLICT DO NOTHING: a concurrent edit may add the same ISRC; it is read back below.
        now = timezone.now()
        inserted = insert_missing(
            Recording,
            ("label_id", "isrc", "created_at"),
            [(lb, i, now) for lb, i in missing],
            returning=("label_id", "isrc", "id"),
        )
        rows |= {(label, isrc): pk for label, isrc, pk in inserted or ()}
        left = [m for m in missing if m not in rows]
        if left:
            rows |= _recording_ids(left)
    return rows


def _recording_ids(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The ids of the recordings among the labels × ISRCs of ``pairs`` (one query, the ISRCs as one array)."""
    pairs = list(pairs)
    labels, isrcs = {label for label, _ in pairs}, {isrc for _, isrc in pairs}
    ids = Recording.objects.filter(AnyOf(F("isrc"), sorted(isrcs)), label_id__in=labels)
    return {(label, isrc): pk for label, isrc, pk in ids.values_list("label_id", "isrc", "pk")}
