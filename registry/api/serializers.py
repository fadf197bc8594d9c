"""Request shapes of the API: types and sizes only. What a value *means* is checked by the services."""

from __future__ import annotations

from rest_framework import serializers

from provenance import limits, vocabulary
from registry.catalog.services import RELEASE_MAX_TRACKS
from registry.text_input import AllowedCharactersValidator

LEVELS = list(vocabulary.LEVELS)


class Text(serializers.CharField):
    """A name, title or reason: also refuses what ``provenance.text.refusal`` refuses (controls, U+FFFF …)."""

    def __init__(self, *, multiline: bool = False, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.validators.append(AllowedCharactersValidator(multiline=multiline))


class ArtistIn(serializers.Serializer):
    name = Text(max_length=255)
    isni = serializers.CharField(max_length=32, required=False, allow_null=True, allow_blank=True)
    persona = serializers.ChoiceField(choices=list(vocabulary.PERSONAS), default=vocabulary.HUMAN)


class PartsIn(serializers.Serializer):
    composition = serializers.ChoiceField(choices=LEVELS)
    lyrics = serializers.ChoiceField(choices=LEVELS)
    vocals = serializers.ChoiceField(choices=LEVELS)
    instrumentation = serializers.ChoiceField(choices=LEVELS)
    production = serializers.ChoiceField(choices=LEVELS)


class VoiceLikenessIn(serializers.Serializer):
    imitates_real_person = serializers.BooleanField(default=False)
    consent_reference = Text(max_length=limits.CONSENT_REFERENCE_MAX, required=False, allow_null=True, allow_blank=True)


class TrackAIIn(serializers.Serializer):
    parts = PartsIn()
    tools = serializers.ListField(
        child=Text(max_length=limits.TOOL_MAX), max_length=limits.TOOLS_MAX, required=False, default=list
    )
    voice_likeness = VoiceLikenessIn(required=False)


class TrackIn(serializers.Serializer):
    isrc = serializers.CharField(max_length=32)
    title = Text(max_length=limits.TITLE_MAX)
    position = serializers.IntegerField(min_value=1, max_value=999, required=False)
    # DDEX requires every track's duration: a new release gives it (an amendment may leave it unchanged).
    duration = serializers.IntegerField(min_value=0, max_value=86400, help_text="Whole seconds.")
    audio_sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", required=False, allow_null=True)
    artists = ArtistIn(many=True, required=False, max_length=limits.RELEASE_ARTISTS_MAX)
    ai = TrackAIIn()


class AmendTrackIn(TrackIn):
    duration = serializers.IntegerField(min_value=0, max_value=86400, required=False, allow_null=True)
    ai = TrackAIIn(required=False)


class ReleaseCreateIn(serializers.Serializer):
    upc = serializers.CharField(max_length=32)
    title = Text(max_length=limits.TITLE_MAX)
    genre = Text(max_length=limits.GENRE_MAX, help_text="The main genre (DDEX requires one), e.g. Pop.")
    release_date = serializers.DateField(required=False, allow_null=True)
    artwork = serializers.ChoiceField(choices=LEVELS, default=vocabulary.NONE)
    artists = ArtistIn(many=True, max_length=limits.RELEASE_ARTISTS_MAX)
    tracks = TrackIn(many=True, max_length=RELEASE_MAX_TRACKS)


class AmendIn(serializers.Serializer):
    reason = Text(max_length=limits.REASON_MAX, multiline=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)
    ai = serializers.DictField(child=TrackAIIn(), required=False)
    title = Text(max_length=limits.TITLE_MAX, required=False)
    genre = Text(max_length=limits.GENRE_MAX, required=False)
    release_date = serializers.DateField(required=False)
    artwork = serializers.ChoiceField(choices=LEVELS, required=False)
    artists = ArtistIn(many=True, required=False, max_length=limits.RELEASE_ARTISTS_MAX)
    tracks = AmendTrackIn(many=True, required=False, max_length=RELEASE_MAX_TRACKS)


class WithdrawIn(serializers.Serializer):
    reason = Text(max_length=limits.REASON_MAX, multiline=True)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class LookupIn(serializers.Serializer):
    isrcs = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list
    )
    upcs = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False, default=list
    )  # Only the schema's description of the body: LookupView checks it without a field per item.
