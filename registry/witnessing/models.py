"""Witnessing as stored: the cosigned checkpoints the registry published, and what it knows of each witness.

:class:`CosignedCheckpoint` is append-only like the log's tables (on PostgreSQL
a trigger refuses UPDATE and DELETE, migration 0002): each row is a log
checkpoint note with the cosignature lines a witness round collected, each
line verified with its witness's key before it was kept. :class:`WitnessStatus`
is operational state (what size a witness is at, its last failure) and is
updated in place.
"""

from __future__ import annotations

from django.db import models


class CosignedCheckpoint(models.Model):
    id = models.BigAutoField(primary_key=True)
    tree_size = models.BigIntegerField()
    root_hash = models.BinaryField(max_length=32)
    # The log's signed note followed by the witnesses' cosignature lines (C2SP signed note).
    note = models.TextField()
    # Policy names of the witnesses whose line is in ``note``, space-separated, sorted.
    witnesses = models.TextField()
    quorum_met = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["tree_size"], name="cosigned_tree_size")]

    def __str__(self) -> str:
        return f"checkpoint at size {self.tree_size} cosigned by {self.witnesses}"


class WitnessStatus(models.Model):
    name = models.CharField(max_length=255, primary_key=True)  # the witness's name in the policy
    # The size of the latest checkpoint of our log the witness cosigned, as it last told us
    # (a 200 for the size we sent, or a 409's text/x.tlog.size); null until it answered.
    size = models.BigIntegerField(null=True, blank=True)
    last_cosigned_size = models.BigIntegerField(null=True, blank=True)
    last_cosigned_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.IntegerField(default=0)  # consecutive failed rounds

    def __str__(self) -> str:
        return f"witness {self.name} at size {self.size}"
