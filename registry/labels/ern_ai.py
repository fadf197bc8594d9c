"""The AI answers an ERN 4.3.2 message states, per track part and for the artwork: the import's rules in one place.

Evidence (XSD ``Contributor`` / ``EditionContributor``, the same in ``Character/Performer``):
``SpecialContributor`` GenerativeAI and ``ContributorPartyReference`` are an xs:choice.

- A GenerativeAI contributor states its ``AiContribution`` for each part its
  ``Role`` values map to (``provenance.vocabulary.DDEX_PARTS_FOR_ROLE``);
  without ``AiContribution`` it is ``All`` (the schema's default).
- A named contributor with ``AiContribution`` None or Partly states that level
  (None: made by that person without AI; it is never an AI tool).
- A named contributor without ``AiContribution`` states that a person worked on
  the part and nothing about AI.
- Roles that map to none of our parts say nothing; a contributor without a
  mapped role says nothing.

Combining the evidence for one part (``combine_part``):

- no stated level → not stated (``None``);
- every stated level None → ``none``, unless a named contributor's level is
  unknown (then not stated: that person may have used AI);
- otherwise ``provenance.vocabulary.combine`` of the stated levels, plus
  ``none`` for any person whose level is unknown: a human composer (None or
  unknown) and a GenerativeAI composer (All) make ``partly``; two GenerativeAI
  vocalists with All make ``all``.

The frame — the SoundRecording's ``ContainsAI``, or when it has none the
Release's ``ContainsAI`` None or All (a release-wide statement):

- ``None`` → all five parts ``none``, stated by the file;
- ``All`` → all five parts ``all`` (the schema allows only GenerativeAI
  contributors then);
- ``Partly`` or absent → each part from its evidence; parts without evidence
  are not stated.

Where a contributor contradicts the frame (ContainsAI None and a contribution
Partly/All; ContainsAI All and a named person, or a GenerativeAI contribution
None) the part is left not stated and a warning says why: the label decides.
Every part left ``None`` must be answered by the label before review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from provenance import vocabulary
from registry.errors import ValidationFailed

AI_ELEMENTS = frozenset({"ContainsAI", "AiContribution", "SpecialContributor", "SpecialDisplayArtist"})
_CONTRIBUTOR_HOLDERS = {
    # composite: the paths to its contributor composites
    "Contributor": (),
    "SoundRecordingEdition": ("EditionContributor",),
    "VideoEdition": ("EditionContributor",),
    "Character": ("Performer",),
}


@dataclass(frozen=True)
class Contribution:
    parts: tuple[str, ...]
    level: str | None  # None: a named contributor whose AI use the file does not state
    generative: bool


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(el: Element | None) -> str:
    return " ".join((el.text or "").split()) if el is not None else ""


def level(text: str, where: str) -> str | None:
    """A ``ContainsAI`` / ``AiContribution`` value as our level; blank → None."""
    if not text:
        return None
    found = vocabulary.DDEX_LEVEL_FROM_CONTAINS_AI.get(text.strip().lower())
    if found is None:
        message = f"{where}: ContainsAI and AiContribution must be None, Partly or All, not “{text}”."
        raise ValidationFailed(message, fields={"file": [message]})
    return found


def roles(contributor: Element) -> list[str]:
    """Every ``Role`` of a contributor: ``<Role><Value>`` (4.3.2) or text; UserDefined reads its UserDefinedValue."""
    found = []
    for role in (c for c in contributor if _local(c.tag) == "Role"):
        value = next((c for c in role if _local(c.tag) == "Value"), None)
        holder = value if value is not None else role
        text = _text(holder)
        if text == "UserDefined":
            text = (holder.get("UserDefinedValue") or role.get("UserDefinedValue") or "").strip()
        if text:
            found.append(text)
    return found


def _contributor_composites(resource: Element) -> list[Element]:
    found = []
    for child in resource:
        name = _local(child.tag)
        if name == "Contributor":
            found.append(child)
        elif name in _CONTRIBUTOR_HOLDERS:
            wanted = _CONTRIBUTOR_HOLDERS[name]
            found += [c for c in child if _local(c.tag) in wanted]
    return found


def contributions(resource: Element, where: str) -> list[Contribution]:
    """The AI evidence of one resource's contributor composites (see the module docstring)."""
    found = []
    for c in _contributor_composites(resource):
        special = _text(next((x for x in c if _local(x.tag) == "SpecialContributor"), None))
        generative = special == vocabulary.DDEX_GENERATIVE_AI
        stated = level(_text(next((x for x in c if _local(x.tag) == "AiContribution"), None)), where)
        if generative and stated is None:
            stated = vocabulary.ALL  # XSD: AiContribution "defaults to All if SpecialContributor is GenerativeAI"
        if special and not generative:
            continue  # another special contributor type (e.g. Traditional): says nothing about AI
        parts = tuple(dict.fromkeys(p for r in roles(c) for p in vocabulary.DDEX_PARTS_FOR_ROLE.get(r, ())))
        found.append(Contribution(parts=parts, level=stated, generative=generative))
    return found


def combine_part(evidence: Sequence[Contribution]) -> str | None:
    """One part's level from its contributors, or None when the file does not state it."""
    stated = [c.level for c in evidence if c.level is not None]
    unknown_person = any(c.level is None for c in evidence)
    if not stated:
        return None
    if all(lv == vocabulary.NONE for lv in stated):
        return None if unknown_person else vocabulary.NONE
    return vocabulary.combine([*stated, *([vocabulary.NONE] if unknown_person else [])])


def release_frame(release_level: str | None) -> str | None:
    """The Release's ContainsAI as a frame for its recordings: only None and All say something about each one."""
    return release_level if release_level in (vocabulary.NONE, vocabulary.ALL) else None


def track_parts(
    evidence: Sequence[Contribution], frame: str | None, where: str
) -> tuple[dict[str, str | None], list[str]]:
    """The five parts (None: not stated) and warnings about contradictions, for one recording."""
    parts: dict[str, str | None] = {}
    warnings = []
    for part in vocabulary.PARTS:
        mine = [c for c in evidence if part in c.parts]
        derived = combine_part(mine)
        if frame == vocabulary.NONE:
            clash = [c for c in mine if c.level in (vocabulary.PARTLY, vocabulary.ALL)]
        elif frame == vocabulary.ALL:
            clash = [c for c in mine if not c.generative or c.level == vocabulary.NONE]
        else:
            clash = []
        if clash:
            parts[part] = None
            warnings.append(
                f"{where}: ContainsAI is {vocabulary.DDEX_CONTAINS_AI[frame or '']} but a contributor for "
                f"{vocabulary.PART_LABELS[part].lower()} says otherwise; answer that part yourself."
            )
        else:
            parts[part] = frame if frame in (vocabulary.NONE, vocabulary.ALL) else derived
    return parts, warnings


def artwork_level(covers: Iterable[Element], release_level: str | None) -> str | None:
    """The artwork level from the release's front cover images; None when the file does not state it."""
    levels = []
    for image in covers:
        own = level(_text(next((x for x in image if _local(x.tag) == "ContainsAI"), None)), "Front cover image")
        if own is None:
            own = combine_part(contributions(image, "Front cover image"))
        if own is None:
            own = release_frame(release_level)
        levels.append(own)
    if not levels or None in levels:
        return None
    return vocabulary.combine(lv for lv in levels if lv is not None)
