"""Catalog reads shared by the API and the pages."""

from __future__ import annotations

from django.db.models import QuerySet

from registry.catalog.models import Release


def release_status(release: Release) -> str:
    """``not declared`` / ``active vN`` / ``withdrawn`` for dashboards."""
    decl = release.current_declaration
    if decl is None:
        return "not declared"
    return f"withdrawn (v{decl.version})" if decl.status == "withdrawn" else f"active v{decl.version}"


def releases_of_label(label_id: int) -> QuerySet[Release]:
    return Release.objects.filter(label_id=label_id).select_related("current_declaration")
