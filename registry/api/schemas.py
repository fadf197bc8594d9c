"""Response shapes and examples for the OpenAPI document (documentation only: views render the bytes)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from registry.declarations.batch import BATCH_MAX


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorOut(serializers.Serializer):
    error = ErrorDetail()


class BundleField(serializers.JSONField):
    """A bundle (docs/protocol.md §7), exactly as signed and logged."""


class DisputeOut(serializers.Serializer):
    """A dispute on the release (docs/protocol.md §15): who opened it, on what, its state and its log leaves."""

    id = serializers.UUIDField()
    opened_by = serializers.ChoiceField(choices=["artist", "rights_holder", "platform"])
    isrc = serializers.CharField(allow_null=True)
    part = serializers.CharField()
    declaration_version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["open", "answered", "upheld", "rejected", "withdrawn"])
    opened_at = serializers.DateTimeField()
    log_indexes = serializers.ListField(child=serializers.IntegerField())


class ObservedByOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class ObservationOut(serializers.Serializer):
    """A platform's signed observation (docs/protocol.md §16): apart from the declaration, never merged into it."""

    id = serializers.UUIDField()
    platform = ObservedByOut()
    isrc = serializers.CharField()
    observed = serializers.DictField(child=serializers.ChoiceField(choices=["none", "partly", "all"]))
    method = serializers.CharField()
    observed_at = serializers.DateField()
    declaration_version = serializers.IntegerField(allow_null=True)
    log_index = serializers.IntegerField()


class RecordingOut(serializers.Serializer):
    isrc = serializers.CharField()
    status = serializers.ChoiceField(choices=["declared"])
    disclosure = serializers.DictField()
    also_in = serializers.ListField(child=serializers.CharField())
    disputes = DisputeOut(many=True)
    observations = ObservationOut(many=True)
    bundle = serializers.DictField()


class ReleaseOut(serializers.Serializer):
    upc = serializers.CharField()
    status = serializers.ChoiceField(choices=["declared"])
    disclosure = serializers.DictField()
    disputes = DisputeOut(many=True)
    observations = ObservationOut(many=True)
    bundle = serializers.DictField()


class RecordingNotDeclaredOut(serializers.Serializer):
    isrc = serializers.CharField()
    status = serializers.ChoiceField(choices=["not_declared"])


class ReleaseNotDeclaredOut(serializers.Serializer):
    upc = serializers.CharField()
    status = serializers.ChoiceField(choices=["not_declared"])


class HistoryVersionOut(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["active", "withdrawn"])
    reason = serializers.CharField(allow_null=True)
    declared_at = serializers.CharField()
    changes = serializers.ListField(child=serializers.CharField())
    bundle = serializers.DictField()


class HistoryOut(serializers.Serializer):
    upc = serializers.CharField()
    versions = HistoryVersionOut(many=True)


class LookupOut(serializers.Serializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="One answer per identifier: declared (as the single lookups), "
        '{"isrc"|"upc", "status": "not_declared"}, or {"isrc"|"upc", "status": "invalid", "error"}.',
    )


class FeedEntryOut(serializers.Serializer):
    index = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=["dispute", "observation"], required=False, help_text="Only on dispute steps and observations"
    )
    bundle = serializers.DictField()


class FeedOut(serializers.Serializer):
    entries = FeedEntryOut(many=True)
    next = serializers.IntegerField(allow_null=True)


class InclusionOut(serializers.Serializer):
    index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField())


class ConsistencyOut(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField())


class JwksOut(serializers.Serializer):
    keys = serializers.ListField(child=serializers.DictField())


class CheckOut(serializers.Serializer):
    name = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class VerifyOut(serializers.Serializer):
    valid = serializers.BooleanField()
    checks = CheckOut(many=True)
    disclosure = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Only when isrc or upc was asked: derived from the signed statement (null when not valid).",
    )


