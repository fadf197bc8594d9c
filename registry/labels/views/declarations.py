"""Declare, review and sign; amend; withdraw. The draft lives in the session until it is signed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from provenance import vocabulary
from provenance.cli import describe_statement
from registry.catalog.models import Label, Release
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_withdraw, previous_ai
from registry.errors import Conflict, DomainError
from registry.labels import services
from registry.labels.forms import DeclareForm, ReasonForm, apply_shortcut, declare_initial
from registry.labels.views.access import label_view, release_of

SHORTCUT_MESSAGES = {
    "no_ai": "Every part of every track and the artwork are set to “No AI”. Check them, then review.",
    "same_for_all": "Track 1's answers are copied to every track. Change any track that differs, then review.",
}


def _draft_key(release: Release) -> str:
    return f"labels:draft:{release.pk}"


def _tracks(release: Release) -> list[Any]:
    return list(release.tracks.select_related("recording").order_by("position"))


@label_view()
@require_http_methods(["GET", "POST"])
def declare(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    tracks = _tracks(release)
    current = release.current_declaration
    amend = current is not None
    notice = None
    if request.method == "POST" and request.POST.get("shortcut") in SHORTCUT_MESSAGES:
        shortcut = request.POST["shortcut"]
        form = DeclareForm(initial=apply_shortcut(request.POST, shortcut, len(tracks)), tracks=tracks, amend=amend)
        notice = SHORTCUT_MESSAGES[shortcut]
    elif request.method == "POST":
        form = DeclareForm(request.POST, tracks=tracks, amend=amend)
        if form.is_valid():
            request.session[_draft_key(release)] = form.to_draft(expected_version=current.version if current else 0)
            return redirect("labels:review", label_id=label.pk, upc=release.upc)
    else:
        draft = request.session.get(_draft_key(release))
        imported = request.session.get(f"labels:import-ai:{release.pk}")
        if draft and draft.get("expected_version") == (current.version if current else 0):
            initial = declare_initial(tracks, draft["ai"], draft["artwork"], draft.get("reason") or "")
        elif current is not None:
            initial = declare_initial(tracks, previous_ai(current), release.artwork_ai)
        elif imported:
            initial = declare_initial(tracks, imported["ai"], imported.get("artwork") or release.artwork_ai)
        else:
            initial = {"artwork": release.artwork_ai}
        form = DeclareForm(initial=initial, tracks=tracks, amend=amend)
    return render(
        request,
        "labels/declare.html",
        {
            "label": label,
            "release": release,
            "current": current,
            "form": form,
            "rows": form.rows(),
            "levels": [(lv, vocabulary.LEVEL_LABELS[lv]) for lv in vocabulary.LEVELS],
            "notice": notice,
        },
    )


@label_view()
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, label: Label, upc: str) -> HttpResponse:
    release = release_of(label, upc)
    draft = request.session.get(_draft_key(release))
    if not draft:
        messages.info(request, "Fill in the declaration first.")
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    error = None
    if request.method == "POST" and "edit" in request.POST:
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    if request.method == "POST":
        try:
            decl = services.declaration_sign_draft(release=release, draft=draft, actor=request.user)
        except Conflict as exc:
            # Someone signed meanwhile: the draft was made against an older version, start again from the new one.
            request.session.pop(_draft_key(release), None)
            messages.error(request, f"Nothing was signed: {exc.message}.")
            return redirect("labels:declare", label_id=label.pk, upc=release.upc)
        except DomainError as exc:
            error = exc.message
        else:
            request.session.pop(_draft_key(release), None)
            request.session.pop(f"labels:import-ai:{release.pk}", None)
            return redirect("labels:signed", label_id=label.pk, upc=release.upc, version=decl.version)
    try:
        preview = services.preview_statement(release, draft)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("labels:declare", label_id=label.pk, upc=release.upc)
    return render(
        request,
        "labels/review.html",
        {
            "label": label,
            "release": release,
            "draft": draft,
            "preview": preview,
            "text": describe_statement(preview),
            "error": error,
            "parts": [(p, vocabulary.PART_LABELS[p]) for p in vocabulary.PARTS],
        },
        status=409 if error else 200,
    )


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
    if request.method == "POST" and form.is_valid():
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
        request, "labels/withdraw.html", {"label": label, "release": release, "current": current, "form": form}
    )
