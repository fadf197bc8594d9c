"""OpenAPI schema and Swagger UI, with the UI's assets served from drf-spectacular-sidecar (no CDN).

The assets come from the installed sidecar package through this view rather
than staticfiles, so the docs work without adding the sidecar to
INSTALLED_APPS. The page gets its own Content-Security-Policy: the site's,
plus 'unsafe-inline' for styles (Swagger UI's template and components set
inline styles); scripts stay 'self' only (the split view loads its init
script from a URL instead of inlining it).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

import drf_spectacular_sidecar
from django.http import FileResponse, HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

from registry.api.errors import json_error

ASSET_ROOT = (Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar").resolve()
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class DocsView(SpectacularSwaggerSplitView):
    url_name = "api-schema"

    @extend_schema(exclude=True)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


def docs_asset(request: HttpRequest, path: str) -> HttpResponse:
    """A file of the sidecar's Swagger UI distribution; nothing outside it."""
    target = (ASSET_ROOT / path).resolve()
    if not target.is_relative_to(ASSET_ROOT) or not target.is_file():
        return json_error(404, "not_found", "no such documentation asset")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    response = FileResponse(target.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