class DeclarationRef(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    declared_at = serializers.CharField()
    leaf_index = serializers.IntegerField()


class WriteOut(serializers.Serializer):
    upc = serializers.CharField()
    declaration = DeclarationRef()
    disclosure = serializers.DictField()
    bundle = serializers.DictField()


class LabelReleaseOut(serializers.Serializer):
    upc = serializers.CharField()
    title = serializers.CharField()
    release_date = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=["not_declared", "active", "withdrawn"])
    version = serializers.IntegerField(allow_null=True)
    declared_at = serializers.DateTimeField(allow_null=True)
    contains_ai = serializers.CharField(allow_null=True)
    tracks = serializers.IntegerField()


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOut, description=description)


ERROR_EXAMPLE = OpenApiExample(
    "Malformed ISRC",
    value={
        "error": {
            "code": "invalid",
            "message": "ISRC must have 12 characters (CC-XXX-YY-NNNNN), got 5",
            "fields": {"isrc": ["ISRC must have 12 characters (CC-XXX-YY-NNNNN), got 5"]},
        }
    },
    response_only=True,
    status_codes=["400"],
)

AUTH_PARAMS = [
    OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=False,
        description="Retry-safe writes: the same key with the same body replays the first answer; "
        "with a different body it is refused (422).",
    )
]

TRACK_AI_EXAMPLE = {
    "parts": {
        "composition": "none",
        "lyrics": "none",
        "vocals": "all",
        "instrumentation": "partly",
        "production": "none",
    },
    "tools": ["Suno v4"],
    "voice_likeness": {"imitates_real_person": False, "consent_reference": None},
}

CREATE_EXAMPLE = OpenApiExample(
    "A single with a synthetic voice",
    value={
        "upc": "123456789999",
        "title": "Signals",
        "genre": "Electronic",
        "release_date": "2026-03-01",
        "artwork": "partly",
        "artists": [{"name": "Aurora Vale", "isni": None, "persona": "synthetic"}],
        "tracks": [
            {
                "isrc": "US-SKG-19-12345",
                "title": "Signals",
                "position": 1,
                "duration": 201,
                "audio_sha256": None,
                "ai": TRACK_AI_EXAMPLE,
            }
        ],
    },
    request_only=True,
)


class BulkItemIn(serializers.Serializer):
    """One item of a bulk request (documentation: the view reads each item with the single endpoints' shapes)."""

    action = serializers.ChoiceField(
        choices=["declare", "amend", "withdraw"],
        default="declare",
        help_text="declare: the body of POST /api/v1/releases. amend: `upc` plus the body of POST "
        "/api/v1/releases/{upc}/amend. withdraw: `upc` plus the body of POST /api/v1/releases/{upc}/withdraw.",
    )
    upc = serializers.CharField(max_length=32)


class BulkIn(serializers.Serializer):
    releases = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=BATCH_MAX)


class BulkResultOut(serializers.Serializer):
    index = serializers.IntegerField(help_text="The item's position in the request (0-based; NDJSON: its line).")
    action = serializers.CharField(allow_null=True)
    upc = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "amended", "withdrawn", "error"])
    declaration = WriteOut(allow_null=True, help_text="What the single endpoint answers, bundle included.")
    error = ErrorDetail(allow_null=True)


class BulkOut(serializers.Serializer):
    logged = serializers.IntegerField(help_text="Items signed and logged (one checkpoint for all of them).")
    refused = serializers.IntegerField(help_text="Items refused: nothing of them was kept.")
    results = BulkResultOut(many=True)


BULK_EXAMPLE = OpenApiExample(
    "Declare one release, amend another, withdraw a third",
    value={
        "releases": [
            CREATE_EXAMPLE.value,
            {"action": "amend", "upc": "123456789012", "reason": "The vocal was generated.", "expected_version": 1},
            {"action": "withdraw", "upc": "123456789029", "reason": "Released by mistake."},
        ]
    },
    request_only=True,
)
