"""Synthetic data for the bench: valid identifiers, AI facts, API bodies, and COPY lines for logs and catalogs."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from provenance import checkpoint, dsse, identifiers, jcs, statement, vocabulary
from provenance.bundle import MEDIA_TYPE
from provenance.disclosure import summary_text
from provenance.encoding import b64encode
from provenance.issue import make_bundle
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


def release_body(n: int, tracks: int) -> bytes:
    """The POST /api/v1/releases body of release ``n``, as bench.phases' releases: ``tracks`` tracks with AI facts."""
    return json.dumps(release_item(n, tracks)).encode()


def release_item(n: int, tracks: int) -> dict[str, Any]:
    """Release ``n`` as the API takes it (a create body, or one item of a bulk request)."""
    codes = [isrc(n * 100 + t) for t in range(1, tracks + 1)]
    facts = track_facts(codes)
    body = {
        "upc": upc(n),
        "title": f"Bench release {n}",
        "genre": "Electronic",  # a new release needs one (row 4b answered 400 without it)
        "artists": [{"name": "The Bench Ensemble", "persona": "ai_assisted"}],
        "tracks": [
            {"isrc": code, "title": f"Track {t}", "position": t, "duration": 180 + t, "ai": facts[code]}
            for t, code in enumerate(codes, start=1)
        ],
    }
    return body


# --- the log --------------------------------------------------------------------------------------------


def log_node_lines(size: int) -> Iterator[str]:
    """COPY text lines of every complete subtree of a ``size``-leaf tree, leaves being random-looking hashes."""
    edge = CompactRange()
    sha = hashlib.sha256
    for i in range(size):
        for (level, index), h in edge.append(sha(i.to_bytes(8, "big")).digest()):
            yield f"{node_id(level, index)}\t\\\\x{h.hex()}\n"


def small_log_tables(size: int, key_id: int) -> Iterator[tuple[str, str, Iterator[str]]]:
    """(table, columns, COPY lines) for a log of ``size`` small generated entries (row 8).

    Each entry is a DSSE envelope of the statement type around a ~60-byte
    payload, and each has the declaration row the feed serves (a bundle as the
    registry makes it: the checkpoint of its own append and an inclusion proof
    as long as at that append; the signatures and proof hashes are filler). The
    leaf hashes and every complete subtree are the real ones of the entries, so
    the tiles rebuild the checkpoint's root. No catalog rows: the feed and the
    tiles read only the leaves and the declarations (loaded with foreign-key
    checks off, as the other COPY loads).
    """
    edge = CompactRange()
    nodes: list[str] = []
    keyid = b64encode(_filler(0, 32, b"kid"))
    note_key = _filler(0, 4, b"note key")
    now = "2025-03-01 00:00:00+00"

    def filler(r: int) -> tuple[bytes, bytes, bytes, list[bytes]]:
        """Row r's signature, root, note signature and proof hashes: one SHAKE call (loading 1M rows is the cost)."""
        k = r.bit_count()  # RFC 9162: the proof of leaf size-1 in a tree of that size
        out = hashlib.shake_256(b"small:%d" % r).digest(160 + 32 * k)
        return out[:64], out[64:96], out[96:160], [out[160 + 32 * j : 192 + 32 * j] for j in range(k)]

    def envelope(r: int) -> dict[str, Any]:
        payload = b'{"bench":"small generated entry","n":%d}' % r
        return {
            "payload": b64encode(payload),
            "payloadType": dsse.PAYLOAD_TYPE,
            "signatures": [{"keyid": keyid, "sig": b64encode(filler(r)[0])}],
        }

    def leaves() -> Iterator[str]:
        for r in range(size):
            data = jcs.canonicalize_envelope(envelope(r)).decode("ascii")
            leaf = hashlib.sha256(b"\x00" + data.encode()).digest()
            nodes.extend(f"{node_id(*n)}\t\\\\x{h.hex()}\n" for n, h in edge.append(leaf))
            yield f"{r}\t\\\\x{leaf.hex()}\t{data}\t{now}\n"

    def bundle(r: int, reference: bool = False) -> str:
        _, root, note_sig, proof = filler(r)
        sig_line = f"{checkpoint.DASH} {ORIGIN} {b64encode(note_key + note_sig)}\n"
        if reference:  # as the registry makes it; the text below is the same bytes, written out (faster)
            note = checkpoint.checkpoint_body(ORIGIN, r + 1, root) + "\n" + sig_line
            made = make_bundle(envelope(r), origin=ORIGIN, index=r, tree_size=r + 1, proof=proof, checkpoint=note)
            return jcs.canonicalize(made).decode("utf-8")
        env = jcs.canonicalize_envelope(envelope(r)).decode("ascii")
        note = json.dumps(f"{ORIGIN}\n{r + 1}\n{b64encode(root)}\n\n{sig_line}", ensure_ascii=False)
        hashes = ",".join(f'"{b64encode(h)}"' for h in proof)
        return (
            f'{{"envelope":{env},"log":{{"checkpoint":{note},'
            f'"inclusion_proof":[{hashes}],"index":{r},"origin":"{ORIGIN}","tree_size":{r + 1}}},'
            f'"mediaType":"{MEDIA_TYPE}"}}'
        )

    for r in (0, 1, 6, 255, 1023):
        assert bundle(r) == bundle(r, reference=True), "the written-out bundle differs from make_bundle's"

    def declarations() -> Iterator[str]:
        for r in range(size):
            text = _copy_escape(bundle(r))
            yield (
                f"{r + 1}\t{uuid.UUID(int=r + 1)}\t{r + 1}\t1\tactive\t\t\\N\t{now}\tapi\tnone"
                f"\t{{}}\t{r}\t{key_id}\t{text}\t{now}\t\t\n"
            )

    yield "transparency_logleaf", "index, leaf_hash, data, created_at", leaves()
    yield "transparency_lognode", "id, hash", iter(nodes)  # filled as the leaves were written
    yield (
        "declarations_declaration",
        "id, uid, release_id, version, status, reason, supersedes, declared_at, via, contains_ai, statement, leaf_id, key_id, bundle, created_at, summary, track_summaries",
        declarations(),
    )


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
        release={
            "upc": upc(0),
            "title": "Bench release 0",
            "genre": "Electronic",
            "release_date": "2025-04-01",
            "artwork": "partly",
        },
        artists=[{"name": "The Bench Ensemble", "isni": None, "persona": "ai_assisted"}],
        tracks=[
            {"isrc": code, "title": f"Track {i}", "position": i, "duration": 180 + i, **facts[code]}
            for i, code in enumerate(facts, start=1)
        ],
    )


