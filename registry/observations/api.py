"""The platform API (docs/protocol.md §16): prepare → sign locally → submit an observation; platform key events; JWKS."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from provenance import labelkeys
from provenance import observations as pobs
from provenance.encoding import b64decode, b64encode
from provenance.errors import ProvenanceError
from provenance.vocabulary import LEVELS, PARTS
from registry.api import schemas as s
from registry.api.authentication import ApiCredentialAuthentication
from registry.api.models import PlatformKey
from registry.api.parsers import SafeJSONParser
from registry.api.views.base import FirstRenderer
from registry.errors import ValidationFailed
from registry.labelkeys.api import KeyEventOut, KeyPrepareIn, SignatureIn  # the same shapes as a label's (§14)
from registry.observations import services
from registry.observations.models import PlatformKeyEvent

TAG = ["platform"]
ERRORS = {
    400: s.error("Invalid (the reason: bad signature, unknown or revoked key, another platform's key …)"),
    401: s.error("No or a bad credential"),
    403: s.error("Not a platform key"),
    404: s.error("No public declaration of this ISRC"),
    409: s.error("The platform's keys changed since prepare: prepare again"),
    429: s.error("Too many observations today"),
}
HOW = "docs/protocol.md §16.2: prepare → sign the PAE locally (`provenance sign-observation`) → submit."


class IsPlatform(permissions.BasePermission):
    """Observations need a platform key; a label token is 403, no credential 401."""

    message = "observations are made with a platform key (adrp_…), not a label token"

    def has_permission(self, request: Any, view: Any) -> bool:
        if getattr(request.auth, "is_platform", False):
            return True
        if request.auth is None:
            raise exceptions.NotAuthenticated("a platform API key is required: Authorization: Bearer adrp_…")
        return False


class PlatformView:
    authentication_classes = [ApiCredentialAuthentication]
    permission_classes = [IsPlatform]
    throttle_classes: list[Any] = []  # every platform request counts in authentication; observations daily too
    parser_classes = [SafeJSONParser]
    content_negotiation_class = FirstRenderer


def _platform(request: Request) -> PlatformKey:
    return PlatformKey.objects.get(pk=request.auth.id)


class ObservationPrepareIn(serializers.Serializer):
    isrc = serializers.CharField(max_length=20)
    upc = serializers.CharField(max_length=20, required=False, allow_blank=True)
    observed = serializers.DictField(
        child=serializers.ChoiceField(choices=LEVELS), allow_empty=False, help_text=f"Any of {', '.join(PARTS)}."
    )
    method = serializers.CharField(max_length=pobs.METHOD_MAX)
    observed_at = serializers.DateField(format="%Y-%m-%d", input_formats=["%Y-%m-%d"])
    declaration_version = serializers.IntegerField(min_value=1, required=False)


class SignedIn(serializers.Serializer):
    payload = serializers.CharField(max_length=8000)
    signature = SignatureIn()


class PayloadOut(serializers.Serializer):
    payloadType = serializers.CharField()  # noqa: N815 - the DSSE member name
    payload = serializers.CharField(help_text="Base64 of the exact statement bytes the platform signs (DSSE PAE).")


class ObservationCreatedOut(serializers.Serializer):
    id = serializers.UUIDField()
    log_index = serializers.IntegerField()
    bundle = serializers.DictField()


def _payload(data: dict[str, Any]) -> bytes:
    try:
        return b64decode(data["payload"], "payload")
    except ProvenanceError as exc:
        raise ValidationFailed(str(exc), fields={"payload": [str(exc)]}) from exc


class ObservationPrepareView(PlatformView, APIView):
    @extend_schema(
        tags=TAG,
        summary="Prepare an observation: the exact statement for the platform to sign",
        description=HOW,
        request=ObservationPrepareIn,
        responses={200: PayloadOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = ObservationPrepareIn(data=request.data)
        form.is_valid(raise_exception=True)
        d = form.validated_data
        prepared = services.observation_prepare(
            platform=_platform(request),
            isrc=d["isrc"],
            upc=d.get("upc") or None,
            observed=d["observed"],
            method=d["method"],
            observed_at=d["observed_at"].isoformat(),
            declaration_version=d.get("declaration_version"),
        )
        return JsonResponse(prepared, status=200)


class ObservationSubmitView(PlatformView, APIView):
    @extend_schema(
        tags=TAG,
        summary="Submit a signed observation: logged with the platform's signature and the registry's",
        description=HOW + " Refused (400, with the reason) on a bad signature, an unknown or revoked key, "
        "another platform's key or statement; 404 when the ISRC has no public declaration; 429 over the "
        "platform's daily limit of observations.",
        request=SignedIn,
        responses={201: ObservationCreatedOut, **ERRORS},
    )
    def post(self, request: Request) -> HttpResponse:
        form = SignedIn(data=request.data)
        form.is_valid(raise_exception=True)
        row = services.observation_submit(
            platform=_platform(request),
            payload=form.validated_data["payload"],
            signature=dict(form.validated_data["signature"]),
        )
        body = '{"id":"%s","log_index":%d,"bundle":%s}' % (row.uid, row.leaf_id, row.bundle)  # noqa: UP031
        return HttpResponse(body, status=201, content_type="application/json")


class KeyPrepareView(PlatformView, APIView):
    @extend_schema(
        tags=TAG,
        summary="Prepare a platform key event (register or revoke) for an active platform key to sign",
        description="docs/protocol.md §16.1.",
        request=KeyPrepareIn,
        responses={200: PayloadOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = KeyPrepareIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        payload = services.key_event_payload(
            _platform(request),
            event=data["event"],
            public_key=services.public_key_from(data["key"]),
            attestation=PlatformKeyEvent.PLATFORM,
            reason=data.get("reason") or None,
        )
        return JsonResponse({"payloadType": labelkeys.PLATFORM_KEY_PAYLOAD_TYPE, "payload": b64encode(payload)})


class KeySubmitView(PlatformView, APIView):
    @extend_schema(
        tags=TAG,
        summary="Log a platform key event signed by an active key of the platform",
        description="docs/protocol.md §16.1.",
        request=SignedIn,
        responses={201: KeyEventOut, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = SignedIn(data=request.data)
        form.is_valid(raise_exception=True)
        row = services.key_event_log(
            platform=_platform(request),
            payload=_payload(form.validated_data),
            signatures=[dict(form.validated_data["signature"])],
        )
        body = {"event": row.event, "kid": row.kid, "log_index": row.leaf_id, "sequence": row.sequence}
        return JsonResponse(body, status=201)


def platform_jwks(request: Any, platform_id: int) -> HttpResponse:
    """GET /platforms/<id>/keys.json: the platform's signing keys, registered and revoked, with their log indexes."""
    # Only platforms with a key event (whose name the log shows anyway): the list of API customers stays private.
    platform = get_object_or_404(PlatformKey.objects.filter(key_events__isnull=False).distinct(), pk=platform_id)
    response = JsonResponse(services.jwks(platform))
    response["Cache-Control"] = "public, max-age=60"
    return response
