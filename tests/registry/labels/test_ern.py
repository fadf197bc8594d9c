"""parse_ern: the AI markup ERN 4.3.2 defines, read where the schema puts it; order, delivery shapes, refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from registry.errors import ValidationFailed
from registry.labels import ern_ai
from registry.labels.ern import parse_ern, sender_warning
from tests.ddex import schema_errors

ERN = Path(__file__).resolve().parents[2] / "data" / "ern"
# Deliberately hostile or foreign: not ERN 4.3.x messages, never schema-valid.
NOT_ERN_43 = {"billion-laughs.xml", "xxe.xml", "ern-382.xml"}
NONE5 = dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), "none")


def parse(name: str) -> dict:
    return parse_ern((ERN / name).read_bytes())


def parts(name: str) -> list[dict]:
    return [t["parts"] for t in parse(name)["tracks"]]


@pytest.mark.parametrize("name", sorted(p.name for p in ERN.glob("*.xml") if p.name not in NOT_ERN_43))
def test_every_fixture_message_is_valid_ern_432(name):
    data = (ERN / name).read_bytes()
    # ERN 4.3 shares 4.3.2's shape (minus the AI elements): the 4.3 fixture is checked under the 4.3.2 namespace.
    data = data.replace(b'"http://ddex.net/xml/ern/43"', b'"http://ddex.net/xml/ern/432"')
    if data.startswith(b"\xff\xfe"):
        text = data.decode("utf-16").replace('encoding="UTF-16"', 'encoding="UTF-8"')
        data = text.encode()
    assert schema_errors(data) == []


def test_it_reads_named_people_generative_ai_and_contains_ai():
    data = parse("mixed-ai-432.xml")
    assert data["ern_version"] == "4.3.2"
    assert (data["upc"], data["title"], data["release_date"]) == ("036000291452", "Northern Signals", date(2026, 4, 17))
    assert (data["genre"], data["contains_ai"], data["artwork"]) == ("Electronic", "partly", "partly")
    assert data["artists"] == [{"name": "Aurora Fields", "isni": "000000012146438X", "persona": "human"}]
    first, second, third = data["tracks"]
    assert (first["isrc"], first["position"], first["duration"]) == ("QZTST2600101", 1, 201)
    assert first["parts"] == NONE5 and first["unstated"] == []
    # Named people with AiContribution None; a GenerativeAI vocalist without AiContribution (default All);
    # a GenerativeAI producer with Partly beside a human mixer.
    assert second["parts"] == {
        "composition": "none",
        "lyrics": "none",
        "vocals": "all",
        "instrumentation": "none",
        "production": "partly",
    }
    assert set(third["parts"].values()) == {"all"}
    # GenerativeAI contributors have no name and named people are not tools: tools are the label's to give.
    assert [t["tools"] for t in data["tracks"]] == [[], [], []]
    assert data["warnings"] == []


def test_contributors_alone_state_only_the_parts_they_play():
    borrowed, two_hands, quiet = parse("contributors-432.xml")["tracks"]
    # ContainsAI Partly: the GenerativeAI vocalist (Partly) and the guitarist (None) say two parts, the rest is open.
    assert borrowed["parts"] == {
        "composition": None,
        "lyrics": None,
        "vocals": "partly",
        "instrumentation": "none",
        "production": None,
    }
    assert borrowed["unstated"] == ["composition", "lyrics", "production"]
    # A human composer (None) and a GenerativeAI composer (All) → partly; a named lyricist with Partly → partly;
    # a GenerativeAI EditionContributor producer without AiContribution → all; a named vocalist whose AI use
    # is not stated → not stated.
    assert two_hands["parts"] == {
        "composition": "partly",
        "lyrics": "partly",
        "vocals": None,
        "instrumentation": None,
        "production": "all",
    }
    assert two_hands["contains_ai"] is None
    assert quiet["parts"] == NONE5  # ContainsAI None states every part
    assert parse("contributors-432.xml")["artwork"] is None  # no image: not stated


def test_contains_ai_on_the_recording_frames_the_parts():
    data = parse("contains-ai-432.xml")
    dry, half, cloud = data["tracks"]
    assert dry["parts"] == NONE5
    assert set(half["parts"].values()) == {None} and len(half["unstated"]) == 5  # Partly says no part
    assert set(cloud["parts"].values()) == {"all"}
    # The front cover says All; the booklet photograph's None is not our artwork.
    assert data["artwork"] == "all"


def test_the_release_contains_ai_none_covers_recordings_and_front_cover_that_say_nothing():
    data = parse("release-none-432.xml")
    (track,) = data["tracks"]
    assert track["contains_ai"] is None and track["parts"] == NONE5
    assert data["artwork"] == "none"


def test_an_ai_display_artist_is_flagged_not_named():
    data = parse("ai-persona-432.xml")
    assert data["artists"] == [{"name": "Lena Quist", "isni": None, "persona": "human"}]
    assert data["ai_display_artist"] is True
    assert any("SpecialDisplayArtist GenerativeAI" in w for w in data["warnings"])
    assert data["artwork"] is None  # a front cover without ContainsAI, a release that says Partly


def test_nested_resource_groups_give_ddex_order_and_other_resources_are_not_tracks():
    data = parse("multi-disc-gtin14-432.xml")
    assert data["upc"] == "10036000291459"  # GTIN-14 as written
    assert [(t["position"], t["isrc"]) for t in data["tracks"]] == [
        (1, "QZTST2600801"),
        (2, "QZTST2600802"),
        (3, "QZTST2600803"),
        (4, "QZTST2600804"),
        (5, "QZTST2600805"),
    ]
    assert [t["duration"] for t in data["tracks"]] == [360, 270, 435, 239, 301]
    assert data["artwork"] == "none" and data["genre"] == "Classical"


def test_a_utf16_file_with_a_bom_is_read():
    data = parse("utf16-432.xml")
    assert data["title"] == "Café Ørsted" and data["tracks"][0]["title"] == "Þú og ég"
    assert data["artists"][0]["name"] == "Søren Åkesson"


def test_ern_43_is_read_and_says_it_states_no_ai():
    data = parse("single-43.xml")
    assert data["ern_version"] == "4.3" and data["release_date"] == date(2025, 11, 2)  # OriginalReleaseDate
    (track,) = data["tracks"]
    assert (track["isrc"], track["title"], track["duration"]) == ("QZTST2600201", "Handmade", 180)
    assert set(track["parts"].values()) == {None} and data["artwork"] is None
    assert any("ERN 4.3 files carry no AI markup" in w for w in data["warnings"])


def test_a_contributor_contradicting_contains_ai_leaves_its_part_to_the_label():
    xml = (
        (ERN / "mixed-ai-432.xml")
        .read_bytes()
        .replace(
            b"<ContainsAI>Partly</ContainsAI>\n    </SoundRecording>",
            b"<ContainsAI>None</ContainsAI>\n    </SoundRecording>",
        )
    )
    second = parse_ern(xml)["tracks"][1]
    assert second["parts"]["vocals"] is None and second["parts"]["production"] is None
    assert second["parts"]["composition"] == "none"
    assert any("says otherwise" in w for w in parse_ern(xml)["warnings"])


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([("none", False)], "none"),
        ([(None, False)], None),  # a named person, AI use not stated
        ([("none", False), (None, False)], None),
        ([("none", False), ("all", True)], "partly"),  # a human composer beside a GenerativeAI composer
        ([(None, False), ("all", True)], "partly"),
        ([("all", True), ("all", True)], "all"),
        ([("partly", True)], "partly"),
        ([], None),
    ],
)
def test_the_combination_rule(levels, expected):
    evidence = [ern_ai.Contribution(parts=("composition",), level=lv, generative=g) for lv, g in levels]
    assert ern_ai.combine_part(evidence) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ern-382.xml", r"ERN 3\.8\.2 \(namespace http://ddex\.net/xml/ern/382\) is not supported; send ERN 4\.3\.2"),
        ("proprietary-id-432.xml", "track 2 “Catalogue Only” \\(resource A2, ProprietaryId CAT-0042-02\\)"),
        ("missing-resource-432.xml", "lists resource A9 in its ResourceGroup, but the ResourceList has no"),
        ("billion-laughs.xml", "DTD, entities or external references"),
        ("xxe.xml", "DTD, entities or external references"),
    ],
)
def test_files_that_cannot_be_imported_say_why(name, message):
    with pytest.raises(ValidationFailed, match=message) as exc:
        parse(name)
    assert exc.value.fields["file"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x00\x01 nope", "not well-formed XML"),
        (b'<?xml version="1.0" encoding="ATF-8"?><NewReleaseMessage/>', "names an encoding that cannot be read"),
        (b"<Other/>", "Expected a DDEX NewReleaseMessage"),
        (b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/41"/>', r"ERN 4\.1 \(namespace"),
        (b'<NewReleaseMessage xmlns="urn:other"/>', "Unsupported ERN namespace"),
        (b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"/>', "no <ReleaseList><Release>"),
        (
            b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"><ReleaseList><Release/></ReleaseList></NewReleaseMessage>',
            "nothing to declare",
        ),
        (
            b'<NewReleaseMessage xmlns="http://ddex.net/xml/ern/432"><ResourceList><SoundRecording>'
            b"<SoundRecordingEdition><ResourceId><ISRC>QZTST2600001</ISRC></ResourceId></SoundRecordingEdition>"
            b"<ContainsAI>Maybe</ContainsAI></SoundRecording></ResourceList><ReleaseList><Release/></ReleaseList>"
            b"</NewReleaseMessage>",
            "must be None, Partly or All",
        ),
    ],
)
def test_broken_files_say_what_is_wrong(body, message):
    with pytest.raises(ValidationFailed, match=message) as exc:
        parse_ern(body)
    assert exc.value.fields["file"]


def test_the_sender_is_compared_by_dpid_else_by_name():
    ours = {"dpid": "PADPIDA3897722461G", "name": "Northern Lights Records"}
    theirs = {"dpid": "PADPIDA2026555555Q", "name": "Elsewhere Distribution"}
    assert sender_warning(ours, dpid="PADPIDA3897722461G", name="Northern Lights Records") is None
    warning = sender_warning(theirs, dpid="PADPIDA3897722461G", name="Northern Lights Records")
    assert "Elsewhere Distribution (PADPIDA2026555555Q)" in warning and "not by Northern Lights Records" in warning
    assert sender_warning(theirs, dpid=None, name="Northern Lights Records") is not None
    assert sender_warning({"dpid": "PADPIDA2026555555Q", "name": ""}, dpid=None, name="Northern Lights Records") is None


def test_a_message_over_the_track_cap_is_refused_with_the_count():
    from registry.catalog.services import RELEASE_MAX_TRACKS
    from tests.registry.labels.test_release_form import ern_with_recordings

    with pytest.raises(ValidationFailed, match=f"has {RELEASE_MAX_TRACKS + 1} sound recordings; a release has at most"):
        parse_ern(ern_with_recordings(RELEASE_MAX_TRACKS + 1))
    assert len(parse_ern(ern_with_recordings(RELEASE_MAX_TRACKS))["tracks"]) == RELEASE_MAX_TRACKS
