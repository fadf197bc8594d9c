"""Read-only admin for keys and checkpoints; keys change only through management commands."""

from __future__ import annotations

from django.contrib import admin

from registry.readonly_admin import ReadOnlyAdmin
from registry.transparency.models import Checkpoint, SigningKey


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "purpose", "status", "not_before", "not_after", "last_tree_size"]
    list_filter = ["purpose", "status"]
    exclude = ["public_key"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "created_at", "key"]
