"""Read-only admin for keys and checkpoints; keys change only through management commands."""

from __future__ import annotations

from django.contrib import admin

from registry.transparency.models import Checkpoint, SigningKey


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnly):
    list_display = ["kid", "purpose", "status", "not_before", "not_after"]
    list_filter = ["purpose", "status"]
    exclude = ["public_key"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnly):
    list_display = ["tree_size", "created_at", "key"]
