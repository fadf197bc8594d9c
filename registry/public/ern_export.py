"""A release's declared AI facts as a DDEX ERN 4.3.2 ``NewReleaseMessage``.

Built from the signed statement (not the editable catalog), with
``xml.etree.ElementTree`` so every piece of label-supplied text is escaped,
and serialized by ``registry.public.xml_output`` so no code point XML 1.0
forbids is ever written (such a character becomes U+FFFD).
DDEX's XSDs are under DDEX's licence and are not part of this repository;
tests check the structure instead.

Element names and order follow ERN 4.3 (MessageHeader, PartyList,
ResourceList, ReleaseList; SoundRecording → ResourceReference, Type,
SoundRecordingEdition/ResourceId/ISRC, DisplayTitleText, DisplayTitle,
DisplayArtistName, DisplayArtist, Contributor, Duration …; Release →
ReleaseReference, ReleaseType, ReleaseId/ICPN, DisplayTitleText …).

UNCERTAIN (no licensed 4.3.2 XSD at hand when this was written): the AI
elements added in 4.3.2 — ``ContainsAI`` (None/Partly/All) on resources and
releases, a ``SpecialContributor`` composite whose ``Role`` is
``GenerativeAI`` (the tool as its party) with ``AiContribution`` children
whose ``Role`` wraps a ``Value`` element — and their position in each
composite; the persona flag ``SpecialDisplayArtist`` = ``GenerativeAI``
on a DisplayArtist that is an AI persona; the AvsVersionId; and whether
the root keeps a ``MessageSchemaVersionId`` attribute in ERN 4 (kept for
recipients that dispatch on it). Check against the 4.3.2 XSD before
sending this to a DSP as a delivery; as an export of declared facts it
round-trips through ``registry.labels.ern.parse_ern``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from provenance import vocabulary
from registry.public import xml_output

NS = vocabulary.DDEX_ERN_NAMESPACE
SCHEMA_VERSION = "ern/432"
AVS_VERSION = "11"  # UNCERTAIN: the AVS edition paired with ERN 4.3.2
PARENTAL_WARNING = "NoAdviceAvailable"  # the registry is not told; DDEX's value for "unknown"


def iso_duration(seconds: int | None) -> str | None:
    """ISO 8601 duration as DDEX writes it: ``PT3M34S``, ``PT1H2M3S``."""
    if seconds is None:
        return None
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if hours or minutes:
        out += f"{minutes}M"
    return out + f"{secs}S"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _title(parent: ET.Element, title: str) -> None:
    _sub(parent, "DisplayTitleText", title)
    _sub(_sub(parent, "DisplayTitle"), "TitleText", title)


def _display_artists(parent: ET.Element, artists: list[Mapping[str, Any]], refs: Mapping[str, str]) -> None:
    _sub(parent, "DisplayArtistName", ", ".join(a["name"] for a in artists))
    for seq, a in enumerate(artists, start=1):
        el = _sub(parent, "DisplayArtist", SequenceNumber=str(seq))
        _sub(el, "ArtistPartyReference", refs[a["name"]])
        _sub(el, "DisplayArtistRole", "MainArtist")
        if a["persona"] == vocabulary.SYNTHETIC:
            # UNCERTAIN element (see the module docstring): flags an AI persona.
            _sub(el, "SpecialDisplayArtist", vocabulary.DDEX_GENERATIVE_AI)


def _ai_contributors(
    parent: ET.Element, parts: Mapping[str, str], tools: list[str], tool_refs: Mapping[str, str]
) -> None:
    """One ``SpecialContributor`` (Role GenerativeAI) per declared tool; the first carries the AiContributions.

    The tool is the contributor party (its name is the tool's name), so the
    label-forms importer reads tools back. With no tool named, one
    contributor without a party still carries the parts.
    """
    contributions = vocabulary.ddex_ai_contributions(parts)
    if not contributions:
        return
    for seq, tool in enumerate(tools or [None], start=1):
        el = _sub(parent, "SpecialContributor", SequenceNumber=str(seq))
        if tool is not None:
            _sub(el, "ContributorPartyReference", tool_refs[tool])
        _sub(_sub(el, "Role"), "Value", vocabulary.DDEX_GENERATIVE_AI)
        if seq == 1:
            for c in contributions:
                ai = _sub(el, "AiContribution")
                _sub(_sub(ai, "Role"), "Value", c["role"])
                _sub(ai, "ContainsAI", c["contains_ai"])


def build_ern(statement: Mapping[str, Any], *, is_demo: bool = False) -> ET.Element:
    rel, decl, label = statement["release"], statement["declaration"], statement["label"]
    ET.register_namespace("ern", NS)
    root = ET.Element(
        f"{{{NS}}}NewReleaseMessage",
        {
            "MessageSchemaVersionId": SCHEMA_VERSION,
            "AvsVersionId": AVS_VERSION,
            "LanguageAndScriptCode": "en",
            "ReleaseProfileVersionId": "Audio",
        },
    )

    header = _sub(root, "MessageHeader")
    _sub(header, "MessageThreadId", str(decl["id"]))
    # Deterministic per signed version, so the export is cacheable and re-exports are recognisable.
    _sub(header, "MessageId", f"{rel['upc']}-v{decl['version']}")
    sender = _sub(header, "MessageSender")
    if label.get("dpid"):
        _sub(sender, "PartyId", label["dpid"])
    _sub(_sub(sender, "PartyName"), "FullName", label["name"])
    _sub(header, "MessageCreatedDateTime", decl["declared_at"])
    _sub(header, "MessageControlType", "TestMessage" if is_demo else "LiveMessage")

    # --- parties: the artists (release and track level) and the label ---------------
    party_list = _sub(root, "PartyList")
    refs: dict[str, str] = {}
    all_artists = list(statement["artists"])
    for t in statement["tracks"]:
        all_artists.extend(t.get("artists") or [])
    for a in all_artists:
        if a["name"] in refs:
            continue
        ref = f"P{len(refs) + 1}"
        refs[a["name"]] = ref
        party = _sub(party_list, "Party")
        _sub(party, "PartyReference", ref)
        if a.get("isni"):
            _sub(_sub(party, "PartyId"), "ISNI", a["isni"])
        _sub(_sub(party, "PartyName"), "FullName", a["name"])
    tool_refs: dict[str, str] = {}
    for t in statement["tracks"]:
        for tool in t.get("tools") or []:
            if tool in tool_refs:
                continue
            ref = f"PTool{len(tool_refs) + 1}"
            tool_refs[tool] = ref
            party = _sub(party_list, "Party")
            _sub(party, "PartyReference", ref)
            _sub(_sub(party, "PartyName"), "FullName", tool)
    label_party = _sub(party_list, "Party")
    _sub(label_party, "PartyReference", "PLabel")
    if label.get("dpid"):
        _sub(_sub(label_party, "PartyId"), "DPID", label["dpid"])
    _sub(_sub(label_party, "PartyName"), "FullName", label["name"])

    # --- resources: one SoundRecording per track, then the artwork ----------------------
    resources = _sub(root, "ResourceList")
    track_refs = []
    for n, t in enumerate(statement["tracks"], start=1):
        ref = f"A{n}"
        track_refs.append(ref)
        sr = _sub(resources, "SoundRecording")
        _sub(sr, "ResourceReference", ref)
        _sub(sr, "Type", "MusicalWorkSoundRecording")
        edition = _sub(sr, "SoundRecordingEdition")
        _sub(_sub(edition, "ResourceId"), "ISRC", t["isrc"])
        _title(sr, t["title"])
        _display_artists(sr, t.get("artists") or statement["artists"], refs)
        _ai_contributors(sr, t["parts"], t.get("tools") or [], tool_refs)
        duration = iso_duration(t.get("duration"))
        if duration:
            _sub(sr, "Duration", duration)
        _sub(sr, "ParentalWarningType", PARENTAL_WARNING)
        _sub(sr, "ContainsAI", vocabulary.ddex_contains_ai(t["contains_ai"]))
    image_ref = f"A{len(track_refs) + 1}"
    image = _sub(resources, "Image")
    _sub(image, "ResourceReference", image_ref)
    _sub(image, "Type", "FrontCoverImage")
    _sub(
        _sub(image, "ResourceId"),
        "ProprietaryId",
        f"{rel['upc']}-artwork",
        Namespace=label.get("dpid") or settings.REGISTRY_LOG_ORIGIN,
    )
    _sub(image, "ParentalWarningType", PARENTAL_WARNING)
    _sub(image, "ContainsAI", vocabulary.ddex_contains_ai(rel["artwork"]))

    # --- the release -------------------------------------------------------------------
    release_list = _sub(root, "ReleaseList")
    release = _sub(release_list, "Release")
    _sub(release, "ReleaseReference", "R0")
    _sub(release, "ReleaseType", "Single" if len(track_refs) == 1 else "Album")
    _sub(_sub(release, "ReleaseId"), "ICPN", rel["upc"])
    _title(release, rel["title"])
    _display_artists(release, statement["artists"], refs)
    _sub(release, "ReleaseLabelReference", "PLabel")
    _sub(release, "ParentalWarningType", PARENTAL_WARNING)
    group = _sub(release, "ResourceGroup")
    for seq, ref in enumerate(track_refs, start=1):
        item = _sub(group, "ResourceGroupContentItem")
        _sub(item, "SequenceNumber", str(seq))
        _sub(item, "ReleaseResourceReference", ref)
    _sub(group, "LinkedReleaseResourceReference", image_ref, LinkDescription="FrontCoverImage")
    if rel.get("release_date"):
        _sub(release, "ReleaseDate", rel["release_date"])
    _sub(release, "ContainsAI", vocabulary.ddex_contains_ai(rel["contains_ai"]))
    return root


def export_ern(statement: Mapping[str, Any], *, is_demo: bool = False) -> bytes:
    root = build_ern(statement, is_demo=is_demo)
    ET.indent(root)
    return xml_output.tostring(root, xml_declaration=True)
