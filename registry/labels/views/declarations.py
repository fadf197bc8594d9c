"""Declare, review and sign; amend; withdraw. The draft lives in the server-side draft store until it is signed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from provenance import vocabulary
from provenance.describe import describe_statement
from registry.catalog.models import Label, Membership, Release
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_withdraw, previous_ai, unchanged
from registry.declarations.signing import CosignRequired, cosign_only
from registry.declarations.statements import diff_statements, persona_warnings
from registry.errors import DomainError
from registry.labelkeys.models import LabelKey
from registry.labels import drafts, imports
from registry.labels.draft_store import store
from registry.labels.forms import DeclareForm, ReasonForm, apply_shortcut, declare_initial, field_name
from registry.labels.views.access import label_view, release_of
from registry.ownership.selectors import would_take_over

SHORTCUT_MESSAGES = {
    "no_ai": "Every part of every track and the artwork are set to “No AI”. Check them, then review.",
    "same_for_all": "Track 1's answers are copied to every track. Change any track that differs, then review.",
}


def live_draft(request: HttpRequest, release: Release) -> dict[str, Any] | None:
    """The member's draft for ``release`` if it was made against its current version; a stale one is dropped."""
    draft = store(request, release.label_id).get(drafts.session_key(release))
    if not draft:
        return None
    if draft.get("expected_version", 0) != drafts.version_of(release):
        store(request, release.label_id).pop(drafts.session_key(release), None)
        if draft.get("catalog"):
            messages.warning(
                request,
                "Your unsigned catalog changes were dropped: someone signed a new version meanwhile. "
                "Nothing was changed; edit the details again if they are still needed.",
            )
        return None
    return draft


def _tracks(release: Release) -> list[Any]:
    return list(release.tracks.select_related("recording").order_by("position"))


@label_view()
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    current = release.current_declaration
    amend = current is not None
    draft = live_draft(request, release)
    catalog = draft.get("catalog") if draft else None
    # With a pending catalog edit, the matrix lists the tracks the release will have once signed.
    tracks = drafts.pending_tracks(catalog) if catalog else _tracks(release)
    # What a DDEX file stated: carried in the draft once there is one, else kept under the import key.
    imported = (draft or {}).get("imported") or store(request, release.label_id).get(f"labels:import-ai:{release.pk}")
    notice = None
    if request.method == "POST" and request.POST.get("shortcut") in SHORTCUT_MESSAGES:
        shortcut = request.POST["shortcut"]
        form = DeclareForm(initial=apply_shortcut(request.POST, shortcut, len(tracks)), tracks=tracks, amend=amend)
        notice = SHORTCUT_MESSAGES[shortcut]
    elif request.method == "POST":
        form = DeclareForm(request.POST, tracks=tracks, amend=amend)
        if form.is_valid():
            new = form.to_draft(expected_version=drafts.version_of(release))
            if catalog:
                new["catalog"] = catalog
            if imported:
                new["imported"] = imported
                new["import_changes"] = (draft or {}).get("import_changes") or []
            previous = (
                {"artwork": current.statement["release"]["artwork"], "ai": previous_ai(current)} if current else None
            )
            new["sources"] = imports.answer_sources(new, imported, previous)
            store(request, release.label_id)[drafts.session_key(release)] = new
            return redirect("labels:review", label_id=label.pk, upc=release.upc)
    else:
        if draft and "ai" in draft:
            initial = declare_initial(tracks, draft["ai"], draft["artwork"], draft.get("reason") or "")
        elif current is not None:
            # New tracks of a pending edit have no previous facts: they start unanswered.
            artwork = catalog["artwork_ai"] if catalog else release.artwork_ai
            initial = declare_initial(tracks, previous_ai(current), artwork)
        elif imported:
            # A part the file does not state stays unanswered; an unstated artwork is what the label chose on
            # the release form.
            initial = declare_initial(tracks, imported["ai"], imported.get("artwork") or release.artwork_ai)
        else:
            initial = {"artwork": release.artwork_ai}
        form = DeclareForm(initial=initial, tracks=tracks, amend=amend)
    rows = form.rows()
    unstated = imports.not_stated(imported)
    for row in rows:
        parts = unstated.get(row["track"].recording.isrc, [])
        row["not_stated"] = [field_name(row["index"], p) for p in parts]
        row["not_stated_labels"] = [vocabulary.PART_LABELS[p] for p in parts]
    return render(
        request,
        "labels/declare.html",
        {
            "label": label,
            "release": release,
            "current": current,
            "catalog": catalog,
            "form": form,
            "rows": rows,
            "imported": imported,
            "import_changes": (draft or {}).get("import_changes") or [],
            "levels": [(lv, vocabulary.LEVEL_LABELS[lv]) for lv in vocabulary.LEVELS],
            "notice": notice,
        },
        status=400 if form.errors else 200,  # a refused declaration, as every other form page answers it
    )


