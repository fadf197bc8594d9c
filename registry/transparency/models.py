"""The transparency log as stored: keys (public halves only), leaves, complete-subtree nodes, checkpoints.

Every complete subtree hash is stored in :class:`LogNode`, keyed by
``node_id(level, index)``, so appending and proving need O(log n) reads
(see provenance/issue/tree.py). Leaves, nodes and checkpoints are append-only;
on PostgreSQL a trigger refuses UPDATE and DELETE on them (migration 0002).
"""

from __future__ import annotations

from django.db import models

from provenance.issue.tree import node_index, node_level


class SigningKey(models.Model):
    STATEMENT, CHECKPOINT = "statement", "checkpoint"
    PURPOSE_CHOICES = [(STATEMENT, "Statement signing"), (CHECKPOINT, "Checkpoint signing")]
    ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"
    STATUS_CHOICES = [(ACTIVE, "Active"), (RETIRED, "Retired"), (REVOKED, "Revoked")]

    kid = models.CharField("key id (RFC 7638 thumbprint)", max_length=43, unique=True)
    purpose = models.CharField(max_length=16, choices=PURPOSE_CHOICES)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=ACTIVE)
    public_key = models.BinaryField(max_length=32)
    # File name under settings.REGISTRY_KEY_DIR; the private key never enters the database.
    key_file = models.CharField(max_length=255)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(null=True, blank=True)
    # Checkpoint keys: the log's size when the key retired, stamped under the log lock; it signed no
    # larger tree, and verifiers accept none of it (docs/protocol.md §4: checkpoints carry no time).
    last_tree_size = models.BigIntegerField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "not_before"]
        constraints = [
            # At most one active key per purpose: signing is never ambiguous.
            models.UniqueConstraint(
                fields=["purpose"], condition=models.Q(status="active"), name="one_active_key_per_purpose"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key {self.kid} ({self.status})"


class LogLeaf(models.Model):
    index = models.BigIntegerField(primary_key=True)
    leaf_hash = models.BinaryField(max_length=32)
    # The leaf data: the DSSE envelope as RFC 8785 canonical JSON (ASCII).
    data = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"leaf {self.index}"


class LogNode(models.Model):
    id = models.BigIntegerField(primary_key=True)  # node_id(level, index)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {node_level(self.id)}/{node_index(self.id)}"


class Checkpoint(models.Model):
    tree_size = models.BigIntegerField(primary_key=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="checkpoints")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tree_size"]

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size}"
