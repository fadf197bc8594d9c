"""Staff review platforms' observations and keys: hide an abusive observation (recorded; the log keeps its leaf).

Everything is read-only here: keys are registered with ``manage.py platform_key_attest`` or signed by the
platform through the API, and hiding goes through ``registry.observations.services.observation_hide``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from registry.errors import DomainError
from registry.observations import services
from registry.observations.models import Observation, PlatformKeyEvent, PlatformSigningKey


class HideForm(forms.Form):
    reason = forms.CharField(label="Why (kept with the observation)", widget=forms.Textarea,
                             max_length=services.HIDE_REASON_MAX)  # fmt: skip


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # log leaves


@admin.register(Observation)
class ObservationAdmin(ReadOnly):
    list_display = ["uid", "platform", "isrc", "release", "leaf", "hidden_at", "created_at"]
    list_filter = ["platform"]
    list_select_related = ["platform", "release"]
    search_fields = ["uid", "isrc", "release__upc", "platform__name"]
    readonly_fields = ["uid", "platform", "release", "declaration", "isrc", "statement", "leaf", "hidden_at",
                       "hidden_by", "hidden_reason", "created_at"]  # fmt: skip
    actions = ["hide"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and request.user.is_staff  # the list and its action; no edit form

    @admin.action(description="Hide from pages and answers (recorded; the signed leaf stays in the log)")
    def hide(self, request: HttpRequest, queryset: QuerySet[Observation]) -> Any:
        form = HideForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for row in queryset.select_related("platform", "release"):
                try:
                    services.observation_hide(observation=row, actor=request.user, reason=form.cleaned_data["reason"])
                except DomainError as exc:
                    self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
                else:
                    self.message_user(request, f"Hid {row}.")
            return None
        return TemplateResponse(
            request,
            "observations/admin/hide.html",
            {
                **self.admin_site.each_context(request),
                "title": "Hide observations",
                "observations": queryset.select_related("platform", "release"),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(PlatformKeyEvent)
class PlatformKeyEventAdmin(ReadOnly):
    list_display = ["platform", "sequence", "event", "kid", "attestation", "leaf", "created_at"]
    list_select_related = ["platform"]


@admin.register(PlatformSigningKey)
class PlatformSigningKeyAdmin(ReadOnly):
    list_display = ["platform", "kid", "status", "registered", "revoked"]
    list_select_related = ["platform"]
