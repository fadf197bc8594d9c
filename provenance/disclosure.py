"""The disclosure a platform displays, derived from a signed statement (one pure function, no Django).

The registry stores :func:`summary_text` next to each declaration and splices
it into lookups as ``disclosure``; ``audit_log`` recomputes it from the signed
statement and compares byte for byte. A verifier derives the same from the
statement it verified (``Verifier.verify(..., isrc=...)``), so what a platform
shows never depends on an unsigned field of an answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from provenance import identifiers, vocabulary
from provenance.errors import IdentifierError, VerificationError


def track_in(statement: Mapping[str, Any], isrc: str) -> Mapping[str, Any] | None:
    return next((t for t in statement["tracks"] if t["isrc"] == isrc), None)


def _track_summary(t: Mapping[str, Any], unverified: frozenset[str] | None = None) -> dict[str, Any]:
    summary = {
        "isrc": t["isrc"],
        "title": t["title"],
        "position": t["position"],
        "contains_ai": t["contains_ai"],
        "parts": dict(t["parts"]),
        "voice_likeness": dict(t["voice_likeness"]),
        "tools": list(t["tools"]),
        "apple_music_tags": vocabulary.apple_transparency_tags(t["parts"]),
        "ddex": {
            "contains_ai": vocabulary.ddex_contains_ai(t["contains_ai"]),
            "ai_contributions": vocabulary.ddex_ai_contributions(t["parts"]),
        },
        "iptc_digital_source_type": vocabulary.iptc_digital_source_type(t["contains_ai"]),
    }
    if unverified is not None:
        summary["isrc_verified"] = t["isrc"] not in unverified
    return summary


def _unverified(rel: Mapping[str, Any]) -> frozenset[str] | None:
    """The ISRCs outside the label's verified prefixes; None when the statement does not say (before 2026-12)."""
    checked = rel.get("identifiers_verified")
    return None if checked is None else frozenset(checked["isrcs_unverified"])


