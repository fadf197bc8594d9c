"""Public onboarding: apply as a label, set a first password, accept an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import PasswordResetConfirmView
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods

from registry.errors import Conflict, DomainError, NotFound
from registry.labels import services
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

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        messages.success(self.request, "Your password is set. Welcome to the registry.")
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        inv = services.invitation_lookup(token)
    except NotFound as exc:
        return render(request, "labels/invitation_invalid.html", {"message": exc.message}, status=404)
    form = None
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=inv, user=request.user)
            except Conflict as exc:
                return render(request, "labels/invitation_invalid.html", {"message": exc.message}, status=409)
            messages.success(request, f"You joined {inv.label.name}.")
            return redirect("labels:dashboard", label_id=inv.label_id)
    else:
        form = SignupForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                user = form.save(commit=False)
                user.email = inv.email
                user.save()
                services.invitation_accept(invitation=inv, user=user)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome! You joined {inv.label.name}.")
            return redirect("labels:dashboard", label_id=inv.label_id)
    login_url = f"{reverse('login')}?next={request.path}"
    return render(request, "labels/invitation.html", {"invitation": inv, "form": form, "login_url": login_url})
