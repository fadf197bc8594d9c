"""Security headers Django does not set by itself: a strict Content-Security-Policy and friends."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

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
        if request.path.startswith(("/api/", "/.well-known/")):
            response: HttpResponse = JsonResponse(
                {"error": {"code": "unavailable", "message": message, "fields": {}}}, status=503
            )
        else:
            response = HttpResponse(
                f"<!doctype html><title>Unavailable</title><h1>Temporarily unavailable</h1><p>{message}</p>", status=503
            )
        response["Retry-After"] = "5"
        return response
