"""An upper bound on every request body, checked before anything reads it.

Django spools file parts to a temporary file as it parses a multipart body, and
it parses when CSRF checks the form, so without this an anonymous client could
make the server write a body of any size to disk before being refused. The
middleware compares ``Content-Length`` with the view's limit and answers 413
without reading a byte:

- a view decorated ``@accepts_files(max_bytes=N)`` takes files of up to N bytes
  in all plus ``DATA_UPLOAD_MAX_MEMORY_SIZE`` for the rest of its form (the
  audio-hash upload and the ERN import);
- every other URL takes ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (5 MB by default).

A body without ``Content-Length`` (``Transfer-Encoding: chunked``) answers 411:
under WSGI Django reads no more than ``Content-Length`` bytes, none without it,
so such a body would silently arrive empty. Nothing reads past the limit, so no
upload handler is needed to stop one midway. docs/operations.md gives the limits
and the reverse proxy's ``client_max_body_size``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.html import escape

from registry.api.errors import json_error

View = TypeVar("View", bound=Callable[..., Any])


def accepts_files(*, max_bytes: int) -> Callable[[View], View]:
    """Let a view take uploaded files of up to ``max_bytes`` together, plus the usual form fields."""

    def decorate(view: View) -> View:
        view.max_file_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


def body_limit(request: HttpRequest) -> int:
    """The largest body, in bytes, that the URL of ``request`` accepts."""
    default = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return default
    files = getattr(view, "max_file_bytes", None)
    return default if files is None else files + default


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH")
        if not declared:
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return _refuse(
                    request,
                    411,
                    "length_required",
                    "Send the request body with a Content-Length header; chunked bodies are not accepted.",
                )
            return self.get_response(request)
        try:
            length = int(declared)
        except ValueError:
            return self.get_response(request)  # Django reads such a body as empty
        # Resolve the URL only for bodies over the default: lookups and small forms pay nothing.
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and length > (limit := body_limit(request)):
            return _refuse(
                request,
                413,
                "too_large",
                f"The request body is {_mb(length)}; at most {_mb(limit)} is accepted here.",
            )
        return self.get_response(request)


def _refuse(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith(("/api/", "/.well-known/")):
        return json_error(status, code, message)
    title = "Too large" if status == 413 else "Length required"
    return HttpResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{escape(message)}</p>", status=status)
