"""Read a DDEX ERN 4.3 / 4.3.1 / 4.3.2 ``NewReleaseMessage`` into the label forms' shape.

Parsing uses defusedxml with DTDs, entities and external references all
forbidden, so a hostile file (billion laughs, XXE) is refused before any
expansion or fetch happens. Elements are matched by local name, so files
that qualify every element with the ERN namespace and files that qualify
only the root both read the same.

The AI elements follow ERN 4.3.2: ``ContainsAI`` (None / Partly / All) on
the Release, each SoundRecording and each Image, and per recording a
``SpecialContributor`` / ``Contributor`` whose role is ``GenerativeAI`` with
``AiContribution`` children naming the contributor ``Role`` they stand in
for (mapped to our parts through ``provenance.vocabulary.DDEX_PART_FOR_ROLE``)
and its own ``ContainsAI`` level. The generative-AI party's name is taken
as the tool's name.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from provenance import identifiers, vocabulary
from provenance.errors import IdentifierError
from provenance.text import refusal
from registry.catalog.services import RELEASE_MAX_TRACKS
from registry.errors import ValidationFailed

ERN_NAMESPACES = {
    "http://ddex.net/xml/ern/43": "4.3",
    "http://ddex.net/xml/ern/431": "4.3.1",
    vocabulary.DDEX_ERN_NAMESPACE: "4.3.2",
}
MAX_BYTES = 10 * 1024 * 1024

# DDEX contributor roles beyond the five canonical ones that clearly map to one part.
_EXTRA_ROLES = {
    "ComposerLyricist": ("composition", "lyrics"),
    "Songwriter": ("composition", "lyrics"),
    "Arranger": ("composition",),
    "Librettist": ("lyrics",),
    "Singer": ("vocals",),
    "LeadVocalist": ("vocals",),
    "BackgroundVocalist": ("vocals",),
    "Musician": ("instrumentation",),
    "Mixer": ("production",),
    "MixingEngineer": ("production",),
    "MasteringEngineer": ("production",),
    "RecordingEngineer": ("production",),
}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Element | None, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name] if el is not None else []


def _child(el: Element | None, *path: str) -> Element | None:
    for name in path:
        found = _children(el, name)
        if not found:
            return None
        el = found[0]
    return el


def _text(el: Element | None, *path: str) -> str:
    found = _child(el, *path) if path else el
    return " ".join((found.text or "").split()) if found is not None else ""


def _descendants(el: Element, name: str) -> list[Element]:
    return [d for d in el.iter() if _local(d.tag) == name]


def _level(text: str, where: str) -> str | None:
    if not text:
        return None
    level = vocabulary.DDEX_LEVEL_FROM_CONTAINS_AI.get(text.strip().lower())
    if level is None:
        raise ValidationFailed(
            f"{where}: ContainsAI must be None, Partly or All, not {text!r}",
            fields={"file": [f"{where}: ContainsAI must be None, Partly or All, not “{text}”."]},
        )
    return level


def _role(el: Element) -> str:
    """A contributor role: text in ERN 4.3, wrapped in ``<Value>`` in 4.3.2; UserDefined reads its value."""
    role = _child(el, "Role")
    if role is None:
        return ""
    value = _child(role, "Value")
    holder = value if value is not None else role
    text = _text(holder)
    if text == "UserDefined":
        text = holder.get("UserDefinedValue") or role.get("UserDefinedValue") or ""
    return text


def _parts_for_role(role: str) -> tuple[str, ...]:
    if role in vocabulary.DDEX_PART_FOR_ROLE:
        return (vocabulary.DDEX_PART_FOR_ROLE[role],)
    return _EXTRA_ROLES.get(role, ())


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _duration(text: str) -> int | None:
    from registry.labels.services import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        return None


def _party_name(party: Element | None) -> str:
    return _text(party, "PartyName", "FullName") if party is not None else ""


def _isni(party: Element | None) -> str | None:
    for pid in _children(party, "PartyId"):
        raw = _text(pid, "ISNI")
        if raw:
            try:
                return identifiers.normalize_isni(raw)
            except IdentifierError:
                return None
    return None


def _fail(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def _parse_xml(data: bytes) -> Element:
    if len(data) > MAX_BYTES:
        raise _fail(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; upload one release per message.")
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise _fail(
            "This file declares a DTD, entities or external references, which are not allowed in an ERN "
            "message (they are a known way to attack XML parsers). Export it again without a DOCTYPE."
        ) from None
    except LookupError as exc:
        # An XML declaration naming an encoding Python does not know (expat asks the codec registry).
        raise _fail(
            f"This file's XML declaration names an encoding that cannot be read ({exc}); export it as UTF-8."
        ) from None
    except (ParseError, ValueError) as exc:
        raise _fail(f"This is not well-formed XML: {exc}") from None


def _refuse_forbidden_characters(title: str, artists: list[dict], tracks: list[dict]) -> None:
    """The characters the catalog refuses (XML 1.0 allows C1 controls) are refused here, naming where they are."""
    texts = [("The release title", title)]
    texts += [(f"Artist {a['name']!r}", a["name"]) for a in artists]
    for t in tracks:
        texts.append((f"The title of sound recording {t['isrc']}", t["title"]))
        texts += [(f"A tool of sound recording {t['isrc']}", tool) for tool in t["tools"]]
    for where, value in texts:
        refused = refusal(value)
        if refused is not None:
            raise _fail(f"{where}: {refused}")


def parse_ern(data: bytes) -> dict[str, Any]:
    """Parse an ERN ``NewReleaseMessage`` (bytes) into a release for the label forms.

    Returns::

        {
          "ern_version": "4.3" | "4.3.1" | "4.3.2",
          "upc": str | None,            # ICPN as written, digits only (validated by the form)
          "title": str,
          "release_date": datetime.date | None,   # ReleaseDate, else OriginalReleaseDate
          "contains_ai": "none"|"partly"|"all"|None,  # the Release's ContainsAI, as stated
          "artwork": "none"|"partly"|"all",       # the front cover Image's ContainsAI (none if absent)
          "artists": [{"name": str, "isni": str | None, "persona": "human" | "synthetic"}],
          "tracks": [{
              "isrc": str, "title": str, "position": int,   # position from ResourceGroup SequenceNumber
              "duration": int | None,                       # whole seconds from ISO 8601 (PT3M21S)
              "contains_ai": "none"|"partly"|"all"|None,    # the SoundRecording's ContainsAI
              "parts": {part: "none"|"partly"|"all"|None},  # None: the file does not say
              "tools": [str],                               # names of GenerativeAI contributor parties
          }],
        }

    Raises :class:`registry.errors.ValidationFailed` (``fields={"file": [...]}``)
    with a message saying what is wrong: hostile constructs, not XML, not an
    ERN 4.3.x NewReleaseMessage, no release, no sound recordings or more than
    ``RELEASE_MAX_TRACKS``, a name or
    title with a character ``provenance.text.refusal`` refuses.
    """
    root = _parse_xml(data)
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "NewReleaseMessage":
        raise _fail(f"Expected a DDEX NewReleaseMessage, found <{_local(root.tag)}>.")
    if ns not in ERN_NAMESPACES:
        raise _fail(
            f"Unsupported ERN namespace {ns or '(none)'!r}: export ERN 4.3, 4.3.1 or 4.3.2 "
            "(http://ddex.net/xml/ern/43, /431 or /432)."
        )

    parties = {_text(p, "PartyReference"): p for p in _descendants(root, "Party") if _text(p, "PartyReference")}

    releases = _children(_child(root, "ReleaseList"), "Release")
    if not releases:
        raise _fail("The message has no <ReleaseList><Release>.")
    release = releases[0]
    upc_raw = _text(release, "ReleaseId", "ICPN")
    upc = "".join(ch for ch in upc_raw if ch.isdigit()) or None
    title = _text(release, "DisplayTitleText") or _text(release, "DisplayTitle", "TitleText")
    release_date = _date(_text(release, "ReleaseDate")) or _date(_text(release, "OriginalReleaseDate"))

    artists: list[dict[str, Any]] = []
    for da in _children(release, "DisplayArtist"):
        party = parties.get(_text(da, "ArtistPartyReference"))
        name = _party_name(party)
        if name and all(a["name"] != name for a in artists):
            # A DisplayArtist flagged SpecialDisplayArtist=GenerativeAI is an AI persona
            # (the form registry/public/ern_export.py writes).
            synthetic = _text(da, "SpecialDisplayArtist") == vocabulary.DDEX_GENERATIVE_AI
            persona = vocabulary.SYNTHETIC if synthetic else vocabulary.HUMAN
            artists.append({"name": name, "isni": _isni(party), "persona": persona})
    if not artists and _text(release, "DisplayArtistName"):
        artists.append({"name": _text(release, "DisplayArtistName"), "isni": None, "persona": vocabulary.HUMAN})

    positions: dict[str, int] = {}
    for item in _descendants(release, "ResourceGroupContentItem"):
        ref, seq = _text(item, "ReleaseResourceReference"), _text(item, "SequenceNumber")
        if ref and seq.isdigit() and ref not in positions:
            positions[ref] = int(seq)

    resource_list = _child(root, "ResourceList")
    recordings = _children(resource_list, "SoundRecording")
    if len(recordings) > RELEASE_MAX_TRACKS:
        # Refused before reading them: the form page for thousands of rows was megabytes and seconds to build.
        raise _fail(
            f"The message has {len(recordings)} sound recordings; a release has at most {RELEASE_MAX_TRACKS} "
            "tracks. Split it into several releases."
        )
    tracks: list[dict[str, Any]] = []
    for n, sr in enumerate(recordings, start=1):
        ref = _text(sr, "ResourceReference")
        isrc = _text(sr, "SoundRecordingEdition", "ResourceId", "ISRC") or _text(sr, "ResourceId", "ISRC")
        try:
            isrc = identifiers.normalize_isrc(isrc)
        except IdentifierError:
            pass  # kept as written: the release form says what is wrong with it
        where = f"Sound recording {isrc or ref or n}"
        track_level = _level(_text(sr, "ContainsAI"), where)
        parts: dict[str, str | None] = dict.fromkeys(vocabulary.PARTS)
        tools: list[str] = []
        contributions = _descendants(sr, "AiContribution")
        for contributor in [*_children(sr, "SpecialContributor"), *_children(sr, "Contributor")]:
            is_ai = _role(contributor) == vocabulary.DDEX_GENERATIVE_AI or _text(contributor, "Type") == (
                vocabulary.DDEX_GENERATIVE_AI
            )
            if is_ai or _children(contributor, "AiContribution"):
                name = _party_name(parties.get(_text(contributor, "ContributorPartyReference")))
                name = name or _text(contributor, "PartyName", "FullName")
                if name and name not in tools:
                    tools.append(name)
        for contribution in contributions:
            level = _level(_text(contribution, "ContainsAI"), where) or (
                vocabulary.ALL if track_level == vocabulary.ALL else vocabulary.PARTLY
            )
            for part in _parts_for_role(_role(contribution)):
                # Two roles for one part (Singer and Vocalist): keep the larger level.
                if parts[part] is None or vocabulary.LEVELS.index(level) > vocabulary.LEVELS.index(parts[part]):
                    parts[part] = level
        if track_level == vocabulary.NONE and not contributions:
            parts = dict.fromkeys(vocabulary.PARTS, vocabulary.NONE)
        elif track_level == vocabulary.ALL and not contributions:
            parts = dict.fromkeys(vocabulary.PARTS, vocabulary.ALL)
        elif contributions:
            # Named contributions are the AI parts; the others are stated to be human.
            parts = {p: level or vocabulary.NONE for p, level in parts.items()}
        tracks.append(
            {
                "isrc": isrc,
                "title": _text(sr, "DisplayTitleText") or _text(sr, "DisplayTitle", "TitleText"),
                "position": positions.get(ref, n),
                "duration": _duration(_text(sr, "Duration")),
                "contains_ai": track_level,
                "parts": parts,
                "tools": tools,
            }
        )
    if not tracks:
        raise _fail("The message has no <ResourceList><SoundRecording>: there is nothing to declare.")
    tracks.sort(key=lambda t: t["position"])
    _refuse_forbidden_characters(title, artists, tracks)

    artwork = vocabulary.NONE
    for image in _children(resource_list, "Image"):
        image_level = _level(_text(image, "ContainsAI"), f"Image {_text(image, 'ResourceReference')}")
        if image_level is not None:
            artwork = image_level
            break

    return {
        "ern_version": ERN_NAMESPACES[ns],
        "upc": upc,
        "title": title,
        "release_date": release_date,
        "contains_ai": _level(_text(release, "ContainsAI"), "Release"),
        "artwork": artwork,
        "artists": artists,
        "tracks": tracks,
    }
