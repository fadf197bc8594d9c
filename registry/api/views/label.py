"""The label write API: declare a release in one call, amend, withdraw, list. Bearer adrl_… tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.api import answers
from registry.api import schemas as s
from registry.api.idempotency import fingerprint, run_idempotent
from registry.api.serializers import AmendIn, ReleaseCreateIn, WithdrawIn
from registry.api.views.base import LabelView
from registry.catalog.access import access_release
from registry.catalog.models import Label, Release
from registry.catalog.services import release_create
from registry.declarations.models import Declaration
from registry.declarations.services import (
    AMEND,
    CatalogChange,
    NextVersion,
    declaration_create,
    declaration_withdraw,
    version_sign,
)
from registry.errors import ValidationFailed

TAG = ["label"]
WRITE_ERRORS = {
    400: s.error("Invalid input, with the field"),
    401: s.error("No or unknown/revoked label token"),
    403: s.error("A platform key cannot write"),
    409: s.error("Identifier of another label, or expected_version mismatch"),
    422: s.error("Idempotency-Key reused with a different request"),
}


def _isrc_key(value: Any) -> str:
    """An ISRC normalized for keying AI facts; left as is when malformed (the service then names it)."""
    try:
        return identifiers.normalize_isrc(value)
    except IdentifierError:
        return str(value)


def ai_by_isrc(tracks: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    ai = {_isrc_key(k): v for k, v in (extra or {}).items()}
    for t in tracks:
        if t.get("ai") is not None:
            ai[_isrc_key(t["isrc"])] = t["ai"]
    return ai


def _catalog_tracks(tracks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in t.items() if k != "ai"} for t in tracks]


def amend_change(data: dict[str, Any]) -> NextVersion:
    """The next version an amendment body (``AmendIn``, validated) asks for."""
    tracks = data.get("tracks")
    return NextVersion(
        ai=ai_by_isrc(tracks or [], data.get("ai")),
        reason=data["reason"],
        catalog=CatalogChange(
            title=data.get("title"),
            genre=data.get("genre"),
            release_date=data.get("release_date"),
            artwork_ai=data.get("artwork"),
            artists=data.get("artists"),
            tracks=_catalog_tracks(tracks) if tracks is not None else None,
        ),
        expected_version=data.get("expected_version"),
        require_change=True,  # a no-change amendment is refused (NothingChanges, 400 "unchanged")
    )


def create_arguments(label: Label, data: dict[str, Any]) -> dict[str, Any]:
    """``release_create``'s arguments from a create body (``ReleaseCreateIn``, validated)."""
    return {
        "label": label,
        "upc": data["upc"],
        "title": data["title"],
        "genre": data["genre"],
        "release_date": data.get("release_date"),
        "artwork_ai": data["artwork"],
        "artists": data["artists"],
        "tracks": _catalog_tracks(data["tracks"]),
    }


def respond(request: Request, label: Label, action: Any) -> Response:
    key = request.headers.get("Idempotency-Key")
    outcome = run_idempotent(
        label=label,
        key=key,
        # Only a keyed request is compared with a replay (a bulk body's fingerprint is ~1 MB of JSON).
        request_hash=fingerprint(request.method, request.path, request.data) if key is not None else "",
        action=action,
    )
    response = HttpResponse(outcome.body, status=outcome.status, content_type=answers.JSON)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _write_answer(status: int, decl: Declaration) -> tuple[int, str]:
    decl = Declaration.objects.select_related("release").get(pk=decl.pk)
    return status, answers.write_body(decl)


class ReleaseCreateView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Register a release with its tracks and declare it (version 1), in one call",
        description="Creates the release, its artists and recordings and signs the first declaration, all or "
        "nothing. Each track carries its AI facts in `ai`.",
        request=ReleaseCreateIn,
        responses={201: s.WriteOut, **WRITE_ERRORS},
        parameters=s.AUTH_PARAMS,
        examples=[s.CREATE_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        form = ReleaseCreateIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        label = request.auth.label

        def action() -> tuple[int, str]:
            release = release_create(**create_arguments(label, data))
            decl = declaration_create(release=release, ai=ai_by_isrc(data["tracks"]), via="api")
            return _write_answer(201, decl)

        return respond(request, label, action)


def _release_of(label: Label, upc: str) -> Release:
    try:
        upc = identifiers.normalize_gtin(upc)
    except IdentifierError as exc:
        raise ValidationFailed(str(exc), fields={"upc": [str(exc)]}) from None
    return access_release(label, upc)


class ReleaseAmendView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Amend a declaration: a new signed version with a reason",
        description="`ai` maps ISRCs to new AI facts; tracks not named keep their previous facts. Catalog "
        "fields (title, genre, release_date, artwork, artists, tracks) may change in the same call. With "
        "`expected_version`, a concurrent change answers 409 instead of being overwritten. An amendment "
        "that changes nothing (the same answers, catalog details and artists; only the reason differs) is "
        "refused: 400 with code `unchanged`.",
        request=AmendIn,
        responses={200: s.WriteOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
        parameters=s.AUTH_PARAMS,
        examples=[
            OpenApiExample(
                "Vocals were AI after all",
                value={
                    "reason": "The vocal was generated.",
                    "expected_version": 1,
                    "ai": {"US-SKG-19-12345": s.TRACK_AI_EXAMPLE},
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, upc: str) -> Response:
        label = request.auth.label
        release = _release_of(label, upc)
        form = AmendIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data

        def action() -> tuple[int, str]:
            decl = version_sign(release=release, change=amend_change(data), via="api", kind=AMEND)
            return _write_answer(200, decl)

        return respond(request, label, action)


class ReleaseWithdrawView(LabelView):
    @extend_schema(
        tags=TAG,
        summary="Withdraw a declaration: a signed withdrawal with a reason",
        request=WithdrawIn,
        responses={200: s.WriteOut, 404: s.error("No such release in your catalog"), **WRITE_ERRORS},
        parameters=s.AUTH_PARAMS,
    )
    def post(self, request: Request, upc: str) -> Response:
        label = request.auth.label
        release = _release_of(label, upc)
        form = WithdrawIn(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data

        def action() -> tuple[int, str]:
            decl = declaration_withdraw(
                release=release, reason=data["reason"], via="api", expected_version=data.get("expected_version")
            )
            return _write_answer(200, decl)

        return respond(request, label, action)


class LabelPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LabelReleasesView(LabelView):
    pagination_class = LabelPagination

    @extend_schema(
        tags=TAG,
        summary="Your label's releases with their declaration status (paginated)",
        responses={200: s.LabelReleaseOut(many=True), 401: s.error("No label token"), 404: s.error("No such page")},
    )
    def get(self, request: Request) -> Response:
        releases = (
            Release.objects.filter(label=request.auth.label)
            .select_related("current_declaration")
            .only(
                "upc",
                "title",
                "release_date",
                "created_at",
                "current_declaration__version",
                "current_declaration__status",
                "current_declaration__declared_at",
                "current_declaration__contains_ai",
            )
            .annotate(track_count=Count("tracks"))
            .order_by("-created_at", "-id")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(releases, request, view=self)
        rows = []
        for r in page:
            d = r.current_declaration
            rows.append(
                {
                    "upc": r.upc,
                    "title": r.title,
                    "release_date": r.release_date.isoformat() if r.release_date else None,
                    "status": d.status if d else "not_declared",
                    "version": d.version if d else None,
                    "declared_at": d.declared_at.isoformat().replace("+00:00", "Z") if d else None,
                    "contains_ai": d.contains_ai if d else None,
                    "tracks": r.track_count,
                }
            )
        return paginator.get_paginated_response(rows)
