"""Onboarding and team models: label applications reviewed by staff, and member invitations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from registry.catalog.models import Label, Membership


class LabelApplication(models.Model):
    """A label asking to join. Staff check the evidence in the admin, then approve or reject."""

    PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
    STATUS_CHOICES = [(PENDING, "Pending review"), (APPROVED, "Approved"), (REJECTED, "Rejected")]

    label_name = models.CharField(max_length=255)
    dpid = models.CharField("DDEX Party ID", max_length=18, null=True, blank=True)
    contact_name = models.CharField(max_length=255)
    contact_email = models.EmailField()
    website = models.URLField(blank=True)
    evidence = models.TextField(help_text="How staff can check that the applicant speaks for the label.")
    # Identifier prefixes the label says it holds: [[kind, stored prefix], …] (registry/ownership/prefixes.py).
    # Approval turns each into a pending prefix claim; staff verify claims apart (registry/ownership/).
    prefixes = models.JSONField(default=list, blank=True)
    prefix_evidence = models.TextField(blank=True, help_text="How staff can check that the label holds the prefixes.")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PENDING, db_index=True)
    rejection_reason = models.TextField(blank=True)
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.label_name} ({self.get_status_display()})"


class Invitation(models.Model):
    """An owner's invitation for someone to join a label. Only a SHA-256 of the link's token is stored."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.ROLE_CHOICES, default=Membership.SUBMITTER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # True when the link was only ever emailed to ``email`` (staff approval): nobody else saw
    # it, so opening it proves the address. Owners' invitations show the link to the owner,
    # so accepting one needs the address proven separately.
    proves_email = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.label} ({self.role})"


class EmailAddress(models.Model):
    """An address its account has proven it reads (a signed link sent there was opened while signed in).

    Only proven addresses are stored, so a row is a fact, never a claim. An address is
    proven for at most one account. ``User.email`` is set only from a proven address
    (or by staff), so Django's password reset and every check by address rely on proof.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proven_emails")
    email = models.EmailField()
    verified_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="unique_proven_email")]

    def __str__(self) -> str:
        return f"{self.email} (proven by {self.user_id})"


class Draft(models.Model):
    """Unsigned work kept on the server: a release's next version, a parsed DDEX message, … (docs/architecture.md).

    Private to its label and to the member working on it; nothing in it is signed or
    public. The browser session holds no draft data (it would vanish with the session,
    and large imports made every page load heavy).
    """

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="label_drafts")
    key = models.CharField(max_length=100)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["label", "user", "key"], name="unique_draft_key"),
            # Batch drafts (registry.labels.batches) are the label's, not one member's: a submitter
            # prepares them and an owner signs them, so there is one per label and UPC.
            models.UniqueConstraint(
                fields=["label", "key"], condition=models.Q(key__startswith="labels:batch:"), name="unique_batch_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"draft {self.key} of label {self.label_id}"


class Batch(models.Model):
    """Catalog-scale work run by the background worker (registry.labels.tasks): read DDEX files, sign, withdraw.

    ``items`` is what to do (UPCs with the draft version reviewed, for signing and
    withdrawing; the files are ``BatchFile`` rows), ``results`` one entry per item as
    it is done, so the batch page shows progress and the outcome of each.
    """

    ERN, SIGN, WITHDRAW = "ern", "sign", "withdraw"
    KIND_CHOICES = [(ERN, "Read DDEX files"), (SIGN, "Sign"), (WITHDRAW, "Withdraw")]
    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    STATUS_CHOICES = [(QUEUED, "Waiting"), (RUNNING, "Running"), (DONE, "Done"), (FAILED, "Stopped by an error")]

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="batches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=QUEUED)
    reason = models.TextField(blank=True)
    items = models.JSONField(default=list)
    results = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["label", "-created_at"])]

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.kind}) of label {self.label_id}"


class BatchFile(models.Model):
    """One uploaded DDEX file of a batch, kept until the worker has read it (the worker may run elsewhere)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    content = models.BinaryField()
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name
