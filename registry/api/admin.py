"""Admin for API credentials: only digests are stored, so rows can be listed and revoked, never read back."""

from __future__ import annotations

from django.contrib import admin, messages

from registry.api.models import LabelToken, PlatformKey
from registry.api.tokens import credentials_revoke


@admin.action(description="Revoke the selected credentials")
def revoke(modeladmin, request, queryset):
    count = credentials_revoke(queryset)  # through the service: the key cache forgets them on commit
    messages.success(request, f"Revoked {count} credential(s); requests using them now fail.")


class CredentialAdmin(admin.ModelAdmin):
    actions = [revoke]
    readonly_fields = ["public_id", "digest", "created_at", "revoked_at"]

    def has_add_permission(self, request):
        return False  # created by `manage.py create_platform_key` or the label pages, shown once


@admin.register(PlatformKey)
class PlatformKeyAdmin(CredentialAdmin):
    list_display = ["name", "public_id", "contact_email", "created_at", "revoked_at"]
    search_fields = ["name", "contact_email"]


@admin.register(LabelToken)
class LabelTokenAdmin(CredentialAdmin):
    list_display = ["name", "label", "public_id", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["label"]
    search_fields = ["name", "label__name"]
