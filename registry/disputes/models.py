"""Disputes as stored: one row per dispute, one per step (each step one log leaf).

The words (claim, evidence, identity, answers) live here only, beside the nonce
their log commitment was made with; ``dispute_erase`` deletes them on request and
the log, which holds the commitment, stays verifiable.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from provenance.disputes import DISPUTED_PARTS, OPENER_ROLES, ROLES
from registry.catalog.models import Label, Release
from registry.declarations.models import Declaration
from registry.transparency.models import LogLeaf

ROLE_LABELS = {"artist": "an artist", "rights_holder": "a rights holder", "platform": "a platform",
               "label": "the label", "staff": "registry staff"}  # fmt: skip


PART_LABELS = {"artwork": "Artwork (the release)", "identifier": "Identifier (the ISRC, or the UPC: not this label's)"}


class Dispute(models.Model):
    OPEN, ANSWERED, UPHELD, REJECTED, WITHDRAWN = "open", "answered", "upheld", "rejected", "withdrawn"
    STATUS_CHOICES = [
        (OPEN, "Open"),
        (ANSWERED, "Answered by the label"),
        (UPHELD, "Upheld"),
        (REJECTED, "Rejected"),
        (WITHDRAWN, "Withdrawn"),
    ]
    CLOSED = (UPHELD, REJECTED, WITHDRAWN)
    ROLE_CHOICES = [(r, ROLE_LABELS[r].split(" ", 1)[1].capitalize()) for r in OPENER_ROLES]
    PART_CHOICES = [(p, PART_LABELS.get(p, p.capitalize())) for p in DISPUTED_PARTS]

    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="disputes")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="disputes")
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="disputes")
    isrc = models.CharField(max_length=12, blank=True)  # blank: the release's artwork
    part = models.CharField(max_length=16, choices=PART_CHOICES)
    opener_role = models.CharField(max_length=16, choices=ROLE_CHOICES)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Opened through the API (registry/disputes/api.py): by a platform key (role platform), or by
    # another label's token (role rights_holder). At most one of the three opener columns is set.
    opened_by_platform = models.ForeignKey(
        "api.PlatformKey", null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    opened_by_label = models.ForeignKey(
        Label, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes_opened"
    )
    # Who the opener says they are (an ISNI, links to official profiles): staff review it; never logged.
    identity = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=OPEN, db_index=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"dispute {self.uid} ({self.status})"

    @property
    def on(self) -> str:
        return f"{self.isrc} {self.part}" if self.isrc else ("artwork" if self.part == "artwork" else "UPC")

    @property
    def opener_description(self) -> str:
        return ROLE_LABELS[self.opener_role]

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED


class DisputeStep(models.Model):
    """One signed step: the statement's facts as columns, its leaf and bundle, and the erasable words."""

    STEP_CHOICES = [("opened", "Opened"), ("answered", "Answered"), ("resolved", "Resolved")]

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="steps")
    sequence = models.PositiveIntegerField()
    step = models.CharField(max_length=8, choices=STEP_CHOICES)
    role = models.CharField(max_length=16, choices=[(r, r) for r in ROLES])
    outcome = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="dispute_step")
    statement = models.JSONField()
    bundle = models.TextField()
    content_sha256 = models.CharField(max_length=64)
    # Erasable (dispute_erase): the words and the nonce of their commitment.
    text = models.TextField(blank=True)
    evidence = models.TextField(blank=True)
    nonce = models.BinaryField(max_length=32, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dispute_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["dispute", "sequence"], name="unique_dispute_step_sequence")]

    def __str__(self) -> str:
        return f"{self.step} (dispute {self.dispute_id} #{self.sequence})"
