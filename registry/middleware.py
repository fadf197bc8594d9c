"""Request-wide guards: security headers Django does not set, refusing NUL bytes, a 503 for a lost database."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape

logger = logging.getLogger(__name__)

# No inline scripts or styles anywhere; views that need an exception (the API
# docs page) set their own Content-Security-Policy and this leaves it alone.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def refusal(request: HttpRequest, status: int, code: str, title: str, message: str) -> HttpResponse:
    """An answer given before (or instead of) any view: the API's error shape on API paths, a small page elsewhere."""
    if request.path.startswith(("/api/", "/.well-known/")):
        return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    return HttpResponse(
        f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>",
        status=status,
        content_type="text/html; charset=utf-8",
    )


class RefuseNulMiddleware:
    """A NUL character in the path, the query string or a cookie is a 400 before any view sees it.

    PostgreSQL text cannot hold NUL, so a NUL that reached a query (a search, an
    identifier in the path, a session key) was a 500. No identifier, search or
    parameter of this site can contain one, so refusing the request here is the
    whole fix: every view, Django's included, is behind it. Form and JSON bodies
    are not looked at: Django's form fields and DRF's CharField refuse NUL with
    an error on the field (``ProhibitNullCharactersValidator``).
    """

    MESSAGE = (
        "The request contains a NUL character (%00) in its {where}, which nothing on this site accepts. "
        "Nothing was changed."
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = self._nul_in(request)
        if where:
            return refusal(request, 400, "invalid", "Bad request", self.MESSAGE.format(where=where))
        return self.get_response(request)

    @staticmethod
    def _nul_in(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        # The parsed parameters: %00 and a raw NUL both decode to "\x00" (keys count too).
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return "query string"
        # A quoted cookie value may spell NUL as the octal escape \000, which Django's cookie parser decodes.
        if any("\x00" in key or "\x00" in value for key, value in request.COOKIES.items()):
            return "cookies"
        return None


class DatabaseUnavailableMiddleware:
    """A database that is restarting or unreachable answers 503 with Retry-After, not 500.

    Connections are health-checked (CONN_HEALTH_CHECKS), so once PostgreSQL is
    back the next request reconnects: the app recovers without a restart.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError, close_old_connections

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable: %s", exception)
        close_old_connections()
        message = "The registry's database is unavailable for a moment; nothing was changed. Retry shortly."
        response = refusal(request, 503, "unavailable", "Temporarily unavailable", message)
        response["Retry-After"] = "5"
        return response
