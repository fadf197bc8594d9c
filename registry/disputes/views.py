"""Dispute pages: open one from a public release page, read and withdraw it (opener), answer it (the label).

Views parse, call ``registry.disputes.services``, render. The words of a dispute are
shown only to its opener, the disputed label's members and staff (``selectors.may_read``);
anyone else gets a 404, as for a label's private pages.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.catalog.models import Label
from registry.declarations import selectors as decl_selectors
from registry.disputes import selectors, services
from registry.disputes.forms import AnswerForm, OpenForm
from registry.disputes.models import Dispute
from registry.errors import DomainError
from registry.labels.views.access import label_view


def _form_errors(form: OpenForm | AnswerForm, exc: DomainError) -> None:
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


def _dispute(uid: str) -> Dispute:
    try:
        return Dispute.objects.select_related("release", "label", "declaration").get(uid=uuid.UUID(uid))
    except (ValueError, Dispute.DoesNotExist):
        raise Http404("no such dispute") from None


@login_required
@require_http_methods(["GET", "POST"])
def dispute_new(request: HttpRequest, upc: str) -> HttpResponse:
    try:
        upc = identifiers.normalize_gtin(upc)
    except IdentifierError:
        raise Http404("no such release") from None
    decl = decl_selectors.release_by_upc(upc)
    if decl is None:
        raise Http404("no declaration of this release")
    st = decl.statement
    tracks = [(t["isrc"], f"{t['position']}. {t['title']} ({t['isrc']})") for t in st["tracks"]]
    initial = {"isrc": request.GET.get("isrc", "")}
    form = OpenForm(request.POST or None, tracks=tracks, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dispute = services.dispute_open(declaration=decl, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                "Your dispute is open, signed and logged. The label has been told; registry staff will review it.",
            )
            return redirect("disputes:detail", uid=str(dispute.uid))
    status = 400 if request.method == "POST" else 200
    return render(request, "disputes/new.html", {"decl": decl, "st": st, "form": form}, status=status)


@login_required
def dispute_detail(request: HttpRequest, uid: str) -> HttpResponse:
    dispute = _dispute(uid)
    if not selectors.may_read(request.user, dispute):
        raise Http404("no such dispute")
    steps = list(dispute.steps.order_by("sequence"))
    return render(request, "disputes/detail.html", {"dispute": dispute, "steps": steps})


@login_required
@require_POST
def dispute_withdraw(request: HttpRequest, uid: str) -> HttpResponse:
    dispute = _dispute(uid)
    if not selectors.may_read(request.user, dispute):
        raise Http404("no such dispute")
    try:
        services.dispute_resolve(dispute=dispute, actor=request.user, outcome="withdrawn")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Your dispute is withdrawn (signed and logged).")
    return redirect("disputes:detail", uid=uid)


@label_view()
def label_disputes(request: HttpRequest, label: Label) -> HttpResponse:
    disputes = selectors.of_label(label.pk)
    return render(request, "disputes/label.html", {"label": label, "disputes": disputes, "form": AnswerForm()})


@label_view()
@require_POST
def label_dispute_answer(request: HttpRequest, label: Label, uid: str) -> HttpResponse:
    dispute = _dispute(uid)
    if dispute.label_id != label.pk:
        raise Http404("no such dispute")
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.dispute_answer(dispute=dispute, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            if form.cleaned_data["outcome"] == "amend":
                messages.success(request, "Answer logged. Now amend the declaration: a new version, signed as always.")
                return redirect("labels:declare", label.pk, dispute.release.upc)
            messages.success(request, "Your answer is signed and logged; the opener and registry staff were told.")
            return redirect("labels:disputes", label.pk)
    disputes = selectors.of_label(label.pk)
    context = {"label": label, "disputes": disputes, "form": form, "failed": dispute.pk}
    return render(request, "disputes/label.html", context, status=400)
