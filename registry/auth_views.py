"""Sign-in with a brake on password guessing: failed attempts are counted per client and per username.

After ``LOGIN_MAX_FAILURES`` failures within ``LOGIN_FAILURE_WINDOW`` seconds,
further attempts from that address, or for that username, get HTTP 429 and a
clear message until the window passes. Counts live in Django's cache (Redis in
production, shared by all workers).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from registry.client_address import client_address


def _keys(request: HttpRequest, username: str) -> list[str]:
    ip = client_address(request)
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:ip:{ip}", f"login-fail:user:{user}"]


def _max() -> int:
    return getattr(settings, "LOGIN_MAX_FAILURES", 10)


def _window() -> int:
    return getattr(settings, "LOGIN_FAILURE_WINDOW", 900)


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        keys = _keys(request, request.POST.get("username", ""))
        if any((cache.get(k) or 0) >= _max() for k in keys):
            form = self.get_form()
            form.add_error(None, f"Too many failed sign-in attempts. Try again in {_window() // 60} minutes.")
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(_window())
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        for key in _keys(self.request, self.request.POST.get("username", "")):
            cache.add(key, 0, _window())
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, _window())
        return super().form_invalid(form)


class ThrottledAdminLoginView(ThrottledLoginView):
    """The admin's sign-in, with the same brake (staff accounts are the most valuable to guess)."""

    template_name = "admin/login.html"

    def get_form_class(self) -> Any:
        from django.contrib.admin.forms import AdminAuthenticationForm

        return AdminAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.contrib import admin

        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.setdefault("app_path", self.request.get_full_path())
        return context
