"""The dispute API (docs/protocol.md §15.1): open with a platform key or another label's token, follow, answer, withdraw.

Views parse, call ``registry.disputes.services`` (the same services as the pages), render.
Who may do what is decided there (``is_opener``, ``is_disputed_label``); a dispute the
credential may not read answers 404, as if it did not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from provenance import identifiers
from provenance.disputes import DISPUTED_PARTS
from provenance.errors import IdentifierError
from provenance.statement import format_timestamp
from registry.api import schemas as s
from registry.api.authentication import ApiCredentialAuthentication
from registry.api.parsers import SafeJSONParser
from registry.api.serializers import Text
from registry.api.throttles import WriteThrottle
from registry.api.views.base import FirstRenderer
from registry.declarations import selectors as decl_selectors
from registry.disputes import services
from registry.disputes.models import Dispute
from registry.errors import Conflict, NotFound, ValidationFailed

TAG = ["disputes"]


class HasCredential(permissions.BasePermission):
    """A platform key or a label token; without one, 401 (a signed-in browser session is no credential)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.auth is None:
            raise exceptions.NotAuthenticated("a platform key (adrp_…) or a label token (adrl_…) is required")
        return True


class DisputeView(APIView):
    authentication_classes = [ApiCredentialAuthentication]
    permission_classes = [HasCredential]
    throttle_classes = [WriteThrottle]
    parser_classes = [SafeJSONParser]
    content_negotiation_class = FirstRenderer


class DisputeOpenIn(serializers.Serializer):
    upc = serializers.CharField(max_length=32, help_text="The release whose current declaration is disputed.")
    isrc = serializers.CharField(
        max_length=32, required=False, allow_null=True, allow_blank=True,
        help_text="The track; null for the release's artwork, or with part `identifier` for its UPC.",
    )  # fmt: skip
    part = serializers.ChoiceField(choices=list(DISPUTED_PARTS))
    text = Text(max_length=services.TEXT_MAX, multiline=True, help_text="What is wrong.")
    evidence = Text(max_length=services.EVIDENCE_MAX, multiline=True, required=False, allow_blank=True)
    declaration_version = serializers.IntegerField(
        min_value=1, required=False, help_text="The version you read: 409 when another is current now."
    )


class AnswerIn(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["amend", "contest"])
    text = Text(max_length=services.TEXT_MAX, multiline=True, required=False, allow_blank=True, default="")


class DisputeWithdrawIn(serializers.Serializer):
    text = Text(max_length=services.TEXT_MAX, multiline=True, required=False, allow_blank=True, default="")


class StepOut(serializers.Serializer):
    sequence = serializers.IntegerField()
    step = serializers.ChoiceField(choices=["opened", "answered", "resolved"])
    role = serializers.CharField()
    outcome = serializers.CharField(allow_null=True)
    log_index = serializers.IntegerField()
    text = serializers.CharField(help_text="The step's words; empty once erased on request.")
    evidence = serializers.CharField()


class DisputeDetailOut(s.DisputeOut):
    upc = serializers.CharField()
    steps = StepOut(many=True)


ERRORS = {
    400: s.error("Invalid input, with the field"),
    401: s.error("No platform key or label token, or an unknown or revoked one"),
    429: s.error("Too many disputes from this credential, or about this release, today"),
}


def _uid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("no such dispute") from None


def _readable(request: Request, uid: str) -> Dispute:
    """The dispute, if this credential opened it or speaks for the disputed label; else 404."""
    dispute = Dispute.objects.select_related("release", "declaration").filter(uid=_uid(uid)).first()
    if dispute is None or not (
        services.is_opener(request.auth, dispute) or services.is_disputed_label(request.auth, dispute)
    ):
        raise NotFound("no such dispute")
    return dispute


def detail(dispute: Dispute) -> dict[str, Any]:
    steps = list(dispute.steps.order_by("sequence"))
    return {
        "id": str(dispute.uid),
        "opened_by": dispute.opener_role,
        "upc": dispute.release.upc,
        "isrc": dispute.isrc or None,
        "part": dispute.part,
        "declaration_version": dispute.declaration.version,
        "status": dispute.status,
        "opened_at": format_timestamp(dispute.created_at),
        "log_indexes": [st.leaf_id for st in steps],
        "steps": [
            {
                "sequence": st.sequence,
                "step": st.step,
                "role": st.role,
                "outcome": st.outcome or None,
                "log_index": st.leaf_id,
                "text": st.text,
                "evidence": st.evidence,
            }
            for st in steps
        ],
    }


