"""Synthetic data for the bench: valid identifiers, AI facts, and COPY lines for large logs and catalogs."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from provenance import identifiers, statement, vocabulary
from provenance.disclosure import summary_text
from provenance.issue.tree import CompactRange, node_id

B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORIGIN = "registry.example.org/log"


def isrc(n: int) -> str:
    """A valid ISRC, unique for n < 36³·10⁵ (the registrant code counts in base 36)."""
    reg, body = divmod(n, 100_000)
    code = B36[reg // 1296 % 36] + B36[reg // 36 % 36] + B36[reg % 36]
    return f"QZ{code}25{body:05d}"


def upc(n: int) -> str:
    body = f"{n:011d}"
    return body + str(identifiers.gtin_check_digit(body))


def track_facts(isrcs: list[str]) -> dict[str, Any]:
    """AI facts with some variety: every third track has AI vocals and partly AI production."""
    facts = {}
    for i, code in enumerate(isrcs):
        parts = dict.fromkeys(vocabulary.PARTS, vocabulary.NONE)
        if i % 3 == 2:
            parts.update(vocals="all", production="partly")
        facts[code] = {"parts": parts, "tools": ["Suno v4"] if i % 3 == 2 else []}
    return facts


# --- the log --------------------------------------------------------------------------------------------


def log_node_lines(size: int) -> Iterator[str]:
    """COPY text lines of every complete subtree of a ``size``-leaf tree, leaves being random-looking hashes."""
    edge = CompactRange()
    sha = hashlib.sha256
    for i in range(size):
        for (level, index), h in edge.append(sha(i.to_bytes(8, "big")).digest()):
            yield f"{node_id(level, index)}\t\\\\x{h.hex()}\n"


# --- a catalog -----------------------------------------------------------------------------------------


def _template(per_release: int) -> dict[str, Any]:
    facts = track_facts([isrc(i) for i in range(1, per_release + 1)])
    return statement.build_statement(
        registry=ORIGIN,
        declaration_id=str(uuid.UUID(int=1)),
        version=1,
        status="active",
        supersedes=None,
        reason=None,
        declared_at=datetime(2025, 3, 1, tzinfo=UTC),
        label={"name": "Bench Catalog Records", "dpid": None, "verified": True},
        release={"upc": upc(0), "title": "Bench release 0", "release_date": "2025-04-01", "artwork": "partly"},
        artists=[{"name": "The Bench Ensemble", "isni": None, "persona": "ai_assisted"}],
        tracks=[
            {"isrc": code, "title": f"Track {i}", "position": i, "duration": 180 + i, **facts[code]}
            for i, code in enumerate(facts, start=1)
        ],
    )


def _copy_escape(text: str) -> str:
    """COPY text format: backslash, tab and newline are escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _retarget(template: dict[str, Any], r: int) -> dict[str, Any]:
    st = copy.deepcopy(template)
    st["declaration"]["id"] = str(uuid.UUID(int=r + 1))
    st["release"]["upc"] = upc(r)
    st["release"]["title"] = f"Bench release {r}"
    for t, track in enumerate(st["tracks"], start=1):
        track["isrc"] = isrc(r * 100 + t)
    return st


def catalog_tables(releases: int, per_release: int, key_id: int) -> Iterator[tuple[str, str, Iterator[str]]]:
    """(table, columns, COPY lines) for ``releases`` declared releases of ``per_release`` tracks each.

    Release r (0-based) has id r+1, declaration r+1 on log leaf r, and tracks
    t = 1..per_release with ISRC ``isrc(r·100 + t)``. Bundles are unsigned
    filler of a real bundle's size: lookups splice them, they never parse them.
    """
    template = _template(per_release)
    # Lookups splice the stored summaries: load real ones. Summaries of release 0 are
    # computed once and re-targeted per release by replacing its (quoted) identifiers.
    first = _retarget(template, 0)
    release_summary0 = summary_text(first)
    track_summaries0 = [summary_text(first, t["isrc"]) for t in first["tracks"]]

    def swap(text: str, r: int) -> str:
        text = text.replace(f'"{upc(0)}"', f'"{upc(r)}"').replace('"Bench release 0"', f'"Bench release {r}"')
        for t in range(1, per_release + 1):
            text = text.replace(f'"{isrc(t)}"', f'"{isrc(r * 100 + t)}"')
        return _copy_escape(text)

    pool = [base64.b64encode(os.urandom(2400)).decode() for _ in range(64)]
    now = "2025-03-01 00:00:00+00"

    def releases_() -> Iterator[str]:
        for r in range(releases):
            yield f"{r + 1}\t1\t{upc(r)}\tBench release {r}\t2025-04-01\tpartly\t{r + 1}\t{now}\n"

    def recordings() -> Iterator[str]:
        for r in range(releases):
            base = r * per_release
            for t in range(1, per_release + 1):
                yield f"{base + t}\t1\t{isrc(r * 100 + t)}\t{now}\n"

    def tracks() -> Iterator[str]:
        for r in range(releases):
            base = r * per_release
            for t in range(1, per_release + 1):
                yield f"{base + t}\t{r + 1}\t{base + t}\t{t}\tTrack {t}\t{180 + t}\n"

    def leaves() -> Iterator[str]:
        for r in range(releases):
            yield f"{r}\t\\\\x{hashlib.sha256(r.to_bytes(8, 'big')).hexdigest()}\t{{}}\t{now}\n"

    def declarations() -> Iterator[str]:
        for r in range(releases):
            st = _retarget(template, r)
            bundle = (
                '{"envelope":{"payload":"' + pool[r % 64] + '","payloadType":"application/vnd.ai-disclosure.'
                'statement.v1+json","signatures":[]},"log":{"index":' + str(r) + "},"
                '"mediaType":"application/vnd.ai-disclosure.bundle.v1+json"}'
            )
            yield (
                f"{r + 1}\t{uuid.UUID(int=r + 1)}\t{r + 1}\t1\tactive\t\t\\N\t{now}\tapi\t{st['release']['contains_ai']}"
                f"\t{json.dumps(st, separators=(',', ':'))}\t{r}\t{key_id}\t{bundle}\t{now}\t{swap(release_summary0, r)}\n"
            )

    def declared() -> Iterator[str]:
        contains = [t["contains_ai"] for t in template["tracks"]]
        for r in range(releases):
            base = r * per_release
            for t in range(1, per_release + 1):
                yield f"{base + t}\t{r + 1}\t{isrc(r * 100 + t)}\t{t}\t{contains[t - 1]}\t{swap(track_summaries0[t - 1], r)}\n"

    yield (
        "catalog_release",
        "id, label_id, upc, title, release_date, artwork_ai, current_declaration_id, created_at",
        releases_(),
    )
    yield "catalog_recording", "id, label_id, isrc, created_at", recordings()
    yield "catalog_track", "id, release_id, recording_id, position, title, duration", tracks()
    yield "transparency_logleaf", "index, leaf_hash, data, created_at", leaves()
    yield (
        "declarations_declaration",
        "id, uid, release_id, version, status, reason, supersedes, declared_at, via, contains_ai, statement, leaf_id, key_id, bundle, created_at, summary",
        declarations(),
    )
    yield "declarations_declaredrecording", "id, declaration_id, isrc, position, contains_ai, summary", declared()
