"""Reads for the public pages, each in a constant number of queries whatever the track count.

The declaration reads themselves live in ``registry.declarations.selectors``
(shared with the API); this module adds what only pages need: search,
recent entries, artist and label listings and the server-side proof check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from provenance import identifiers
from provenance.bundle import LABEL_SIGNATURE, Result, Verifier
from provenance.errors import IdentifierError
from registry.catalog.models import Artist, Label, Release, ReleaseArtist, Track
from registry.declarations.models import Declaration, DeclaredRecording
from registry.transparency import keys as tkeys
from registry.transparency.log import latest_checkpoint
from registry.transparency.models import Checkpoint, SigningKey

SEARCH_LIMIT = 20
RECENT_LIMIT = 12

CHECK_LABELS = {
    "bundle_format": "The bundle has the expected shape",
    "statement_signature": "The statement signature verifies with a registry key that is not revoked",
    "payload_type": "The signed payload is a disclosure statement",
    "statement_schema": "The statement is well formed",
    "registry_origin": "The statement names this registry's log",
    "checkpoint_signature": "The log checkpoint is signed by the registry's checkpoint key",
    "checkpoint_size": "The checkpoint covers the tree size the proof is for",
    "inclusion_proof": "The declaration is included in the log (Merkle inclusion proof)",
    LABEL_SIGNATURE: "The label's own key signed it, registered in the log before the declaration",
}


# --- search -------------------------------------------------------------------


@dataclass
class SearchResults:
    query: str
    redirect: str | None = None
    identifier_kind: str | None = None
    identifier: str | None = None
    identifier_problem: str | None = None
    releases: list[Release] = field(default_factory=list)
    recordings: list[Track] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.releases or self.recordings or self.artists or self.labels)

    @property
    def identifier_display(self) -> str | None:
        if self.identifier_kind == "ISRC" and self.identifier:
            return identifiers.format_isrc(self.identifier)
        return self.identifier


def _looks_like_gtin(text: str) -> bool:
    compact = text.replace("-", "").replace(" ", "")
    return compact.isdigit() and len(compact) >= 8


def _looks_like_isrc(text: str) -> bool:
    compact = text.replace("-", "").replace(" ", "").upper()
    return len(compact) == 12 and compact[:2].isalpha() and compact[-5:].isdigit()


def search(query: str) -> SearchResults:
    """Identifiers first (an exact, declared ISRC or UPC redirects), then names."""
    q = query.strip()[:200]
    results = SearchResults(query=q)
    if not q:
        return results
    try:
        isrc = identifiers.normalize_isrc(q)
    except IdentifierError as exc:
        if _looks_like_isrc(q):
            results.identifier_kind, results.identifier_problem = "ISRC", str(exc)
    else:
        results.identifier_kind, results.identifier = "ISRC", isrc
        if DeclaredRecording.objects.filter(isrc=isrc).exists():
            results.redirect = f"/recordings/{isrc}/"
        return results
    try:
        upc = identifiers.normalize_gtin(q)
    except IdentifierError as exc:
        if _looks_like_gtin(q):
            results.identifier_kind, results.identifier_problem = "UPC/EAN", str(exc)
            return results
    else:
        results.identifier_kind, results.identifier = "UPC/EAN", upc
        if Release.objects.filter(upc=upc, current_declaration__isnull=False).exists():
            results.redirect = f"/releases/{upc}/"
        return results
    results.releases = list(
        Release.objects.filter(Q(title__icontains=q) | Q(artists__name__icontains=q) | Q(label__name__icontains=q))
        .filter(current_declaration__isnull=False)
        .select_related("label", "current_declaration")
        .only(
            "upc",
            "title",
            "release_date",
            "label__name",
            "label__is_demo",
            "current_declaration__status",
            "current_declaration__contains_ai",
            "current_declaration__version",
        )
        .distinct()
        .order_by("title")[:SEARCH_LIMIT]
    )
    # Tracks of declared releases only: a declared release's catalog rows change only in the
    # transaction that signs its next version, so they say what was signed. Drafts never show.
    results.recordings = list(
        Track.objects.filter(title__icontains=q, release__current_declaration__isnull=False)
        .select_related("recording", "release__label")
        .only("title", "recording__isrc", "release__label__name")
        .order_by("title", "recording__isrc")
        .distinct()[:SEARCH_LIMIT]
    )
    results.artists = list(
        _declared_artists().filter(name__icontains=q).select_related("label").order_by("name")[:SEARCH_LIMIT]
    )
    results.labels = list(_declaring_labels().filter(name__icontains=q).order_by("name")[:SEARCH_LIMIT])
    return results


def _declared_releases() -> QuerySet[Release]:
    return Release.objects.filter(current_declaration__isnull=False)


def _declared_artists() -> QuerySet[Artist]:
    """Artists named by a signed declaration: of a declared release, or of one of its tracks."""
    declared = _declared_releases().values("pk")
    return Artist.objects.filter(
        Q(pk__in=ReleaseArtist.objects.filter(release__in=declared).values("artist_id"))
        | Q(pk__in=Track.artists.through.objects.filter(track__release__in=declared).values("artist_id"))
    )


def _declaring_labels() -> QuerySet[Label]:
    return Label.objects.filter(pk__in=_declared_releases().values("label_id"))


def recent_declarations(limit: int = RECENT_LIMIT) -> list[Declaration]:
    """The newest releases' current versions: one row per release, however many versions it has (1 query).

    A release amended three times is one row (its latest version, linking to the history),
    not three rows that read as three releases.
    """
    current = Release.objects.filter(current_declaration__isnull=False).values("current_declaration_id")
    return list(
        Declaration.objects.filter(pk__in=current)
        .select_related("release__label")
        .only(
            "version",
            "status",
            "contains_ai",
            "declared_at",
            "leaf_id",
            "release__upc",
            "release__title",
            "release__label__name",
            "release__label__is_demo",
        )
        .order_by("-leaf_id")[:limit]
    )


# --- release, recording, artist, label --------------------------------------------


def artist_ids_for_release(release_id: int) -> dict[str, int]:
    """Artist name → catalog id for a release's artists and its recordings' artists (1 query)."""
    rows = ReleaseArtist.objects.filter(release_id=release_id).values_list("artist__name", "artist_id")
    return dict(rows)


def releases_by_upcs(upcs: list[str]) -> list[Release]:
    order = {u: i for i, u in enumerate(upcs)}
    rows = (
        _declared_releases()
        .filter(upc__in=upcs)
        .select_related("current_declaration")
        .only("upc", "title", "current_declaration__status", "current_declaration__contains_ai")
    )
    return sorted(rows, key=lambda r: order[r.upc])


def artist_page(artist_id: int) -> tuple[Artist, list[Release]] | None:
    """An artist named by a signed declaration, and the declared releases it is on; None otherwise."""
    artist = _declared_artists().select_related("label").filter(pk=artist_id).first()
    if artist is None:
        return None
    releases = list(
        _declared_releases()
        .filter(Q(artists=artist) | Q(tracks__artists=artist))
        .distinct()
        .select_related("current_declaration")
        .order_by("-release_date", "title")
    )
    return artist, releases


def label_page(label_id: int) -> tuple[Label, list[Release], list[Artist]] | None:
    """A label with at least one signed declaration, its declared releases and their artists; None otherwise."""
    label = _declaring_labels().filter(pk=label_id).first()
    if label is None:
        return None
    releases = list(
        _declared_releases()
        .filter(label=label)
        .select_related("current_declaration")
        .order_by("-release_date", "title")
    )
    artists = list(_declared_artists().filter(label=label).order_by("name"))
    return label, releases, artists


# --- proof --------------------------------------------------------------------------


@dataclass
class CheckView:
    name: str
    label: str
    ok: bool
    detail: str


@dataclass
class Proof:
    valid: bool
    checks: list[CheckView]
    summary: str
    kid: str
    key_status: str
    log_index: int | None
    tree_size: int | None
    current_tree_size: int | None
    # Who vouches for the statement, as the verifier found (docs/protocol.md §14.3): the label key whose
    # signature verified, registered before the declaration in the log; None means the registry alone.
    label_kid: str | None = None
    label_registered_at: int | None = None
    label_attestation: str | None = None  # "staff", "label" or "recovery": who attested the key's registration

    @property
    def label_signed(self) -> bool:
        return self.label_kid is not None


def verify_declaration(decl: Declaration, keyset: Any = None) -> Proof:
    """Verify the stored bundle against the registry's JWKS, check by check (1 query for the keys)."""
    keyset = keyset if keyset is not None else tkeys.keyset()
    bundle = json.loads(decl.bundle)
    result: Result = Verifier(keyset).verify(bundle)
    by_name = {c.name: c for c in result.checks}
    checks = []
    # Every check this verification is made of: the label_signature check too, on a co-signed bundle.
    for name in result.expected:
        check = by_name.get(name)
        checks.append(
            CheckView(
                name=name,
                label=CHECK_LABELS.get(name, name),
                ok=bool(check and check.ok),
                detail=check.detail if check else "not run: an earlier check failed",
            )
        )
    log = bundle.get("log") or {}
    # Only what the verifier checked counts: a label key whose signature did not verify, or that was not
    # registered before the declaration, never makes a page say the label signed.
    label_key = result.label_key if result.valid else None
    return Proof(
        valid=result.valid,
        checks=checks,
        summary=result.summary(),
        kid=decl.key.kid,
        key_status=decl.key.status,
        log_index=log.get("index"),
        tree_size=log.get("tree_size"),
        current_tree_size=None,
        label_kid=label_key.kid if label_key else None,
        label_registered_at=label_key.registered_at if label_key else None,
        label_attestation=label_key.attestation if label_key else None,
    )


def transparency_overview(limit: int = 25) -> dict[str, Any]:
    checkpoint: Checkpoint | None = latest_checkpoint()
    keys = list(SigningKey.objects.order_by("purpose", "not_before"))
    entries = list(
        Declaration.objects.select_related("release")
        .only("version", "status", "contains_ai", "declared_at", "leaf_id", "release__upc", "release__title")
        .order_by("-leaf_id")[:limit]
    )
    return {"checkpoint": checkpoint, "keys": keys, "entries": entries}
