"""Read a DDEX ERN 4.3.x ``NewReleaseMessage`` into a release draft: catalog details and the AI answers the file states.

Parsing uses defusedxml with DTDs, entities and external references all
forbidden, so a hostile file (billion laughs, XXE) is refused before any
expansion or fetch happens. Elements are matched by local name, so files that
qualify every element and files that qualify only the root read the same.
Encodings are what the XML declaration or BOM says (UTF-8, UTF-16 …).

Versions: ERN 4.3, 4.3.1 and 4.3.2 share the shape read here. The AI elements
(``ContainsAI``, ``AiContribution``, ``SpecialContributor`` / ``SpecialDisplayArtist``
= ``GenerativeAI``) are defined in the ERN 4.3.2 schema (the one we hold,
``tests/ddex.py``); a 4.3 / 4.3.1 file is read the same way, and when it has no
AI element every answer is simply "not stated". Any other ERN version is refused,
naming it (``ERN 3.8.2 (namespace …/382) is not supported``).

AI rules (``registry.labels.ern_ai`` holds them and their docstring is the
reference): per track and part, the evidence is every contributor composite of
the SoundRecording (``Contributor``, ``SoundRecordingEdition/EditionContributor``,
``Character/Performer``) whose ``Role`` values map to the part through
``provenance.vocabulary.DDEX_PARTS_FOR_ROLE``; the recording's ``ContainsAI``
(or the Release's, when the recording has none and the Release says None or All)
frames it. A part the file does not state is ``None`` and listed in the track's
``unstated``: the label answers it, nothing is pre-filled. GenerativeAI
contributors have no name, so tools are never read from the file.

Artwork: the level of the release's front cover (an ``Image`` of ``Type``
``FrontCoverImage`` that the Release references): its ``ContainsAI``, else its
contributors, else the Release's ``ContainsAI`` None/All. No front cover in the
message: not stated.

Personas: a ``DisplayArtist`` with ``SpecialDisplayArtist`` = GenerativeAI has no
name in DDEX; we never invent one. When it is the release's only display artist,
the Release's ``DisplayArtistName`` is its name (the file says so), and it is read
as an AI persona of that name. Otherwise ``ai_display_artist`` is set and the release
form offers an empty "AI persona" artist row for the label to name (or to remove,
when the persona is one of the named artists). Named display artists are parties:
the file does not say whether they are AI personas, so the form's persona stays
the label's to check.

Order: the Release's ``ResourceGroup`` tree, walked depth first; at each level
sub-groups and content items in ``SequenceNumber`` order (document order when
absent), so disc 1 tracks 1..n come before disc 2. Positions are 1..N in that order.
"""

from __future__ import annotations

import re
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
from registry.labels import ern_ai

ERN_NAMESPACES = {
    "http://ddex.net/xml/ern/43": "4.3",
    "http://ddex.net/xml/ern/431": "4.3.1",
    vocabulary.DDEX_ERN_NAMESPACE: "4.3.2",
}
_DDEX_ERN_NAMESPACE = re.compile(r"^https?://ddex\.net/xml/ern/(\d+)/?$")
MAX_BYTES = 10 * 1024 * 1024
# Image types that are the release's artwork (our "artwork" level).
ARTWORK_IMAGE_TYPES = frozenset({"FrontCoverImage"})
# Resource kinds a ResourceList may hold; only SoundRecordings become tracks.
_RESOURCE_KINDS = ("SoundRecording", "Video", "Image", "Text", "SheetMusic", "Software")


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


def _check_version(root: Element) -> str:
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "NewReleaseMessage":
        raise _fail(f"Expected a DDEX NewReleaseMessage, found <{_local(root.tag)}>.")
    if ns in ERN_NAMESPACES:
        return ERN_NAMESPACES[ns]
    m = _DDEX_ERN_NAMESPACE.match(ns)
    if m:
        raise _fail(
            f"ERN {'.'.join(m.group(1))} (namespace {ns}) is not supported; send ERN 4.3.2 "
            "(ERN 4.3 and 4.3.1 are read too)."
        )
    raise _fail(
        f"Unsupported ERN namespace {ns or '(none)'!r}: send ERN 4.3.2 (namespace {vocabulary.DDEX_ERN_NAMESPACE})."
    )


