"""Dashboard, release creation (by hand or from a DDEX ERN file) and the release page with its history."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from provenance import vocabulary
from registry.catalog.access import memberships_of
from registry.catalog.models import Label, Membership, Release, Track
from registry.catalog.selectors import release_status, releases_of_label
from registry.catalog.services import RELEASE_MAX_TRACKS, release_create
from registry.declarations.models import DeclaredRecording
from registry.declarations.selectors import history
from registry.declarations.statements import diff_statements
from registry.errors import DomainError, ValidationFailed
from registry.labels import drafts, ern, imports, rows, services
from registry.labels.draft_store import store
from registry.labels.forms import (
    ImportForm,
    NewArtistFormSet,
    ReleaseForm,
    TrackFormSet,
    release_input,
)
from registry.labels.views.access import label_view, release_of
from registry.labels.views.declarations import live_draft
from registry.request_limits import accepts_files

PAGE_SIZE = 25
IMPORT_KEY = "labels:import"
_TRACK_FIELD = re.compile(r"^tracks\[(\d+)\]\.(\w+)")


def home(request: HttpRequest) -> HttpResponse:
    """``/label/``: the user's first label, or how to get one."""
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    memberships = memberships_of(request.user)
    if not memberships:
        return render(request, "labels/no_label.html")
    return redirect("labels:dashboard", label_id=memberships[0].label_id)


def _search(queryset: Any, q: str) -> Any:
    q = q.strip()
    if not q:
        return queryset
    compact = re.sub(r"[\s\-.]", "", q).upper()
    match = Q(title__icontains=q)
    if compact:
        match |= Q(upc__contains=compact)
        # A subquery, not a join: a release with several matching tracks is listed once.
        match |= Q(pk__in=Track.objects.filter(recording__isrc__contains=compact).values("release_id"))
    return queryset.filter(match)


@label_view()
def dashboard(request: HttpRequest, label: Label) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    releases = (
        _search(releases_of_label(label.pk), q).annotate(track_count=Count("tracks")).order_by("-created_at", "-id")
    )
    page = Paginator(releases, PAGE_SIZE).get_page(request.GET.get("page"))
    listed = [{"release": r, "status": release_status(r)} for r in page.object_list]
    return render(
        request,
        "labels/dashboard.html",
        {
            "label": label,
            "memberships": memberships_of(request.user),
            "is_owner": request.label_membership.role == Membership.OWNER,
            "page": page,
            "rows": listed,
            "q": q,
        },
    )


def map_domain_error(exc: DomainError, form: ReleaseForm, track_forms: list[Any]) -> None:
    """Put a service error on the field it is about; anything else on the form as a whole.

    ``track_forms[i]`` is the form of the service's ``tracks[i]`` (removed and empty rows are not sent).
    """
    placed = False
    for name, errors in exc.fields.items():
        m = _TRACK_FIELD.match(name)
        for error in errors:
            # The field's own message says it (the service's message would repeat it in other words).
            message = error
            if m and int(m.group(1)) < len(track_forms) and m.group(2) in track_forms[int(m.group(1))].fields:
                track_forms[int(m.group(1))].add_error(m.group(2), message)
                placed = True
            elif name in form.fields:
                form.add_error(name, message)
                placed = True
            elif name.startswith("artists"):
                form.add_error("existing_artists", message)
                placed = True
    if not placed:
        form.add_error(None, exc.message)


NO_ARTIST = "Add at least one artist: pick one here or add a new one below."


def _import_initial(data: dict[str, Any], label: Label) -> tuple[dict[str, Any], list[dict], list[dict]]:
    release_initial = {
        "upc": data.get("upc") or "",
        "title": data.get("title") or "",
        "release_date": data.get("release_date") or None,
        # None when the file does not state it: the radio stays unanswered for the label to choose.
        "artwork_ai": data.get("artwork"),
        "genre": data.get("genre") or "",
    }
    known = {(a.name, a.isni): a for a in label.artists.all()}
    existing, new = [], []
    for a in data.get("artists") or []:
        match = known.get((a["name"], a.get("isni")))
        if match:
            existing.append(match.pk)
        else:
            new.append({"name": a["name"], "isni": a.get("isni") or "", "persona": a.get("persona") or "human"})
    if data.get("ai_display_artist"):
        # A SpecialDisplayArtist GenerativeAI has no name in DDEX: an empty AI-persona row asks the label to name it.
        new.append({"name": "", "isni": "", "persona": vocabulary.SYNTHETIC})
    release_initial["existing_artists"] = existing
    tracks = [
        {
            "isrc": t.get("isrc") or "",
            "title": t.get("title") or "",
            "position": t.get("position"),
            "duration": services.format_duration(t.get("duration")),
        }
        for t in data.get("tracks") or []
    ]
    return release_initial, new, tracks


