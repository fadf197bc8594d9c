"""Public pages: parse the identifier, call a selector, render. No login, short public caching."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from provenance import identifiers
from provenance.disclosure import track_in
from provenance.errors import IdentifierError
from registry.declarations import selectors as decl_selectors
from registry.declarations.statements import diff_statements
from registry.disputes import selectors as dispute_selectors
from registry.disputes.models import ROLE_LABELS
from registry.etags import etag_of
from registry.labelkeys.selectors import policy as label_policy
from registry.observations import selectors as observation_selectors
from registry.public import badges, presenters
from registry.public import selectors as public_selectors
from registry.public.ern_export import MessageParty, MissingFacts, export_ern
from registry.transparency import keys as tkeys
from registry.transparency.log import latest_checkpoint

PAGE_MAX_AGE = 60
BADGE_MAX_AGE = 300

View = Callable[..., HttpResponse]


def cached(max_age: int) -> Callable[[View], View]:
    """Public caching with a content ETag and 304s; private for signed-in users (their header differs)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if response.status_code not in (200, 404, 410) or response.streaming:
                return response
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                patch_cache_control(response, private=True, no_cache=True)
                return response
            patch_cache_control(response, public=True, max_age=max_age)
            patch_vary_headers(response, ["Cookie"])
            if response.status_code != 200:
                return response
            if not response.has_header("ETag"):
                response["ETag"] = etag_of(response.content)
            return get_conditional_response(request, etag=response["ETag"], response=response) or response

        return wrapper

    return decorator


# --- error pages ------------------------------------------------------------------------


def not_declared(request: HttpRequest, *, kind: str, identifier: str) -> HttpResponse:
    """HTTP 404 that says "not declared" — which is not a claim about the music."""
    display = identifiers.format_isrc(identifier) if kind == "ISRC" else identifier
    return render(
        request,
        "public/not_declared.html",
        {"kind": kind, "identifier": display},
        status=404,
    )


def bad_identifier(request: HttpRequest, *, kind: str, value: str, problem: str) -> HttpResponse:
    return render(
        request,
        "public/bad_identifier.html",
        {"kind": kind, "value": value[:100], "problem": problem},
        status=400,
    )


def _normalize(request: HttpRequest, kind: str, value: str) -> str | HttpResponse:
    """The identifier's compact form, or the 400 page that says what is wrong with it."""
    normalize = identifiers.normalize_isrc if kind == "ISRC" else identifiers.normalize_gtin
    try:
        return normalize(value)
    except IdentifierError as exc:
        return bad_identifier(request, kind=kind, value=value, problem=str(exc))


# --- pages ---------------------------------------------------------------------------------


@require_safe
@cached(PAGE_MAX_AGE)
def home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    results = public_selectors.search(query) if query.strip() else None
    if results is not None and results.redirect:
        return HttpResponseRedirect(results.redirect)
    return render(
        request,
        "public/home.html",
        {"query": query.strip(), "results": results, "recent": public_selectors.recent_declarations()},
    )


def _release_context(decl: Any) -> dict[str, Any]:
    release = decl.release
    versions = decl_selectors.history(decl.release_id)
    artist_ids = public_selectors.artist_ids_for_release(decl.release_id)
    keyset = tkeys.keyset()
    proof = public_selectors.verify_declaration(decl, keyset)
    checkpoint = latest_checkpoint()
    proof.current_tree_size = checkpoint.tree_size if checkpoint else None
    view = presenters.present_statement(decl.statement, artist_ids)
    return {
        "decl": decl,
        "st": view,
        "label": release.label,
        "history": presenters.present_history(versions, diff_statements),
        "proof": proof,
        "bundle_filename": presenters.bundle_filename(release.upc, decl.version),
        "disputes": dispute_selectors.published(release),
        "observations": _observations(release, decl.statement),
    }


def who_said(label: str, observations: list[dict[str, Any]], disputes: list[Any]) -> str:
    """The plain sentence over a page: "Declared by the label L / observed by platform P / disputed by an artist"."""
    parts = [f"Declared by the label {label}"]
    platforms = list(dict.fromkeys(o["platform"] for o in observations))
    if platforms:
        parts.append("observed by platform " + ", ".join(platforms))
    openers = list(dict.fromkeys(ROLE_LABELS[d.opener_role] for d in disputes))
    if openers:
        parts.append("disputed by " + ", ".join(openers))
    return " / ".join(parts)