def _refuse_forbidden_characters(title: str, genre: str, artists: list[dict], tracks: list[dict]) -> None:
    """The characters the catalog refuses (XML 1.0 allows C1 controls) are refused here, naming where they are."""
    texts = [("The release title", title), ("The genre", genre)]
    texts += [(f"Artist {a['name']!r}", a["name"]) for a in artists]
    texts += [(f"The title of sound recording {t['isrc']}", t["title"]) for t in tracks]
    for where, value in texts:
        refused = refusal(value)
        if refused is not None:
            raise _fail(f"{where}: {refused}")


def _main_release(root: Element) -> Element:
    releases = _children(_child(root, "ReleaseList"), "Release")
    if not releases:
        raise _fail("The message has no <ReleaseList><Release>.")
    main = [r for r in releases if (r.get("IsMainRelease") or "").strip().lower() in ("true", "1")]
    return (main or releases)[0]


def _sequence_key(el: Element, index: int) -> tuple[int, int]:
    seq = _text(el, "SequenceNumber")
    return (int(seq) if seq.isdigit() else 10**9, index)


def release_order(release: Element) -> list[str]:
    """Resource references of the Release in DDEX order: nested groups by SequenceNumber, depth first."""
    order: list[str] = []

    def walk(group: Element) -> None:
        members = [c for c in group if _local(c.tag) in ("ResourceGroup", "ResourceGroupContentItem")]
        for _key, member in sorted((_sequence_key(m, i), m) for i, m in enumerate(members)):
            if _local(member.tag) == "ResourceGroup":
                walk(member)
            else:
                ref = _text(member, "ReleaseResourceReference")
                if ref and ref not in order:
                    order.append(ref)

    for group in _children(release, "ResourceGroup"):
        walk(group)
    return order


def _linked_references(release: Element) -> set[str]:
    return {_text(el) for el in release.iter() if _local(el.tag) == "LinkedReleaseResourceReference"}


def _isrc_of(sr: Element) -> tuple[str, str]:
    """(ISRC as normalized or as written, a ProprietaryId when there is no ISRC)."""
    ids = [rid for ed in _children(sr, "SoundRecordingEdition") for rid in _children(ed, "ResourceId")]
    ids += _children(sr, "ResourceId")
    for rid in ids:
        raw = _text(rid, "ISRC")
        if raw:
            try:
                return identifiers.normalize_isrc(raw), ""
            except IdentifierError:
                return raw, ""  # kept as written: the release form says what is wrong with it
    proprietary = next((_text(rid, "ProprietaryId") for rid in ids if _text(rid, "ProprietaryId")), "")
    return "", proprietary


def _title(el: Element) -> str:
    return _text(el, "DisplayTitleText") or _text(el, "DisplayTitle", "TitleText")


def _genre(release: Element) -> str:
    for name in ("DisplayGenre", "Genre"):
        for genre in _children(release, name):
            if _text(genre, "GenreText"):
                return _text(genre, "GenreText")
    return ""


def _sender(root: Element) -> dict[str, str]:
    sender = _child(root, "MessageHeader", "MessageSender")
    return {"dpid": _text(sender, "PartyId"), "name": _text(sender, "PartyName", "FullName")}


def sender_warning(sender: dict[str, str], *, dpid: str | None, name: str) -> str | None:
    """A warning when the message was sent by another party than the label (a distributor, or a mistake).

    Compared by DDEX Party ID when both have one; else by name when the file names its sender.
    """
    theirs = sender.get("dpid") or ""
    if dpid and theirs:
        if theirs.upper() == dpid.upper():
            return None
    elif not dpid and sender.get("name"):
        if sender["name"].casefold() == name.casefold():
            return None
    else:
        return None
    who = " ".join(filter(None, [sender.get("name"), f"({theirs})" if theirs else ""])) or "another party"
    return (
        f"This message was sent by {who}, not by {name}"
        f"{f' ({dpid})' if dpid else ''}. Check that the release and its AI answers are yours to declare."
    )


