"""The statement of docs/protocol.md §1: building, parsing, and every rejection the schema makes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import statement as s
from provenance.errors import StatementError
from tests.provenance import factory


def test_build_statement_derives_every_contains_ai_and_fills_the_protocol_members() -> None:
    st = factory.statement(n_tracks=3)
    assert st["schema"] == "ai-disclosure/v1"
    assert st["declaration"]["declared_at"] == "2025-03-14T09:26:53Z"
    assert [t["contains_ai"] for t in st["tracks"]] == ["partly", "none", "none"]
    assert st["release"]["contains_ai"] == "partly"
    assert st["tracks"][0]["voice_likeness"] == {"imitates_real_person": False, "consent_reference": None}
    assert st["label"] == {"name": "Northern Lights Records", "dpid": "PADPIDA3897722461G", "verified": True}
    assert st["tracks"][1]["duration"] == 182


def test_build_statement_orders_tracks_by_position() -> None:
    tracks = [factory.track(2), factory.track(1)]
    st = factory.statement(tracks=tracks)
    assert [t["position"] for t in st["tracks"]] == [1, 2]


def test_an_all_ai_release_needs_all_ai_tracks_and_artwork() -> None:
    tracks = [
        factory.track(1, **dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), "all"))
    ]
    st = factory.statement(tracks=tracks, release={"upc": factory.upc(1), "title": "X", "artwork": "all"})
    assert st["tracks"][0]["contains_ai"] == "all" and st["release"]["contains_ai"] == "all"


def test_a_genre_is_written_only_when_known_so_older_statements_keep_their_shape() -> None:
    release = {"upc": factory.upc(1), "title": "X", "artwork": "none"}
    assert "genre" not in factory.statement(release=release)["release"]
    assert "genre" not in factory.statement(release={**release, "genre": ""})["release"]
    st = factory.statement(release={**release, "genre": "Afrobeats"})
    assert st["release"]["genre"] == "Afrobeats"
    assert s.parse_statement(s.statement_bytes(st)) == st


def test_identifiers_verified_is_written_only_when_given_and_sorted() -> None:
    assert "identifiers_verified" not in factory.statement()["release"]
    base = factory.statement()
    isrcs = sorted(t["isrc"] for t in base["tracks"])
    release = {**base["release"], "identifiers_verified": {"upc": False, "isrcs_unverified": isrcs[::-1]}}
    built = factory.statement(release=release)
    assert built["release"]["identifiers_verified"] == {"upc": False, "isrcs_unverified": isrcs}


@pytest.mark.parametrize(
    "bad",
    [
        {"upc": 1, "isrcs_unverified": []},
        {"upc": True},
        {"upc": True, "isrcs_unverified": ["USSKG1900000"]},
        {"upc": True, "isrcs_unverified": "x"},
        {"upc": True, "isrcs_unverified": [], "extra": 1},
        [],
    ],
)
def test_identifiers_verified_is_strictly_checked(bad: Any) -> None:
    st_ = copy.deepcopy(factory.statement())
    st_["release"]["identifiers_verified"] = bad
    with pytest.raises(StatementError, match="identifiers_verified|must"):
        s.validate_statement(st_)


def test_identifiers_verified_lists_each_isrc_once_in_order() -> None:
    st_ = copy.deepcopy(factory.statement())
    isrcs = sorted(t["isrc"] for t in st_["tracks"])
    for bad in ([isrcs[0], isrcs[0]], isrcs[::-1]):
        st_["release"]["identifiers_verified"] = {"upc": True, "isrcs_unverified": bad}
        with pytest.raises(StatementError, match="ascending order"):
            s.validate_statement(st_)


def test_parse_statement_round_trips_the_signed_bytes() -> None:
    st = factory.statement()
    assert s.parse_statement(s.statement_bytes(st)) == st


def test_unknown_members_are_ignored_for_forward_compatibility() -> None:
    st = factory.statement()
    st["future"] = {"x": 1}
    st["tracks"][0]["mood"] = "calm"
    assert s.validate_statement(st) is st


def _bad(mutate: Any) -> dict[str, Any]:
    st = copy.deepcopy(factory.statement(n_tracks=2))
    mutate(st)
    return st


def _set(path: str, value: Any) -> Any:
    def mutate(st: dict[str, Any]) -> None:
        *head, last = path.split(".")
        obj: Any = st
        for key in head:
            obj = obj[int(key)] if key.isdigit() else obj[key]
        obj[int(last) if last.isdigit() else last] = value

    return mutate


def _del(path: str) -> Any:
    def mutate(st: dict[str, Any]) -> None:
        *head, last = path.split(".")
        obj: Any = st
        for key in head:
            obj = obj[int(key)] if key.isdigit() else obj[key]
        del obj[last]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where", "message"),
    [
        (_set("tracks.0.parts.vocals", "some"), "tracks[0].parts.vocals", "unknown AI level 'some'"),
        (_set("release.artwork", "None"), "release.artwork", "unknown AI level 'None'"),
        (_set("release.contains_ai", "all"), "release.contains_ai", "its tracks and artwork give 'partly'"),
        (_set("tracks.0.contains_ai", "none"), "tracks[0].contains_ai", "its parts give 'partly'"),
        (_set("tracks.1.contains_ai", "partly"), "tracks[1].contains_ai", "its parts give 'none'"),
        (_del("schema"), "statement", "missing member 'schema'"),
        (_del("registry"), "statement", "missing member 'registry'"),
        (_del("declaration.declared_at"), "declaration", "missing member 'declared_at'"),
        (_del("tracks.0.voice_likeness"), "tracks[0]", "missing member 'voice_likeness'"),
        (_del("tracks.0.parts.lyrics"), "tracks[0].parts", "missing member 'lyrics'"),
        (_del("artists.0.persona"), "artists[0]", "missing member 'persona'"),
        (_set("schema", "ai-disclosure/v2"), "schema", "must be 'ai-disclosure/v1'"),
        (_set("declaration.version", 2), "declaration.supersedes", "previous version"),
        (_set("declaration.version", True), "declaration.version", "must be a whole number"),
        (_set("declaration.version", 0), "declaration.version", "must be at least 1"),
        (_set("tracks.0.position", True), "tracks[0].position", "must be a whole number"),
        (_set("tracks.0.duration", False), "tracks[0].duration", "must be a whole number"),
        (_set("tracks.0.duration", -1), "tracks[0].duration", "must be at least 0"),
        (_set("tracks.1.position", 1), "tracks[1].position", "position 1 appears twice"),
        (_set("tracks.1.isrc", factory.isrc(1)), "tracks[1].isrc", "appears twice"),
        (_set("tracks.0.isrc", "gb-xyz-25-00001"), "tracks[0].isrc", "compact canonical form 'GBXYZ2500001'"),
        (_set("release.upc", "012345678906"), "release.upc", "check digit should be 5, not 6"),
        (_set("label.dpid", "PADPIDA3897722461H"), "label.dpid", "check character should be G"),
        (_set("label.verified", "yes"), "label.verified", "must be true or false"),
        (_set("artists.0.isni", "0000000121464381"), "artists[0].isni", "check character should be X"),
        (_set("artists.0.persona", "robot"), "artists[0].persona", "must be 'human'"),
        (_set("artists", []), "artists", "at least one artist"),
        (_set("tracks", []), "tracks", "at least one track"),
        (
            _set("tracks.0.voice_likeness.imitates_real_person", True),
            "tracks[0].voice_likeness.consent_reference",
            "consent reference is required",
        ),
        (
            _set("tracks.0.voice_likeness.imitates_real_person", 1),
            "tracks[0].voice_likeness.imitates_real_person",
            "true or false",
        ),
        (_set("tracks.0.audio_sha256", "AB" * 32), "tracks[0].audio_sha256", "64 lower-case hex"),
        (_set("tracks.0.tools", ["ok", " "]), "tracks[0].tools[1]", "must not be blank"),
        (_set("tracks.0.title", "x" * 501), "tracks[0].title", "at most 500 characters"),
        (_set("declaration.id", "6F9619FF-8B86-D011-B42D-00CF4FC964FF"), "declaration.id", "lower-case UUID"),
        (_set("declaration.status", "withdrawn"), "declaration.status", "version 1 must be 'active'"),
        (_set("declaration.status", "deleted"), "declaration.status", "'active' or 'withdrawn'"),
        (_set("declaration.declared_at", "2025-03-14T09:26:53+01:00"), "declaration.declared_at", "ending in Z"),
        (_set("declaration.declared_at", "2025-02-30T09:26:53Z"), "declaration.declared_at", "day is out of range"),
        (_set("release.release_date", "2025-02-30"), "release.release_date", "not a real date"),
        (_set("release.release_date", 20250401), "release.release_date", "YYYY-MM-DD"),
        (_set("release.genre", " "), "release.genre", "must not be blank"),
        (_set("release.genre", ["Pop"]), "release.genre", "must be a string"),
        (_set("release.genre", "x" * 101), "release.genre", "at most 100 characters"),
        (
            _set("tracks.0.artists", [{"name": "Guest", "isni": None, "persona": "alien"}]),
            "tracks[0].artists[0].persona",
            "must be 'human'",
        ),
        (_set("tracks", {"0": {}}), "tracks", "must be a list"),
    ],
)
def test_the_schema_rejects(mutate: Any, where: str, message: str) -> None:
    with pytest.raises(StatementError, match=message) as info:
        s.validate_statement(_bad(mutate))
    assert info.value.path == where


def test_version_two_needs_a_reason_and_the_superseded_leaf() -> None:
    leaf = "ab" * 32
    good = factory.statement(version=2, supersedes=leaf, reason="Vocals were re-recorded by a singer")
    assert good["declaration"]["version"] == 2
    with pytest.raises(StatementError, match="a reason is required from version 2"):
        factory.statement(version=2, supersedes=leaf, reason=None)
    with pytest.raises(StatementError, match="hex leaf hash of the previous version"):
        factory.statement(version=2, supersedes=None, reason="fix")
    with pytest.raises(StatementError, match="must be null for version 1"):
        factory.statement(version=1, supersedes=leaf, reason=None)
    withdrawn = factory.statement(version=3, status="withdrawn", supersedes=leaf, reason="Released in error")
    assert withdrawn["declaration"]["status"] == "withdrawn"


def test_a_voice_imitating_a_real_person_needs_a_consent_reference() -> None:
    t = factory.track(1, vocals="all")
    t["voice_likeness"] = {"imitates_real_person": True, "consent_reference": None}
    with pytest.raises(StatementError, match="consent reference is required"):
        factory.statement(tracks=[t])
    t["voice_likeness"]["consent_reference"] = "Estate of A. Singer, licence 2025-07"
    assert factory.statement(tracks=[t])["tracks"][0]["voice_likeness"]["imitates_real_person"] is True


def test_parse_statement_rejects_floats_in_the_bytes() -> None:
    data = s.statement_bytes(factory.statement()).replace(b'"duration":181', b'"duration":1.5')
    assert b"1.5" in data
    with pytest.raises(StatementError, match="floats are not allowed"):
        s.parse_statement(data)


def test_parse_statement_rejects_duplicate_members_and_non_json() -> None:
    data = s.statement_bytes(factory.statement())
    with pytest.raises(StatementError, match="duplicate object member 'registry'"):
        s.parse_statement(data[:-1] + b',"registry":"evil.example/log"}')
    with pytest.raises(StatementError, match="not valid protocol JSON"):
        s.parse_statement(b"\x00" + data)
    with pytest.raises(StatementError, match="must be an object"):
        s.parse_statement(json.dumps([1]).encode())


def test_timestamps_are_whole_second_utc_with_z() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC)
    assert s.format_timestamp(moment) == "2025-01-02T03:04:05Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        s.format_timestamp(datetime(2025, 1, 1))  # noqa: DTZ001
    assert s.parse_timestamp("2025-01-02T03:04:05.25Z") == datetime(2025, 1, 2, 3, 4, 5, 250_000, tzinfo=UTC)


TRICKY = st.sampled_from(
    [None, True, False, 0, 1, -1, 7, "", " ", "\u2003", "x", "none", "partly", "all", "None", "GBXYZ2500001",
     "gbxyz2500001", "GB-XYZ-25-00001", "ISRC11900001", "ab" * 32, "ab" * 32 + "\n", "x" * 501, [], ["Suno"], [" "],
     ["x"] * 51, {}, {"imitates_real_person": True, "consent_reference": None},
     {"imitates_real_person": True, "consent_reference": "licence 7"}, {"imitates_real_person": 0, "consent_reference": None},
     {"imitates_real_person": False}, dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), "all"),
     {"composition": "none"}, {"composition": ["none"]}]
)  # fmt: skip
MEMBERS = st.sampled_from(
    [
        "isrc",
        "title",
        "position",
        "parts",
        "contains_ai",
        "voice_likeness",
        "tools",
        "audio_sha256",
        "duration",
        "artists",
    ]
)


DELETE = object()  # a change that removes the member


def _worded_track_check(track: Any, path: str, seen_isrc: set[str], seen_pos: set[int]) -> str:
    """The track rules through the worded helpers alone, with no fast test before them: the oracle."""
    t = s._obj(track, path)
    isrc = s._ident(s.identifiers.normalize_isrc, s._member(t, "isrc", path), f"{path}.isrc")
    if isrc in seen_isrc:
        raise StatementError(f"ISRC {isrc} appears twice", f"{path}.isrc")
    seen_isrc.add(isrc)
    s._text(s._member(t, "title", path), f"{path}.title", max_len=500)
    pos = s._int(s._member(t, "position", path), f"{path}.position", minimum=1)
    if pos in seen_pos:
        raise StatementError(f"position {pos} appears twice", f"{path}.position")
    seen_pos.add(pos)
    parts = s._obj(s._member(t, "parts", path), f"{path}.parts")
    for part in s.vocabulary.PARTS:
        s._level(s._member(parts, part, f"{path}.parts"), f"{path}.parts.{part}")
    level = s._level(s._member(t, "contains_ai", path), f"{path}.contains_ai")
    derived = s.vocabulary.track_contains_ai(parts)
    if level != derived:
        raise StatementError(f"is {level!r} but its parts give {derived!r}", f"{path}.contains_ai")
    likeness = s._obj(s._member(t, "voice_likeness", path), f"{path}.voice_likeness")
    imitates = s._member(likeness, "imitates_real_person", f"{path}.voice_likeness")
    if not isinstance(imitates, bool):
        raise StatementError("must be true or false", f"{path}.voice_likeness.imitates_real_person")
    consent = s._text(
        s._member(likeness, "consent_reference", f"{path}.voice_likeness"),
        f"{path}.voice_likeness.consent_reference",
        nullable=True,
    )
    if imitates and consent is None:
        raise StatementError(
            "a consent reference is required when the voice imitates a real person",
            f"{path}.voice_likeness.consent_reference",
        )
    tools = s._list(s._member(t, "tools", path), f"{path}.tools", max_len=50)
    for j, tool in enumerate(tools):
        s._text(tool, f"{path}.tools[{j}]", max_len=200)
    sha = s._member(t, "audio_sha256", path)
    if sha is not None and (not isinstance(sha, str) or not s._HEX64.fullmatch(sha)):
        raise StatementError("must be 64 lower-case hex digits or null", f"{path}.audio_sha256")
    if "duration" in t and t["duration"] is not None:
        s._int(t["duration"], f"{path}.duration", minimum=0)
    if "artists" in t:
        for j, artist in enumerate(s._list(t["artists"], f"{path}.artists", max_len=200)):
            s._validate_artist(artist, f"{path}.artists[{j}]")
    return level


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(MEMBERS, TRICKY | st.just(DELETE)), max_size=3), st.booleans())
def test_the_fast_track_check_never_accepts_what_the_full_check_rejects(changes: list, seen: bool) -> None:
    track = copy.deepcopy(factory.statement(n_tracks=1)["tracks"][0])
    for member, value in changes:
        if value is DELETE:
            track.pop(member, None)
        else:
            track[member] = value
    # With ``seen``, an ISRC and a position an earlier track took (the factory's own, or one the changes set).
    seen_isrc, seen_pos = ({"GBXYZ2500001"}, {7}) if seen else (set(), set())
    try:
        level = s._validate_track(track, "tracks[0]", set(seen_isrc), set(seen_pos))
    except StatementError as exc:
        # Refused: for the very reason, worded the very way, the worded checks alone give.
        with pytest.raises(StatementError) as worded:
            _worded_track_check(track, "tracks[0]", set(seen_isrc), set(seen_pos))
        assert str(worded.value) == str(exc)
    else:
        assert _worded_track_check(track, "tracks[0]", set(seen_isrc), set(seen_pos)) == level == track["contains_ai"]


def test_the_fast_track_check_accepts_the_usual_tracks(monkeypatch: pytest.MonkeyPatch) -> None:
    st_ = factory.statement(n_tracks=12)
    st_["tracks"][3]["voice_likeness"] = {"imitates_real_person": True, "consent_reference": "licence 7"}
    st_["tracks"][4]["audio_sha256"] = "ab" * 32

    def worded(*args: object, **kwargs: object) -> None:
        raise AssertionError("a usual track reached a worded check")

    for helper in ("_ident", "_text", "_int", "_level", "_list", "_member"):
        monkeypatch.setattr(s, helper, worded)
    seen_isrc: set[str] = set()
    seen_pos: set[int] = set()
    for i, t in enumerate(st_["tracks"]):
        assert s._validate_track(t, f"tracks[{i}]", seen_isrc, seen_pos) == t["contains_ai"]


@pytest.mark.parametrize("path", ["tracks.0.audio_sha256", "declaration.id"])
def test_a_trailing_newline_does_not_sneak_past_a_pattern(path: str) -> None:
    st_ = factory.statement()
    value = st_["tracks"][0]["audio_sha256"] if path.startswith("tracks") else st_["declaration"]["id"]
    value = (value or "ab" * 32) + "\n"
    with pytest.raises(StatementError):
        s.validate_statement(_bad(_set(path, value)))


def test_an_icelandic_isrc_starting_isrc_is_not_mistaken_for_a_prefix() -> None:
    t = factory.track(1)
    t["isrc"] = "ISRC11900001"  # country IS, registrant RC1
    assert factory.statement(tracks=[t])["tracks"][0]["isrc"] == "ISRC11900001"
