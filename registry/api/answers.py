"""Render answers around stored bundles, byte for byte, and answer conditional GETs.

A declaration's bundle is stored as canonical JSON text when it is logged;
lookups splice those exact bytes into the response instead of parsing and
re-dumping them, so the bytes a platform verifies are the bytes that were
signed and logged, and ETags stay stable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.declarations import cache as lookup_cache
from registry.declarations import selectors, statements, stored_answers
from registry.declarations.models import Declaration
from registry.errors import ValidationFailed
from registry.etags import etag_of, if_none_match

JSON = "application/json"
# Lookups may change when a label amends: a minute of staleness, revalidated cheaply with the ETag.
LOOKUP_CACHE = "public, max-age=60"
# A proof for sizes at or below the current tree never changes (the log is append-only).
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=10"
JWKS_CACHE = "public, max-age=300"


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def with_bundle(head: dict[str, Any], bundle: str) -> str:
    """``head`` as JSON with ``"bundle": <stored bytes>`` appended as its last member."""
    rendered = dumps(head)
    assert rendered.endswith("}")
    sep = "," if len(head) else ""
    return f'{rendered[:-1]}{sep}"bundle":{bundle}}}'


def json_list(items: Iterable[str]) -> str:
    return "[" + ",".join(items) + "]"


# --- identifiers -----------------------------------------------------------------


def normalize(kind: str, value: Any) -> str:
    """Normalized ISRC/UPC, or ValidationFailed naming what is wrong (a 400)."""
    func = identifiers.normalize_isrc if kind == "isrc" else identifiers.normalize_gtin
    try:
        return func(value)
    except IdentifierError as exc:
        raise ValidationFailed(str(exc), fields={kind: [str(exc)]}) from None


# --- answers ------------------------------------------------------------------------


def not_declared(kind: str, value: str) -> str:
    return dumps({kind: value, "status": "not_declared"})


def invalid_item(kind: str, value: Any, message: str) -> str:
    return dumps({kind: value, "status": "invalid", "error": message})


def bulk_lookup(isrcs: list[str], upcs: list[str]) -> bytes:
    """One answer per identifier, ISRCs first, request order, duplicates repeated: 2 queries in all."""
    norm_isrcs: list[tuple[str, str | None, str]] = []
    for raw in isrcs:
        try:
            norm_isrcs.append((raw, identifiers.normalize_isrc(raw), ""))
        except IdentifierError as exc:
            norm_isrcs.append((raw, None, str(exc)))
    norm_upcs: list[tuple[str, str | None, str]] = []
    for raw in upcs:
        try:
            norm_upcs.append((raw, identifiers.normalize_gtin(raw), ""))
        except IdentifierError as exc:
            norm_upcs.append((raw, None, str(exc)))
    recordings = stored_answers.recording_answers(n for _, n, _ in norm_isrcs if n) if norm_isrcs else {}
    releases = stored_answers.release_answers(n for _, n, _ in norm_upcs if n) if norm_upcs else {}
    members = stored_answers.witnessed([*recordings.values(), *releases.values()])
    # One list of pieces joined once: the answer for 1000 identifiers is several MB, and each
    # stored text is copied only into it (not first into an item's own bytes).
    out: list[bytes] = [b'{"results":[']
    for raw, isrc, error in norm_isrcs:
        if isrc is None:
            out.append(invalid_item("isrc", raw, error).encode())
        elif isrc in recordings:
            out.extend(stored_answers.recording_pieces(isrc, recordings[isrc], members))
        else:
            out.append(not_declared("isrc", isrc).encode())
        out.append(b",")
    for raw, upc, error in norm_upcs:
        if upc is None:
            out.append(invalid_item("upc", raw, error).encode())
        elif upc in releases:
            out.extend(stored_answers.release_pieces(upc, releases[upc], members))
        else:
            out.append(not_declared("upc", upc).encode())
        out.append(b",")
    if len(out) > 1:
        out.pop()  # the last separator
    out.append(b"]}")
    return b"".join(out)


def history_body(upc: str, versions: list[Declaration]) -> str:
    items = []
    previous = None
    for decl in versions:
        head = {
            "version": decl.version,
            "status": decl.status,
            "reason": decl.reason or None,
            "declared_at": decl.statement["declaration"]["declared_at"],
            "changes": statements.diff_statements(previous, decl.statement),
        }
        items.append(with_bundle(head, decl.bundle))
        previous = decl.statement
    return dumps({"upc": upc})[:-1] + ',"versions":' + json_list(items) + "}"


def write_body(decl: Declaration) -> str:
    head = {
        "upc": decl.release.upc,
        "declaration": {
            "id": str(decl.uid),
            "version": decl.version,
            "status": decl.status,
            "declared_at": decl.statement["declaration"]["declared_at"],
            "leaf_index": decl.leaf_id,
        },
        "disclosure": selectors.disclosure_summary(decl),
    }
    return with_bundle(head, decl.bundle)


# --- HTTP -----------------------------------------------------------------------------


def conditional(
    request: HttpRequest,
    body: str | bytes,
    *,
    status: int = 200,
    cache_control: str = LOOKUP_CACHE,
    content_type: str = JSON,
    etag: str | None = None,
) -> HttpResponse:
    """The response, with a strong ETag; 304 when the client's If-None-Match already has it."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = etag or etag_of(data)
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if status == 200 and header and if_none_match(header, etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, status=status, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def cached(request: HttpRequest, kind: str, value: str, render: Callable[[], tuple[str | bytes, int]]) -> HttpResponse:
    """``conditional()`` of a lookup answer ``(body, status)``, kept as bytes + ETag in the lookup cache."""

    def stored() -> tuple[bytes, int, str]:
        body, status = render()
        data = body.encode("utf-8") if isinstance(body, str) else body
        return data, status, etag_of(data)

    data, status, etag = lookup_cache.get_or_render(kind, value, stored)
    return conditional(request, data, status=status, etag=etag)
