"""The label key and co-signing API (docs/protocol.md §14.1–14.2): prepare → sign locally → submit; the label JWKS."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from provenance import labelkeys
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError
from registry.api import answers
from registry.api import schemas as s
from registry.api.errors import error_body, flatten_errors
from registry.api.serializers import AmendIn, ReleaseCreateIn, TrackAIIn, WithdrawIn
from registry.api.throttles import charge
from registry.api.views.base import LabelView
from registry.api.views.bulk import _action, _Forms, _items, _not_logged, _their_releases, _upc
from registry.api.views.label import TAG, WRITE_ERRORS, _release_of, ai_by_isrc, amend_change, create_arguments
from registry.catalog.models import Label, Release
from registry.declarations.batch import ItemResult
from registry.declarations.models import Declaration
from registry.declarations.services import NextVersion
from registry.errors import DomainError, NotFound, ValidationFailed
from registry.labelkeys import services
from registry.labelkeys.models import LabelKeyEvent, PreparedDeclaration

logger = logging.getLogger(__name__)


class SignatureIn(serializers.Serializer):
    keyid = serializers.CharField(max_length=services.KEYID_MAX)
    sig = serializers.CharField(max_length=services.SIG_MAX)


class DeclareIn(serializers.Serializer):
    """Version 1 of a release already in the label's catalog (one a prepare created and was never submitted)."""

    ai = serializers.DictField(child=TrackAIIn(), help_text="The AI facts of every track, by ISRC.")


class SubmitIn(serializers.Serializer):
    prepared = serializers.IntegerField(min_value=1)
    signature = SignatureIn()


class KeyPrepareIn(serializers.Serializer):
    event = serializers.ChoiceField(choices=labelkeys.EVENTS)
    key = serializers.JSONField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class KeySubmitIn(serializers.Serializer):
    payload = serializers.CharField(max_length=8000)
    signature = SignatureIn()


class PreparedOut(serializers.Serializer):
    prepared = serializers.IntegerField(help_text="Give it back to submit.")
    payloadType = serializers.CharField()  # noqa: N815 - the DSSE member name
    payload = serializers.CharField(help_text="Base64 of the exact statement bytes the label signs (DSSE PAE).")
    expires_at = serializers.DateTimeField()
    key_head = serializers.CharField(allow_null=True)


class KeyPayloadOut(serializers.Serializer):
    payloadType = serializers.CharField()  # noqa: N815 - the DSSE member name
    payload = serializers.CharField()


class KeyEventOut(serializers.Serializer):
    event = serializers.CharField()
    kid = serializers.CharField()
    log_index = serializers.IntegerField()
    sequence = serializers.IntegerField()


COSIGN = "docs/protocol.md §14.2: prepare → sign the PAE locally (`provenance sign`) → submit."


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return JsonResponse(body, status=status)


# What a prepare body asks for, by action: its serializer and the kind of version it prepares.
KINDS = {
    "declare": PreparedDeclaration.FIRST,
    "amend": PreparedDeclaration.AMEND,
    "withdraw": PreparedDeclaration.WITHDRAW,
}
FORMS = {"declare": DeclareIn, "amend": AmendIn, "withdraw": WithdrawIn}


def change_of(kind: str, data: dict[str, Any]) -> NextVersion:
    """The next version a validated prepare body asks for (applied at prepare, and again at submit)."""
    if kind == PreparedDeclaration.FIRST:
        return NextVersion(ai=ai_by_isrc([], data["ai"]), expected_version=0)
    if kind == PreparedDeclaration.WITHDRAW:
        return NextVersion(reason=data["reason"], expected_version=data.get("expected_version"))
    return amend_change(data)


def _valid(forms: _Forms, action: str, raw: dict[str, Any]) -> dict[str, Any]:
    return forms.valid(FORMS[action], {k: v for k, v in raw.items() if k not in ("action", "upc")})


def _prepare(label: Label, release: Release, raw: dict[str, Any], forms: _Forms) -> PreparedDeclaration:
    """Prepare the version ``raw`` asks of an existing release: ``action`` amend (default), withdraw or declare."""
    action = _action({"action": "amend", **raw})
    data = _valid(forms, action, raw)
    kind = KINDS[action]
    stored = {"action": action, **json.loads(json.dumps(data, default=str))}
    return services.declaration_prepare(release=release, change=change_of(kind, data), request=stored, kind=kind)


