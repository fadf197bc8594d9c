"""Staff review disputes: read the claim, evidence and identity, uphold or reject (signed and logged), erase on request.

Status changes only through ``registry.disputes.services``: the fields are read-only here,
so every decision is a logged step and the opener and the label are emailed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from registry.disputes import services
from registry.disputes.models import Dispute, DisputeStep
from registry.errors import DomainError


class DecisionForm(forms.Form):
    text = forms.CharField(
        label="Reason (emailed to the opener and the label; kept in the database, its hash logged)",
        widget=forms.Textarea,
        required=False,
        max_length=services.TEXT_MAX,
    )


class DisputeStepInline(admin.TabularInline):
    model = DisputeStep
    fields = ["sequence", "step", "role", "outcome", "actor", "leaf", "text", "evidence", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin):
    list_display = ["uid", "release", "on", "opener_role", "label", "status", "created_at"]
    list_filter = ["status", "opener_role", "part"]
    list_select_related = ["release", "label"]
    search_fields = ["uid", "release__upc", "release__title", "isrc", "label__name"]
    readonly_fields = [
        "uid",
        "release",
        "label",
        "declaration",
        "isrc",
        "part",
        "opener_role",
        "opened_by",
        "opened_by_platform",
        "opened_by_label",
        "identity",
        "status",
        "erased_at",
        "created_at",
        "steps_summary",
    ]
    fields = readonly_fields
    inlines = [DisputeStepInline]
    actions = ["uphold", "reject", "erase"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # opened from the public pages

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its steps are log leaves; erase the words instead

    @admin.display(description="Steps (log index: step, outcome)")
    def steps_summary(self, dispute: Dispute) -> str:
        return format_html_join(
            ", ", "{}: {} {}", ((s.leaf_id, s.step, s.outcome) for s in dispute.steps.order_by("sequence"))
        )

    def _decide(self, request: HttpRequest, queryset: QuerySet[Dispute], verb: str) -> Any:
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for dispute in queryset.select_related("release"):
                try:
                    if verb == "erase":
                        services.dispute_erase(dispute=dispute, actor=request.user)
                    else:
                        services.dispute_resolve(
                            dispute=dispute, actor=request.user, outcome=verb, text=form.cleaned_data["text"]
                        )
                except DomainError as exc:
                    self.message_user(request, f"{dispute}: {exc.message}", messages.ERROR)
                else:
                    done = "text erased; the log keeps its hashes" if verb == "erase" else f"{verb}, signed and logged"
                    self.message_user(request, f"Dispute on {dispute.release.title} ({dispute.on}): {done}.")
            return None
        return TemplateResponse(
            request,
            "disputes/admin/decide.html",
            {
                **self.admin_site.each_context(request),
                "title": {"upheld": "Uphold", "rejected": "Reject", "erase": "Erase the text of"}[verb] + " disputes",
                "disputes": queryset.select_related("release", "label"),
                "form": form,
                "verb": verb,
                "action": {"upheld": "uphold", "rejected": "reject", "erase": "erase"}[verb],
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Uphold: the claim is right (signed and logged; the label should amend)")
    def uphold(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> Any:
        return self._decide(request, queryset, "upheld")

    @admin.action(description="Reject: the declaration stands (signed and logged)")
    def reject(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> Any:
        return self._decide(request, queryset, "rejected")

    @admin.action(description="Erase the text on request (claim, evidence, identity, answers; the log keeps hashes)")
    def erase(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> Any:
        return self._decide(request, queryset, "erase")
