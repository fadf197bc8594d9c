"""Pure functions of signed statements (no database): what changed from one version to the next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provenance import vocabulary


def _level(level: str) -> str:
    # The ContainsAI words none / partly / all read plainly as they are.
    return level


def diff_statements(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Human-readable changes from one version to the next (for history views)."""
    if old is None:
        return ["First declaration."]
    changes: list[str] = []
    if old["declaration"]["status"] != new["declaration"]["status"]:
        changes.append(f"Status: {old['declaration']['status']} → {new['declaration']['status']}")
    for key, words in (("title", "title"), ("genre", "genre"), ("release_date", "release date")):
        if old["release"].get(key) != new["release"].get(key):
            changes.append(f"Release {words}: {old['release'].get(key)} → {new['release'].get(key)}")
    for key, words in (("artwork", "Artwork"), ("contains_ai", "Release as a whole")):
        if old["release"][key] != new["release"][key]:
            changes.append(f"{words}: {_level(old['release'][key])} → {_level(new['release'][key])}")
    if old["label"].get("name") != new["label"].get("name"):
        changes.append(f"Label name: {old['label'].get('name')} → {new['label'].get('name')}")
    if bool(old["label"].get("verified")) != bool(new["label"].get("verified")):
        changes.append("Label verified by the registry" if new["label"].get("verified") else "Label no longer verified")
    if old["artists"] != new["artists"]:
        changes.append(
            "Artists: "
            + ", ".join(
                f"{a['name']} ({vocabulary.PERSONA_LABELS.get(a['persona'], a['persona']).lower()})"
                for a in new["artists"]
            )
        )
    old_tracks = {t["isrc"]: t for t in old["tracks"]}
    new_tracks = {t["isrc"]: t for t in new["tracks"]}
    for isrc, t in new_tracks.items():
        before = old_tracks.get(isrc)
        if before is None:
            changes.append(f"Track added: {t['title']} ({isrc})")
            continue
        for part in vocabulary.PARTS:
            if before["parts"][part] != t["parts"][part]:
                changes.append(f"{t['title']}: {part} {_level(before['parts'][part])} → {_level(t['parts'][part])}")
        if before["voice_likeness"] != t["voice_likeness"]:
            changes.append(f"{t['title']}: voice likeness statement changed")
        if before["tools"] != t["tools"]:
            changes.append(
                f"{t['title']}: tools {', '.join(before['tools']) or 'none'} → {', '.join(t['tools']) or 'none'}"
            )
        if before["title"] != t["title"]:
            changes.append(f"Track retitled: {before['title']} → {t['title']}")
        if before["position"] != t["position"]:
            changes.append(f"{t['title']}: moved from position {before['position']} to {t['position']}")
        for key, words in (("duration", "duration"), ("audio_sha256", "audio fingerprint (SHA-256)")):
            if before.get(key) != t.get(key):
                changes.append(f"{t['title']}: {words} changed")
    for isrc, t in old_tracks.items():
        if isrc not in new_tracks:
            changes.append(f"Track removed: {t['title']} ({isrc})")
    return changes or ["No change in the declared facts (re-signed)."]


def persona_warnings(st: Mapping[str, Any]) -> list[str]:
    """Answers that read as a contradiction next to an AI persona: its voice is generated, the vocals say "No AI".

    A warning, not a refusal: a persona may be a character a person performs. The label pages ask the
    label to confirm or fix it before signing.
    """
    personas = [a["name"] for a in st["artists"] if a.get("persona") == vocabulary.SYNTHETIC]
    if not personas:
        return []
    human_vocals = [t for t in st["tracks"] if t["parts"]["vocals"] == vocabulary.NONE]
    if not human_vocals:
        return []
    who = " and ".join(personas)
    if len(human_vocals) == len(st["tracks"]):
        where = "every track" if len(st["tracks"]) > 1 else "the track"
    else:
        where = ", ".join(f"track {t['position']} “{t['title']}”" for t in human_vocals)
    return [
        f"{who} {'is an AI persona' if len(personas) == 1 else 'are AI personas'}, but the vocals of {where} "
        "are declared “No AI”. The public page will show both: an AI persona and vocals made by people."
    ]
