"""Derivation of contains_ai and the mappings to DDEX, Apple Music and IPTC."""

from __future__ import annotations

import itertools

import pytest

from provenance import vocabulary as v


@pytest.mark.parametrize(
    ("levels", "combined"),
    [
        ([], "none"),
        (["none"], "none"),
        (["none", "none"], "none"),
        (["all"], "all"),
        (["all", "all"], "all"),
        (["partly"], "partly"),
        (["none", "all"], "partly"),
        (["all", "partly"], "partly"),
        (["none", "partly"], "partly"),
    ],
)
def test_combine_gives_none_only_for_all_none_and_all_only_for_all_all(levels: list[str], combined: str) -> None:
    assert v.combine(levels) == combined


def test_combine_rejects_unknown_levels() -> None:
    with pytest.raises(ValueError, match="unknown AI level"):
        v.combine(["none", "some"])


def test_a_track_level_follows_its_five_parts_in_every_combination() -> None:
    for combo in itertools.product(v.LEVELS, repeat=5):
        parts = dict(zip(v.PARTS, combo, strict=True))
        expected = "none" if set(combo) == {"none"} else "all" if set(combo) == {"all"} else "partly"
        assert v.track_contains_ai(parts) == expected


def test_a_release_level_counts_its_artwork() -> None:
    assert v.release_contains_ai(["none", "none"], "none") == "none"
    assert v.release_contains_ai(["none", "none"], "all") == "partly"
    assert v.release_contains_ai(["all", "all"], "all") == "all"
    assert v.release_contains_ai(["all"], "none") == "partly"


def test_ddex_values_are_the_ern_4_3_2_contains_ai_values() -> None:
    assert [v.ddex_contains_ai(level) for level in v.LEVELS] == ["None", "Partly", "All"]
    assert v.DDEX_LEVEL_FROM_CONTAINS_AI == {"none": "none", "partly": "partly", "all": "all"}
    parts = {
        "composition": "partly",
        "lyrics": "none",
        "vocals": "all",
        "instrumentation": "none",
        "production": "none",
    }
    assert v.ddex_ai_contributions(parts) == [
        {"role": "Composer", "contains_ai": "Partly"},
        {"role": "Vocalist", "contains_ai": "All"},
    ]
    assert {v.DDEX_PART_FOR_ROLE[r] for r in v.DDEX_ROLE_FOR_PART.values()} == set(v.PARTS)


def test_every_ddex_role_we_write_or_read_is_an_ern_432_contributor_role() -> None:
    from tests.ddex import allowed_values

    roles = allowed_values("ContributorRole")
    assert set(v.DDEX_ROLE_FOR_PART.values()) <= roles
    legacy = {"Instrumentalist", "Producer"}  # our own exports before 2026-12; read, never written
    assert set(v.DDEX_PARTS_FOR_ROLE) - legacy <= roles
    assert not legacy & roles
    for role, part in v.DDEX_PART_FOR_ROLE.items():
        assert v.DDEX_PARTS_FOR_ROLE[role] == (part,)


def test_apple_music_tags_split_sound_from_songwriting_and_artwork() -> None:
    none = dict.fromkeys(v.PARTS, "none")
    assert v.apple_transparency_tags(none, "none") == []
    assert v.apple_transparency_tags({**none, "production": "partly"}, "none") == ["Track"]
    assert v.apple_transparency_tags({**none, "lyrics": "all"}, "partly") == ["Composition", "Artwork"]
    assert v.apple_transparency_tags(dict.fromkeys(v.PARTS, "all"), "all") == ["Track", "Composition", "Artwork"]
    assert v.apple_transparency_tags(artwork="all") == ["Artwork"]
    assert "Music Video" not in v.apple_transparency_tags(dict.fromkeys(v.PARTS, "all"), "all")


def test_iptc_digital_source_types_are_the_iptc_newscodes() -> None:
    base = "http://cv.iptc.org/newscodes/digitalsourcetype/"
    assert v.iptc_digital_source_type("none") == base + "digitalCreation"
    assert v.iptc_digital_source_type("partly") == base + "compositeWithTrainedAlgorithmicMedia"
    assert v.iptc_digital_source_type("all") == base + "trainedAlgorithmicMedia"
