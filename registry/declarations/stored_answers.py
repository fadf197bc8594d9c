"""The platform hot path: lookups answered from stored texts in ONE query, assembled by copying bytes.

Everything that makes a lookup fast lives here, with the invariants it relies on:

- **Stored texts are derived from the signed statement.** ``Declaration.bundle`` is
  the bundle as issued when the leaf was logged (canonical JSON); ``Declaration.summary``
  and each track's text in ``Declaration.track_summaries`` (the one a ``DeclaredRecording``
  names by ``summary_at``/``summary_length``, in UTF-8 bytes, cut out in the query) are
  ``provenance.disclosure.summary_text`` of the signed statement, written in the signing
  transaction (``declarations.signing``).
  ``audit_log`` (``declarations.audit``) recomputes every one of them and fails on any
  difference, so splicing them is serving what was signed.
- **Identifiers are ``[A-Z0-9]``.** ISRCs and UPCs are normalized by
  ``provenance.identifiers`` before they reach a query or an answer, so they are
  spliced into JSON without escaping.
- **A bundle names its tree size once.** A stored bundle is canonical JSON whose only
  member named ``tree_size`` is ``log.tree_size`` (the envelope's payload is base64, and
  inside a JSON string a ``"`` is always escaped, so the bytes ``"tree_size":`` occur
  nowhere else): :func:`bundle_tree_size` finds it with one ``rfind``, without
  decoding the bundle. tests/registry/witnessing/test_answers.py checks it against the
  parsed bundle.
- **The ``witnessed`` member is rendered once per (bundle size, cosigned size)** by
  ``registry.witnessing.published`` and spliced after the bundle as bytes.
- **A release's disputes are stored beside it.** ``Release.public_disputes`` is the JSON list
  of its disputes as answers show them (``registry.disputes.selectors.publish``), rewritten
  in every dispute step's transaction under the release's row lock; ``audit_log``
  (``disputes.audit``) recomputes it. A release answer splices it; an ISRC answer parses it
  only when it is not empty, to keep the ISRC's own and the release-wide disputes.
- **A release's observations are stored beside it** in ``Release.public_observations``, the
  same way (``registry.observations.services``, checked by ``observations.audit``); an ISRC
  answer keeps the ISRC's own, parsing the list only when it is not empty.
- **A release answers its current declaration** (``Release.current_declaration``,
  which the audit checks is the newest version); an ISRC answers the newest current
  declaration among the releases that hold it, those of the label holding its claim
  first (docs/protocol.md §12); the claims are read (a second query) only for an ISRC
  that releases of two labels hold, which only a take-over makes.

The ORM spent ~1 ms per lookup compiling its two select_related queries and decoding
the statement; plain SQL over the indexed columns is what a platform's ingestion
traffic deserves (bench rows 1 and 2). Table names come from the models, so renames
stay safe.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from django.db import connections, router

from registry.catalog.models import Release
from registry.declarations.models import Declaration, DeclaredRecording, IdentifierClaim
from registry.witnessing import published


class StoredAnswer(NamedTuple):
    """One identifier's answer as stored texts (a tuple: a bulk lookup builds a thousand)."""

    upc: str
    declaration_id: int
    summary: bytes  # UTF-8 JSON
    bundle: bytes  # UTF-8 JSON, as logged
    also_in: tuple[str, ...] = ()
    disputes: bytes = b"[]"  # UTF-8 JSON: Release.public_disputes, the release's disputes (docs/protocol.md §15)
    observations: bytes = b"[]"  # UTF-8 JSON: Release.public_observations, platforms' observations (§16.4)


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


