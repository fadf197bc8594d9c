"""``POST /api/v1/releases/bulk``: declare, amend or withdraw up to 100 releases in one call, logged as one batch.

The view parses the request (JSON ``{"releases": [...]}`` or NDJSON, one release per
line), reads each item with the single endpoints' serializers, and hands the list to
``registry.declarations.batch.versions_sign_many``: one transaction, one log lock, one
checkpoint. A well-formed request answers 200 with a result per item, in order; an
item's refusal is its result, never the request's. If the batch cannot be committed,
nothing of it was kept: 503, every item ``not_logged``, safe to retry with the same
Idempotency-Key.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.api import answers
from registry.api import schemas as s
from registry.api.errors import error_body, flatten_errors
from registry.api.fast_input import fast_validator
from registry.api.parsers import NDJSONParser, SafeJSONParser
from registry.api.serializers import AmendIn, ReleaseCreateIn, WithdrawIn
from registry.api.throttles import charge
from registry.api.views.base import LabelView
from registry.api.views.label import TAG, WRITE_ERRORS, ai_by_isrc, amend_change, create_arguments, respond
from registry.catalog.models import Label, Release
from registry.declarations.batch import BATCH_MAX, WITHDRAW, BatchItem, ItemResult, versions_sign_many
from registry.declarations.services import AMEND, FIRST, NextVersion
from registry.errors import DomainError, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

BULK_MAX = BATCH_MAX  # releases per request: one request is one batch (one checkpoint)
# 100 releases of 100 tracks with long titles and tool lists fit; the single endpoints keep 5 MB.
BULK_BODY_MAX = 8 * 1024 * 1024
ACTIONS = {"declare": FIRST, "amend": AMEND, "withdraw": WITHDRAW}
DONE = {"declare": "created", "amend": "amended", "withdraw": "withdrawn"}


class BulkJSONParser(SafeJSONParser):
    max_body = BULK_BODY_MAX


class BulkNDJSONParser(NDJSONParser):
    max_body = BULK_BODY_MAX


def _items(data: Any) -> list[Any]:
    """The request's items, or a 400 saying what the body must be (nothing is signed)."""
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise ValidationFailed(
            'the body must be {"releases": [...]}, or NDJSON with one release per line',
            fields={"releases": ["A list of releases."]},
        )
    items = data["releases"]
    if not items:
        raise ValidationFailed("the request names no release", fields={"releases": ["At least one release."]})
    if len(items) > BULK_MAX:
        raise ValidationFailed(
            f"the request names {len(items)} releases: send at most {BULK_MAX} per request",
            fields={"releases": [f"At most {BULK_MAX} releases per request."]},
        )
    return items


def _action(raw: Any) -> str:
    if not isinstance(raw, dict):
        raise ValidationFailed("each release must be a JSON object", fields={"non_field_errors": ["An object."]})
    action = raw.get("action", "declare")
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationFailed(
            "action must be declare, amend or withdraw", fields={"action": ["One of declare, amend, withdraw."]}
        )
    return str(action)


def _upc(raw: dict[str, Any]) -> str:
    try:
        return identifiers.normalize_gtin(raw.get("upc"))
    except (IdentifierError, TypeError, ValueError, AttributeError) as exc:
        message = str(exc) if isinstance(exc, IdentifierError) else "upc must be a UPC or EAN"
        raise ValidationFailed(message, fields={"upc": [message]}) from None


class _Forms:
    """One serializer of each kind per request, reused for every item (as DRF's ListSerializer reuses its child).

    ``is_valid`` on a new instance would build the nested serializers' fields again for each of
    up to 100 items (~10 ms for a 12-track release); the validation itself is the same call.
    Plainly valid items take ``fast_input``'s compiled path first (the same answer, ~4× faster).
    """

    def __init__(self) -> None:
        self._forms: dict[type[serializers.Serializer], serializers.Serializer] = {}

    def valid(self, serializer: type[serializers.Serializer], raw: dict[str, Any]) -> dict[str, Any]:
        fast = fast_validator(serializer)(raw)  # type: ignore[arg-type]  # a class is hashable  # the serializer's own answer for plainly valid input
        if fast is not None:
            return fast
        form = self._forms.get(serializer) or self._forms.setdefault(serializer, serializer())
        try:
            return dict(form.run_validation(raw))
        except serializers.ValidationError as exc:
            fields = flatten_errors(exc.detail)
        name, messages = next(iter(fields.items()))
        raise ValidationFailed(messages[0] if name == "non_field_errors" else f"{name}: {messages[0]}", fields=fields)


def _item(label: Label, raw: Any, releases: dict[str, Release], forms: _Forms) -> BatchItem:
    """One item as the batch service takes it; a DomainError is that item's refusal."""
    action = _action(raw)
    if action == "declare":
        data = forms.valid(ReleaseCreateIn, raw)
        return BatchItem(
            create=create_arguments(label, data), change=NextVersion(ai=ai_by_isrc(data["tracks"])), kind=FIRST
        )
    upc = _upc(raw)
    release = releases.get(upc)
    if release is None:  # another label's release is "not found", as on the single endpoints
        raise NotFound(f"no release {upc} in {label.name}'s catalog", fields={"upc": ["Not in your catalog."]})
    if action == "amend":
        return BatchItem(release=release, change=amend_change(forms.valid(AmendIn, raw)), kind=AMEND)
    data = forms.valid(WithdrawIn, raw)
    return BatchItem(
        release=release,
        change=NextVersion(reason=data["reason"], expected_version=data.get("expected_version")),
        kind=WITHDRAW,
    )


