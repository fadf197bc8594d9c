"""The label key and co-signing API (docs/protocol.md §14.1–14.2): prepare → sign locally → submit; the label JWKS."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from provenance import labelkeys
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError
from registry.api import answers
from registry.api import schemas as s
from registry.api.serializers import AmendIn
from registry.api.views.base import LabelView
from registry.api.views.label import TAG, WRITE_ERRORS, _release_of, amend_change
from registry.catalog.models import Label
from registry.declarations.models import Declaration
from registry.errors import ValidationFailed
from registry.labelkeys import services
from registry.labelkeys.models import LabelKeyEvent, PreparedDeclaration


class SignatureIn(serializers.Serializer):
    keyid = serializers.CharField(max_length=services.KEYID_MAX)
    sig = serializers.CharField(max_length=services.SIG_MAX)


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


class PrepareView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Prepare a co-signed amendment: the exact statement for the label to sign",
        description=COSIGN,
        request=AmendIn,
        responses={201: PreparedOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
    )
    def post(self, request: Request, upc: str) -> Response:
        release = _release_of(request.auth.label, upc)
        form = AmendIn(data=request.data)
        form.is_valid(raise_exception=True)
        prepared = services.declaration_prepare(
            release=release, change=amend_change(form.validated_data), request=request.data
        )
        return _json(201, services.prepared_answer(prepared))


class SubmitView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Submit the label's signature of a prepared amendment: signed and logged with both signatures",
        description=COSIGN + " 409 when a version or key event landed since prepare; 400 for a bad signature.",
        request=SubmitIn,
        responses={200: s.WriteOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
    )
    def post(self, request: Request, upc: str) -> Response:
        label = request.auth.label
        release = _release_of(label, upc)
        form = SubmitIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        prepared = PreparedDeclaration.objects.filter(pk=data["prepared"], label=label, release=release).first()
        if prepared is None:
            raise ValidationFailed("no such prepared statement for this release", fields={"prepared": ["Unknown."]})
        amend = AmendIn(data=prepared.request)
        amend.is_valid(raise_exception=True)
        decl = services.declaration_submit(
            prepared=prepared, change=amend_change(amend.validated_data), signature=dict(data["signature"])
        )
        decl = Declaration.objects.select_related("release").get(pk=decl.pk)
        return HttpResponse(answers.write_body(decl), status=200, content_type=answers.JSON)


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