@label_view()
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    draft = store(request, release.label_id).get(drafts.session_key(release))
    if not draft or "ai" not in draft:
        messages.info(request, "Fill in the declaration first.")
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    error: str | None = None
    error_status: int | None = None
    if request.method == "POST" and "edit" in request.POST:
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    if request.method == "POST" and imports.unanswered(draft):
        return redirect("labels:review", label_id=label.pk, upc=release.upc)
    acknowledge_error = None
    cosign = request.method == "POST" and "cosign" in request.POST
    if cosign and not _is_owner(request):
        raise DjangoPermissionDenied("only an owner co-signs with the label's key")
    if request.method == "POST" and not request.POST.get("acknowledge") and _warnings(release, draft):
        acknowledge_error = "Nothing was signed: confirm the AI persona's answers below, or go back and change them."
    elif request.method == "POST":
        try:
            if cosign:
                # The label signs with its own key: fix the statement now, sign it on the next page.
                prepared = drafts.declaration_prepare_draft(release=release, draft=draft)
                return redirect("labels:cosign", label_id=label.pk, upc=release.upc, prepared_id=prepared.pk)
            decl = drafts.declaration_sign_draft(release=release, draft=draft, actor=request.user)
        except drafts.StaleDraft as exc:
            # Someone signed meanwhile: the draft was made against an older version, start again from the new one.
            store(request, release.label_id).pop(drafts.session_key(release), None)
            messages.error(request, f"Nothing was signed: {exc.message}.")
            return redirect("labels:declare", label_id=label.pk, upc=release.upc)
        except DomainError as exc:
            error = f"Nothing was signed: {exc.message}."
            # e.g. 400: the label has no active key; 403: the label's co-sign-only policy
            error_status = exc.status if cosign or isinstance(exc, CosignRequired) else None
            if draft.get("catalog"):
                # E.g. an ISRC of the pending edit was registered by another label meanwhile: the edit
                # (kept in the draft) is what needs fixing.
                messages.error(request, error)
                return redirect("labels:release_edit", label_id=label.pk, upc=release.upc)
        else:
            store(request, release.label_id).pop(drafts.session_key(release), None)
            store(request, release.label_id).pop(f"labels:import-ai:{release.pk}", None)
            return redirect("labels:signed", label_id=label.pk, upc=release.upc, version=decl.version)
    elif draft.get("expected_version", 0) != drafts.version_of(release):
        live_draft(request, release)  # drops it, with a message when catalog changes are lost
        messages.info(request, "A newer version was signed meanwhile; here are its answers.")
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    missing = imports.unanswered(draft)
    if missing:
        # E.g. a re-delivery's draft: parts the file does not state on a new track are the label's to answer.
        messages.error(request, f"Answer every part before review. Not answered yet: {'; '.join(missing)}.")
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    try:
        preview = drafts.preview_statement(release, draft)
    except DomainError as exc:
        messages.error(request, exc.message)
        target = "labels:release_edit" if draft.get("catalog") else "labels:declare"
        return redirect(target, label_id=label.pk, upc=release.upc)
    current = release.current_declaration
    sources = [src for track in (draft.get("sources") or {}).get("tracks", {}).values() for src in track.values()]
    same = current is not None and unchanged(current.statement, preview)
    status = 200
    if error:
        status = error_status or (400 if same else 409)
    elif acknowledge_error:
        status = 400
    return render(
        request,
        "labels/review.html",
        {
            "label": label,
            "release": release,
            "draft": draft,
            "current": current,
            "changes": diff_statements(current.statement, preview) if current and not same else None,
            "unchanged": same,
            "preview": preview,
            "artists": [
                {**a, "persona_label": vocabulary.PERSONA_LABELS.get(a["persona"], a["persona"])}
                for a in preview["artists"]
            ],
            "warnings": persona_warnings(preview),
            "takeovers": would_take_over(label.pk, preview) if not error else [],
            "acknowledge_error": acknowledge_error,
            "text": describe_statement(preview),
            "error": error,
            "parts": [(p, vocabulary.PART_LABELS[p]) for p in vocabulary.PARTS],
            "imported": draft.get("imported"),
            "from_file": sources.count(imports.FILE),
            "answered_here": sources.count(imports.LABEL),
            "is_owner": _is_owner(request),
            "label_keys": LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).count(),
            "cosign_only": bool(cosign_only([label.pk])),
        },
        status=status,
    )


