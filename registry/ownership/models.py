"""Prefix claims, their delegation and contest requests.

A **claim** is a label's (or a distributor's: an organisation onboarded as a label)
statement that it holds an ISRC registrant prefix or a GS1 company prefix. It grants
nothing until staff verify it; one verified holder per prefix (a database constraint;
overlapping GS1 prefixes are refused by ``services.prefix_claim_approve``). The holder of
a verified prefix may **delegate** it to another label (a distributor to the independent
labels it issues codes for): the delegate's declarations inside it count as verified
too, until the delegation is revoked or the claim stops being verified.

A **contest request** records that the verified holder disputes another label's
declaration inside its prefix. For now staff read them in the admin; the dispute flow
comes next.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from registry.ownership import prefixes

KIND_CHOICES = [(k, prefixes.KIND_NAMES[k]) for k in prefixes.KINDS]


class PrefixClaim(models.Model):
    PENDING, VERIFIED, REJECTED, REVOKED = "pending", "verified", "rejected", "revoked"
    STATUS_CHOICES = [
        (PENDING, "Waiting for staff"),
        (VERIFIED, "Verified"),
        (REJECTED, "Rejected"),
        (REVOKED, "Revoked"),
    ]

    label = models.ForeignKey("catalog.Label", on_delete=models.CASCADE, related_name="prefix_claims")
    kind = models.CharField(max_length=4, choices=KIND_CHOICES)
    prefix = models.CharField(max_length=prefixes.GS1_PREFIX_MAX, help_text="Stored form (ownership/prefixes.py).")
    evidence = models.TextField(help_text="How staff can check that the label holds this prefix.")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PENDING, db_index=True)
    decision_note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "prefix"], condition=Q(status="verified"), name="one_verified_holder_per_prefix"
            ),
            models.UniqueConstraint(
                fields=["label", "kind", "prefix"],
                condition=Q(status__in=["pending", "verified"]),
                name="one_open_claim_per_label_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display} ({self.get_kind_display()}) by {self.label}"

    @property
    def display(self) -> str:
        return prefixes.display_prefix(self.kind, self.prefix)


class PrefixDelegation(models.Model):
    claim = models.ForeignKey(PrefixClaim, on_delete=models.CASCADE, related_name="delegations")
    label = models.ForeignKey("catalog.Label", on_delete=models.CASCADE, related_name="prefix_delegations")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "label"], condition=Q(revoked_at__isnull=True), name="one_live_delegation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.claim.display} delegated to {self.label}"


class ContestRequest(models.Model):
    OPEN, CLOSED = "open", "closed"
    STATUS_CHOICES = [(OPEN, "Open"), (CLOSED, "Closed")]

    label = models.ForeignKey("catalog.Label", on_delete=models.CASCADE, related_name="contest_requests")
    claim = models.ForeignKey(PrefixClaim, on_delete=models.PROTECT, related_name="contests")
    kind = models.CharField(max_length=4, choices=KIND_CHOICES)
    identifier = models.CharField(max_length=14, help_text="The contested ISRC or UPC/EAN, compact.")
    release = models.ForeignKey("catalog.Release", on_delete=models.PROTECT, related_name="+")
    declared_version = models.PositiveIntegerField()
    note = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=OPEN, db_index=True)
    # The signed dispute the contest opened (docs/protocol.md §15): staff resolve it there.
    dispute = models.OneToOneField(
        "disputes.Dispute", null=True, blank=True, on_delete=models.PROTECT, related_name="contest"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["label", "kind", "identifier"], condition=Q(status="open"), name="one_open_contest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} contests {self.identifier}"
