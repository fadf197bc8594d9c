"""What an imported ERN message becomes in the draft store: the file's answers, where each answer came from, and a
re-delivery's amendment draft.

A draft of a release's next version (``registry.labels.drafts``) that started
from a DDEX file keeps, next to its answers:

- ``imported``: what the file stated (``file_answers``): per ISRC the five
  parts (``None``: not stated in the file), the artwork level (``None``: not
  stated), the warnings of the parse and the MessageSender warning;
- ``sources``: for every answer, where it came from (``answer_sources``):
  ``file`` (the file's answer, unchanged), ``previous`` (the last signed
  version's answer, kept), ``label`` (answered or changed here) or
  ``unanswered``;
- ``import_changes``: for a re-delivery, what the file changes (shown before review).

Signing still goes through ``declarations.services.version_sign`` only; this
module builds draft data and never writes the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from provenance import vocabulary
from registry.catalog.models import Release
from registry.declarations.services import previous_ai
from registry.labels import drafts

FILE, PREVIOUS, LABEL, UNANSWERED = "file", "previous", "label", "unanswered"
NO_LIKENESS = {"imitates_real_person": False, "consent_reference": None}


def file_answers(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """The AI answers a parsed message states, by ISRC, as kept with the label's drafts (JSON)."""
    return {
        "ern_version": parsed["ern_version"],
        "artwork": parsed["artwork"],
        "ai": {t["isrc"]: {"parts": dict(t["parts"]), "tools": []} for t in parsed["tracks"]},
        "warnings": list(parsed.get("warnings") or []),
        "sender_warning": parsed.get("sender_warning"),
    }


def _source(value: Any, from_file: Any, from_previous: Any) -> str:
    if value not in vocabulary.LEVELS:
        return UNANSWERED
    if from_file is not None and value == from_file:
        return FILE
    if from_previous is not None and value == from_previous:
        return PREVIOUS
    return LABEL