def _is_owner(request: HttpRequest) -> bool:
    membership = getattr(request, "label_membership", None)
    return membership is not None and membership.role == Membership.OWNER


def _warnings(release: Release, draft: dict[str, Any]) -> list[str]:
    """What the label must confirm before signing ``draft`` (an error building it is the signing's to report)."""
    try:
        return persona_warnings(drafts.preview_statement(release, draft))
    except DomainError:
        return []


@label_view()
def signed(request: HttpRequest, label: Label, upc: str, version: int) -> HttpResponse:
    release = release_of(label, upc)
    decl = Declaration.objects.filter(release=release, version=version).first()
    if decl is None:
        raise Http404("no such version")
    return render(request, "labels/signed.html", {"label": label, "release": release, "declaration": decl})


@label_view()
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    current = release.current_declaration
    if current is None or current.status == Declaration.WITHDRAWN:
        messages.info(request, "There is no active declaration to withdraw.")
        return redirect("labels:release", label_id=label.pk, upc=release.upc)
    form = ReasonForm(request.POST or None)
    cosign = request.method == "POST" and "cosign" in request.POST
    if cosign and not _is_owner(request):
        raise DjangoPermissionDenied("only an owner co-signs with the label's key")
    if cosign and form.is_valid():
        try:
            prepared = drafts.withdrawal_prepare(
                release=release,
                reason=form.cleaned_data["reason"],
                expected_version=int(request.POST.get("expected_version") or current.version),
            )
        except (DomainError, ValueError) as exc:
            form.add_error(None, f"Nothing was prepared: {getattr(exc, 'message', str(exc))}.")
        else:
            return redirect("labels:cosign", label_id=label.pk, upc=release.upc, prepared_id=prepared.pk)
    elif request.method == "POST" and form.is_valid():
        try:
            decl = declaration_withdraw(
                release=release,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                via="web",
                expected_version=int(request.POST.get("expected_version") or current.version),
            )
        except (DomainError, ValueError) as exc:
            form.add_error(None, getattr(exc, "message", str(exc)))
        else:
            return redirect("labels:signed", label_id=label.pk, upc=release.upc, version=decl.version)
    return render(
        request,
        "labels/withdraw.html",
        {
            "label": label,
            "release": release,
            "current": current,
            "form": form,
            "is_owner": _is_owner(request),
            "label_keys": LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).count(),
            "cosign_only": bool(cosign_only([label.pk])),
        },
        status=400 if form.errors else 200,  # a refused withdrawal, as every other form page answers it
    )
