"""Staff's door for label keys: attest a key an owner requested in the browser (its label's first, or a recovery)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from registry.errors import DomainError
from registry.labelkeys import services
from registry.labelkeys.models import KeyRequest
from registry.readonly_admin import ReadOnlyAdmin


@admin.register(KeyRequest)
class KeyRequestAdmin(ReadOnlyAdmin):
    list_display = ["label", "kid", "requested_by", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["label", "requested_by"]
    actions = ["attest", "decline"]

    @admin.action(description="Attest: register the key for its label (check first who asked: the log says staff did)")
    def attest(self, request: HttpRequest, queryset: QuerySet[KeyRequest]) -> Any:
        for row in queryset:
            try:
                event = services.key_request_attest(request=row, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{row.kid}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{row.kid}: registered for {row.label}, log index {event.leaf_id}")

    @admin.action(description="Decline: register nothing (the owner may ask again)")
    def decline(self, request: HttpRequest, queryset: QuerySet[KeyRequest]) -> Any:
        for row in queryset:
            try:
                services.key_request_decline(request=row, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{row.kid}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{row.kid}: declined")
