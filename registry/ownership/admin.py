"""Staff verify prefix claims (approve or reject, with a note emailed to the label) and read contest requests.

Status, decisions and delegations change only through ``registry.ownership.services``:
the fields are read-only here, so the one-holder rule and the emails always apply.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from registry.errors import DomainError
from registry.ownership import services
from registry.ownership.forms import DecisionNoteForm
from registry.ownership.models import ContestRequest, PrefixClaim, PrefixDelegation


@admin.register(PrefixClaim)
class PrefixClaimAdmin(admin.ModelAdmin):
    list_display = ["display", "kind", "label", "status", "created_at", "decided_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["label"]
    search_fields = ["prefix", "label__name"]
    readonly_fields = [
        "label",
        "kind",
        "prefix",
        "evidence",
        "status",
        "decision_note",
        "created_by",
        "decided_by",
        "created_at",
        "decided_at",
        "other_claims",
    ]
    actions = ["approve", "reject", "revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # labels claim from their page; staff decide here

    @admin.display(description="Other claims on this prefix (staff only)")
    def other_claims(self, claim: PrefixClaim) -> str:
        others = PrefixClaim.objects.filter(kind=claim.kind, prefix=claim.prefix).exclude(pk=claim.pk)
        return "; ".join(f"{o.label.name}: {o.get_status_display()}" for o in others.select_related("label")) or "none"

    def _decide(self, request: HttpRequest, queryset: QuerySet[PrefixClaim], verb: str) -> Any:
        form = DecisionNoteForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            decide = {
                "approve": services.prefix_claim_approve,
                "reject": services.prefix_claim_reject,
                "revoke": services.prefix_claim_revoke,
            }[verb]
            for claim in queryset.select_related("label"):
                try:
                    decide(claim=claim, reviewer=request.user, note=form.cleaned_data["note"])
                except DomainError as exc:
                    self.message_user(request, f"{claim}: {exc.message}", messages.ERROR)
                else:
                    done = {"approve": "verified", "reject": "rejected", "revoke": "revoked"}[verb]
                    self.message_user(request, f"{claim.display} ({claim.label.name}) {done}; the label was emailed.")
            return None
        return TemplateResponse(
            request,
            "ownership/admin/decide_claims.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{verb.capitalize()} prefix claims",
                "claims": queryset.select_related("label"),
                "form": form,
                "verb": verb,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Approve: verify the prefix for the label (asks for an optional note)")
    def approve(self, request: HttpRequest, queryset: QuerySet[PrefixClaim]) -> Any:
        return self._decide(request, queryset, "approve")

    @admin.action(description="Reject (asks for a note, emailed to the label)")
    def reject(self, request: HttpRequest, queryset: QuerySet[PrefixClaim]) -> Any:
        return self._decide(request, queryset, "reject")

    @admin.action(description="Revoke a verified prefix (asks for a note; ends its delegations)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[PrefixClaim]) -> Any:
        return self._decide(request, queryset, "revoke")


@admin.register(PrefixDelegation)
class PrefixDelegationAdmin(admin.ModelAdmin):
    list_display = ["claim", "label", "created_at", "revoked_at"]
    list_select_related = ["claim__label", "label"]
    readonly_fields = ["claim", "label", "created_by", "created_at", "revoked_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ContestRequest)
class ContestRequestAdmin(admin.ModelAdmin):
    """Contests of a declaration inside a verified prefix: each opened a signed dispute, resolved under Disputes."""

    list_display = ["identifier", "kind", "label", "release", "declared_version", "status", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["label", "release__label"]
    search_fields = ["identifier", "label__name", "release__title"]
    readonly_fields = [
        "label",
        "claim",
        "kind",
        "identifier",
        "release",
        "declared_version",
        "note",
        "dispute",
        "created_by",
        "created_at",
    ]
    fields = [*readonly_fields, "status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
