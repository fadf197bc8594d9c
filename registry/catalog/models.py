"""Catalog models: each label's private working copy. Identifiers are stored in the compact form of ``provenance.identifiers``.

UPCs and ISRCs are unique *per label* here, so a label's unsigned work never
blocks or informs another label; which label holds an identifier publicly is
decided when it is first signed (``registry.declarations.models.IdentifierClaim``;
docs/architecture.md, "One server-side draft store").

A Recording is one ISRC in one label's catalog; a Track is its appearance on one
release, and carries that appearance's facts (title, duration, audio hash,
artists), so the same ISRC can sit on a single and on its album, and editing
one release never changes what another release's signed declaration says.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from provenance import limits, vocabulary

LEVEL_CHOICES = [(level, vocabulary.LEVEL_LABELS[level]) for level in vocabulary.LEVELS]
PERSONA_CHOICES = [(p, vocabulary.PERSONA_LABELS[p]) for p in vocabulary.PERSONAS]


class Label(models.Model):
    name = models.CharField(max_length=255)
    dpid = models.CharField("DDEX Party ID", max_length=18, null=True, blank=True, unique=True)
    verified = models.BooleanField(default=False, help_text="Set only after staff reviewed who the label is.")
    contact_email = models.EmailField(blank=True)
    is_demo = models.BooleanField(default=False, help_text="Fictional demo content.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    OWNER, SUBMITTER = "owner", "submitter"
    ROLE_CHOICES = [(OWNER, "Owner"), (SUBMITTER, "Submitter")]

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="label_memberships")
    role = models.CharField(max_length=16, choices=ROLE_CHOICES, default=SUBMITTER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "user"], name="unique_label_member")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.label}"


# How a track's artists are listed in a statement: by name (Artist's ordering), equal names oldest first.
TRACK_ARTISTS_ORDER = ("name", "pk")


class Artist(models.Model):
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="artists")
    name = models.CharField(max_length=255)
    isni = models.CharField("ISNI", max_length=16, null=True, blank=True)
    persona = models.CharField(max_length=16, choices=PERSONA_CHOICES, default=vocabulary.HUMAN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["label", "isni"], name="unique_artist_isni_per_label"),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    def as_statement(self) -> dict[str, object]:
        return {"name": self.name, "isni": self.isni, "persona": self.persona}


class Release(models.Model):
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="releases")
    upc = models.CharField("UPC/EAN", max_length=14, db_index=True)
    title = models.CharField(max_length=limits.TITLE_MAX)
    release_date = models.DateField(null=True, blank=True)
    # DDEX requires a genre (DisplayGenre); required for releases created from 2026-12, empty on older ones.
    genre = models.CharField(max_length=limits.GENRE_MAX, blank=True, default="")
    artwork_ai = models.CharField("artwork AI level", max_length=8, choices=LEVEL_CHOICES, default=vocabulary.NONE)
    artists = models.ManyToManyField(Artist, through="ReleaseArtist", related_name="releases")
    # The newest signed version; maintained by the declaration services only.
    current_declaration = models.OneToOneField(
        "declarations.Declaration", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The release's disputes as lookups and pages show them (JSON, registry.disputes.selectors.PublicDispute),
    # rewritten by every dispute step under this row's lock, so a lookup stays one query; audit_log checks it.
    public_disputes = models.TextField(default="[]", editable=False)
    # Its platforms' observations as answers show them (JSON, registry.observations.selectors.PublicObservation),
    # rewritten by every observation (and every hiding) under this row's lock; audit_log checks it.
    public_observations = models.TextField(default="[]", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["title"])]
        constraints = [models.UniqueConstraint(fields=["label", "upc"], name="unique_release_upc_per_label")]

    def __str__(self) -> str:
        return f"{self.title} ({self.upc})"


class ReleaseArtist(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["release", "artist"], name="unique_release_artist")]

    def __str__(self) -> str:
        return f"{self.artist_id} on {self.release_id}"


class Recording(models.Model):
    """One ISRC in one label's catalog. Its facts belong to each appearance (``Track``)."""

    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="recordings")
    isrc = models.CharField("ISRC", max_length=12, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "isrc"], name="unique_recording_isrc_per_label")]

    def __str__(self) -> str:
        return self.isrc


class Track(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="tracks")
    recording = models.ForeignKey(Recording, on_delete=models.PROTECT, related_name="tracks")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=limits.TITLE_MAX)
    duration = models.PositiveIntegerField("duration (seconds)", null=True, blank=True)
    audio_sha256 = models.CharField(max_length=64, null=True, blank=True)
    artists = models.ManyToManyField(Artist, blank=True, related_name="tracks")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "position"], name="unique_track_position"),
            models.UniqueConstraint(fields=["release", "recording"], name="unique_track_recording"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"