def parse_ern(data: bytes) -> dict[str, Any]:
    """Parse an ERN ``NewReleaseMessage`` (bytes) into a release draft.

    Returns::

        {
          "ern_version": "4.3" | "4.3.1" | "4.3.2",
          "sender": {"dpid": str, "name": str},          # MessageHeader/MessageSender
          "upc": str | None,            # ICPN digits as written (12-14), validated by the form
          "title": str, "genre": str,   # genre: first DisplayGenre/GenreText, else Genre/GenreText
          "release_date": datetime.date | None,   # ReleaseDate, else OriginalReleaseDate
          "contains_ai": level | None,  # the Release's ContainsAI, as written
          "artwork": level | None,      # None: not stated in the file
          "artists": [{"name": str, "isni": str | None, "persona": "human"}],
          "ai_display_artist": bool,    # a SpecialDisplayArtist GenerativeAI (no name) is credited
          "tracks": [{
              "isrc": str, "title": str, "position": int,   # 1..N in ResourceGroup order
              "duration": int | None,                       # whole seconds (ISO 8601 PT3M21S)
              "contains_ai": level | None,                  # the SoundRecording's ContainsAI
              "parts": {part: level | None},                # None: not stated in the file
              "unstated": [part],                           # the parts that are None, in PARTS order
              "tools": [],                                  # never read: GenerativeAI has no name
          }],
          "warnings": [str],            # what the label should know (contradictions, skipped resources …)
        }

    Raises :class:`registry.errors.ValidationFailed` (``fields={"file": [...]}``)
    saying what is wrong: hostile constructs, not XML, an unsupported ERN
    version (named), no release, a release referencing resources the
    ResourceList lacks, no sound recordings or more than ``RELEASE_MAX_TRACKS``,
    recordings without an ISRC (each named), an invalid ContainsAI, a name or
    title with a character ``provenance.text.refusal`` refuses.
    """
    root = _parse_xml(data)
    version = _check_version(root)
    warnings: list[str] = []
    parties = {_text(p, "PartyReference"): p for p in root.iter() if _local(p.tag) == "Party"}
    parties.pop("", None)

    release = _main_release(root)
    upc = "".join(ch for ch in _text(release, "ReleaseId", "ICPN") if ch.isdigit()) or None
    title = _title(release)
    release_date = _date(_text(release, "ReleaseDate")) or _date(_text(release, "OriginalReleaseDate"))
    release_level = ern_ai.level(_text(release, "ContainsAI"), "Release")

    artists: list[dict[str, Any]] = []
    ai_display_artist = False
    display = _children(release, "DisplayArtist")
    if (
        len(display) == 1
        and _text(display[0], "SpecialDisplayArtist") == vocabulary.DDEX_GENERATIVE_AI
        and _text(release, "DisplayArtistName")
    ):
        # One credited artist, and it is generative AI: the release's display name is that persona's name.
        display = []
        artists.append({"name": _text(release, "DisplayArtistName"), "isni": None, "persona": vocabulary.SYNTHETIC})
    for da in display:
        if _text(da, "SpecialDisplayArtist") == vocabulary.DDEX_GENERATIVE_AI:
            ai_display_artist = True
            continue
        party = parties.get(_text(da, "ArtistPartyReference"))
        name = _party_name(party)
        if name and all(a["name"] != name for a in artists):
            artists.append({"name": name, "isni": _isni(party), "persona": vocabulary.HUMAN})
    if not artists and not ai_display_artist and _text(release, "DisplayArtistName"):  # names, no parties
        artists.append({"name": _text(release, "DisplayArtistName"), "isni": None, "persona": vocabulary.HUMAN})
    if ai_display_artist:
        warnings.append(
            "The file credits a generative-AI display artist (SpecialDisplayArtist GenerativeAI), which has no "
            "name in DDEX: name the AI persona in the artist row marked “AI persona”, or remove that row if the "
            "persona is one of the named artists (then set that artist's persona)."
        )

    resource_list = _child(root, "ResourceList")
    resources = {
        _text(r, "ResourceReference"): r for r in (resource_list if resource_list is not None else []) if len(r)
    }
    resources.pop("", None)
    recordings = _children(resource_list, "SoundRecording")
    if len(recordings) > RELEASE_MAX_TRACKS:
        # Refused before reading them: the form page for thousands of rows was megabytes and seconds to build.
        raise _fail(
            f"The message has {len(recordings)} sound recordings; a release has at most {RELEASE_MAX_TRACKS} "
            "tracks. Split it into several releases."
        )
    order = release_order(release)
    missing = [ref for ref in order if ref not in resources]
    if missing:
        raise _fail(
            f"The release lists resource{'s' if len(missing) > 1 else ''} {', '.join(missing)} in its "
            "ResourceGroup, but the ResourceList has no resource with that ResourceReference. Export the "
            "message again with every resource of the release."
        )
    if order:
        in_release = [resources[ref] for ref in order if _local(resources[ref].tag) == "SoundRecording"]
        skipped = [_text(sr, "ResourceReference") for sr in recordings if sr not in in_release]
        if skipped:
            warnings.append(
                f"Sound recording{'s' if len(skipped) > 1 else ''} {', '.join(skipped)} "
                "not in the release's ResourceGroup: not imported."
            )
    else:
        in_release = recordings

    tracks: list[dict[str, Any]] = []
    no_isrc: list[str] = []
    for position, sr in enumerate(in_release, start=1):
        ref = _text(sr, "ResourceReference")
        isrc, proprietary = _isrc_of(sr)
        track_title = _title(sr)
        if not isrc:
            no_isrc.append(
                f"track {position} “{track_title}” (resource {ref}"
                f"{f', ProprietaryId {proprietary}' if proprietary else ''})"
            )
            continue
        where = f"Sound recording {isrc} “{track_title}”"
        own_level = ern_ai.level(_text(sr, "ContainsAI"), where)
        parts, notes = ern_ai.track_parts(
            ern_ai.contributions(sr, where),
            own_level if own_level is not None else ern_ai.release_frame(release_level),
            where,
        )
        warnings += notes
        tracks.append(
            {
                "isrc": isrc,
                "title": track_title,
                "position": position,
                "duration": _duration(_text(sr, "Duration")),
                "contains_ai": own_level,
                "parts": parts,
                "unstated": [p for p in vocabulary.PARTS if parts[p] is None],
                "tools": [],
            }
        )
    if no_isrc:
        raise _fail(
            "The registry identifies recordings by ISRC; these have none (only a proprietary id or nothing): "
            f"{'; '.join(no_isrc)}. Add their ISRCs and export again."
        )
    if not tracks:
        raise _fail("The message has no <ResourceList><SoundRecording>: there is nothing to declare.")
    genre = _genre(release)
    _refuse_forbidden_characters(title, genre, artists, tracks)

    referenced = set(order) | _linked_references(release)
    covers = [
        r
        for ref, r in resources.items()
        if _local(r.tag) == "Image" and _text(r, "Type") in ARTWORK_IMAGE_TYPES and (ref in referenced or not order)
    ]
    artwork = ern_ai.artwork_level(covers, release_level)
    if version != "4.3.2" and not any(_local(el.tag) in ern_ai.AI_ELEMENTS for el in root.iter()):
        warnings.append(
            f"ERN {version} files carry no AI markup here (the ContainsAI / AiContribution elements are ERN "
            "4.3.2): answer every part yourself, or send ERN 4.3.2."
        )

    return {
        "ern_version": version,
        "sender": _sender(root),
        "upc": upc,
        "title": title,
        "genre": genre,
        "release_date": release_date,
        "contains_ai": release_level,
        "artwork": artwork,
        "artists": artists,
        "ai_display_artist": ai_display_artist,
        "tracks": tracks,
        "warnings": warnings,
    }
