"""What the CLI and the registry's pages print of a statement or a disclosure, every value from it escaped.

A statement's titles, names, tools and reasons come from whoever handed over
the bundle: each is passed through :func:`provenance.terminal.escape` before
it is printed, so it can draw nothing on a terminal.
"""

from __future__ import annotations

from typing import Any

from provenance import vocabulary
from provenance.terminal import escape


def _parts(parts: dict[str, str]) -> str:
    return ", ".join(f"{vocabulary.PART_LABELS[p].lower()} {parts[p]}" for p in vocabulary.PARTS)


def _track_lines(t: dict[str, Any]) -> list[str]:
    e = escape
    vl = t["voice_likeness"]
    voice = (
        f"imitates a real person; consent: {e(vl['consent_reference'])}"
        if vl["imitates_real_person"]
        else "does not imitate a real person"
    )
    return [
        f"{t['position']}. {e(t['title'])} (ISRC {e(t['isrc'])}): {vocabulary.LEVEL_LABELS[t['contains_ai']]}",
        f"  {_parts(t['parts'])}",
        f"  voice {voice}",
        *([f"  tools: {', '.join(e(tool) for tool in t['tools'])}"] if t["tools"] else []),
    ]


def describe_disclosure(d: dict[str, Any]) -> str:
    """What a platform displays, from ``provenance.disclosure.summary_of`` of the verified statement."""
    e = escape
    rel, label = d["release"], d["label"]
    pad = " " * 14
    lines = [
        "Disclosure, derived from the signed statement (display this, not an answer's unsigned fields):",
        f"  Status      {e(d['status'])}, version {e(d['version'])}, declared {e(d['declared_at'])}"
        + (" — the label WITHDREW this declaration" if d["status"] == vocabulary.STATUS_WITHDRAWN else ""),
    ]
    if d.get("reason"):
        lines.append(f"  Reason      {e(d['reason'])}")
    lines.append(
        f"  Label       {e(label['name'])}"
        + (f" (DPID {e(label['dpid'])})" if label.get("dpid") else "")
        + (" — verified" if label.get("verified") else "")
    )
    lines.append(
        f"  Release     {e(rel['title'])} (UPC {e(rel['upc'])}): {vocabulary.LEVEL_LABELS[rel['contains_ai']]};"
        f" artwork: {vocabulary.LEVEL_LABELS[rel['artwork']]}"
    )
    tracks = [d["track"]] if "track" in d else d.get("tracks", [])
    for i, t in enumerate(tracks):
        first, *rest = _track_lines(t)
        lines.append((("  Track       " if "track" in d else "  Tracks      ") if i == 0 else pad) + first)
        lines.extend(pad + line for line in rest)
    for i, a in enumerate(d["artists"]):
        lines.append(
            ("  Artists     " if i == 0 else pad) + f"{e(a['name'])}: {vocabulary.PERSONA_LABELS[a['persona']]}"
        )
    lines.append(f"  AI persona  {'yes' if d['ai_persona'] else 'no'}")
    lines.append(f"  Apple Music {', '.join(d['apple_music_tags']) or 'no AI tags'}")
    return "\n".join(lines)


def describe_statement(st: dict[str, Any]) -> str:
    """The statement readably, every value from it escaped (provenance/terminal.py): it is untrusted text."""
    e = escape
    decl, rel, label = st["declaration"], st["release"], st["label"]
    lines = [
        f"Release   {e(rel['title'])} (UPC {e(rel['upc'])}), released {e(rel.get('release_date') or 'unknown')}"
        + (f", genre {e(rel['genre'])}" if rel.get("genre") else ""),
        f"Label     {e(label['name'])}"
        + (f" (DPID {e(label['dpid'])})" if label.get("dpid") else "")
        + (" — verified" if label.get("verified") else ""),
        f"Version   {e(decl['version'])} ({e(decl['status'])}), declared {e(decl['declared_at'])}, id {e(decl['id'])}",
    ]
    if decl.get("reason"):
        lines.append(f"Reason    {e(decl['reason'])}")
    if decl.get("supersedes"):
        lines.append(f"Replaces  leaf {e(decl['supersedes'])}")
    lines.append(
        f"AI        release: {vocabulary.LEVEL_LABELS[rel['contains_ai']]}; artwork: {vocabulary.LEVEL_LABELS[rel['artwork']]}"
    )
    lines.append("Artists")
    for a in st["artists"]:
        isni = f", ISNI {e(a['isni'])}" if a.get("isni") else ""
        lines.append(f"  - {e(a['name'])}: {vocabulary.PERSONA_LABELS[a['persona']]}{isni}")
    lines.append("Tracks")
    for t in st["tracks"]:
        lines.append(
            f"  {t['position']:>2}. {e(t['title'])} (ISRC {e(t['isrc'])}): {vocabulary.LEVEL_LABELS[t['contains_ai']]}"
        )
        parts = ", ".join(f"{vocabulary.PART_LABELS[p].lower()} {t['parts'][p]}" for p in vocabulary.PARTS)
        lines.append(f"      {parts}")
        if t["tools"]:
            lines.append(f"      tools: {', '.join(e(tool) for tool in t['tools'])}")
        vl = t["voice_likeness"]
        if vl["imitates_real_person"]:
            lines.append(f"      voice imitates a real person; consent: {e(vl['consent_reference'])}")
    return "\n".join(lines)
