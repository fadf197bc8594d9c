"""Reads of declarations, shared by the API and the public pages, in a constant number of queries.

A release answers its current (newest) version. A recording answers the
newest current declaration among the releases that hold it (docs/protocol.md §12),
and lists the other releases' UPCs in ``also_in``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router

from provenance import vocabulary
from provenance.disclosure import summary_of
from registry.catalog.models import Release
from registry.declarations.models import Declaration, DeclaredRecording

_DECL_FIELDS = (
    "id",
    "uid",
    "release_id",
    "version",
    "status",
    "reason",
    "declared_at",
    "contains_ai",
    "statement",
    "bundle",
    "leaf_id",
    "key_id",
    "supersedes",
    "via",
)


@dataclass
class RecordingAnswer:
    isrc: str
    declaration: Declaration
    also_in: list[str] = field(default_factory=list)


def _declarations(ids: Iterable[int]) -> dict[int, Declaration]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {
        d.pk: d
        for d in Declaration.objects.filter(pk__in=ids)
        .select_related("release__label", "key")
        .only(
            *_DECL_FIELDS,
            "release__upc",
            "release__title",
            "release__label__name",
            "release__label__verified",
            "release__label__is_demo",
            "release__label__id",
            "key__kid",
            "key__status",
        )
    }


# --- the platform hot path -----------------------------------------------------------
# Lookups by ISRC/UPC answer with stored texts (bundle and summary) in ONE query.
# The ORM spent ~1 ms per lookup compiling its two select_related queries and
# decoding the statement; plain SQL over the indexed columns is what a
# platform's ingestion traffic deserves (bench row 1). Table names come from
# the models, so renames stay safe.


@dataclass(frozen=True)
class StoredAnswer:
    upc: str
    declaration_id: int
    summary: bytes  # UTF-8 JSON
    bundle: bytes  # UTF-8 JSON, as logged
    also_in: tuple[str, ...] = ()


def _rows(model: type, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connections[router.db_for_read(model)].cursor() as cur:
        if cur.db.vendor == "postgresql":
            # Text columns as the UTF-8 bytes PostgreSQL sends: the answer is assembled
            # from bytes, so decoding to str and encoding back would be wasted work.
            cur.cursor.adapters.register_loader("text", _RawText)
        cur.execute(sql, params)
        return cur.fetchall()


def _in_clause(model: type, column: str, values: list[str]) -> tuple[str, list[Any]]:
    """``column IN (...)``; on PostgreSQL one array parameter, so a 1000-item lookup parses no 1000 placeholders."""
    if connections[router.db_for_read(model)].vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({','.join(['%s'] * len(values))})", values


try:
    from psycopg.adapt import Loader

    class _RawText(Loader):
        def load(self, data: Any) -> bytes:
            return bytes(data)

except ImportError:  # psycopg is only needed with PostgreSQL
    _RawText = None  # type: ignore[assignment,misc]


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8") if isinstance(value, bytes | memoryview) else value


def _bytes(value: Any) -> bytes:
    # Text columns arrive as str (decoded in C by the driver); encode once per row so the
    # answer is assembled by copying bytes. (bytea would travel hex-escaped: slower.)
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def recording_answers(isrcs: Iterable[str]) -> dict[str, StoredAnswer]:
    """ISRC → the newest current declaration holding it, as stored texts, plus the other UPCs (1 query)."""
    wanted = sorted(set(isrcs))
    if not wanted:
        return {}
    dr, d, r = DeclaredRecording._meta.db_table, Declaration._meta.db_table, Release._meta.db_table
    where, params = _in_clause(DeclaredRecording, "dr.isrc", wanted)
    rows = _rows(
        DeclaredRecording,
        f"SELECT dr.isrc, d.leaf_id, r.upc, d.id, dr.summary, d.bundle "  # noqa: S608 - table names from models, values bound
        f"FROM {dr} dr JOIN {d} d ON d.id = dr.declaration_id JOIN {r} r ON r.current_declaration_id = d.id "
        f"WHERE {where}",
        params,
    )
    best: dict[str, tuple[int, str, int, Any, Any]] = {}
    upcs: dict[str, list[tuple[int, str]]] = {}
    for raw_isrc, leaf, raw_upc, decl_id, summary, bundle in rows:
        isrc, upc = _text(raw_isrc), _text(raw_upc)
        if isrc not in best or leaf > best[isrc][0]:
            best[isrc] = (leaf, upc, decl_id, summary, bundle)
        upcs.setdefault(isrc, []).append((leaf, upc))
    out = {}
    for isrc, (_, upc, decl_id, summary, bundle) in best.items():
        others = tuple(u for _, u in sorted(upcs[isrc], reverse=True) if u != upc)
        out[isrc] = StoredAnswer(upc, decl_id, _bytes(summary), _bytes(bundle), others)
    return out


def release_answers(upcs: Iterable[str]) -> dict[str, StoredAnswer]:
    """UPC → its current declaration as stored texts (1 query)."""
    wanted = sorted(set(upcs))
    if not wanted:
        return {}
    d, r = Declaration._meta.db_table, Release._meta.db_table
    where, params = _in_clause(Release, "r.upc", wanted)
    rows = _rows(
        Release,
        f"SELECT r.upc, d.id, d.summary, d.bundle "  # noqa: S608 - table names from models, values bound
        f"FROM {r} r JOIN {d} d ON d.id = r.current_declaration_id WHERE {where}",
        params,
    )
    return {
        _text(upc): StoredAnswer(_text(upc), decl_id, _bytes(summary), _bytes(bundle))
        for upc, decl_id, summary, bundle in rows
    }


def release_by_upc(upc: str) -> Declaration | None:
    """The current declaration of a release, as a model (for pages): 2 queries."""
    decl_id = (
        Release.objects.filter(upc=upc, current_declaration__isnull=False)
        .values_list("current_declaration_id", flat=True)
        .first()
    )
    return _declarations([decl_id]).get(decl_id) if decl_id else None


def recording_by_isrc(isrc: str) -> RecordingAnswer | None:
    """The recording's answer as a model (for pages), chosen by the same rule as the API's."""
    stored = recording_answers([isrc]).get(isrc)
    if stored is None:
        return None
    decl = _declarations([stored.declaration_id])[stored.declaration_id]
    return RecordingAnswer(isrc=isrc, declaration=decl, also_in=list(stored.also_in))


def history(release_id: int) -> list[Declaration]:
    """Every version, oldest first."""
    return list(Declaration.objects.filter(release_id=release_id).select_related("key").order_by("version"))


def disclosure_summary(decl: Declaration, isrc: str | None = None) -> dict[str, Any]:
    """The plain summary a platform displays: levels, persona, Apple tags, DDEX values.

    With ``isrc``, the summary is about that track; otherwise about the release.
    """
    return summary_of(decl.statement, isrc)


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
    for key, words in (("title", "title"), ("release_date", "release date")):
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
