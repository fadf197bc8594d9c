"""Co-sign an amendment with the label's own key on the web (docs/protocol.md §14.2): prepared here, signed locally.

The review page's "Co-sign with our label key" prepares the statement
(``drafts.declaration_prepare_draft``); this page shows it with the exact command
that signs it, and takes the signature back into ``declaration_submit``, the
service the API's submit calls. The private key never reaches the registry. Owners
only: a co-signature speaks for the label.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from provenance.describe import describe_statement
from registry.catalog.models import Label, Release
from registry.errors import Conflict, DomainError
from registry.labelkeys.models import LabelKey, PreparedDeclaration
from registry.labelkeys.services import prepared_answer
from registry.labels import drafts
from registry.labels.draft_store import store
from registry.labels.forms import CoSignForm
from registry.labels.views.access import label_view, release_of

PREPARED_FILENAME = "prepared.json"
SIGN_COMMAND = f"provenance sign --key LABEL_KEY {PREPARED_FILENAME}"


def _prepared_of(label: Label, release: Release, prepared_id: int) -> PreparedDeclaration:
    prepared = PreparedDeclaration.objects.filter(pk=prepared_id, label=label, release=release).first()
    if prepared is None:
        raise Http404("no such prepared statement")
    return prepared


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def cosign(request: HttpRequest, label: Label, upc: str, prepared_id: int) -> HttpResponse:
    release = release_of(label, upc)
    prepared = _prepared_of(label, release, prepared_id)
    if prepared.used:
        messages.info(request, "This prepared statement was signed already.")
        return redirect("labels:release", label_id=label.pk, upc=release.upc)
    form = CoSignForm(request.POST or None)
    prepare_again, status = False, 200
    if request.method == "POST" and form.is_valid():
        try:
            decl = drafts.declaration_submit_draft(
                prepared=prepared, signature=form.cleaned_data["parsed"], actor=request.user
            )
        except DomainError as exc:
            # A bad, foreign, revoked or expired signature is the signature field's error; a version or key
            # event that landed since prepare is the page's (prepare again).
            stale = isinstance(exc, Conflict)
            form.add_error(None if stale else "signature", f"Nothing was signed: {exc.message}.")
            prepare_again, status = stale or "prepared" in exc.fields, exc.status
        else:
            store(request, release.label_id).pop(drafts.session_key(release), None)
            store(request, release.label_id).pop(f"labels:import-ai:{release.pk}", None)
            return redirect("labels:signed", label_id=label.pk, upc=release.upc, version=decl.version)
    elif request.method == "POST":
        status = 400
    answer = prepared_answer(prepared)
    return render(
        request,
        "labels/cosign.html",
        {
            "label": label,
            "release": release,
            "prepared": prepared,
            "answer": answer,
            "expired": prepared.expires_at <= timezone.now(),
            "statement": prepared.statement,
            "text": describe_statement(prepared.statement),
            "command": SIGN_COMMAND,
            "filename": PREPARED_FILENAME,
            "keys": LabelKey.objects.filter(label=label, status=LabelKey.ACTIVE).order_by("registered_id"),
            "form": form,
            "prepare_again": prepare_again,
        },
        status=status,
    )


@label_view(owner=True)
@require_safe
def cosign_prepared(request: HttpRequest, label: Label, upc: str, prepared_id: int) -> HttpResponse:
    """The prepare answer as a file (the members ``POST …/prepare`` answers), for ``provenance sign``."""
    release = release_of(label, upc)
    prepared = _prepared_of(label, release, prepared_id)
    response = JsonResponse(prepared_answer(prepared), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{PREPARED_FILENAME}"'
    response["Cache-Control"] = "private, no-store"
    return response
