"""Credentials for the API: label tokens (write) and platform keys (higher read limits).

Only an HMAC-SHA256 of each secret is stored (healthchecks style); the
plaintext is shown once at creation. A token reads ``<prefix>_<id>_<secret>``:
the id finds the row, the HMAC of the whole token is compared in constant time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from registry.catalog.models import Label


class LabelToken(models.Model):
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    public_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.label})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PlatformKey(models.Model):
    name = models.CharField(max_length=100, help_text="The platform, e.g. 'Example Streaming Inc.'")
    contact_email = models.EmailField(blank=True)
    public_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(models.Model):
    """The answer to a label's write, replayed when the same Idempotency-Key comes again."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.label_id})"
