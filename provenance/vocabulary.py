"""The disclosure vocabulary and its mappings to industry standards.

Levels are DDEX ERN 4.3.2 ``ContainsAI`` values (None / Partly / All),
lower-cased on the wire (docs/protocol.md §1). The derivation rules below are the
single definition the registry, the API summary and offline verifiers share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NONE, PARTLY, ALL = "none", "partly", "all"
LEVELS: tuple[str, ...] = (NONE, PARTLY, ALL)
LEVEL_LABELS = {NONE: "No AI", PARTLY: "Partly AI", ALL: "Entirely AI"}

PARTS: tuple[str, ...] = ("composition", "lyrics", "vocals", "instrumentation", "production")
PART_LABELS = {
    "composition": "Composition",
    "lyrics": "Lyrics",
    "vocals": "Vocals",
    "instrumentation": "Instrumentation",
    "production": "Production",
}

HUMAN, AI_ASSISTED, SYNTHETIC = "human", "ai_assisted", "synthetic"
PERSONAS: tuple[str, ...] = (HUMAN, AI_ASSISTED, SYNTHETIC)
PERSONA_LABELS = {HUMAN: "Human artist", AI_ASSISTED: "Human artist using AI", SYNTHETIC: "AI persona"}

STATUS_ACTIVE, STATUS_WITHDRAWN = "active", "withdrawn"
STATUSES: tuple[str, ...] = (STATUS_ACTIVE, STATUS_WITHDRAWN)


def combine(levels: Iterable[str]) -> str:
    """One level for several: ``none`` if all are none, ``all`` if all are all, else ``partly``.

    An empty collection contains no AI.
    """
    seen = set(levels)
    unknown = seen - set(LEVELS)
    if unknown:
        raise ValueError(f"unknown AI level(s): {', '.join(sorted(unknown))}")
    if not seen or seen == {NONE}:
        return NONE
    if seen == {ALL}:
        return ALL
    return PARTLY


def track_contains_ai(parts: Mapping[str, str]) -> str:
    """A track's ``contains_ai`` from its five parts."""
    return combine(parts[p] for p in PARTS)


def release_contains_ai(track_levels: Iterable[str], artwork: str) -> str:
    """A release's ``contains_ai`` from its tracks' levels and its artwork level."""
    return combine([*track_levels, artwork])


# --- DDEX ERN 4.3.2 ---------------------------------------------------------
DDEX_ERN_NAMESPACE = "http://ddex.net/xml/ern/432"
DDEX_CONTAINS_AI = {NONE: "None", PARTLY: "Partly", ALL: "All"}
DDEX_LEVEL_FROM_CONTAINS_AI = {v.lower(): k for k, v in DDEX_CONTAINS_AI.items()}
# A part that is not none is written as a ``Contributor`` whose ``SpecialContributor``
# is GenerativeAI, with ``Role/Value`` the DDEX ContributorRole standing for the
# part and ``AiContribution`` the part's level (docs/protocol.md §8). Every value
# here is in the ERN 4.3.2 allowed-value set ``ContributorRole``.
DDEX_GENERATIVE_AI = "GenerativeAI"
DDEX_ROLE_FOR_PART = {
    "composition": "Composer",
    "lyrics": "Lyricist",
    "vocals": "Vocalist",
    "instrumentation": "Musician",
    "production": "StudioProducer",
}
# Reading a message: every ContributorRole that states something about one of our
# parts (a role may stand for two: ComposerLyricist). Roles not listed here say
# nothing about the five parts and are ignored. ``Instrumentalist`` and ``Producer``
# are not DDEX values; this registry wrote them before 2026-12, so its own older
# exports still read back.
DDEX_PARTS_FOR_ROLE: dict[str, tuple[str, ...]] = {
    "Composer": ("composition",),
    "ComposerLyricist": ("composition", "lyrics"),
    "Arranger": ("composition",),
    "MusicArranger": ("composition",),
    "Lyricist": ("lyrics",),
    "Librettist": ("lyrics",),
    "SubLyricist": ("lyrics",),
    "Vocalist": ("vocals",),
    "LeadVocalist": ("vocals",),
    "BackgroundVocalist": ("vocals",),
    "PlaybackSinger": ("vocals",),
    "Musician": ("instrumentation",),
    "StudioMusician": ("instrumentation",),
    "PrimaryMusician": ("instrumentation",),
    "Soloist": ("instrumentation",),
    "Accompanyist": ("instrumentation",),
    "Orchestra": ("instrumentation",),
    "OrchestraMember": ("instrumentation",),
    "Instrumentalist": ("instrumentation",),
    "StudioProducer": ("production",),
    "CoProducer": ("production",),
    "AdditionalStudioProducer": ("production",),
    "Programmer": ("production",),
    "Mixer": ("production",),
    "MixingEngineer": ("production",),
    "MasteringEngineer": ("production",),
    "RecordingEngineer": ("production",),
    "SoundDesigner": ("production",),
    "Producer": ("production",),
}
DDEX_PART_FOR_ROLE = {v: k for k, v in DDEX_ROLE_FOR_PART.items()}


def ddex_contains_ai(level: str) -> str:
    return DDEX_CONTAINS_AI[level]


def ddex_ai_contributions(parts: Mapping[str, str]) -> list[dict[str, str]]:
    """``[{"role": "Composer", "contains_ai": "Partly"}, …]`` for every part that is not none."""
    return [
        {"role": DDEX_ROLE_FOR_PART[p], "contains_ai": DDEX_CONTAINS_AI[parts[p]]} for p in PARTS if parts[p] != NONE
    ]


# --- Apple Music transparency tags -------------------------------------------
APPLE_TAGS: tuple[str, ...] = ("Track", "Composition", "Artwork", "Music Video")
# Which parts make which tag apply. "Music Video" is never set: the registry
# declares audio releases and their artwork, not videos.
_APPLE_TRACK_PARTS = ("vocals", "instrumentation", "production")
_APPLE_COMPOSITION_PARTS = ("composition", "lyrics")


def apple_transparency_tags(parts: Mapping[str, str] | None = None, artwork: str | None = None) -> list[str]:
    tags = []
    if parts is not None and any(parts[p] != NONE for p in _APPLE_TRACK_PARTS):
        tags.append("Track")
    if parts is not None and any(parts[p] != NONE for p in _APPLE_COMPOSITION_PARTS):
        tags.append("Composition")
    if artwork is not None and artwork != NONE:
        tags.append("Artwork")
    return tags


# --- IPTC digital source type ------------------------------------------------
IPTC_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
IPTC_TRAINED_ALGORITHMIC_MEDIA = IPTC_BASE + "trainedAlgorithmicMedia"
IPTC_COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = IPTC_BASE + "compositeWithTrainedAlgorithmicMedia"
IPTC_DIGITAL_CREATION = IPTC_BASE + "digitalCreation"
IPTC_SOURCE_TYPE = {
    # No AI declared: created by people with digital tools.
    NONE: IPTC_DIGITAL_CREATION,
    PARTLY: IPTC_COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
    ALL: IPTC_TRAINED_ALGORITHMIC_MEDIA,
}


def iptc_digital_source_type(level: str) -> str:
    return IPTC_SOURCE_TYPE[level]
