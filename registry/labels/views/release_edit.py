"""Editing a release's catalog details with the same forms as creating one.

Not declared yet: saving updates the catalog. Declared: the signed facts only
change with a new signed version, so the edit is kept in the session draft and
applied together with the amendment when the label confirms (see
:mod:`registry.labels.drafts`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from provenance import identifiers
from registry.catalog import services as catalog_services
from registry.catalog.models import Label, Release
from registry.errors import DomainError
from registry.labels import drafts, rows, services
from registry.labels.draft_store import store
from registry.labels.forms import EditTrackFormSet, NewArtistFormSet, ReleaseEditForm, release_input
from registry.labels.views.access import label_view, release_of
from registry.labels.views.declarations import live_draft
from registry.labels.views.releases import NO_ARTIST, form_context, map_domain_error
from registry.request_limits import accepts_files


def _initial(catalog: drafts.CatalogEdit) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    release_initial = {
        "title": catalog["title"],
        "genre": catalog.get("genre") or "",
        "release_date": catalog["release_date"],
        "artwork_ai": catalog["artwork_ai"],
        "existing_artists": [a["id"] for a in catalog["artists"] if "id" in a],
    }
    new_artists = [
        {"name": a["name"], "isni": a.get("isni") or "", "persona": a["persona"]}
        for a in catalog["artists"]
        if "id" not in a
    ]
    tracks = [
        {
            "isrc": identifiers.format_isrc(t["isrc"]),
            "title": t["title"],
            "position": t["position"],
            "duration": services.format_duration(t.get("duration")),
            "audio_sha256": t.get("audio_sha256") or "",
        }
        for t in sorted(catalog["tracks"], key=lambda t: t["position"])
    ]
    return release_initial, new_artists or [{}], tracks


def _render(
    request: HttpRequest, label: Label, release: Release, form: Any, artists: Any, tracks: Any, **extra: Any
) -> HttpResponse:
    context = form_context(label, form, artists, tracks, release=release, current=release.current_declaration)
    return render(request, "labels/release_form.html", {**context, **extra})


@accepts_files(max_bytes=services.AUDIO_HASH_MAX_BYTES)
@label_view()
@require_http_methods(["GET", "POST"])
def release_edit(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    key = drafts.session_key(release)
    draft = live_draft(request, release)
    pending = draft.get("catalog") if draft else None
    if request.method == "POST" and "discard" in request.POST:
        if pending:
            store(request, label).pop(key, None)
            messages.info(request, "Your catalog changes are discarded. Nothing was changed.")
        return redirect("labels:release", label_id=label.pk, upc=release.upc)
    base = pending or drafts.catalog_snapshot(release)
    if request.method == "GET":
        release_initial, artist_initial, track_initial = _initial(base)
        form = ReleaseEditForm(initial=release_initial, label=label)
        artists = NewArtistFormSet(prefix="artists", initial=artist_initial)
        tracks = EditTrackFormSet(prefix="tracks", initial=track_initial)
        return _render(request, label, release, form, artists, tracks, pending=bool(pending))

    data = request.POST.copy()  # mutable: the track form writes computed hashes back for re-render
    files = request.FILES.copy()
    done = rows.apply(data, files)
    if done is not None:  # a row button: the same form again, nothing saved
        form = ReleaseEditForm(data, label=label)
        artists = NewArtistFormSet(data, prefix="artists")
        tracks = EditTrackFormSet(data, files, prefix="tracks")
        rows.quiet(form, artists, tracks)
        return _render(
            request, label, release, form, artists, tracks, pending=bool(pending), hide_errors=True, row_status=done
        )
    form = ReleaseEditForm(data, label=label)
    artists = NewArtistFormSet(data, prefix="artists")
    tracks = EditTrackFormSet(data, request.FILES, prefix="tracks")
    if form.is_valid() and artists.is_valid() and tracks.is_valid():
        chosen, new_artists, track_rows, track_forms = release_input(form, artists, tracks)
        # The checkboxes list artists by name; keep the release's own order for those it had.
        order = {a["id"]: i for i, a in enumerate(base["artists"]) if "id" in a}
        chosen.sort(key=lambda a: (order.get(a.pk, len(order)), a.name))
        if not chosen and not new_artists:
            form.add_error("existing_artists", NO_ARTIST)
        else:
            catalog = drafts.catalog_edit(
                title=form.cleaned_data["title"],
                genre=form.cleaned_data["genre"],
                release_date=form.cleaned_data.get("release_date"),
                artwork_ai=form.cleaned_data["artwork_ai"],
                artists=[*chosen, *new_artists],
                tracks=track_rows,
            )
            try:
                if release.current_declaration_id is None:
                    drafts.release_edit(release=release, catalog=catalog)
                else:
                    drafts.catalog_check(release=release, catalog=catalog)
            except drafts.StaleDraft as exc:
                messages.error(request, f"Nothing was saved: {exc.message}.")
                return redirect("labels:release_edit", label_id=label.pk, upc=release.upc)
            except DomainError as exc:
                map_domain_error(exc, form, track_forms)
            else:
                return _after_valid_edit(request, label, release, draft, catalog)
    return _render(request, label, release, form, artists, tracks, pending=bool(pending))


def _after_valid_edit(
    request: HttpRequest, label: Label, release: Release, draft: dict[str, Any] | None, catalog: dict[str, Any]
) -> HttpResponse:
    key = drafts.session_key(release)
    if release.current_declaration_id is None:
        messages.success(request, f"“{catalog['title']}” is saved.")
        return redirect("labels:release", label_id=label.pk, upc=release.upc)
    if drafts.catalog_unchanged(release, catalog):
        if draft and draft.pop("catalog", None) is not None:
            if "ai" in draft:
                store(request, label)[key] = draft
            else:
                store(request, label).pop(key, None)
        messages.info(request, "The catalog details are as signed already: nothing to change.")
        return redirect("labels:release", label_id=label.pk, upc=release.upc)
    new = dict(draft or {})
    new.update(expected_version=drafts.version_of(release), catalog=catalog)
    if "ai" in new:
        new["artwork"] = catalog["artwork_ai"]
    store(request, label)[key] = new
    messages.info(
        request,
        "Your changes are not saved yet. The catalog details of a declared release change with a new signed "
        "version: check the AI facts (new tracks need answers), say why, review and sign.",
    )
    return redirect("labels:declare", label_id=label.pk, upc=release.upc)


@label_view()
@require_http_methods(["GET", "POST"])
def release_delete(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    """Delete a release that was never signed: GET asks, POST deletes. A declared one is withdrawn instead."""
    release = release_of(label, upc)
    if request.method == "POST":
        try:
            catalog_services.release_delete(release=release)
        except DomainError as exc:
            messages.error(request, f"Nothing was deleted: {exc.message}.")
            return redirect("labels:release", label_id=label.pk, upc=release.upc)
        store(request, label).pop(drafts.session_key(release), None)
        messages.success(request, f"The draft “{release.title}” is deleted.")
        return redirect("labels:dashboard", label_id=label.pk)
    return render(request, "labels/release_delete.html", {"label": label, "release": release})