def summary_text(statement: Mapping[str, Any], isrc: str | None = None) -> str:
    """``summary_of`` as the compact JSON text that lookups splice into their answers.

    Keys are sorted so the text depends only on the signed facts, not on the key
    order of whichever dict it was built from (a freshly built statement, the
    parsed canonical payload, or a database's JSON column).
    """
    return json.dumps(summary_of(statement, isrc), separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def summary_texts(statement: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """``summary_text(statement)`` and ``{isrc: summary_text(statement, isrc)}`` for every track, byte for byte.

    Each piece is encoded once: with sorted keys and compact separators, a JSON object's text
    is its members' texts joined in key order (the keys are ASCII, so this order is the one
    ``sort_keys`` uses) and a list's is its items' texts joined by commas. So the members every
    summary shares (the declaration, label, release and artists) and each track's summary are
    encoded once, and the release's text and each track's are joined from them. A batch stores
    13 summaries per 12-track release; ``audit_log`` recomputes each with ``summary_text`` and
    compares them, and tests/provenance/test_disclosure.py checks the two agree on generated
    statements.
    """
    whole = summary_of(statement)
    track_texts = [_dumps(t) for t in whole["tracks"]]
    shared = {k: f"{_dumps(k)}:{_dumps(v)}" for k, v in whole.items() if k not in ("tracks", "apple_music_tags")}

    def joined(members: dict[str, str]) -> str:
        return "{" + ",".join(members[k] for k in sorted(members)) + "}"

    release_text = joined(
        shared
        | {
            "tracks": '"tracks":[' + ",".join(track_texts) + "]",
            "apple_music_tags": '"apple_music_tags":' + _dumps(whole["apple_music_tags"]),
        }
    )
    artwork = statement["release"]["artwork"]
    tracks: dict[str, str] = {}
    for t, text in zip(statement["tracks"], track_texts, strict=True):
        if t["isrc"] in tracks:  # summary_text names the first track of an ISRC (track_in)
            continue
        tags = vocabulary.apple_transparency_tags(t["parts"], artwork)
        tracks[t["isrc"]] = joined(
            shared | {"track": f'"track":{text}', "apple_music_tags": '"apple_music_tags":' + _dumps(tags)}
        )
    return release_text, tracks


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def summary_of(statement: Mapping[str, Any], isrc: str | None = None) -> dict[str, Any]:
    st = statement
    rel = st["release"]
    personas = {a["persona"] for a in st["artists"]}
    summary: dict[str, Any] = {
        "status": st["declaration"]["status"],
        "version": st["declaration"]["version"],
        "declared_at": st["declaration"]["declared_at"],
        "reason": st["declaration"]["reason"],
        "label": {
            "name": st["label"]["name"],
            "dpid": st["label"]["dpid"],
            "verified": bool(st["label"].get("verified")),
        },
        "release": {
            "upc": rel["upc"],
            "title": rel["title"],
            "release_date": rel["release_date"],
            "contains_ai": rel["contains_ai"],
            "artwork": rel["artwork"],
            "ddex_contains_ai": vocabulary.ddex_contains_ai(rel["contains_ai"]),
        },
        "artists": [dict(a) for a in st["artists"]],
        "ai_persona": vocabulary.SYNTHETIC in personas,
    }
    # Only statements that carry the member get these keys, so the summaries stored for
    # older statements stay byte for byte what audit_log recomputes (no re-derivation needed).
    unverified = _unverified(rel)
    if unverified is not None:
        summary["release"]["identifiers_verified"] = {
            "upc": bool(rel["identifiers_verified"]["upc"]),
            "isrcs_unverified": sorted(unverified),
        }
    if isrc is not None:
        track = track_in(st, isrc)
        if track is not None:
            summary["track"] = _track_summary(track, unverified)
            summary["apple_music_tags"] = vocabulary.apple_transparency_tags(track["parts"], rel["artwork"])
    else:
        summary["tracks"] = [_track_summary(t, unverified) for t in st["tracks"]]
        tags: list[str] = []
        for t in st["tracks"]:
            for tag in vocabulary.apple_transparency_tags(t["parts"]):
                if tag not in tags:
                    tags.append(tag)
        if rel["artwork"] != vocabulary.NONE:
            tags.append("Artwork")
        summary["apple_music_tags"] = tags
    return summary


def answer(
    statement: Mapping[str, Any], *, isrc: str | None = None, upc: str | None = None
) -> tuple[str, dict[str, Any]]:
    """Check that a verified statement answers a question about ``isrc`` and/or ``upc``; return (detail, disclosure).

    A valid bundle proves what was signed, not that it is about what the
    platform asked: another release's bundle, or an older version's, verifies
    too. The ISRC must be a track of the statement and the UPC its release's
    (both compact forms, compared exactly as the registry's lookups do). The
    disclosure is :func:`summary_of` of the signed statement: about the track
    for an ISRC, about the release for a UPC alone. Raise :class:`VerificationError`.
    """
    rel, decl = statement["release"], statement["declaration"]
    about = f"release {rel['upc']} {rel['title']!r}, declaration version {decl['version']} ({decl['status']})"
    if upc is not None:
        try:
            wanted_upc = identifiers.normalize_gtin(upc)
        except IdentifierError as exc:
            raise VerificationError(f"the UPC asked about is malformed: {exc}") from exc
        if rel["upc"] != wanted_upc:
            raise VerificationError(f"this bundle is about {about}, not UPC {wanted_upc}: it does not answer for it")
    track = None
    if isrc is not None:
        try:
            wanted_isrc = identifiers.normalize_isrc(isrc)
        except IdentifierError as exc:
            raise VerificationError(f"the ISRC asked about is malformed: {exc}") from exc
        track = track_in(statement, wanted_isrc)
        if track is None:
            raise VerificationError(f"ISRC {wanted_isrc} is not a track of {about}: this bundle does not answer for it")
        detail = f"ISRC {wanted_isrc} is track {track['position']} {track['title']!r} of {about}"
    else:
        detail = f"UPC {rel['upc']} is {about}"
    return detail, summary_of(statement, track["isrc"] if track else None)
