"""A release's signed AI facts as a DDEX ERN 4.3.2 ``NewReleaseMessage`` that validates against DDEX's XSD.

Built from the signed statement (never the editable catalog) with
``xml.etree.ElementTree`` so every piece of label-supplied text is escaped,
and serialized by ``registry.public.xml_output`` so no code point XML 1.0
forbids is ever written (such a character becomes U+FFFD). DDEX's XSDs are
under DDEX's licence and are not part of this repository; the tests validate
every export against them where they are installed (tests/ddex.py).

Mapping decisions, checked against the ERN 4.3.2 XSD and AVS 9 (the version
``allowed-value-sets.xsd`` names):

- Root: ``AvsVersionId="9"``; ``LanguageAndScriptCode="und"`` (RFC 5646
  "undetermined": titles and names are the label's, in languages we are not
  told); no ``MessageSchemaVersionId`` (not an ERN 4 attribute) and no
  ``ReleaseProfileVersionId`` (we do not claim a profile's obligations).
- Header: ``MessageThreadId`` = declaration id; ``MessageId`` =
  ``<upc>-v<version>`` (``-<recipient DPID>`` appended when one is named, so an
  id is never reused for a different message); ``MessageSender`` = the registry
  (``REGISTRY_DPID``, ``REGISTRY_NAME``): it issues this message, the label does
  not; ``MessageRecipient`` = the requester's DPID when given, else the
  registry itself; ``MessageCreatedDateTime`` = the signing time (the content
  is that of the signed version, and the export stays cacheable);
  ``MessageControlType`` TestMessage for demo labels, else LiveMessage.
- Parties: a ``Party`` (``PartyName`` then ``PartyId/ISNI``) per named artist,
  and the label (``PartyName`` then ``PartyId/DPID`` when it has one), which the
  Release references as ``ReleaseLabelReference``.
- AI persona (``persona == "synthetic"``): its ``DisplayArtist`` is
  ``SpecialDisplayArtist`` = GenerativeAI, the XSD's alternative to an
  ``ArtistPartyReference`` + role; its name stays in ``DisplayArtistName``. A
  human artist (``human`` or ``ai_assisted``) is ``ArtistPartyReference`` +
  ``DisplayArtistRole`` MainArtist. Track-level artists replace the release's
  on that track's SoundRecording, as MainArtists (the statement has no role).
- Parts: a track whose ``ContainsAI`` is None has no Contributor (None says it
  for every part); a Partly or All track has one ``Contributor`` per part with
  ``SpecialContributor`` GenerativeAI, ``Role/Value`` its ContributorRole
  (``vocabulary.DDEX_ROLE_FOR_PART``) and ``AiContribution`` None/Partly/All,
  so every part's level is stated and reads back exactly. No other Contributor
  is written, so DDEX's rules hold by construction: with ``ContainsAI`` All
  only GenerativeAI contributors; with None, none at all.
- Artwork: an ``Image`` of Type FrontCoverImage, identified by a
  ``ProprietaryId`` in the registry's namespace (``DPID:<REGISTRY_DPID>``,
  value ``<upc>-front-cover``), with ``ContainsAI`` the artwork's level, listed
  in the Release's ``ResourceGroup`` after the tracks (no file: the message
  describes the declaration, it does not deliver the image).
- ``ContainsAI`` on each SoundRecording (the track's level) and on the Release
  (the release's level, which includes the artwork's).
- SoundRecording: ``Type`` MusicalWorkSoundRecording, ISRC, title,
  ``Duration`` (ISO 8601, mandatory), ``ParentalWarningType`` Unknown (we are
  not told). Release: ``ReleaseType`` Single for one or two tracks (DDEX:
  "typically containing one or two Tracks"), Album otherwise, derived because
  DDEX requires one and the label is not asked; ICPN = UPC; ``DisplayGenre``;
  ``ReleaseDate`` when known; the tracks in ``ResourceGroup`` by position.

Lossy (kept only in the signed statement, which the export's recipient can
fetch as the bundle): tool names (a GenerativeAI special contributor has no
party or name); voice likeness and its consent reference (no DDEX element); the difference between ``human`` and ``ai_assisted``
artists; a persona's ISNI; the audio's SHA-256; the statement's signature.

Facts ERN requires that a statement may lack (the genre, a track's duration)
are never made up: :func:`missing_facts` names them and the view answers 409.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provenance import vocabulary
from registry.public import xml_output

NS = vocabulary.DDEX_ERN_NAMESPACE
AVS_VERSION = "9"  # the AvsVersionId allowed-value-sets.xsd (ERN 4.3.2's) documents
LANGUAGE = "und"  # RFC 5646 "undetermined": the label's titles may be in any language
PARENTAL_WARNING = "Unknown"  # the registry is not told; AVS 9 deprecates NoAdviceAvailable for this
SINGLE_MAX_TRACKS = 2


@dataclass(frozen=True)
class MessageParty:
    """A message's sender or recipient: a DDEX Party ID (compact form) and, optionally, a name."""

    dpid: str
    name: str | None = None


