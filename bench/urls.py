"""Bench routing: the registry's URLs plus the baseline views a lookup is measured against."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

# The one indexed query a lookup by ISRC needs: the newest current declaration holding the recording.
BASELINE_SQL = """
SELECT d.bundle FROM declarations_declaredrecording r
JOIN declarations_declaration d ON d.id = r.declaration_id
JOIN catalog_release rel ON rel.current_declaration_id = d.id
WHERE r.isrc = %s ORDER BY d.leaf_id DESC LIMIT 1
"""


def baseline_recording(request: HttpRequest, isrc: str) -> HttpResponse:
    """A plain Django view: one query, the stored bundle returned as JSON, no DRF, no summary, no ETag."""
    with connection.cursor() as cur:
        cur.execute(BASELINE_SQL, [isrc])
        row = cur.fetchone()
    if row is None:
        body = json.dumps({"isrc": isrc, "status": "not_declared"})
        return HttpResponse(body, status=404, content_type="application/json")
    return HttpResponse(f'{{"isrc":{json.dumps(isrc)},"bundle":{row[0]}}}', content_type="application/json")


def baseline_recording_cached(request: HttpRequest, isrc: str) -> HttpResponse:
    """The baseline behind the product's cache (Redis) and TTL: one GET; on a miss, the query and one SET."""
    key = f"bench:baseline:{isrc}"
    body = cache.get(key)
    if body is not None:
        return HttpResponse(body, content_type="application/json")
    response = baseline_recording(request, isrc)
    if response.status_code == 200:
        cache.set(key, response.content, settings.REGISTRY_LOOKUP_CACHE_SECONDS)
    return response


urlpatterns = [
    path("bench/baseline/recordings/<str:isrc>", baseline_recording),
    path("bench/baseline-cached/recordings/<str:isrc>", baseline_recording_cached),
    path("", include("registry.urls")),
]