@accepts_files(max_bytes=services.AUDIO_HASH_MAX_BYTES)
@label_view()
@require_http_methods(["GET", "POST"])
def release_new(request: HttpRequest, label: Label) -> HttpResponse:
    imported = store(request, label).get(IMPORT_KEY) if request.GET.get("import") else None
    if request.method == "POST":
        data = request.POST.copy()  # mutable: the track form writes computed hashes back for re-render
        files = request.FILES.copy()
        done = rows.apply(data, files)
        if done is not None:  # a row button: the same form again, nothing saved
            form = ReleaseForm(data, label=label)
            artists = NewArtistFormSet(data, prefix="artists")
            tracks = TrackFormSet(data, files, prefix="tracks")
            rows.quiet(form, artists, tracks)
            return render(
                request,
                "labels/release_form.html",
                form_context(label, form, artists, tracks, hide_errors=True, row_status=done, imported=imported),
            )
        form = ReleaseForm(data, label=label)
        artists = NewArtistFormSet(data, prefix="artists")
        tracks = TrackFormSet(data, request.FILES, prefix="tracks")
        if form.is_valid() and artists.is_valid() and tracks.is_valid():
            chosen, new_artists, track_rows, track_forms = release_input(form, artists, tracks)
            if not chosen and not new_artists:
                form.add_error("existing_artists", NO_ARTIST)
            else:
                try:
                    release = release_create(
                        label=label,
                        upc=form.cleaned_data["upc"],
                        title=form.cleaned_data["title"],
                        genre=form.cleaned_data["genre"],
                        release_date=form.cleaned_data.get("release_date"),
                        artwork_ai=form.cleaned_data["artwork_ai"],
                        artists=[*chosen, *new_artists],
                        tracks=track_rows,
                    )
                except DomainError as exc:
                    map_domain_error(exc, form, track_forms)
                else:
                    if imported:
                        store(request, label).pop(IMPORT_KEY, None)
                        store(request, label)[f"labels:import-ai:{release.pk}"] = imports.file_answers(imported)
                    if "save_no_ai" in data and not imported:
                        # The shortcut skips the declare page, not the review: the label checks and signs there.
                        store(request, label)[drafts.session_key(release)] = drafts.no_ai_draft(release)
                        messages.success(
                            request,
                            f"“{release.title}” is in your catalog, answered “No AI” for every part of "
                            f"{_count(len(track_rows), 'track')}. Check what will be signed, then confirm.",
                        )
                        return redirect("labels:review", label_id=label.pk, upc=release.upc)
                    messages.success(request, f"“{release.title}” is in your catalog. Now declare its AI involvement.")
                    return redirect("labels:declare", label_id=label.pk, upc=release.upc)
        return render(  # refused: the form with its errors, as every form page answers a refusal
            request,
            "labels/release_form.html",
            form_context(label, form, artists, tracks, imported=imported),
            status=400,
        )
    if imported:
        release_initial, new_initial, track_initial = _import_initial(imported, label)
    else:
        # One row: a single is as quick as a form can be; "Add a track" adds rows (up to a box set).
        n = max(1, min(_int(request.GET.get("tracks"), 1), RELEASE_MAX_TRACKS))
        release_initial, new_initial = {}, [{}]
        track_initial = [{"position": i + 1} for i in range(n)]
    form = ReleaseForm(initial=release_initial, label=label)
    artists = NewArtistFormSet(prefix="artists", initial=new_initial or [{}])
    tracks = TrackFormSet(prefix="tracks", initial=track_initial)
    return render(request, "labels/release_form.html", form_context(label, form, artists, tracks, imported=imported))


