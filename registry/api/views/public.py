"""The platform surface (docs/protocol.md §12): lookups, feed, log proofs, keys, verification. Public, throttled."""

from __future__ import annotations

import heapq
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request

from provenance import bundle as pbundle
from provenance import disputes as pdisputes
from provenance.bundle import Verifier
from provenance.encoding import b64encode
from provenance.errors import ProvenanceError
from provenance.observations import OBSERVATION_PAYLOAD_TYPE, verify_observation_bundle
from provenance.policy import Policy, PolicyError, parse_policy
from registry.api import answers, throttles
from registry.api import schemas as s
from registry.api.parsers import EvidenceJSONParser, JSONBody
from registry.api.serializers import LookupIn
from registry.api.views.base import PublicView, int_param
from registry.catalog.models import Release
from registry.declarations import selectors, stored_answers
from registry.declarations.models import Declaration
from registry.disputes.models import DisputeStep
from registry.errors import NotFound, ValidationFailed
from registry.observations.models import Observation
from registry.transparency import keys, log
from registry.witnessing import selectors as witnessing

FEED_DEFAULT, FEED_MAX = 100, 1000
# What ``include`` may add to the feed's declarations: the table each is read from, and its entries' ``kind``.
FEED_KINDS: dict[str, tuple[Any, str]] = {
    "disputes": (DisputeStep, "dispute"),
    "observations": (Observation, "observation"),
}
LOOKUP_TAG, LOG_TAG = ["lookup"], ["log"]


class RecordingView(PublicView):
    @extend_schema(
        tags=LOOKUP_TAG,
        summary="Look up a recording by ISRC",
        description="Hyphens, spaces and lower case are accepted (`US-SKG-19-12345`). The answer is the newest "
        "declaration of a release holding the recording; `also_in` lists the label's other releases with it. "
        "`Cache-Control: public, max-age=60` with a strong `ETag`; send `If-None-Match` for a 304.",
        responses={
            200: s.RecordingOut,
            304: OpenApiResponse(description="Not modified"),
            400: s.error("Malformed ISRC, with the reason"),
            404: s.RecordingNotDeclaredOut,
            429: s.error("Throttled"),
        },
        examples=[s.ERROR_EXAMPLE],
    )
    def get(self, request: Request, isrc: str) -> HttpResponse:
        isrc = answers.normalize("isrc", isrc)
        return answers.cached(request, "isrc", isrc, lambda: self.render(isrc))

    def render(self, isrc: str) -> tuple[str | bytes, int]:
        answer = stored_answers.recording_answers([isrc]).get(isrc)
        if answer is None:
            return answers.not_declared("isrc", isrc), 404
        return stored_answers.recording_body(isrc, answer, stored_answers.witnessed([answer])), 200


class ReleaseView(PublicView):
    @extend_schema(
        tags=LOOKUP_TAG,
        summary="Look up a release by UPC/EAN",
        description="The release's current version: a withdrawn release answers its signed withdrawal. "
        "Caching as for recordings.",
        responses={
            200: s.ReleaseOut,
            304: OpenApiResponse(description="Not modified"),
            400: s.error("Malformed UPC, with the reason"),
            404: s.ReleaseNotDeclaredOut,
            429: s.error("Throttled"),
        },
    )
    def get(self, request: Request, upc: str) -> HttpResponse:
        upc = answers.normalize("upc", upc)
        return answers.cached(request, "upc", upc, lambda: self.render(upc))

    def render(self, upc: str) -> tuple[str | bytes, int]:
        answer = stored_answers.release_answers([upc]).get(upc)
        if answer is None:
            return answers.not_declared("upc", upc), 404
        return stored_answers.release_body(upc, answer, stored_answers.witnessed([answer])), 200