def _observations(release: Any, statement: dict[str, Any], isrc: str | None = None) -> list[dict[str, Any]]:
    """Platforms' observations, each with the plain sentences where it disagrees with the declared parts."""
    declared = {t["isrc"]: t.get("parts", {}) for t in statement.get("tracks", [])}
    return [
        {**vars(o), "levels": o.levels, "disagrees": o.disagreements(declared.get(o.isrc, {}))}
        for o in observation_selectors.published(release, isrc=isrc)
    ]


@require_safe
@cached(PAGE_MAX_AGE)
def release_detail(request: HttpRequest, upc: str) -> HttpResponse:
    canonical = _normalize(request, "UPC/EAN", upc)
    if isinstance(canonical, HttpResponse):
        return canonical
    if canonical != upc:
        return HttpResponseRedirect(f"/releases/{canonical}/", status=301)
    decl = decl_selectors.release_by_upc(canonical)
    if decl is None:
        return not_declared(request, kind="UPC/EAN", identifier=canonical)
    context = _release_context(decl)
    st = context["st"]
    badge_class, badge_text = presenters.describe_badge(st.contains_ai.code, withdrawn=st.withdrawn)
    said = who_said(context["label"].name, context["observations"], context["disputes"])
    context.update({"badge_class": badge_class, "badge_text": badge_text, "who_said": said})
    return render(request, "public/release.html", context)


@require_safe
@cached(PAGE_MAX_AGE)
def recording_detail(request: HttpRequest, isrc: str) -> HttpResponse:
    canonical = _normalize(request, "ISRC", isrc)
    if isinstance(canonical, HttpResponse):
        return canonical
    if canonical != isrc:
        return HttpResponseRedirect(f"/recordings/{canonical}/", status=301)
    answer = decl_selectors.recording_by_isrc(canonical)
    if answer is None:
        return not_declared(request, kind="ISRC", identifier=canonical)
    context = _release_context(answer.declaration)
    st = context["st"]
    track = next((t for t in st.tracks if t.isrc == canonical), None)
    if track is None:  # the index and the statement disagree: treat as not declared, never 500
        return not_declared(request, kind="ISRC", identifier=canonical)
    badge_class, badge_text = presenters.describe_badge(track.contains_ai.code, withdrawn=st.withdrawn)
    context.update(
        {
            "track": track,
            "disputes": [d for d in context["disputes"] if d.isrc in (None, canonical)],
            "observations": [o for o in context["observations"] if o["isrc"] == canonical],
            "also_in": public_selectors.releases_by_upcs(answer.also_in) if answer.also_in else [],
            "badge_class": badge_class,
            "badge_text": badge_text,
        }
    )
    context["who_said"] = who_said(context["label"].name, context["observations"], context["disputes"])
    return render(request, "public/recording.html", context)


@require_safe
@cached(PAGE_MAX_AGE)
def artist_detail(request: HttpRequest, artist_id: int) -> HttpResponse:
    found = public_selectors.artist_page(artist_id)
    if found is None:
        return render(request, "public/not_found.html", {"what": "artist"}, status=404)
    artist, releases = found
    persona = presenters.ArtistView(name=artist.name, persona=artist.persona, isni=artist.isni, id=artist.pk)
    return render(request, "public/artist.html", {"artist": artist, "persona": persona, "releases": releases})


@require_safe
@cached(PAGE_MAX_AGE)
def label_detail(request: HttpRequest, label_id: int) -> HttpResponse:
    found = public_selectors.label_page(label_id)
    if found is None:
        return render(request, "public/not_found.html", {"what": "label"}, status=404)
    label, releases, artists = found
    context = {"label": label, "releases": releases, "artists": artists, "policy": label_policy(label)}
    return render(request, "public/label.html", context)


@require_safe
@cached(PAGE_MAX_AGE)
def transparency(request: HttpRequest) -> HttpResponse:
    overview = public_selectors.transparency_overview()
    cp = overview["checkpoint"]
    root_b64 = None
    if cp is not None:
        root_b64 = base64.b64encode(bytes(cp.root_hash)).decode("ascii")
    return render(request, "public/transparency.html", {**overview, "root_b64": root_b64})


# --- machine-readable ---------------------------------------------------------------------


