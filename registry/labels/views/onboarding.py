"""Public onboarding: apply as a label, set a first password, accept an invitation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from registry.errors import DomainError, NotFound
from registry.labels import email_proof, services
from registry.labels.forms import ApplicationForm, SignupForm


def apply_errors(form: ApplicationForm, exc: DomainError) -> None:
    for name, errors in exc.fields.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_submit(**form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            return redirect("labels:apply_thanks")
    return render(request, "labels/apply.html", {"form": form})


def apply_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "labels/apply_thanks.html")


class WelcomeView(PasswordResetConfirmView):
    """Set a first password from the approval email (Django's one-time password-reset token)."""

    template_name = "labels/welcome.html"
    post_reset_login = True
    success_url = reverse_lazy("labels:home")

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. Welcome to the registry.")
        return super().form_valid(form)


def _invitation_page(request: HttpRequest, inv: Any, form: Any = None, **extra: Any) -> HttpResponse:
    login_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
    proven = inv.email in email_proof.proven_emails(request.user)
    context = {
        "invitation": inv,
        "form": form,
        "login_url": login_url,
        "can_accept": proven or inv.proves_email,
        **extra,
    }
    return render(request, "labels/invitation.html", context, status=extra.get("status", 200))


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: only its address may, once proven (see ``services.invitation_accept``)."""
    try:
        inv = services.invitation_lookup(token)
    except NotFound as exc:
        return render(request, "labels/invitation_invalid.html", {"message": exc.message}, status=404)
    if request.user.is_authenticated:
        if request.method == "POST" and request.POST.get("action") == "confirm-email":
            try:
                email_proof.proof_send(user=request.user, email=inv.email, next_path=request.path)
            except DomainError as exc:
                return _invitation_page(request, inv, error=exc.message, status=exc.status)
            return _invitation_page(request, inv, sent_to=inv.email)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=inv, user=request.user)
            except DomainError as exc:
                return _invitation_page(request, inv, error=exc.message, status=exc.status)
            messages.success(request, f"You joined {inv.label.name}.")
            return redirect("labels:dashboard", label_id=inv.label_id)
        return _invitation_page(request, inv)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if email_proof.proven_by_other(inv.email, None):
            form.add_error(None, f"An account with {inv.email} exists already: sign in with it, then open this link.")
            return _invitation_page(request, inv, form)
        with transaction.atomic():
            user = form.save()  # no email yet: the address is set once proven
            if inv.proves_email:
                services.invitation_accept(invitation=inv, user=user)
            else:
                email_proof.proof_send(user=user, email=inv.email, next_path=request.path)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if inv.proves_email:
            messages.success(request, f"Welcome! You joined {inv.label.name}.")
            return redirect("labels:dashboard", label_id=inv.label_id)
        return _invitation_page(request, inv, sent_to=inv.email)
    return _invitation_page(request, inv, form)


@login_required
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Confirm an address from its proof link. GET asks; POST confirms (link scanners only GET)."""
    try:
        data = email_proof.proof_read(token)
    except DomainError as exc:
        return render(request, "labels/email_confirm.html", {"error": exc.message}, status=400)
    if request.method == "POST":
        try:
            email, next_path = email_proof.proof_confirm(user=request.user, token=token)
        except DomainError as exc:
            return render(request, "labels/email_confirm.html", {"error": exc.message}, status=exc.status)
        messages.success(request, f"{email} is confirmed as your address.")
        if next_path and url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
            return redirect(next_path)
        return redirect("labels:home")
    return render(request, "labels/email_confirm.html", {"email": data["e"]})