def _prepare_new(label: Label, raw: dict[str, Any], forms: _Forms) -> PreparedDeclaration:
    """A new release (the body of POST /api/v1/releases): created in the catalog, version 1 prepared."""
    data = forms.valid(ReleaseCreateIn, {k: v for k, v in raw.items() if k != "action"})
    ai = ai_by_isrc(data["tracks"])
    return services.release_create_prepare(
        create=create_arguments(label, data),
        change=NextVersion(ai=ai, expected_version=0),
        request={"action": "declare", "ai": ai},
    )


def _submission(label: Label, data: dict[str, Any], release: Release | None = None) -> services.Submission:
    """One validated ``SubmitIn`` as the submit services take it: the prepared row, its version as asked, the signature."""
    found = PreparedDeclaration.objects.filter(pk=data["prepared"], label=label)
    prepared = (found.filter(release=release) if release is not None else found).select_related("release").first()
    if prepared is None:
        what = "this release" if release is not None else "your label"
        raise ValidationFailed(f"no such prepared statement for {what}", fields={"prepared": ["Unknown."]})
    stored = dict(prepared.request)
    action = stored.pop("action", None)
    if action not in FORMS:  # a web draft's: its change is the draft's, which the co-sign page applies
        raise ValidationFailed(
            "this statement was prepared on the web: submit its signature on its co-sign page",
            fields={"prepared": ["Prepared on the web."]},
        )
    data_then = _Forms().valid(FORMS[action], stored)  # valid at prepare; a ValidationFailed if the rules changed
    return services.Submission(
        prepared=prepared, change=change_of(prepared.kind, data_then), signature=dict(data["signature"])
    )


def _submit(label: Label, data: dict[str, Any], release: Release | None = None) -> Declaration:
    """Submit one validated ``SubmitIn``: the prepared statement's version, signed by the label and the registry."""
    sub = _submission(label, data, release)
    decl = services.declaration_submit(prepared=sub.prepared, change=sub.change, signature=sub.signature)
    return Declaration.objects.select_related("release").get(pk=decl.pk)


PREPARE_BODY = (
    " The body is the single endpoint's with an `action`: `amend` (default; the body of `/amend`), `withdraw` "
    '(the body of `/withdraw`) or `declare` (`{"ai": {ISRC: facts}}`: version 1 of a release in your catalog '
    "that was never declared, e.g. one a `POST /api/v1/releases/prepare` created and nobody submitted yet: "
    "once its prepares expire, it is deleted)."
)


class PrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Prepare a co-signed version (amendment, withdrawal, first version): the exact statement to sign",
        description=COSIGN + PREPARE_BODY,
        request=AmendIn,
        responses={201: PreparedOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
    )
    def post(self, request: Request, upc: str) -> Response:
        release = _release_of(request.auth.label, upc)
        if not isinstance(request.data, dict):
            raise ValidationFailed("the body must be a JSON object")
        prepared = _prepare(request.auth.label, release, dict(request.data), _Forms())
        return _json(201, services.prepared_answer(prepared))


class CreatePrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        operation_id="api_v1_releases_prepare_new",
        summary="Prepare a co-signed first version of a new release: created in your catalog, statement to sign",
        description=COSIGN + " The body is POST /api/v1/releases's. The release is created in your catalog "
        "(private, unsigned) with the prepare; submit it at `/api/v1/releases/{upc}/submit`.",
        request=ReleaseCreateIn,
        responses={201: PreparedOut, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("the body must be a JSON object")
        prepared = _prepare_new(request.auth.label, dict(request.data), _Forms())
        return _json(201, services.prepared_answer(prepared))


class SubmitView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Submit the label's signature of a prepared version: signed and logged with both signatures",
        description=COSIGN + " 409 when a version or key event landed since prepare; 400 for a bad signature.",
        request=SubmitIn,
        responses={200: s.WriteOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
    )
    def post(self, request: Request, upc: str) -> Response:
        label = request.auth.label
        release = _release_of(label, upc)
        form = SubmitIn(data=request.data)
        form.is_valid(raise_exception=True)
        decl = _submit(label, form.validated_data, release)
        return HttpResponse(answers.write_body(decl), status=200, content_type=answers.JSON)


def _item_error(index: int, exc: DomainError, **head: Any) -> str:
    # ASCII-escaped: a refusal may quote the input, which may hold a lone surrogate (valid JSON, not UTF-8).
    return json.dumps({"index": index, **head, "status": "error", **error_body(exc.code, exc.message, exc.fields)})


class BulkPrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Prepare up to 100 co-signed versions: each statement to sign, or why it was refused",
        description=COSIGN + " The items of POST /api/v1/releases/bulk (`action` declare, amend or withdraw); a "
        "declare item's release is created in your catalog. 200 with a result per item, in order: `prepared` "
        "with the prepare answer's members, or `error`. Each item is prepared on its own: one refusal changes "
        "nothing for the others. Sign each payload, then POST /api/v1/releases/bulk/submit.",
        request=s.BulkIn,
        responses={200: OpenApiTypes.OBJECT, **{k: v for k, v in WRITE_ERRORS.items() if k != 409}},
    )
    def post(self, request: Request) -> HttpResponse:
        label = request.auth.label
        items = _items(request.data)
        charge(request, len(items), what="releases")
        releases = _their_releases(label, items)
        forms, results = _Forms(), []
        for i, raw in enumerate(items):
            head: dict[str, Any] = {"action": raw.get("action", "declare") if isinstance(raw, dict) else None}
            try:
                action = _action(raw)
                if action == "declare":
                    prepared = _prepare_new(label, raw, forms)
                else:
                    release = releases.get(_upc(raw))
                    if release is None:
                        raise NotFound("no such release in your catalog", fields={"upc": ["Not in your catalog."]})
                    prepared = _prepare(label, release, raw, forms)
            except DomainError as exc:
                results.append(_item_error(i, exc, **head))
                continue
            answer = services.prepared_answer(prepared)
            results.append(
                answers.dumps({"index": i, **head, "upc": prepared.release.upc, "status": "prepared", **answer})
            )
        body = f'{{"results":{answers.json_list(results)}}}'
        return HttpResponse(body, status=200, content_type=answers.JSON)


class BulkSubmitView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Submit the label's signatures of up to 100 prepared versions, logged as one batch",
        description=COSIGN + ' `{"releases": [{"prepared", "signature"}, …]}`. The items are checked one by one '
        "and logged together, as POST /api/v1/releases/bulk logs its items: one transaction, one checkpoint. "
        "A bad, foreign or revoked signature, an expired, used or stale statement (a version that landed since "
        "prepare) refuses that item only. 200 with a result per item, in order: `created`, `amended` or "
        "`withdrawn` with the declaration (bundle v2), or `error`. If the batch cannot be committed, nothing "
        "was logged: 503 with every item `not_logged`.",
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiTypes.OBJECT,
            503: s.error("The batch could not be committed: nothing was logged; retry"),
            **{k: v for k, v in WRITE_ERRORS.items() if k != 409},
        },
    )
    def post(self, request: Request) -> HttpResponse:
        label = request.auth.label
        items = _items(request.data)
        charge(request, len(items), what="releases")
        outcomes: dict[int, ItemResult | DomainError] = {}
        subs: list[services.Submission] = []
        positions: list[int] = []
        for i, raw in enumerate(items):
            form = SubmitIn(data=raw if isinstance(raw, dict) else {})
            try:
                if not form.is_valid():
                    fields = flatten_errors(form.errors)
                    raise ValidationFailed("each item must be {prepared, signature: {keyid, sig}}", fields=fields)
                subs.append(_submission(label, form.validated_data))
                positions.append(i)
            except DomainError as exc:
                outcomes[i] = exc
        try:
            results = services.declarations_submit_many(label=label, submissions=subs)
        except DatabaseError:
            logger.exception("co-signed bulk batch of %d items not committed", len(items))
            return _not_logged(items)
        for position, result in zip(positions, results, strict=True):
            outcomes[position] = result
        logged, rendered = 0, []
        for i, raw in enumerate(items):
            prepared_id = (
                raw.get("prepared") if isinstance(raw, dict) and isinstance(raw.get("prepared"), int) else None
            )
            outcome = outcomes[i]
            if isinstance(outcome, ItemResult) and outcome.declaration is not None:
                decl = outcome.declaration
                logged += 1
                done = {"active": "amended" if decl.version > 1 else "created", "withdrawn": "withdrawn"}[decl.status]
                head = answers.dumps({"index": i, "prepared": prepared_id, "upc": decl.release.upc, "status": done})
                rendered.append(f'{head[:-1]},"declaration":{answers.write_body(decl)}}}')
            else:
                error = outcome if isinstance(outcome, DomainError) else outcome.error
                assert error is not None
                rendered.append(_item_error(i, error, prepared=prepared_id))
        body = f'{{"logged":{logged},"refused":{len(items) - logged},"results":{answers.json_list(rendered)}}}'
        return HttpResponse(body, status=200, content_type=answers.JSON)


