"""Owner-only pages: API tokens, members (invite, change role, remove). Submitters get 403 here."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from registry.api.models import LabelToken
from registry.api.tokens import label_token_create, label_token_revoke
from registry.catalog.models import Label, Membership
from registry.errors import DomainError
from registry.labels import services
from registry.labels.forms import InviteForm, TokenForm
from registry.labels.models import Invitation
from registry.labels.views.access import label_view


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest, label: Label) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new = None
    if request.method == "POST" and form.is_valid():
        try:
            row, plaintext = label_token_create(label=label, name=form.cleaned_data["name"], created_by=request.user)
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            # Shown in this response only: never put in the session (a database row until the
            # next page view) or in any cache. Reloading asks the browser to post again.
            new = {"id": row.pk, "token": plaintext}
            form = TokenForm()
    rows = LabelToken.objects.filter(label=label).select_related("created_by")
    response = render(request, "labels/tokens.html", {"label": label, "form": form, "tokens": rows, "new": new})
    if new:
        add_never_cache_headers(response)  # Cache-Control: no-store, for browsers and proxies alike
    return response


@label_view(owner=True)
@require_POST
def token_revoke(request: HttpRequest, label: Label, token_id: int) -> HttpResponse:
    try:
        row = label_token_revoke(label=label, token_id=token_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Token “{row.name}” is revoked; requests using it now fail.")
    return redirect("labels:tokens", label_id=label.pk)


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, label: Label) -> HttpResponse:
    form = InviteForm(request.POST or None)
    new = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.invitation_create(
                label=label, email=form.cleaned_data["email"], role=form.cleaned_data["role"], created_by=request.user
            )
        except DomainError as exc:
            form.add_error("email" if "email" in exc.fields else None, exc.message)
        else:
            # Shown in this response only, like a new token: never kept in the session or a cache.
            link = request.build_absolute_uri(reverse("labels:invitation", args=[token]))
            new = {"email": invitation.email, "link": link}
            form = InviteForm()
    memberships = list(Membership.objects.filter(label=label).select_related("user").order_by("user__username"))
    response = render(
        request,
        "labels/members.html",
        {
            "label": label,
            "form": form,
            "new": new,
            "memberships": memberships,
            "owners": sum(1 for m in memberships if m.role == Membership.OWNER),
            "invitations": Invitation.objects.filter(label=label, accepted_at__isnull=True, revoked_at__isnull=True),
        },
    )
    if new:
        add_never_cache_headers(response)
    return response


@label_view(owner=True)
@require_POST
def invitation_revoke(request: HttpRequest, label: Label, invitation_id: int) -> HttpResponse:
    try:
        services.invitation_revoke(label=label, invitation_id=invitation_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The invitation is revoked.")
    return redirect("labels:members", label_id=label.pk)


def _member(label: Label, membership_id: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(pk=membership_id, label=label).first()
    if membership is None:
        raise Http404("no such member of this label")
    return membership


@label_view(owner=True)
@require_POST
def member_role(request: HttpRequest, label: Label, membership_id: int) -> HttpResponse:
    membership = _member(label, membership_id)
    try:
        membership = services.membership_set_role(
            label=label, membership_id=membership.pk, role=request.POST.get("role", ""), actor=request.user
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("labels:members", label_id=label.pk)
    messages.success(request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.")
    if membership.user_id == request.user.pk and membership.role != Membership.OWNER:
        return redirect("labels:dashboard", label_id=label.pk)  # the members page is for owners
    return redirect("labels:members", label_id=label.pk)


@label_view(owner=True)
@require_POST
def member_remove(request: HttpRequest, label: Label, membership_id: int) -> HttpResponse:
    """The first POST asks for confirmation (works without JavaScript); the confirming POST removes."""
    membership = _member(label, membership_id)
    if "confirm" not in request.POST:
        return render(
            request,
            "labels/member_remove.html",
            {"label": label, "membership": membership, "self": membership.user_id == request.user.pk},
        )
    try:
        services.membership_remove(label=label, membership_id=membership.pk, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("labels:members", label_id=label.pk)
    if membership.user_id == request.user.pk:
        messages.success(request, f"You left {label.name}.")
        return redirect("labels:home")
    messages.success(request, f"{membership.user.get_username()} was removed from {label.name}.")
    return redirect("labels:members", label_id=label.pk)