def _track_summary(model: type, column: str, at: str, length: str) -> str:
    """SQL for the ``length`` UTF-8 bytes of text ``column`` from byte ``at``, as text.

    By bytes, not characters: substr on text in a UTF-8 database walks the text character by character
    to its start (~30 µs a row 5,000 characters in: ~30 ms for a bulk lookup's 1000 rows); converted to
    its UTF-8 bytes (a check and a copy of ~9 KB) it is cut at once (~5 µs a row, measured).
    """
    if connections[router.db_for_read(model)].vendor == "postgresql":
        return f"convert_from(substring(convert_to({column}, 'UTF8') FROM {at} + 1 FOR {length}), 'UTF8')"
    return f"CAST(substr(CAST({column} AS BLOB), {at} + 1, {length}) AS TEXT)"


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
    """ISRC → the newest current declaration holding it, as stored texts, plus the other UPCs (1 query).

    Among the releases holding the ISRC, those of the label holding its claim come first (a
    prefix holder that took it over from its first signer, docs/protocol.md §12), then the newest.
    Only an ISRC held by releases of two labels or more (a take-over: rare) costs a second query,
    for the claims of those ISRCs alone.
    """
    wanted = sorted(set(isrcs))
    if not wanted:
        return {}
    dr, d, r = DeclaredRecording._meta.db_table, Declaration._meta.db_table, Release._meta.db_table
    where, params = _in_clause(DeclaredRecording, "dr.isrc", wanted)
    summary = _track_summary(DeclaredRecording, "d.track_summaries", "dr.summary_at", "dr.summary_length")
    rows = _rows(
        DeclaredRecording,
        f"SELECT dr.isrc, d.leaf_id, r.upc, d.id, {summary}, "  # noqa: S608 - table names from models, values bound
        f"d.bundle, r.public_disputes, r.label_id, "
        f"r.public_observations "
        f"FROM {dr} dr JOIN {d} d ON d.id = dr.declaration_id JOIN {r} r ON r.current_declaration_id = d.id "
        f"WHERE {where}",
        params,
    )
    out: dict[str, StoredAnswer] = {}
    newest: dict[str, tuple[int, int]] = {}  # ISRC -> (leaf, label) of the answer kept so far
    shared: dict[str, list[tuple[int, str, int, StoredAnswer]]] = {}  # rare: ISRCs on several current releases
    for raw_isrc, leaf, raw_upc, decl_id, summary, bundle, disputes, label_id, observed in rows:
        isrc, upc = _text(raw_isrc), _text(raw_upc)
        known = newest.get(isrc)
        if known is not None:
            answer = StoredAnswer(upc, decl_id, _bytes(summary), _bytes(bundle), (), _bytes(disputes), _bytes(observed))
            held = shared.setdefault(isrc, [(known[0], out[isrc].upc, known[1], out[isrc])])
            held.append((leaf, upc, label_id, answer))
            if leaf <= known[0]:
                continue
            newest[isrc], out[isrc] = (leaf, label_id), answer
            continue
        newest[isrc] = (leaf, label_id)
        out[isrc] = StoredAnswer(upc, decl_id, _bytes(summary), _bytes(bundle), (), _bytes(disputes), _bytes(observed))
    if shared:
        across = [isrc for isrc, held in shared.items() if len({row[2] for row in held}) > 1]
        holders = (
            dict(
                IdentifierClaim.objects.filter(kind=IdentifierClaim.ISRC, value__in=across).values_list(
                    "value", "label_id"
                )
            )
            if across
            else {}
        )
        for isrc, held in shared.items():
            # The releases of the label holding the ISRC's claim first (a prefix holder's take-over), then the
            # newest; the other UPCs, newest first, are its also_in.
            _, upc, _, answer = max(held, key=lambda row: (holders.get(isrc) == row[2], row[0]))
            others = tuple(u for _, u in sorted(((row[0], row[1]) for row in held), reverse=True) if u != upc)
            out[isrc] = answer._replace(also_in=others)
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
        f"SELECT r.upc, d.id, d.summary, d.bundle, r.public_disputes, r.public_observations "  # noqa: S608 - table names from models, values bound
        f"FROM {r} r JOIN {d} d ON d.id = r.current_declaration_id WHERE {where}",
        params,
    )
    return {
        _text(upc): StoredAnswer(
            _text(upc), decl_id, _bytes(summary), _bytes(bundle), (), _bytes(disputes), _bytes(observed)
        )
        for upc, decl_id, summary, bundle, disputes, observed in rows
    }


# --- answers as bytes -------------------------------------------------------------------

_TREE_SIZE = b'"tree_size":'


def bundle_tree_size(bundle: bytes) -> int:
    """``log.tree_size`` of a stored bundle, read without decoding it (see the invariants above)."""
    start = bundle.rfind(_TREE_SIZE) + len(_TREE_SIZE)
    end = start
    while bundle[end : end + 1].isdigit():
        end += 1
    return int(bundle[start:end])


def witnessed(answers: Iterable[StoredAnswer]) -> dict[int, bytes]:
    """Tree size -> ``witnessed`` member bytes for these answers' bundles ({} when witnessing is off)."""
    return published.witnessed_members(bundle_tree_size(a.bundle) for a in answers)


def _tail(answer: StoredAnswer, members: dict[int, bytes]) -> bytes:
    if not members:
        return b"}"
    return b',"witnessed":' + members[bundle_tree_size(answer.bundle)] + b"}"


def recording_pieces(isrc: str, answer: StoredAnswer, members: dict[int, bytes]) -> tuple[bytes, ...]:
    """The 200 answer for an ISRC as pieces to join: the stored texts themselves, never copied here.

    Its ``disputes`` are the release's that concern it (its own and the release-wide ones): the
    stored list is parsed only when the release has any.
    """
    also_in = ",".join(f'"{upc}"' for upc in answer.also_in)
    disputes = answer.disputes if answer.disputes == b"[]" else _disputes_of(answer.disputes, isrc)
    observed = answer.observations if answer.observations == b"[]" else _observations_of(answer.observations, isrc)
    return (
        f'{{"isrc":"{isrc}","status":"declared","disclosure":'.encode(), answer.summary,
        f',"also_in":[{also_in}],"disputes":'.encode(), disputes, b',"observations":', observed,
        b',"bundle":', answer.bundle, _tail(answer, members),
    )  # fmt: skip


def recording_body(isrc: str, answer: StoredAnswer, members: dict[int, bytes] | None = None) -> bytes:
    """The 200 answer for an ISRC, spliced from stored UTF-8 texts: nothing is parsed or re-serialized."""
    return b"".join(recording_pieces(isrc, answer, members or {}))


def _disputes_of(stored: bytes, isrc: str) -> bytes:
    chosen = [d for d in json.loads(stored) if d["isrc"] in (None, isrc)]
    return json.dumps(chosen, separators=(",", ":"), ensure_ascii=False).encode()


def _observations_of(stored: bytes, isrc: str) -> bytes:
    chosen = [o for o in json.loads(stored) if o["isrc"] == isrc]
    return json.dumps(chosen, separators=(",", ":"), ensure_ascii=False).encode()


def release_pieces(upc: str, answer: StoredAnswer, members: dict[int, bytes]) -> tuple[bytes, ...]:
    """The 200 answer for a UPC as pieces to join."""
    return (
        f'{{"upc":"{upc}","status":"declared","disclosure":'.encode(), answer.summary, b',"disputes":',
        answer.disputes, b',"observations":', answer.observations, b',"bundle":', answer.bundle,
        _tail(answer, members),
    )  # fmt: skip


def release_body(upc: str, answer: StoredAnswer, members: dict[int, bytes] | None = None) -> bytes:
    """The 200 answer for a UPC, spliced from stored UTF-8 texts."""
    return b"".join(release_pieces(upc, answer, members or {}))
