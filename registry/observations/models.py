"""Platform keys and observations as stored: each key event and each observation is one log leaf.

A platform is the registry's record of its API key (``registry.api.models.PlatformKey``):
the bearer key authenticates its requests, its signing keys (registered here, logged as key
events, docs/protocol.md §16.1) sign what it observes. The private halves never reach the registry.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from registry.api.models import PlatformKey
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.transparency.models import LogLeaf


class PlatformKeyEvent(models.Model):
    """One platform key event as logged: the platform's hash chain is (sequence, leaf)."""

    REGISTER, REVOKE = "register", "revoke"
    EVENT_CHOICES = [(REGISTER, "Register"), (REVOKE, "Revoke")]
    STAFF, PLATFORM, RECOVERY = "staff", "platform", "recovery"
    ATTESTATION_CHOICES = [(STAFF, "Staff"), (PLATFORM, "The platform"), (RECOVERY, "Staff recovery")]

    platform = models.ForeignKey(PlatformKey, on_delete=models.PROTECT, related_name="key_events")
    sequence = models.PositiveIntegerField()
    event = models.CharField(max_length=8, choices=EVENT_CHOICES)
    kid = models.CharField(max_length=43)
    attestation = models.CharField(max_length=8, choices=ATTESTATION_CHOICES)
    reason = models.TextField(blank=True)
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="platform_key_event")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "sequence"], name="unique_platform_key_event_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.kid} (platform {self.platform_id} #{self.sequence})"


class PlatformSigningKey(models.Model):
    ACTIVE, REVOKED = "active", "revoked"
    STATUS_CHOICES = [(ACTIVE, "Active"), (REVOKED, "Revoked")]

    platform = models.ForeignKey(PlatformKey, on_delete=models.PROTECT, related_name="signing_keys")
    kid = models.CharField("key id (RFC 7638 thumbprint)", max_length=43, unique=True)
    public_key = models.BinaryField(max_length=32)
    status = models.CharField(max_length=8, choices=STATUS_CHOICES, default=ACTIVE)
    registered = models.OneToOneField(PlatformKeyEvent, on_delete=models.PROTECT, related_name="registered_key")
    revoked = models.OneToOneField(
        PlatformKeyEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="revoked_key"
    )

    class Meta:
        ordering = ["platform_id", "registered_id"]

    def __str__(self) -> str:
        return f"platform key {self.kid} ({self.status})"


class Observation(models.Model):
    """A platform's signed observation of a recording, as logged; staff may hide it from pages (never from the log)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    platform = models.ForeignKey(PlatformKey, on_delete=models.PROTECT, related_name="observations")
    # The release whose pages and answers show it: the one the UPC named, else the one answering the ISRC.
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="observations")
    declaration = models.ForeignKey(
        Declaration, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    isrc = models.CharField(max_length=12, db_index=True)
    statement = models.JSONField()
    # SHA-256 of the signed payload bytes: the same statement is logged once per platform (a retry is a 409).
    payload_sha256 = models.CharField(max_length=64)
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="observation")
    bundle = models.TextField()
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hidden_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "payload_sha256"], name="unique_observation_per_platform")
        ]

    def __str__(self) -> str:
        return f"observation {self.uid} of {self.isrc} by platform {self.platform_id}"