@require_safe
@cached(PAGE_MAX_AGE)
def release_bundle(request: HttpRequest, upc: str) -> HttpResponse:
    canonical = _normalize(request, "UPC/EAN", upc)
    if isinstance(canonical, HttpResponse):
        return canonical
    decl = decl_selectors.release_by_upc(canonical)
    if decl is None:
        return not_declared(request, kind="UPC/EAN", identifier=canonical)
    # The stored bytes, as issued: re-serializing could change them.
    response = HttpResponse(decl.bundle.encode("utf-8"), content_type="application/json")
    response["Content-Disposition"] = f'inline; filename="{presenters.bundle_filename(canonical, decl.version)}"'
    return response


@require_safe
@cached(PAGE_MAX_AGE)
def release_ern(request: HttpRequest, upc: str) -> HttpResponse:
    """The release's signed facts as ERN 4.3.2, addressed to ``?recipient=<DPID>`` or else to the registry itself.

    400: a malformed UPC or recipient; 404/410: nothing current to export; 409: the signed
    declaration lacks a fact ERN requires (named, in plain text); 503: no REGISTRY_DPID.
    """
    canonical = _normalize(request, "UPC/EAN", upc)
    if isinstance(canonical, HttpResponse):
        return canonical
    recipient = None
    if "recipient" in request.GET:
        try:
            recipient = MessageParty(identifiers.normalize_dpid(request.GET["recipient"]))
        except IdentifierError as exc:
            return _plain(f"Not a DDEX Party ID (recipient): {exc}\n", status=400)
    decl = decl_selectors.release_by_upc(canonical)
    if decl is None:
        return not_declared(request, kind="UPC/EAN", identifier=canonical)
    if decl.status == decl.WITHDRAWN:
        # A withdrawn declaration has no current facts to deliver to a platform.
        return render(request, "public/withdrawn_export.html", {"decl": decl}, status=410)
    if not settings.REGISTRY_DPID:
        return _plain(
            "This registry has no DDEX Party ID configured (REGISTRY_DPID), and every ERN message "
            "names its sender by one. Fetch the signed bundle instead: "
            f"/releases/{canonical}/bundle.json\n",
            status=503,
        )
    sender = MessageParty(settings.REGISTRY_DPID, settings.REGISTRY_NAME)
    try:
        body = export_ern(decl.statement, sender=sender, recipient=recipient, is_demo=decl.release.label.is_demo)
    except MissingFacts as exc:
        # Never made up: the label declares the missing facts in a new version, and the export follows.
        lines = "".join(f"- {m}\n" for m in exc.missing)
        return _plain(
            f"Release {canonical} (declaration version {decl.version}) cannot be written as DDEX ERN 4.3.2: "
            f"its signed declaration does not state\n{lines}",
            status=409,
        )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{canonical}-v{decl.version}.ern.xml"'
    return response


def _plain(text: str, *, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _badge_response(request: HttpRequest, state: str, subject: str | None) -> HttpResponse:
    body = badges.render_badge(state, subject)
    response = HttpResponse(body, content_type="image/svg+xml")
    # An SVG opened directly must not run anything; it has no scripts, and this says so.
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@require_safe
@cached(BADGE_MAX_AGE)
def recording_badge(request: HttpRequest, isrc: str) -> HttpResponse:
    try:
        canonical = identifiers.normalize_isrc(isrc)
    except IdentifierError as exc:
        return HttpResponse(f"Not an ISRC: {exc}\n", status=400, content_type="text/plain; charset=utf-8")
    answer = decl_selectors.recording_by_isrc(canonical)
    if answer is None:
        return _badge_response(request, "not_declared", identifiers.format_isrc(canonical))
    decl = answer.declaration
    track = track_in(decl.statement, canonical)
    level, title = (track["contains_ai"], track["title"]) if track else (None, canonical)
    return _badge_response(request, badges.badge_state(level, decl.status), title)


@require_safe
@cached(BADGE_MAX_AGE)
def release_badge(request: HttpRequest, upc: str) -> HttpResponse:
    try:
        canonical = identifiers.normalize_gtin(upc)
    except IdentifierError as exc:
        return HttpResponse(f"Not a UPC/EAN: {exc}\n", status=400, content_type="text/plain; charset=utf-8")
    decl = decl_selectors.release_by_upc(canonical)
    if decl is None:
        return _badge_response(request, "not_declared", canonical)
    return _badge_response(
        request, badges.badge_state(decl.contains_ai, decl.status), decl.statement["release"]["title"]
    )
