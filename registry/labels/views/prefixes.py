"""Owner-only page of a label's identifier prefixes: claim, see status, delegate, contest others' declarations."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from registry.catalog.models import Label
from registry.errors import DomainError
from registry.labels.views.access import label_view
from registry.ownership import selectors, services
from registry.ownership.forms import ContestForm, DelegateForm, PrefixClaimForm
from registry.ownership.models import ContestRequest, PrefixClaim, PrefixDelegation


def _page(request: HttpRequest, label: Label, form: PrefixClaimForm, status: int = 200) -> HttpResponse:
    claims = list(PrefixClaim.objects.filter(label=label).prefetch_related("delegations__label"))
    delegated = list(
        PrefixDelegation.objects.filter(label=label, revoked_at__isnull=True, claim__status=PrefixClaim.VERIFIED)
        .select_related("claim__label")
        .order_by("claim__kind", "claim__prefix")
    )
    open_contests = set(
        ContestRequest.objects.filter(label=label, status=ContestRequest.OPEN).values_list("kind", "identifier")
    )
    intrusions = selectors.intrusions(label.pk)
    contested = [i for i in intrusions if (i.kind, i.identifier) in open_contests]
    context = {
        "label": label,
        "form": form,
        "claims": claims,
        "delegated": delegated,
        "intrusions": intrusions,
        "contested": contested,
        "delegate_form": DelegateForm(),
    }
    return render(request, "ownership/prefixes.html", context, status=status)


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def prefixes(request: HttpRequest, label: Label) -> HttpResponse:
    form = PrefixClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.prefix_claim_create(label=label, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Your claim on {claim.display} is waiting for registry staff. It changes nothing until they "
                "verify it; you will get an email when they decide.",
            )
            return redirect("labels:prefixes", label_id=label.pk)
    return _page(request, label, form, status=400 if form.errors else 200)


@label_view(owner=True)
@require_POST
def prefix_delegate(request: HttpRequest, label: Label, claim_id: int) -> HttpResponse:
    form = DelegateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the label to delegate to.")
    else:
        try:
            delegation = services.prefix_delegate(
                label=label, claim_id=claim_id, to=form.cleaned_data["label"], actor=request.user
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{delegation.claim.display} is delegated to {delegation.label.name}.")
    return redirect("labels:prefixes", label_id=label.pk)


@label_view(owner=True)
@require_POST
def delegation_revoke(request: HttpRequest, label: Label, delegation_id: int) -> HttpResponse:
    try:
        delegation = services.delegation_revoke(label=label, delegation_id=delegation_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{delegation.label.name} no longer declares inside {delegation.claim.display}.")
    return redirect("labels:prefixes", label_id=label.pk)


@label_view(owner=True)
@require_POST
def contest(request: HttpRequest, label: Label) -> HttpResponse:
    form = ContestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That contest request was incomplete.")
    else:
        try:
            row = services.contest_create(label=label, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Your contest of {row.identifier} is a signed dispute now: the other label is told and "
                "answers, registry staff decide, and the declaration's public pages say it is disputed.",
            )
    return redirect("labels:prefixes", label_id=label.pk)
