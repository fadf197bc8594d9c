"""Declarations: one row per signed version. Immutable once written (PostgreSQL trigger, migration 0002)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models

from registry.bulk_insert import AnyOf
from registry.catalog.models import LEVEL_CHOICES, Release
from registry.transparency.models import LogLeaf, SigningKey


class InsertAsValuesTextField(models.TextField):
    """A TextField that bulk_create sends as plain row values, not as one UNNEST array.

    Django 5.2 bulk-inserts on PostgreSQL through ``UNNEST(%s::text[])``, and psycopg
    escapes every quote of every array element with a Python regex: for JSON
    summaries that cost ~5 ms per 20-track declaration. Defining ``get_placeholder``
    is Django's documented way out of that path (postgresql/compiler.py).
    """

    def get_placeholder(self, value: object, compiler: object, connection: object) -> str:
        return "%s"


class Declaration(models.Model):
    ACTIVE, WITHDRAWN = "active", "withdrawn"
    STATUS_CHOICES = [(ACTIVE, "Active"), (WITHDRAWN, "Withdrawn")]
    VIA_CHOICES = [
        ("web", "Web form"),
        ("api", "API"),
        ("import", "DDEX import"),
        ("demo", "Demo data"),
        ("admin", "Admin"),
    ]

    # The statement's declaration.id: one UUID for all versions of a release's declaration.
    uid = models.UUIDField(default=uuid.uuid4, db_index=True)
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="declarations")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    reason = models.TextField(blank=True)
    supersedes = models.CharField(max_length=64, null=True, blank=True)
    declared_at = models.DateTimeField()
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    via = models.CharField(max_length=16, choices=VIA_CHOICES, default="web")
    contains_ai = models.CharField(max_length=8, choices=LEVEL_CHOICES)
    statement = models.JSONField()
    leaf = models.OneToOneField(LogLeaf, on_delete=models.PROTECT, related_name="declaration")
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="declarations")
    # The bundle (docs/protocol.md §7) as issued when the leaf was logged: canonical JSON bytes,
    # served as stored so that lookups never re-serialize and ETags stay stable. Bulk-inserted as plain
    # row values (a batch's ~10 KB bundles full of quotes cost ~6 ms each through the UNNEST path).
    bundle = InsertAsValuesTextField()
    # The release's disclosure summary (provenance.disclosure.summary_text), derived from the signed
    # statement when it is logged, so lookups splice text instead of decoding JSON.
    # audit_log checks it against the statement (migration 0005 derived it for rows logged before it existed).
    summary = models.TextField(blank=True, default="")
    # Each track's disclosure summary (summary_text(statement, isrc)), one after another, each ISRC
    # once; a DeclaredRecording names its text by ``summary_at``/``summary_length`` (UTF-8 bytes). Kept
    # here, not on the ~10 index rows, so the ISRC index a lookup probes stays ~80 bytes a row (it
    # was ~1 KB with the text inline: 10 GB at 10M tracks) while this column is compressed with the
    # rest of the row (the tracks' texts share most of their members). Migration 0008 derived it.
    track_summaries = InsertAsValuesTextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["release_id", "version"]
        constraints = [models.UniqueConstraint(fields=["release", "version"], name="unique_declaration_version")]

    def __str__(self) -> str:
        return f"{self.release.upc} v{self.version} ({self.status})"

    @property
    def leaf_hash_hex(self) -> str:
        return bytes(self.leaf.leaf_hash).hex()


class DeclaredRecording(models.Model):
    """Index of which ISRCs a declaration version covers, for lookups by ISRC."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="recordings")
    isrc = models.CharField(max_length=12, db_index=True)
    position = models.PositiveSmallIntegerField()
    contains_ai = models.CharField(max_length=8, choices=LEVEL_CHOICES)
    # Where the recording's disclosure summary is in ``declaration.track_summaries``: its first byte
    # (from 0) and its length in bytes, of the UTF-8 text. Bytes, not characters: PostgreSQL finds a
    # character offset by walking the text from its start (~30 µs at 5,000 characters: a 1000-ISRC
    # bulk lookup spent 30 ms on it), a byte offset at once (stored_answers.recording_answers).
    summary_at = models.PositiveIntegerField(default=0)
    summary_length = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["declaration_id", "position"]

    def __str__(self) -> str:
        return f"{self.isrc} in declaration {self.declaration_id}"

    def summary_in(self, track_summaries: bytes) -> str:
        """The recording's disclosure summary, cut from its declaration's ``track_summaries`` as UTF-8 bytes
        (encoded once by a caller that reads all the declaration's recordings)."""
        return track_summaries[self.summary_at : self.summary_at + self.summary_length].decode()


def pack_track_summaries(track_summaries: dict[str, str]) -> tuple[str, dict[str, tuple[int, int]]]:
    """``Declaration.track_summaries`` from ``{isrc: summary text}``, and each ISRC's (start, length) in it,
    in UTF-8 bytes."""
    places: dict[str, tuple[int, int]] = {}
    at = 0
    for isrc, text in track_summaries.items():
        size = len(text.encode())
        places[isrc] = (at, size)
        at += size
    return "".join(track_summaries.values()), places


class IdentifierClaim(models.Model):
    """Which label holds a UPC or ISRC: the first label to sign a declaration covering it.

    Written in the signing transaction (``declarations.services``), one row per identifier,
    so two labels can never both sign the same identifier, while unsigned catalog rows
    (unique per label only) never block or inform another label.
    """

    UPC, ISRC = "upc", "isrc"
    KIND_CHOICES = [(UPC, "UPC/EAN"), (ISRC, "ISRC")]

    kind = models.CharField(max_length=4, choices=KIND_CHOICES)
    value = models.CharField(max_length=14)
    label = models.ForeignKey("catalog.Label", on_delete=models.PROTECT, related_name="identifier_claims")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="unique_identifier_claim")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} held by label {self.label_id}"

    @classmethod
    def holders(cls, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The label id holding each ``(kind, value)`` of ``wanted`` that is claimed already (1 query).

        Filtered by kind and value, so that the unique (kind, value) index answers it: by value
        alone PostgreSQL reads the whole table (~70 ms at 150,000 claims, three times per batch).
        """
        by_kind: dict[str, set[str]] = {}
        for kind, value in wanted:
            by_kind.setdefault(kind, set()).add(value)
        if not by_kind:
            return {}
        match = models.Q()
        for kind, values in sorted(by_kind.items()):
            match |= models.Q(kind=kind) & AnyOf(models.F("value"), sorted(values))
        rows = cls.objects.filter(match).values_list("kind", "value", "label_id")
        return {(kind, value): label_id for kind, value, label_id in rows}