def _their_releases(label: Label, items: list[Any]) -> dict[str, Release]:
    """The label's releases the amend and withdraw items name, in one query."""
    upcs = set()
    for raw in items:
        if isinstance(raw, dict) and raw.get("action") in ("amend", "withdraw"):
            try:
                upcs.add(_upc(raw))
            except ValidationFailed:
                pass  # reported as that item's refusal
    if not upcs:
        return {}
    return {r.upc: r for r in Release.objects.filter(label=label, upc__in=upcs).select_related("label")}


def _shown_action(raw: Any) -> str | None:
    action = raw.get("action", "declare") if isinstance(raw, dict) else None
    return action if isinstance(action, str) and action in ACTIONS else None


def _shown_upc(raw: Any) -> str | None:
    value = raw.get("upc") if isinstance(raw, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return identifiers.normalize_gtin(value)
    except IdentifierError:
        return value[:32] if value.isascii() and value.isprintable() else None


def _result(index: int, raw: Any, outcome: ItemResult | DomainError) -> str:
    action = _shown_action(raw)
    if isinstance(outcome, ItemResult) and outcome.declaration is not None:
        decl = outcome.declaration
        head = answers.dumps({"index": index, "action": action, "upc": decl.release.upc, "status": DONE[str(action)]})
        return f'{head[:-1]},"declaration":{answers.write_body(decl)},"error":null}}'
    error = outcome if isinstance(outcome, DomainError) else outcome.error
    assert error is not None
    # ASCII-escaped: a refusal may quote the input, which may hold a lone surrogate (valid JSON, not UTF-8).
    return json.dumps(
        {
            "index": index,
            "action": action,
            "upc": _shown_upc(raw),
            "status": "error",
            "declaration": None,
            **error_body(error.code, error.message, error.fields),
        }
    )


def _not_logged(items: list[Any]) -> HttpResponse:
    message = "the batch could not be committed: nothing in this request was signed or logged; send it again"
    results = [
        json.dumps(
            {
                "index": i,
                "action": _shown_action(raw),
                "upc": _shown_upc(raw),
                "status": "error",
                "declaration": None,
                **error_body("not_logged", message),
            }
        )
        for i, raw in enumerate(items)
    ]
    body = f'{answers.dumps(error_body("not_logged", message))[:-1]},"results":{answers.json_list(results)}}}'
    response = HttpResponse(body, status=503, content_type=answers.JSON)
    response["Retry-After"] = "1"
    return response


class ReleaseBulkView(LabelView):
    parser_classes = [BulkJSONParser, BulkNDJSONParser]

    @extend_schema(
        tags=TAG,
        summary=f"Declare, amend or withdraw up to {BULK_MAX} releases in one call, logged as one batch",
        description=(
            f'JSON `{{"releases": [...]}}` or NDJSON (`Content-Type: application/x-ndjson`, one release per '
            f"line); at most {BULK_MAX} releases and {BULK_BODY_MAX // 2**20} MiB. Each item has an `action`: "
            "`declare` (default; the body of POST /api/v1/releases), `amend` or `withdraw` (`upc` plus the body "
            "of the single endpoint). A well-formed request answers **200** with one result per item, in order "
            "(`index`): `created`, `amended` or `withdrawn` with the declaration (as the single endpoint answers "
            "it, bundle included), or `error` with the error; a refused item changes nothing and does not "
            "affect the others. The items signed are logged together: one transaction, one checkpoint for "
            "all. A malformed request (not a list, empty, too many, not JSON) is a 400 and changes nothing. "
            "If the batch cannot be committed, nothing was logged: **503** with every item `not_logged`; send "
            "it again (with the same Idempotency-Key). Rate limit: each item counts as one write against the "
            "token's write quota; a request of more items than the whole quota is a 400. The Idempotency-Key "
            "covers the whole request: a replay answers the same results and signs nothing."
        ),
        request={"application/json": s.BulkIn, "application/x-ndjson": OpenApiTypes.STR},
        responses={
            200: s.BulkOut,
            413: s.error(f"Body over {BULK_BODY_MAX // 2**20} MiB"),
            415: s.error("Neither application/json nor application/x-ndjson"),
            503: s.error("The batch could not be committed: nothing was logged; retry"),
            **{k: v for k, v in WRITE_ERRORS.items() if k != 409},
        },
        parameters=s.AUTH_PARAMS,
        examples=[s.BULK_EXAMPLE],
    )
    def post(self, request: Request) -> Response | HttpResponse:
        label = request.auth.label
        items = _items(request.data)
        charge(request, len(items), what="releases")

        def action() -> tuple[int, str]:
            releases = _their_releases(label, items)
            outcomes: dict[int, ItemResult | DomainError] = {}
            batch: list[BatchItem] = []
            positions: list[int] = []
            forms = _Forms()
            for i, raw in enumerate(items):
                try:
                    batch.append(_item(label, raw, releases, forms))
                    positions.append(i)
                except DomainError as exc:
                    outcomes[i] = exc
            for position, result in zip(positions, versions_sign_many(items=batch, via="api"), strict=True):
                outcomes[position] = result
            logged = sum(1 for o in outcomes.values() if isinstance(o, ItemResult) and o.ok)
            rendered = answers.json_list(_result(i, raw, outcomes[i]) for i, raw in enumerate(items))
            return 200, f'{{"logged":{logged},"refused":{len(items) - logged},"results":{rendered}}}'

        try:
            return respond(request, label, action)
        except DatabaseError:
            logger.exception("bulk declaration batch of %d items not committed", len(items))
            return _not_logged(items)