class MissingFacts(Exception):
    """The signed statement lacks facts every ERN message must carry; ``missing`` names each."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = list(missing)
        super().__init__("; ".join(self.missing))


def missing_facts(statement: Mapping[str, Any]) -> list[str]:
    """What ERN 4.3.2 requires that ``statement`` does not say, in words a label can act on."""
    missing = []
    if not statement["release"].get("genre"):
        missing.append("the release's genre (DDEX requires a DisplayGenre)")
    for t in statement["tracks"]:
        if t.get("duration") is None:
            missing.append(
                f"the duration of track {t['position']} \u201c{t['title']}\u201d (ISRC {t['isrc']}); "
                "DDEX requires a Duration for every sound recording"
            )
    return missing


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


def message_id(statement: Mapping[str, Any], recipient: MessageParty | None) -> str:
    """Deterministic per signed version and recipient, so re-exports are recognisable and ids never reused."""
    base = f"{statement['release']['upc']}-v{statement['declaration']['version']}"
    return f"{base}-{recipient.dpid}" if recipient is not None else base


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _title(parent: ET.Element, title: str) -> None:
    _sub(parent, "DisplayTitleText", title)
    _sub(_sub(parent, "DisplayTitle"), "TitleText", title)


def _messaging_party(parent: ET.Element, tag: str, party: MessageParty) -> None:
    el = _sub(parent, tag)
    _sub(el, "PartyId", party.dpid)
    if party.name:
        _sub(_sub(el, "PartyName"), "FullName", party.name)


def _artist_key(artist: Mapping[str, Any]) -> tuple[str, str | None]:
    return (artist["name"], artist.get("isni"))


def _display_artists(
    parent: ET.Element, artists: Sequence[Mapping[str, Any]], refs: Mapping[tuple[str, str | None], str]
) -> None:
    _sub(parent, "DisplayArtistName", ", ".join(a["name"] for a in artists))
    for seq, a in enumerate(artists, start=1):
        el = _sub(parent, "DisplayArtist", SequenceNumber=str(seq))
        if a["persona"] == vocabulary.SYNTHETIC:
            _sub(el, "SpecialDisplayArtist", vocabulary.DDEX_GENERATIVE_AI)
        else:
            _sub(el, "ArtistPartyReference", refs[_artist_key(a)])
            _sub(el, "DisplayArtistRole", "MainArtist")


def _ai_contributors(parent: ET.Element, track: Mapping[str, Any]) -> None:
    """GenerativeAI contributors, one per part, when the track's level needs them said part by part.

    A track that is None or All says so for every part through its ``ContainsAI``. A Partly track
    names every part's level, None included: a GenerativeAI contributor with ``AiContribution``
    None states that AI did not contribute in that role, so a recipient never has to guess which
    parts were made without AI.
    """
    if track["contains_ai"] == vocabulary.NONE:
        return
    for seq, part in enumerate(vocabulary.PARTS, start=1):
        el = _sub(parent, "Contributor", SequenceNumber=str(seq))
        _sub(el, "SpecialContributor", vocabulary.DDEX_GENERATIVE_AI)
        _sub(_sub(el, "Role"), "Value", vocabulary.DDEX_ROLE_FOR_PART[part])
        _sub(el, "AiContribution", vocabulary.ddex_contains_ai(track["parts"][part]))


def _party_list(root: ET.Element, statement: Mapping[str, Any]) -> dict[tuple[str, str | None], str]:
    """The named artists (release and track level; not AI personas) and the label; their references."""
    party_list = _sub(root, "PartyList")
    refs: dict[tuple[str, str | None], str] = {}
    everyone = [*statement["artists"], *(a for t in statement["tracks"] for a in t.get("artists") or [])]
    for a in everyone:
        key = _artist_key(a)
        if a["persona"] == vocabulary.SYNTHETIC or key in refs:
            continue
        refs[key] = f"P{len(refs) + 1}"
        party = _sub(party_list, "Party")
        _sub(party, "PartyReference", refs[key])
        _sub(_sub(party, "PartyName"), "FullName", a["name"])
        if a.get("isni"):
            _sub(_sub(party, "PartyId"), "ISNI", a["isni"])
    label = statement["label"]
    party = _sub(party_list, "Party")
    _sub(party, "PartyReference", "PLabel")
    _sub(_sub(party, "PartyName"), "FullName", label["name"])
    if label.get("dpid"):
        _sub(_sub(party, "PartyId"), "DPID", label["dpid"])
    return refs


def build_ern(
    statement: Mapping[str, Any], *, sender: MessageParty, recipient: MessageParty | None = None, is_demo: bool = False
) -> ET.Element:
    """The message for ``statement``; raises :class:`MissingFacts` rather than make up what ERN requires.

    ``recipient`` None addresses the message to the sender (the registry) itself.
    """
    missing = missing_facts(statement)
    if missing:
        raise MissingFacts(missing)
    rel, decl = statement["release"], statement["declaration"]
    ET.register_namespace("ern", NS)
    root = ET.Element(f"{{{NS}}}NewReleaseMessage", {"AvsVersionId": AVS_VERSION, "LanguageAndScriptCode": LANGUAGE})

    header = _sub(root, "MessageHeader")
    _sub(header, "MessageThreadId", str(decl["id"]))
    _sub(header, "MessageId", message_id(statement, recipient))
    _messaging_party(header, "MessageSender", sender)
    _messaging_party(header, "MessageRecipient", recipient or sender)
    _sub(header, "MessageCreatedDateTime", decl["declared_at"])
    _sub(header, "MessageControlType", "TestMessage" if is_demo else "LiveMessage")

    refs = _party_list(root, statement)

    resources = _sub(root, "ResourceList")
    for n, t in enumerate(statement["tracks"], start=1):
        sr = _sub(resources, "SoundRecording")
        _sub(sr, "ResourceReference", f"A{n}")
        _sub(sr, "Type", "MusicalWorkSoundRecording")
        _sub(_sub(_sub(sr, "SoundRecordingEdition"), "ResourceId"), "ISRC", t["isrc"])
        _title(sr, t["title"])
        _display_artists(sr, t.get("artists") or statement["artists"], refs)
        _ai_contributors(sr, t)
        _sub(sr, "Duration", iso_duration(t["duration"]))
        _sub(sr, "ParentalWarningType", PARENTAL_WARNING)
        _sub(sr, "ContainsAI", vocabulary.ddex_contains_ai(t["contains_ai"]))
    artwork_ref = f"A{len(statement['tracks']) + 1}"
    image = _sub(resources, "Image")
    _sub(image, "ResourceReference", artwork_ref)
    _sub(image, "Type", "FrontCoverImage")
    # The registry names the cover in its own namespace: it is the artwork the signed level is about.
    _sub(_sub(image, "ResourceId"), "ProprietaryId", f"{rel['upc']}-front-cover", Namespace=f"DPID:{sender.dpid}")
    _sub(image, "ContainsAI", vocabulary.ddex_contains_ai(rel["artwork"]))

    release = _sub(_sub(root, "ReleaseList"), "Release")
    _sub(release, "ReleaseReference", "R0")
    _sub(release, "ReleaseType", "Single" if len(statement["tracks"]) <= SINGLE_MAX_TRACKS else "Album")
    _sub(_sub(release, "ReleaseId"), "ICPN", rel["upc"])
    _title(release, rel["title"])
    _display_artists(release, statement["artists"], refs)
    _sub(release, "ReleaseLabelReference", "PLabel")
    _sub(_sub(release, "DisplayGenre"), "GenreText", rel["genre"])
    if rel.get("release_date"):
        _sub(release, "ReleaseDate", rel["release_date"])
    _sub(release, "ParentalWarningType", PARENTAL_WARNING)
    group = _sub(release, "ResourceGroup")
    for n, t in enumerate(statement["tracks"], start=1):
        item = _sub(group, "ResourceGroupContentItem")
        _sub(item, "SequenceNumber", str(t["position"]))
        _sub(item, "ReleaseResourceReference", f"A{n}")
    _sub(_sub(group, "ResourceGroupContentItem"), "ReleaseResourceReference", artwork_ref)
    _sub(release, "ContainsAI", vocabulary.ddex_contains_ai(rel["contains_ai"]))
    return root


def export_ern(
    statement: Mapping[str, Any], *, sender: MessageParty, recipient: MessageParty | None = None, is_demo: bool = False
) -> bytes:
    """The message as UTF-8 bytes with an XML declaration; raises :class:`MissingFacts` (see :func:`build_ern`)."""
    root = build_ern(statement, sender=sender, recipient=recipient, is_demo=is_demo)
    ET.indent(root)
    return xml_output.tostring(root, xml_declaration=True)