def _answer(status: int, dispute: Dispute) -> JsonResponse:
    dispute = Dispute.objects.select_related("release", "declaration").get(pk=dispute.pk)
    return JsonResponse(detail(dispute), status=status)


class DisputesView(DisputeView):
    @extend_schema(
        tags=TAG,
        summary="Open a dispute on a declaration (a platform key, or another label's token as a rights holder)",
        description="Disputes the current version of the release's declaration: one part of one track, the "
        "artwork, or an identifier (docs/protocol.md §15). A platform key opens as `platform`; a label token "
        "opens as `rights_holder`, never on its own label's declarations (amend those). Signed and logged; the "
        "label is told and answers, staff resolve. A dispute never changes the declaration. Rate-limited per "
        "credential and per release.",
        request=DisputeOpenIn,
        responses={
            201: DisputeDetailOut,
            **ERRORS,
            403: s.error("A label token on its own label's declaration"),
            404: s.error("No declaration of this UPC"),
            409: s.error("The declaration is withdrawn, or `declaration_version` is not the current one"),
        },
        examples=[
            OpenApiExample(
                "A platform's detector disagrees with the label",
                value={
                    "upc": "036000291452",
                    "isrc": "US-SKG-19-12345",
                    "part": "vocals",
                    "text": "Our detector finds the lead vocal synthetic (score 0.97); declared No AI.",
                    "evidence": "Detector report 2026-12-01, model v3.",
                    "declaration_version": 1,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> JsonResponse:
        form = DisputeOpenIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            upc = identifiers.normalize_gtin(data["upc"])
        except IdentifierError as exc:
            raise ValidationFailed(str(exc), fields={"upc": [str(exc)]}) from None
        isrc = ""
        if data.get("isrc"):
            try:
                isrc = identifiers.normalize_isrc(data["isrc"])
            except IdentifierError as exc:
                raise ValidationFailed(str(exc), fields={"isrc": [str(exc)]}) from None
        declaration = decl_selectors.release_by_upc(upc)
        if declaration is None:
            raise NotFound(f"no declaration of {upc}", fields={"upc": ["Not declared on this registry."]})
        expected = data.get("declaration_version")
        if expected is not None and expected != declaration.version:
            raise Conflict(
                f"version {declaration.version} is current, not {expected}: read it again before disputing",
                fields={"declaration_version": [f"Version {declaration.version} is current."]},
            )
        dispute = services.dispute_open(
            declaration=declaration,
            actor=request.auth,
            role=services.CREDENTIAL_ROLES[request.auth.kind],
            isrc=isrc,
            part=data["part"],
            text=data["text"],
            evidence=data.get("evidence", ""),
        )
        return _answer(201, dispute)


class DisputeDetailView(DisputeView):
    @extend_schema(
        tags=TAG,
        summary="A dispute with its steps and words (its opener, or the disputed label)",
        responses={200: DisputeDetailOut, 401: ERRORS[401], 404: s.error("No such dispute for this credential")},
    )
    def get(self, request: Request, uid: str) -> JsonResponse:
        return _answer(200, _readable(request, uid))


class DisputeAnswerView(DisputeView):
    @extend_schema(
        tags=TAG,
        summary="The disputed label answers: it will amend (then amend as usual), or contests with a reason",
        request=AnswerIn,
        responses={
            200: DisputeDetailOut,
            **ERRORS,
            403: s.error("Only the disputed label's token answers"),
            404: s.error("No such dispute for this credential"),
            409: s.error("The dispute is answered or closed already"),
        },
    )
    def post(self, request: Request, uid: str) -> JsonResponse:
        dispute = _readable(request, uid)
        form = AnswerIn(data=request.data)
        form.is_valid(raise_exception=True)
        services.dispute_answer(dispute=dispute, actor=request.auth, **form.validated_data)
        return _answer(200, dispute)


class DisputeWithdrawView(DisputeView):
    @extend_schema(
        tags=TAG,
        summary="Its opener withdraws a dispute (signed and logged)",
        request=DisputeWithdrawIn,
        responses={
            200: DisputeDetailOut,
            **ERRORS,
            403: s.error("Only the opener withdraws"),
            404: s.error("No such dispute for this credential"),
            409: s.error("The dispute is closed already"),
        },
    )
    def post(self, request: Request, uid: str) -> JsonResponse:
        dispute = _readable(request, uid)
        form = DisputeWithdrawIn(data=request.data)
        form.is_valid(raise_exception=True)
        services.dispute_resolve(dispute=dispute, actor=request.auth, outcome="withdrawn", **form.validated_data)
        return _answer(200, dispute)
