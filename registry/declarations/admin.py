"""Read-only admin for declarations: signed versions are never edited, only superseded."""

from __future__ import annotations

from django.contrib import admin

from registry.declarations.models import Declaration
from registry.readonly_admin import ReadOnlyAdmin


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdmin):
    list_display = ["release", "version", "status", "contains_ai", "declared_at", "via", "leaf_id"]
    list_filter = ["status", "contains_ai", "via"]
    search_fields = ["release__upc", "release__title"]
    list_select_related = ["release"]
