"""Label keys as stored: the key events (each one log leaf), the keys they make, and prepared co-signed statements.

The private halves never reach the registry: a label signs on its own machine
(``python -m provenance sign``) or in its browser.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.catalog.models import Label, Release
from registry.transparency.models import LogLeaf


class LabelKeyEvent(models.Model):
    """One key event statement, as logged: the label's hash chain is (sequence, leaf)."""

    REGISTER, REVOKE = "register", "revoke"
    EVENT_CHOICES = [(REGISTER, "Register"), (REVOKE, "Revoke")]
    DONE = {REGISTER: "registered", REVOKE: "revoked"}  # what an event did, for messages and emails
    STAFF, LABEL, RECOVERY = "staff", "label", "recovery"
    ATTESTATION_CHOICES = [(STAFF, "Staff"), (LABEL, "The label"), (RECOVERY, "Staff recovery")]

    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="key_events")
    sequence = models.PositiveIntegerField()
    event = models.CharField(max_length=8, choices=EVENT_CHOICES)
    kid = models.CharField(max_length=43)
    attestation = models.CharField(max_length=8, choices=ATTESTATION_CHOICES)
    reason = models.TextField(blank=True)
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="label_key_event")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["label", "sequence"], name="unique_label_key_event_sequence")]

    def __str__(self) -> str:
        return f"{self.event} {self.kid} (label {self.label_id} #{self.sequence})"


class LabelKey(models.Model):
    ACTIVE, REVOKED = "active", "revoked"
    STATUS_CHOICES = [(ACTIVE, "Active"), (REVOKED, "Revoked")]

    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="keys")
    kid = models.CharField("key id (RFC 7638 thumbprint)", max_length=43, unique=True)
    public_key = models.BinaryField(max_length=32)
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=ACTIVE)
    # The owner who holds the private key (one active key each); null for a key the label holds jointly.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered = models.OneToOneField(LabelKeyEvent, on_delete=models.PROTECT, related_name="registered_key")
    revoked = models.OneToOneField(
        LabelKeyEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="revoked_key"
    )

    class Meta:
        ordering = ["label_id", "registered_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["label", "holder"], condition=models.Q(status="active"), name="one_active_key_per_holder"
            )
        ]

    def __str__(self) -> str:
        return f"label key {self.kid} ({self.status})"


class PreparedDeclaration(models.Model):
    """A statement fixed by the registry for the label to sign (prepare → sign → submit), until it expires."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    FIRST, AMEND, WITHDRAW = "first", "amend", "withdraw"  # declarations.services.FIRST, AMEND; batch.WITHDRAW
    KIND_CHOICES = [(FIRST, "First version"), (AMEND, "Amendment"), (WITHDRAW, "Withdrawal")]

    statement = models.JSONField()
    payload = models.TextField()  # base64 of the canonical statement bytes the label signs
    request = models.JSONField()  # the version as asked (an API body or a web draft), applied again at submit
    kind = models.CharField(max_length=8, choices=KIND_CHOICES, default=AMEND)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)
    # The prepare created the release (a first version of a new release): once every prepared statement of
    # it has expired and none was submitted, ``services.prepared_expire`` deletes the release as well.
    created_release = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["label", "expires_at"], name="prepared_label_expiry")]

    def __str__(self) -> str:
        return f"prepared declaration {self.pk} of release {self.release_id}"


class LabelPolicyEvent(models.Model):
    """One co-sign-only policy event, as logged (docs/protocol.md §14.5): the label's policy chain is (sequence, leaf).

    The newest row says whether the registry refuses the label's registry-only declarations.
    """

    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="policy_events")
    sequence = models.PositiveIntegerField()
    cosign_only = models.BooleanField()
    kid = models.CharField("the label key that signed it", max_length=43)
    reason = models.TextField(blank=True)
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="label_policy_event")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["label_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["label", "sequence"], name="unique_label_policy_event_sequence")]

    def __str__(self) -> str:
        return f"co-sign only {'on' if self.cosign_only else 'off'} (label {self.label_id} #{self.sequence})"


class KeyRequest(models.Model):
    """An owner's request for the label's first key (made in the browser), waiting for staff to attest it (§14.1)."""

    PENDING, ATTESTED, DECLINED = "pending", "attested", "declined"
    STATUS_CHOICES = [(PENDING, "Waiting for staff"), (ATTESTED, "Attested"), (DECLINED, "Declined by staff")]

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="key_requests")
    kid = models.CharField("key id (RFC 7638 thumbprint)", max_length=43)
    public_key = models.BinaryField(max_length=32)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=PENDING)
    event = models.OneToOneField(LabelKeyEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["label", "kid"], name="unique_key_request_per_label")]

    def __str__(self) -> str:
        return f"key request {self.kid} for label {self.label_id} ({self.status})"