def _copy_escape(text: str) -> str:
    """COPY text format: backslash, tab and newline are escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _filler(r: int, n: int, what: bytes) -> bytes:
    """``n`` bytes that look random (hashes, signatures), distinct per row ``r``: filler nothing verifies."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(b"%s:%d:%d" % (what, r, len(out))).digest()
    return out[:n]


class _Retarget:
    """The texts of release 0 with its identifiers swapped for those of release ``r``.

    Identifiers are replaced in their quoted form; none is a substring of another
    (ISRCs start with QZ, UPCs are digits, the title and declaration id are unique).
    """

    def __init__(self, per_release: int) -> None:
        self.per_release = per_release
        self.pairs0 = self._pairs(0)

    def _pairs(self, r: int) -> list[str]:
        tracks = [f'"{isrc(r * 100 + t)}"' for t in range(1, self.per_release + 1)]
        return [f'"{upc(r)}"', f'"Bench release {r}"', f'"{uuid.UUID(int=r + 1)}"', *tracks]

    def __call__(self, text: str, r: int) -> str:
        for old, new in zip(self.pairs0, self._pairs(r), strict=True):
            text = text.replace(old, new)
        return text


def catalog_tables(
    releases: int, per_release: int, key_id: int, with_nodes: bool = False
) -> Iterator[tuple[str, str, Iterator[str]]]:
    """(table, columns, COPY lines) for ``releases`` declared releases of ``per_release`` tracks each.

    Release r (0-based) has id r+1, declaration r+1 on log leaf r, and tracks
    t = 1..per_release with ISRC ``isrc(r·100 + t)``. Every text is release 0's
    real one (statement, summaries, and a bundle built by ``make_bundle`` as the
    registry builds it: its own checkpoint, an inclusion proof as long as at its
    append) with the identifiers of release r swapped in, so rows have a real
    bundle's size and compressibility in TOAST. Signatures, hashes and proofs are
    per-row filler: lookups splice bundles, they never verify them. With
    ``with_nodes`` the leaf hashes are the real ones of the leaf data and every
    complete subtree follows (``transparency_lognode``), so that the log's tree,
    tiles and feed are those of a real log (the bundles' proofs stay filler).
    """
    from registry.declarations.models import pack_track_summaries  # the registry's own layout (Django is set up here)

    swap = _Retarget(per_release)
    first = _template(per_release)  # release 0: its identifiers are those _Retarget swaps
    statement_json = json.dumps(first, separators=(",", ":"))
    statement_text = statement.statement_bytes(first).decode("utf-8")
    release_summary0 = summary_text(first)
    track_summaries0 = [summary_text(first, t["isrc"]) for t in first["tracks"]]
    contains = [t["contains_ai"] for t in first["tracks"]]
    keyid = b64encode(_filler(0, 32, b"kid"))
    note_key = _filler(0, 4, b"note key")
    now = "2025-03-01 00:00:00+00"

    def envelope(r: int) -> dict[str, Any]:
        payload = swap(statement_text, r).encode("utf-8")
        return {
            "payload": b64encode(payload),
            "payloadType": dsse.PAYLOAD_TYPE,
            "signatures": [{"keyid": keyid, "sig": b64encode(_filler(r, 64, b"sig"))}],
        }

    def bundle(r: int, env: dict[str, Any]) -> str:
        size = r + 1  # appended one at a time: each bundle proves its leaf against the size of its own append
        note = checkpoint.checkpoint_body(ORIGIN, size, _filler(r, 32, b"root"))
        note += f"\n{checkpoint.DASH} {ORIGIN} {b64encode(note_key + _filler(r, 64, b'note'))}\n"
        proof = [_filler(r, 32, b"proof%d" % j) for j in range(r.bit_count())]  # RFC 9162: leaf size-1 of size
        made = make_bundle(env, origin=ORIGIN, index=r, tree_size=size, proof=proof, checkpoint=note)
        return jcs.canonicalize(made).decode("utf-8")

    def releases_() -> Iterator[str]:
        for r in range(releases):
            yield f"{r + 1}\t1\t{upc(r)}\tBench release {r}\tElectronic\t2025-04-01\tpartly\t{r + 1}\t{now}\t[]\t[]\n"

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

    edge = CompactRange()
    nodes: list[str] = []

    def leaves() -> Iterator[str]:
        for r in range(releases):
            data = jcs.canonicalize_envelope(envelope(r)).decode("ascii")  # a leaf's data is its envelope
            if with_nodes:
                leaf = hashlib.sha256(b"\x00" + data.encode()).digest()
                nodes.extend(f"{node_id(*n)}\t\\\\x{h.hex()}\n" for n, h in edge.append(leaf))
            else:
                leaf = hashlib.sha256(r.to_bytes(8, "big")).digest()
            yield f"{r}\t\\\\x{leaf.hex()}\t{data}\t{now}\n"

    def track_summaries(r: int) -> tuple[str, dict[str, tuple[int, int]]]:
        return pack_track_summaries({isrc(r * 100 + t): swap(text, r) for t, text in enumerate(track_summaries0, 1)})

    def declarations() -> Iterator[str]:
        for r in range(releases):
            text = _copy_escape(bundle(r, envelope(r)))
            yield (
                f"{r + 1}\t{uuid.UUID(int=r + 1)}\t{r + 1}\t1\tactive\t\t\\N\t{now}\tapi\t{first['release']['contains_ai']}"
                f"\t{_copy_escape(swap(statement_json, r))}\t{r}\t{key_id}\t{text}\t{now}"
                f"\t{_copy_escape(swap(release_summary0, r))}\t{_copy_escape(track_summaries(r)[0])}\n"
            )

    def declared() -> Iterator[str]:
        for r in range(releases):
            base = r * per_release
            places = track_summaries(r)[1]
            for t in range(1, per_release + 1):
                at, length = places[isrc(r * 100 + t)]
                yield f"{base + t}\t{r + 1}\t{isrc(r * 100 + t)}\t{t}\t{contains[t - 1]}\t{at}\t{length}\n"

    yield (
        "catalog_release",
        "id, label_id, upc, title, genre, release_date, artwork_ai, current_declaration_id, created_at, "
        "public_disputes, public_observations",
        releases_(),
    )
    yield "catalog_recording", "id, label_id, isrc, created_at", recordings()
    yield "catalog_track", "id, release_id, recording_id, position, title, duration", tracks()
    yield "transparency_logleaf", "index, leaf_hash, data, created_at", leaves()
    yield (
        "declarations_declaration",
        "id, uid, release_id, version, status, reason, supersedes, declared_at, via, contains_ai, statement, leaf_id, key_id, bundle, created_at, summary, track_summaries",
        declarations(),
    )
    yield (
        "declarations_declaredrecording",
        "id, declaration_id, isrc, position, contains_ai, summary_at, summary_length",
        declared(),
    )
    if with_nodes:
        yield "transparency_lognode", "id, hash", iter(nodes)  # filled as the leaves were written
