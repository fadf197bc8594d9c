"""Turn signed statements into what a page shows: plain words, badge classes, formatted identifiers.

Pages show the signed statement, not the editable catalog, so what a visitor
reads is exactly what the registry signed and logged. Pure functions, no
queries: callers fetch, these shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provenance import identifiers, vocabulary
from provenance.statement import parse_timestamp

# What each level means in a sentence ("Vocals: partly AI-generated").
LEVEL_SENTENCES = {
    vocabulary.NONE: "no AI declared",
    vocabulary.PARTLY: "partly made with AI",
    vocabulary.ALL: "entirely made with AI",
}
PERSONA_SENTENCES = {
    vocabulary.HUMAN: "A human artist.",
    vocabulary.AI_ASSISTED: "A human artist who works with AI tools.",
    vocabulary.SYNTHETIC: "An AI persona: not a human performer. The voice and image are generated.",
}


@dataclass(frozen=True)
class Level:
    code: str

    @property
    def label(self) -> str:
        return vocabulary.LEVEL_LABELS[self.code]

    @property
    def sentence(self) -> str:
        return LEVEL_SENTENCES[self.code]

    @property
    def ddex(self) -> str:
        return vocabulary.ddex_contains_ai(self.code)


@dataclass
class ArtistView:
    name: str
    persona: str
    isni: str | None
    id: int | None = None

    @property
    def persona_label(self) -> str:
        return vocabulary.PERSONA_LABELS.get(self.persona, self.persona)

    @property
    def persona_sentence(self) -> str:
        return PERSONA_SENTENCES.get(self.persona, "")

    @property
    def synthetic(self) -> bool:
        return self.persona == vocabulary.SYNTHETIC

    @property
    def isni_display(self) -> str | None:
        return identifiers.format_isni(self.isni) if self.isni else None


@dataclass
class PartView:
    key: str
    name: str
    level: Level


@dataclass
class TrackView:
    isrc: str
    title: str
    position: int
    contains_ai: Level
    parts: list[PartView]
    tools: list[str]
    imitates_real_person: bool
    consent_reference: str | None
    duration: int | None
    artists: list[ArtistView] = field(default_factory=list)
    # Signed ``release.identifiers_verified``: False when the ISRC is outside the label's verified
    # registrant prefixes; None when the statement predates the member (nothing was said).
    isrc_verified: bool | None = None

    @property
    def isrc_display(self) -> str:
        return identifiers.format_isrc(self.isrc)

    @property
    def duration_display(self) -> str:
        if self.duration is None:
            return ""
        minutes, seconds = divmod(self.duration, 60)
        return f"{minutes}:{seconds:02d}"


@dataclass
class StatementView:
    upc: str
    title: str
    release_date: str | None
    contains_ai: Level
    artwork: Level
    artists: list[ArtistView]
    tracks: list[TrackView]
    status: str
    version: int
    reason: str | None
    declared_at: datetime
    label_name: str
    label_dpid: str | None
    upc_verified: bool | None = None  # as ``TrackView.isrc_verified``, for the UPC's GS1 company prefix

    @property
    def unverified_isrcs(self) -> list[TrackView]:
        return [t for t in self.tracks if t.isrc_verified is False]

    @property
    def withdrawn(self) -> bool:
        return self.status == vocabulary.STATUS_WITHDRAWN

    @property
    def ai_persona(self) -> bool:
        return any(a.synthetic for a in self.artists)

    @property
    def artist_names(self) -> str:
        return ", ".join(a.name for a in self.artists)


def _artist(a: Mapping[str, Any], ids: Mapping[str, int]) -> ArtistView:
    return ArtistView(name=a["name"], persona=a["persona"], isni=a.get("isni"), id=ids.get(a["name"]))


def present_track(
    t: Mapping[str, Any], artist_ids: Mapping[str, int] | None = None, unverified: frozenset[str] | None = None
) -> TrackView:
    ids = artist_ids or {}
    likeness = t.get("voice_likeness") or {}
    return TrackView(
        isrc=t["isrc"],
        title=t["title"],
        position=t["position"],
        contains_ai=Level(t["contains_ai"]),
        parts=[PartView(p, vocabulary.PART_LABELS[p], Level(t["parts"][p])) for p in vocabulary.PARTS],
        tools=list(t.get("tools") or []),
        imitates_real_person=bool(likeness.get("imitates_real_person")),
        consent_reference=likeness.get("consent_reference"),
        duration=t.get("duration"),
        artists=[_artist(a, ids) for a in t.get("artists") or []],
        isrc_verified=None if unverified is None else t["isrc"] not in unverified,
    )


def present_statement(st: Mapping[str, Any], artist_ids: Mapping[str, int] | None = None) -> StatementView:
    """``artist_ids`` maps artist names to catalog ids, for links; unknown names render without one."""
    ids = artist_ids or {}
    rel, decl = st["release"], st["declaration"]
    checked = rel.get("identifiers_verified")
    unverified = None if checked is None else frozenset(checked["isrcs_unverified"])
    return StatementView(
        upc=rel["upc"],
        title=rel["title"],
        release_date=rel.get("release_date"),
        contains_ai=Level(rel["contains_ai"]),
        artwork=Level(rel["artwork"]),
        artists=[_artist(a, ids) for a in st["artists"]],
        tracks=[present_track(t, ids, unverified) for t in st["tracks"]],
        status=decl["status"],
        version=decl["version"],
        reason=decl.get("reason"),
        declared_at=parse_timestamp(decl["declared_at"]),
        label_name=st["label"]["name"],
        label_dpid=st["label"].get("dpid"),
        upc_verified=None if checked is None else bool(checked["upc"]),
    )


NO_DECLARATION = "No declaration"


def bundle_filename(upc: str, version: int) -> str:
    """The name a downloaded bundle is saved under: the page's verify command names this same file."""
    return f"{upc}-v{version}.bundle.json"


def describe_badge(level: str | None, *, withdrawn: bool = False) -> tuple[str, str]:
    """(CSS class, text) for the one-line summary badge of a release or recording."""
    if withdrawn:
        return "withdrawn", "Withdrawn"
    if level is None:
        return "not-declared", NO_DECLARATION
    if level == vocabulary.NONE:
        # Beside "No declaration", "No AI" alone is easy to misread: say it is the label's declaration.
        return "level-none", "No AI (declared)"
    return f"level-{level}", vocabulary.LEVEL_LABELS[level]


@dataclass
class HistoryEntry:
    version: int
    status: str
    reason: str
    declared_at: datetime
    leaf_index: int
    kid: str
    key_status: str
    changes: list[str]
    current: bool

    @property
    def withdrawn(self) -> bool:
        return self.status == vocabulary.STATUS_WITHDRAWN


def present_history(versions: Sequence[Any], diff: Any) -> list[HistoryEntry]:
    """Newest first; ``diff(old_statement, new_statement)`` names what changed."""
    entries = []
    previous = None
    for i, d in enumerate(versions):
        entries.append(
            HistoryEntry(
                version=d.version,
                status=d.status,
                reason=d.reason,
                declared_at=d.declared_at,
                leaf_index=d.leaf_id,
                kid=d.key.kid,
                key_status=d.key.status,
                changes=diff(previous, d.statement),
                current=i == len(versions) - 1,
            )
        )
        previous = d.statement
    entries.reverse()
    return entries