def _count(n: int, noun: str) -> str:
    """``1 track``, ``2 tracks``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def form_context(label: Label, form: Any, artists: Any, tracks: Any, **extra: Any) -> dict[str, Any]:
    return {"label": label, "form": form, "artists": artists, "tracks": tracks, **extra}


@accepts_files(max_bytes=ern.MAX_BYTES)
@label_view()
@require_http_methods(["GET", "POST"])
def release_import(request: HttpRequest, label: Label) -> HttpResponse:
    # Bound on every POST, even an empty one, so a missing file is reported, not ignored.
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > ern.MAX_BYTES:
                raise ValidationFailed("too large", fields={"file": [f"The file is over {ern.MAX_BYTES // 2**20} MB."]})
            parsed = ern.parse_ern(upload.read())
        except DomainError as exc:
            for error in exc.fields.get("file") or [exc.message]:
                form.add_error("file", error)
        else:
            parsed["release_date"] = parsed["release_date"].isoformat() if parsed["release_date"] else None
            parsed["sender_warning"] = ern.sender_warning(parsed["sender"], dpid=label.dpid, name=label.name)
            declared = _already_in_catalog(label, parsed["upc"])
            if declared is not None:
                return _import_known_release(request, label, declared, parsed)
            store(request, label)[IMPORT_KEY] = parsed
            messages.info(
                request,
                f"Read ERN {parsed['ern_version']}: “{parsed['title']}” with {_count(len(parsed['tracks']), 'track')}. "
                "Check the details, then save.",
            )
            return redirect(f"{request.path.rsplit('/import/', 1)[0]}/new/?import=1")
    return render(request, "labels/import.html", {"label": label, "form": form}, status=400 if form.errors else 200)


def _already_in_catalog(label: Label, upc: str | None) -> Release | None:
    """The label's release with this GTIN (a GTIN-14 with a leading 0 is the same number as its 12/13-digit form)."""
    if not upc:
        return None
    digits = upc.lstrip("0")
    forms = {digits.zfill(n) for n in (12, 13, 14) if len(digits) <= n}
    return Release.objects.filter(label=label, upc__in=forms).select_related("current_declaration").first()


def _import_known_release(request: HttpRequest, label: Label, release: Release, parsed: dict[str, Any]) -> HttpResponse:
    """A message for a release already in the catalog: an amendment draft if it is declared, else its AI answers."""
    if release.current_declaration_id is not None:
        draft = imports.redelivery_draft(release=release, parsed=parsed)
        store(request, label)[drafts.session_key(release)] = draft
        messages.info(
            request,
            f"“{release.title}” is already declared: the file is read as a new version of it. "
            "Check what changes and answer what the file does not state, then review.",
        )
    else:
        store(request, label)[f"labels:import-ai:{release.pk}"] = imports.file_answers(parsed)
        messages.info(
            request,
            f"“{release.title}” is already in your catalog (not declared yet): its catalog details were not "
            "changed. The AI answers the file states are filled in below.",
        )
    return redirect("labels:declare", label_id=label.pk, upc=release.upc)


@label_view()
def release_detail(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    versions = history(release.pk)
    entries = []
    previous = None
    for decl in versions:
        entries.append({"declaration": decl, "changes": diff_statements(previous, decl.statement)})
        previous = decl.statement
    entries.reverse()
    tracks = list(release.tracks.select_related("recording").order_by("position"))
    conflicts = _disagreements(release, tracks)
    draft = live_draft(request, release)
    return render(
        request,
        "labels/release_detail.html",
        {
            "label": label,
            "release": release,
            "status": release_status(release),
            "current": release.current_declaration,
            "entries": entries,
            "tracks": tracks,
            "artists": list(release.artists.order_by("releaseartist__position")),
            "conflicts": conflicts,
            "pending_edit": bool(draft and draft.get("catalog")),
        },
    )


def _disagreements(release: Any, tracks: list[Track]) -> list[str]:
    """docs/protocol.md §12: warn when another active declaration says something else about a recording."""
    current = release.current_declaration
    if current is None or current.status != "active":
        return []
    mine = {r.isrc: r.contains_ai for r in current.recordings.all()}
    others = (
        DeclaredRecording.objects.filter(
            isrc__in=list(mine),
            declaration__status="active",
            declaration__release__current_declaration=F("declaration_id"),
        )
        .exclude(declaration__release=release)
        .values_list("isrc", "contains_ai", "declaration__release__upc")
    )
    return [
        f"{isrc} is declared “{level}” on release {upc} but “{mine[isrc]}” here."
        for isrc, level, upc in others
        if mine.get(isrc) != level
    ]