class ReleaseHistoryView(PublicView):
    @extend_schema(
        tags=LOOKUP_TAG,
        summary="Every signed version of a release's declaration, oldest first",
        responses={200: s.HistoryOut, 400: s.error("Malformed UPC"), 404: s.error("No declared release")},
    )
    def get(self, request: Request, upc: str) -> HttpResponse:
        upc = answers.normalize("upc", upc)
        release_id = Release.objects.filter(upc=upc, current_declaration__isnull=False).values_list("pk", flat=True)
        release_id = next(iter(release_id), None)
        if release_id is None:
            raise NotFound(f"no declared release {upc}", fields={"upc": ["Not declared."]})
        return answers.conditional(request, answers.history_body(upc, selectors.history(release_id)))


class LookupView(PublicView):
    @extend_schema(
        tags=LOOKUP_TAG,
        summary="Bulk lookup: up to 1000 ISRCs and UPCs in one call",
        description="One result per identifier: the ISRCs first, then the UPCs, each in request order; "
        "duplicates are answered again. A malformed identifier gets "
        '`{"isrc": "…", "status": "invalid", "error": "…"}` in its place; the request as a whole is 400 only '
        "when it is not of this shape or names more than 1000 identifiers. Answered in a constant number "
        "of database queries. Each identifier named (duplicates and malformed ones included) counts as one "
        "request against your rate limit; a call that would go over it is refused whole (429, nothing counted).",
        request=LookupIn,
        responses={
            200: s.LookupOut,
            400: s.error("Not of this shape, or more identifiers than 1000 or than your whole quota"),
            429: s.error("Throttled"),
        },
        examples=[
            OpenApiExample(
                "Two recordings and a release",
                value={"isrcs": ["US-SKG-19-12345", "not-an-isrc"], "upcs": ["123456789999"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        isrcs, upcs = _identifier_lists(request.data)
        throttles.charge(request, len(isrcs) + len(upcs))  # one unit per identifier: bulk is no way around
        body = answers.bulk_lookup(isrcs, upcs)
        return HttpResponse(body, content_type=answers.JSON)


def _identifier_lists(data: Any) -> tuple[list[str], list[str]]:
    """The body's ``isrcs`` and ``upcs`` (LookupIn in the schema), checked without a field object per item.

    Up to 1000 identifiers per request: a serializer field per element cost more than
    the lookup itself (bench row 2). Numbers are taken as text, as DRF's CharField did.
    """
    if not isinstance(data, dict):
        raise ValidationFailed(
            "the body must be a JSON object with isrcs and/or upcs",
            fields={"non_field_errors": ["Expected an object."]},
        )
    lists = []
    for key in ("isrcs", "upcs"):
        value = data.get(key, [])
        if not isinstance(value, list):
            raise ValidationFailed(
                f"{key} must be a list of identifiers", fields={key: ["Expected a list of strings."]}
            )
        if not all(type(v) is str for v in value):
            bad = [i for i, v in enumerate(value) if isinstance(v, bool) or not isinstance(v, str | int | float)]
            if bad:
                raise ValidationFailed(
                    f"{key}[{bad[0]}] is not a string",
                    fields={f"{key}[{i}]": ["Not a valid string."] for i in bad[:20]},
                )
            value = [v if isinstance(v, str) else str(v) for v in value]
        lists.append(value)
    total = len(lists[0]) + len(lists[1])
    if total > settings.REGISTRY_LOOKUP_MAX:
        raise ValidationFailed(f"at most {settings.REGISTRY_LOOKUP_MAX} identifiers per request, got {total}")
    return lists[0], lists[1]


def _feed_rows(sources: list[tuple[Any, dict[str, str]]], after: int, count: int) -> list[tuple[int, Any, str]]:
    """The first ``count`` entries after leaf ``after``: (leaf index, tag, stored bundle), in log order.

    Each kind of entry is read from its own table by its unique ``leaf_id``, from
    ``after`` on, so a page costs the same at the log's head as at its start (a
    join from the leaves let PostgreSQL merge the whole declarations index up to
    ``after`` for every page: quadratic in the log's size, bench row 8). The
    kinds' pages are then merged by index.
    """
    pages = [
        [(leaf, tag, bundle) for leaf, bundle in model.objects.filter(leaf_id__gt=after)
         .order_by("leaf_id").values_list("leaf_id", "bundle")[:count]]
        for model, tag in sources
    ]  # fmt: skip
    return list(heapq.merge(*pages, key=lambda r: r[0]))[:count]


class FeedView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="Mirror the log: every bundle in log order",
        description="Entries with index greater than `after` (from index 0 when absent), at most `limit` "
        f"(default {FEED_DEFAULT}, max {FEED_MAX}). `next` is the `after` for the following page, null at "
        "the end: then keep the last index you saw and poll again later. With `include=disputes` the "
        "feed also carries every dispute step (docs/protocol.md §15), each entry tagged "
        '`"kind": "dispute"`; with `include=observations` every platform observation (§16), tagged '
        '`"kind": "observation"` (both: `include=disputes,observations`); without it, declarations only.',
        parameters=[
            OpenApiParameter(
                "after", {"type": "integer", "minimum": 0}, required=False, description="Last index already seen"
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": FEED_MAX},
                required=False,
                description=f"1–{FEED_MAX}",
            ),
            OpenApiParameter(
                "include",
                {"type": "string", "enum": ["disputes", "observations", "disputes,observations"]},
                required=False,
                description="`disputes`: dispute steps too; `observations`: platform observations too",
            ),
        ],
        responses={200: s.FeedOut, 400: s.error("Bad after or limit")},
    )
    def get(self, request: Request) -> HttpResponse:
        after = int_param(request, "after", default=-1, minimum=0)
        limit = int_param(request, "limit", default=FEED_DEFAULT, minimum=1, maximum=FEED_MAX)
        include = [k for k in request.query_params.get("include", "").split(",") if k]
        if not set(include) <= set(FEED_KINDS):
            raise ValidationFailed(
                "include may only name 'disputes' and 'observations'",
                fields={"include": ["'disputes', 'observations' or both, comma-separated."]},
            )
        sources: list[tuple[Any, dict[str, str]]] = [(Declaration, {})]
        sources += [(FEED_KINDS[kind][0], {"kind": FEED_KINDS[kind][1]}) for kind in sorted(set(include))]
        rows = _feed_rows(sources, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        entries = [answers.with_bundle({"index": index, **tag}, bundle) for index, tag, bundle in rows]
        following = rows[-1][0] if more else None
        body = '{"entries":' + answers.json_list(entries) + ',"next":' + answers.dumps(following) + "}"
        return HttpResponse(body, content_type=answers.JSON)


class CheckpointView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="The latest signed checkpoint (C2SP signed note), byte-exact",
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The signed note"),
            (404, "application/json"): s.error("The log is empty"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        cp = log.latest_checkpoint()
        if cp is None:
            raise NotFound("the log is empty: no checkpoint yet")
        return answers.conditional(
            request, cp.note, cache_control=answers.CHECKPOINT_CACHE, content_type="text/plain; charset=utf-8"
        )


def _current_size() -> int:
    cp = log.latest_checkpoint()
    return cp.tree_size if cp else 0


class InclusionView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="Inclusion proof of leaf `index` in the tree of size `tree_size` (RFC 9162 §2.1.3)",
        description="Proofs never change: `Cache-Control: public, max-age=31536000, immutable`.",
        parameters=[
            OpenApiParameter("index", {"type": "integer", "minimum": 0}, required=True),
            OpenApiParameter("tree_size", {"type": "integer", "minimum": 1}, required=True),
        ],
        responses={200: s.InclusionOut, 400: s.error("Out of range, with the reason")},
    )
    def get(self, request: Request) -> HttpResponse:
        index = int_param(request, "index")
        size = int_param(request, "tree_size", minimum=1)
        current = _current_size()
        if size > current:
            raise ValidationFailed(
                f"tree_size {size} is beyond the current tree size {current}", fields={"tree_size": ["Too large."]}
            )
        if index >= size:
            raise ValidationFailed(
                f"index {index} is outside a tree of size {size}", fields={"index": ["Must be below tree_size."]}
            )
        proof = [b64encode(h) for h in log.inclusion_proof(index, size)]
        body = answers.dumps({"index": index, "tree_size": size, "proof": proof})
        return answers.conditional(request, body, cache_control=answers.IMMUTABLE_CACHE)


class ConsistencyView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="Consistency proof between tree sizes `first` and `second` (RFC 9162 §2.1.4)",
        description="Proofs never change: `Cache-Control: public, max-age=31536000, immutable`.",
        parameters=[
            OpenApiParameter("first", {"type": "integer", "minimum": 0}, required=True),
            OpenApiParameter("second", {"type": "integer", "minimum": 0}, required=True),
        ],
        responses={200: s.ConsistencyOut, 400: s.error("Out of range, with the reason")},
    )
    def get(self, request: Request) -> HttpResponse:
        first = int_param(request, "first")
        second = int_param(request, "second")
        current = _current_size()
        if second > current:
            raise ValidationFailed(
                f"second {second} is beyond the current tree size {current}", fields={"second": ["Too large."]}
            )
        if first > second:
            raise ValidationFailed(
                f"first {first} is larger than second {second}", fields={"first": ["Must not exceed second."]}
            )
        proof = [b64encode(h) for h in log.consistency_proof(first, second)]
        body = answers.dumps({"first": first, "second": second, "proof": proof})
        return answers.conditional(request, body, cache_control=answers.IMMUTABLE_CACHE)


class WitnessedView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="How old the newest cosigned checkpoint is, and what each witness last answered",
        description="`cosigned.age_seconds` is the time since the newest cosigned checkpoint was published and "
        "`cosigned.leaves_behind` how many leaves the log has grown since; `witnesses` lists each configured "
        "witness's last cosigned size and last error (docs/protocol.md §13.4). Not cached.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(answers.dumps(witnessing.status()), content_type=answers.JSON)
        response["Cache-Control"] = "no-cache"
        return response


class TlogProofView(PublicView):
    @extend_schema(
        tags=LOG_TAG,
        summary="Leaf `index` as a C2SP tlog-proof@v1 against the newest cosigned checkpoint",
        description="`text/plain`: the proof file (docs/protocol.md §13.5): `extra` holds the entry (the "
        "envelope's RFC 8785 bytes), the inclusion proof is against the newest cosigned checkpoint holding "
        "the leaf (the latest checkpoint before the first witness round), which is included with its "
        "cosignatures. Verify it with `python -m provenance proof verify FILE --jwks J --policy P`.",
        parameters=[OpenApiParameter("index", {"type": "integer", "minimum": 0}, required=True)],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The tlog-proof"),
            (400, "application/json"): s.error("Malformed index, with the reason"),
            (404, "application/json"): s.error("No such leaf"),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        index = int_param(request, "index")
        proof = witnessing.tlog_proof(index)
        if proof is None:
            raise NotFound(f"the log has no leaf {index}")
        return answers.conditional(
            request, proof, cache_control=answers.CHECKPOINT_CACHE, content_type="text/plain; charset=utf-8"
        )


class JwksView(PublicView):
    @extend_schema(
        tags=["keys"],
        summary="The registry's public keys (JWKS, docs/protocol.md §4)",
        description="Cached for 5 minutes (`Cache-Control: public, max-age=300`), so a revocation reaches "
        "platforms within minutes.",
        responses={200: s.JwksOut},
    )
    def get(self, request: Request) -> HttpResponse:
        return answers.conditional(request, answers.dumps(keys.jwks()), cache_control=answers.JWKS_CACHE)


def _policy_param(asked: dict[str, Any]) -> tuple[Policy | None, int | None]:
    """The optional ``policy`` (tlog-policy text) and ``max_age`` (seconds) of a verify request; 400 if malformed."""
    text, max_age = asked.get("policy"), asked.get("max_age")
    if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0):
        raise ValidationFailed("max_age must be a number of seconds", fields={"max_age": ["Not a count."]})
    if text is None:
        return None, max_age
    if not isinstance(text, str):
        raise ValidationFailed("policy must be the text of a tlog-policy file", fields={"policy": ["Not text."]})
    try:
        return parse_policy(text), max_age
    except PolicyError as exc:
        raise ValidationFailed(str(exc), fields={"policy": [str(exc)]}) from None


class VerifyView(PublicView):
    parser_classes = [EvidenceJSONParser]

    @extend_schema(
        tags=["verify"],
        summary="Verify a bundle with the registry's JWKS, and that it answers your ISRC or UPC",
        description="Runs the offline checks of docs/protocol.md §7 in order and stops at the first failure. "
        'The body is a bundle, or `{"bundle": …, "isrc": …, "upc": …}` (a whole lookup answer '
        'will do; its `witnessed` member adds the `witnessed` check, and `"policy"` (the text of your pinned tlog-policy, '
        "with an optional `max_age` in seconds) the `witness_quorum` check). With `isrc` and/or `upc` a ninth check, `identifier`, requires the signed statement to "
        "cover it (a track with that ISRC, the release with that UPC), and `disclosure` is derived from "
        "the signed statement: display that, never an answer's unsigned `disclosure`. "
        "Always 200 for a JSON body (check `valid`); 400 when the body is not JSON or `isrc`/`upc` is malformed.",
        request=OpenApiTypes.OBJECT,
        responses={200: s.VerifyOut, 400: s.error("The body is not JSON, or isrc/upc is malformed")},
    )
    def post(self, request: Request) -> HttpResponse:
        body: Any = request.data
        value, raw = (body.value, body.raw) if isinstance(body, JSONBody) else (body, b"")
        # The question: optional "isrc" / "upc" next to the bundle (or next to a bundle's own members).
        asked = value if isinstance(value, dict) else {}
        isrc = answers.normalize("isrc", asked["isrc"]) if asked.get("isrc") is not None else None
        upc = answers.normalize("upc", asked["upc"]) if asked.get("upc") is not None else None
        policy, max_age = _policy_param(asked)
        witnessed = None
        try:
            evidence: Any = pbundle.loads(raw) if raw else value
        except ProvenanceError:
            evidence = raw  # not protocol JSON (a duplicated member): the verifier names it in bundle_format
        else:
            if isinstance(evidence, dict) and "bundle" in evidence:
                witnessed = evidence.get("witnessed")  # a whole lookup answer carries it
                evidence = evidence["bundle"]  # {"bundle": …, "isrc": …}, or a whole lookup answer
        verifier = Verifier(keys.keyset(), policy=policy, max_age=max_age)
        if _is_dispute(evidence) and isrc is None and upc is None:  # a dispute step's bundle (protocol §15)
            result = pdisputes.verify_dispute_bundle(evidence, verifier)
        elif _payload_type(evidence) == OBSERVATION_PAYLOAD_TYPE and isrc is None and upc is None:  # §16.3
            result = verify_observation_bundle(evidence, verifier)
        else:
            result = verifier.verify(evidence, isrc=isrc, upc=upc, witnessed=witnessed)
        return HttpResponse(answers.dumps(result.to_dict()), content_type=answers.JSON)


def _payload_type(evidence: Any) -> Any:
    envelope = evidence.get("envelope") if isinstance(evidence, dict) else None
    return envelope.get("payloadType") if isinstance(envelope, dict) else None


def _is_dispute(evidence: Any) -> bool:
    """Whether the (parsed) bundle's envelope names the dispute payloadType; the checks then parse strictly."""
    return _payload_type(evidence) == pdisputes.DISPUTE_PAYLOAD_TYPE