class PolicyPrepareIn(serializers.Serializer):
    cosign_only = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class PolicyOut(serializers.Serializer):
    cosign_only = serializers.BooleanField()
    log_index = serializers.IntegerField()
    sequence = serializers.IntegerField()


POLICY = (
    "docs/protocol.md §14.5: the co-sign-only policy. On, the registry refuses every declaration of the label "
    "that a label key did not sign (403 `cosign_required`). Turning it on or off is a logged event signed by an "
    "active key of the label: `python -m provenance sign --key LABEL_KEY policy.json` signs the prepare answer."
)


class PolicyPrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Prepare turning the label's co-sign-only policy on or off, for an active label key to sign",
        description=POLICY,
        request=PolicyPrepareIn,
        responses={200: KeyPayloadOut, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = PolicyPrepareIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        payload = services.policy_payload(
            request.auth.label, cosign_only=data["cosign_only"], reason=data.get("reason") or None
        )
        return _json(200, {"payloadType": labelkeys.POLICY_PAYLOAD_TYPE, "payload": b64encode(payload)})


class PolicySubmitView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Log a co-sign-only policy event signed by an active key of the label",
        description=POLICY + " Owners are emailed.",
        request=KeySubmitIn,
        responses={201: PolicyOut, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = KeySubmitIn(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            payload = b64decode(form.validated_data["payload"], "payload")
        except ProvenanceError as exc:
            raise ValidationFailed(str(exc), fields={"payload": [str(exc)]}) from exc
        row = services.policy_log(
            label=request.auth.label, payload=payload, signature=dict(form.validated_data["signature"])
        )
        return _json(201, {"cosign_only": row.cosign_only, "log_index": row.leaf_id, "sequence": row.sequence})


class KeyPrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Prepare a label key event (register or revoke) for an active label key to sign",
        description="docs/protocol.md §14.1.",
        request=KeyPrepareIn,
        responses={200: KeyPayloadOut, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = KeyPrepareIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        payload = services.key_event_payload(
            request.auth.label,
            event=data["event"],
            public_key=services.public_key_from(data["key"]),
            attestation=LabelKeyEvent.LABEL,
            reason=data.get("reason") or None,
        )
        return _json(200, {"payloadType": labelkeys.KEY_PAYLOAD_TYPE, "payload": b64encode(payload)})


class KeySubmitView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Log a label key event signed by an active key of the label",
        description="docs/protocol.md §14.1. Owners are emailed.",
        request=KeySubmitIn,
        responses={201: KeyEventOut, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = KeySubmitIn(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            payload = b64decode(form.validated_data["payload"], "payload")
        except ProvenanceError as exc:
            raise ValidationFailed(str(exc), fields={"payload": [str(exc)]}) from exc
        row = services.key_event_log(
            label=request.auth.label, payload=payload, signatures=[dict(form.validated_data["signature"])]
        )
        return _json(201, {"event": row.event, "kid": row.kid, "log_index": row.leaf_id, "sequence": row.sequence})


def label_jwks(request: Any, label_id: int) -> HttpResponse:
    """GET /labels/<id>/keys.json: the label's keys, registered and revoked, with their log indexes."""
    label = get_object_or_404(Label, pk=label_id)
    response = JsonResponse(services.jwks(label))
    response["Cache-Control"] = "public, max-age=60"
    return response
