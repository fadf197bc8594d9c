"""Staff review of label applications: approve creates the verified label and invites its contact as owner; reject needs a reason."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from registry.errors import DomainError
from registry.labels import services
from registry.labels.forms import RejectApplicationForm
from registry.labels.models import Invitation, LabelApplication


@admin.register(LabelApplication)
class LabelApplicationAdmin(admin.ModelAdmin):
    list_display = ["label_name", "dpid", "contact_name", "contact_email", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["label_name", "dpid", "contact_email", "contact_name"]
    readonly_fields = ["status", "prefixes", "rejection_reason", "label", "reviewed_by", "reviewed_at", "created_at"]
    actions = ["approve", "reject"]

    @admin.action(description="Approve: create the verified label and email its contact an owner invitation")
    def approve(self, request: HttpRequest, queryset: QuerySet[LabelApplication]) -> None:
        for application in queryset:
            try:
                label = services.application_approve(application=application, reviewer=request.user)
            except DomainError as exc:
                self.message_user(request, f"{application.label_name}: {exc.message}", messages.ERROR)
            else:
                claims = (
                    f" Its {len(application.prefixes)} prefix claims wait in Prefix claims."
                    if application.prefixes
                    else ""
                )
                self.message_user(
                    request,
                    f"{label.name} is verified; its contact was emailed an owner invitation.{claims}",
                    messages.SUCCESS,
                )

    @admin.action(description="Reject (asks for a reason, sent to the applicant)")
    def reject(self, request: HttpRequest, queryset: QuerySet[LabelApplication]) -> Any:
        form = RejectApplicationForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for application in queryset:
                try:
                    services.application_reject(
                        application=application, reviewer=request.user, reason=form.cleaned_data["reason"]
                    )
                except DomainError as exc:
                    self.message_user(request, f"{application.label_name}: {exc.message}", messages.ERROR)
                else:
                    self.message_user(request, f"{application.label_name} was rejected.", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "labels/admin/reject_applications.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject label applications",
                "applications": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "label", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_select_related = ["label"]
    search_fields = ["email", "label__name"]
    readonly_fields = ["token_hash"]