def answer_sources(
    draft: Mapping[str, Any],
    imported: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Where each answer of ``draft`` came from, given the file's answers and the previous version's (if any)."""
    imported = imported or {}
    previous = previous or {}
    file_ai = imported.get("ai") or {}
    previous_ai_ = previous.get("ai") or {}
    tracks = {}
    for isrc, facts in (draft.get("ai") or {}).items():
        from_file = (file_ai.get(isrc) or {}).get("parts") or {}
        from_previous = (previous_ai_.get(isrc) or {}).get("parts") or {}
        tracks[isrc] = {
            part: _source((facts.get("parts") or {}).get(part), from_file.get(part), from_previous.get(part))
            for part in vocabulary.PARTS
        }
    return {
        "artwork": _source(draft.get("artwork"), imported.get("artwork"), previous.get("artwork")),
        "tracks": tracks,
    }


def not_stated(imported: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Per ISRC, the parts the file did not state (the declare page flags them)."""
    found = {}
    for isrc, facts in ((imported or {}).get("ai") or {}).items():
        missing = [p for p in vocabulary.PARTS if (facts.get("parts") or {}).get(p) is None]
        if missing:
            found[isrc] = missing
    return found


def unanswered(draft: Mapping[str, Any]) -> list[str]:
    """What a draft still lacks before it can be reviewed, in words; empty when every answer is given."""
    missing = []
    if draft.get("artwork") not in vocabulary.LEVELS:
        missing.append("the artwork")
    for isrc, facts in (draft.get("ai") or {}).items():
        parts = [
            vocabulary.PART_LABELS[p].lower()
            for p in vocabulary.PARTS
            if (facts.get("parts") or {}).get(p) not in vocabulary.LEVELS
        ]
        if parts:
            missing.append(f"{isrc}: {', '.join(parts)}")
    return missing


def _level_words(level: str | None) -> str:
    return vocabulary.LEVEL_LABELS[level] if level in vocabulary.LEVEL_LABELS else "not answered"


def redelivery_draft(*, release: Release, parsed: Mapping[str, Any]) -> dict[str, Any]:
    """An amendment draft of a declared ``release`` from a re-delivered message (same UPC).

    The file's catalog details become the draft's pending catalog edit; its AI
    answers replace the previous version's where it states them; parts it does not
    state keep the previous version's answer (source ``previous``), or stay
    unanswered on a track the release did not have. Nothing is saved in the
    catalog: the edit is signed with the next version or dropped.
    """
    current = release.current_declaration
    assert current is not None, "a re-delivery amends a declared release"
    before = previous_ai(current)
    before_artwork = current.statement["release"]["artwork"]
    known = {t.recording.isrc: t for t in release.tracks.select_related("recording").order_by("position")}
    ai: dict[str, Any] = {}
    for t in parsed["tracks"]:
        old = before.get(t["isrc"])
        ai[t["isrc"]] = {
            "parts": {
                p: t["parts"][p] if t["parts"][p] is not None else (old["parts"][p] if old else None)
                for p in vocabulary.PARTS
            },
            "tools": list(old["tools"]) if old else [],
            "voice_likeness": dict(old["voice_likeness"]) if old else dict(NO_LIKENESS),
        }
    artwork = parsed["artwork"] or before_artwork
    when = parsed.get("release_date")
    catalog = drafts.catalog_edit(
        title=parsed["title"] or release.title,
        genre=parsed.get("genre") or release.genre,
        release_date=date.fromisoformat(when) if isinstance(when, str) else (when or release.release_date),
        artwork_ai=artwork,
        artists=list(release.artists.order_by("releaseartist__position")),
        tracks=[
            {
                "isrc": t["isrc"],
                "title": t["title"],
                "position": t["position"],
                "duration": t["duration"]
                if t["duration"] is not None
                else getattr(known.get(t["isrc"]), "duration", None),
                "audio_sha256": getattr(known.get(t["isrc"]), "audio_sha256", None),
            }
            for t in parsed["tracks"]
        ],
    )
    imported = file_answers(parsed)
    draft: dict[str, Any] = {
        "mode": "amend",
        "artwork": artwork,
        "reason": None,
        "expected_version": drafts.version_of(release),
        "ai": ai,
        "imported": imported,
        "import_changes": redelivery_changes(release=release, parsed=parsed, before=before, artwork=before_artwork),
    }
    if not drafts.catalog_unchanged(release, catalog):
        draft["catalog"] = catalog
    draft["sources"] = answer_sources(draft, imported, {"artwork": before_artwork, "ai": before})
    return draft


def redelivery_changes(
    *, release: Release, parsed: Mapping[str, Any], before: Mapping[str, Any], artwork: str
) -> list[str]:
    """What a re-delivered message changes: title, tracks added and removed, AI levels per track and part."""
    changes = []
    if parsed["title"] and parsed["title"] != release.title:
        changes.append(f"Title: “{release.title}” → “{parsed['title']}”")
    if parsed.get("genre") and parsed["genre"] != release.genre:
        changes.append(f"Genre: “{release.genre or 'not given'}” → “{parsed['genre']}”")
    titles = {t.recording.isrc: t.title for t in release.tracks.select_related("recording")}
    incoming = {t["isrc"]: t for t in parsed["tracks"]}
    changes += [f"Track added: {isrc} “{t['title']}”" for isrc, t in incoming.items() if isrc not in before]
    changes += [f"Track removed: {isrc} “{titles.get(isrc, '')}”" for isrc in before if isrc not in incoming]
    for isrc, t in incoming.items():
        old = before.get(isrc)
        if old is None:
            continue
        for p in vocabulary.PARTS:
            new = t["parts"][p]
            if new is not None and new != old["parts"][p]:
                changes.append(
                    f"{isrc} “{t['title']}”, {vocabulary.PART_LABELS[p].lower()}: "
                    f"{_level_words(old['parts'][p])} → {_level_words(new)}"
                )
    if parsed["artwork"] is not None and parsed["artwork"] != artwork:
        changes.append(f"Artwork: {_level_words(artwork)} → {_level_words(parsed['artwork'])}")
    return changes
