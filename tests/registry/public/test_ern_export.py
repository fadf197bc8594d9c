"""DDEX ERN 4.3.2 export of a declared release: structure (DDEX's XSDs are not ours to ship) and round trip."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from provenance import vocabulary
from registry.public.ern_export import iso_duration
from tests import factories

pytestmark = pytest.mark.django_db
NS = "{http://ddex.net/xml/ern/432}"


def export(client, upc):
    response = client.get(f"/releases/{upc}/ern.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return response, ET.fromstring(response.content)


def test_ern_message_has_header_parties_resources_and_release_in_order(client, demo):
    release = demo["Glass Meridian"]
    _, root = export(client, release.upc)
    assert root.tag == f"{NS}NewReleaseMessage"
    assert root.get("MessageSchemaVersionId") == "ern/432"
    assert [c.tag for c in root] == ["MessageHeader", "PartyList", "ResourceList", "ReleaseList"]
    header = root.find("MessageHeader")
    assert header.findtext("MessageId") == f"{release.upc}-v2"
    assert header.findtext("MessageSender/PartyId") == "PADPIDA2007040502I"
    assert header.findtext("MessageSender/PartyName/FullName") == "Aurora Fjord Records"
    assert header.findtext("MessageCreatedDateTime").endswith("Z")
    assert header.findtext("MessageControlType") == "TestMessage"  # demo content is never live


def test_ern_sound_recordings_carry_isrc_title_duration_and_contains_ai(client, demo):
    release = demo["Glass Meridian"]
    st = release.current_declaration.statement
    _, root = export(client, release.upc)
    recordings = root.findall("ResourceList/SoundRecording")
    assert len(recordings) == len(st["tracks"])
    for sr, track in zip(recordings, st["tracks"], strict=True):
        assert sr.findtext("ResourceReference").startswith("A")
        assert sr.findtext("SoundRecordingEdition/ResourceId/ISRC") == track["isrc"]
        assert sr.findtext("DisplayTitleText") == track["title"]
        assert sr.findtext("Duration") == iso_duration(track["duration"])
        assert sr.findtext("ContainsAI") == vocabulary.ddex_contains_ai(track["contains_ai"])
        roles = {
            c.findtext("Role/Value"): c.findtext("ContainsAI") for c in sr.findall("SpecialContributor/AiContribution")
        }
        expected = {c["role"]: c["contains_ai"] for c in vocabulary.ddex_ai_contributions(track["parts"])}
        assert roles == expected
        if expected:
            assert sr.find("SpecialContributor").findtext("Role/Value") == "GenerativeAI"


def test_ern_names_the_tools_as_generative_ai_parties(client, demo):
    _, root = export(client, demo["Machine Lullabies"].upc)
    parties = {p.findtext("PartyReference"): p.findtext("PartyName/FullName") for p in root.iter("Party")}
    sleep_mode = root.find("ResourceList/SoundRecording")
    tools = [parties[c.findtext("ContributorPartyReference")] for c in sleep_mode.findall("SpecialContributor")]
    assert tools == ["Magenta", "Lyric assistant"]


def test_ern_release_has_icpn_title_date_artwork_and_contains_ai(client, demo):
    release = demo["Glass Meridian"]
    _, root = export(client, release.upc)
    rel = root.find("ReleaseList/Release")
    assert rel.findtext("ReleaseId/ICPN") == release.upc
    assert rel.findtext("DisplayTitleText") == "Glass Meridian"
    assert rel.findtext("ReleaseDate") == "2025-06-02"
    assert rel.findtext("ContainsAI") == "Partly"
    assert rel.findtext("ReleaseLabelReference") == "PLabel"
    image = root.find("ResourceList/Image")
    assert image.findtext("Type") == "FrontCoverImage"
    assert image.findtext("ContainsAI") == "Partly"
    items = [i.findtext("ReleaseResourceReference") for i in rel.findall("ResourceGroup/ResourceGroupContentItem")]
    assert items == [sr.findtext("ResourceReference") for sr in root.findall("ResourceList/SoundRecording")]


def test_ern_flags_an_ai_persona_on_its_display_artist(client, demo):
    _, root = export(client, demo["Velvet Static"].upc)
    artist = root.find("ReleaseList/Release/DisplayArtist")
    assert artist.findtext("SpecialDisplayArtist") == "GenerativeAI"
    _, human = export(client, demo["Quiet Hours"].upc)
    assert human.find("ReleaseList/Release/DisplayArtist/SpecialDisplayArtist") is None
    assert human.findtext("PartyList/Party/PartyId/ISNI") == "000000012146438X"


def test_ern_escapes_label_text(client, keys, label):
    release = factories.make_release(label, tracks=1, title='Tom & Jerry <live> "unplugged"')
    factories.declare(release, "none")
    response, root = export(client, release.upc)
    assert b"Tom &amp; Jerry &lt;live&gt;" in response.content
    assert root.findtext("ReleaseList/Release/DisplayTitleText") == 'Tom & Jerry <live> "unplugged"'


def test_ern_of_a_withdrawn_declaration_is_gone(client, demo):
    response = client.get(f"/releases/{demo['Synthetic Summer'].upc}/ern.xml")
    assert response.status_code == 410
    assert b"No current facts to export" in response.content


def test_ern_of_an_undeclared_release_is_a_404(client, db):
    assert client.get("/releases/036000291452/ern.xml").status_code == 404


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "PT0S"), (59, "PT59S"), (214, "PT3M34S"), (3600, "PT1H0M0S"), (3723, "PT1H2M3S")]
)
def test_iso_duration(seconds, expected):
    assert iso_duration(seconds) == expected


@pytest.mark.xfail(reason="export rewrite in progress on branch ddex-export", strict=False)
def test_ern_round_trips_through_the_label_importer(client, demo):
    ern = pytest.importorskip("registry.labels.ern", reason="the label-forms importer is not there yet")
    for title in ("Glass Meridian", "Machine Lullabies", "Velvet Static", "Second Voice"):
        release = demo[title]
        st = release.current_declaration.statement
        response, _ = export(client, release.upc)
        parsed = ern.parse_ern(response.content)
        assert parsed["ern_version"] == "4.3.2"
        assert parsed["upc"] == release.upc
        assert parsed["title"] == st["release"]["title"]
        assert parsed["release_date"].isoformat() == st["release"]["release_date"]
        assert parsed["contains_ai"] == st["release"]["contains_ai"]
        assert parsed["artwork"] == st["release"]["artwork"]
        assert [a["name"] for a in parsed["artists"]] == [a["name"] for a in st["artists"]]
        # An AI persona survives the round trip (ERN has no flag for "human using AI tools").
        assert [a["persona"] == "synthetic" for a in parsed["artists"]] == [
            a["persona"] == "synthetic" for a in st["artists"]
        ]
        assert [t["isrc"] for t in parsed["tracks"]] == [t["isrc"] for t in st["tracks"]]
        for got, want in zip(parsed["tracks"], st["tracks"], strict=True):
            assert got["title"] == want["title"]
            assert got["position"] == want["position"]
            assert got["duration"] == want["duration"]
            assert got["contains_ai"] == want["contains_ai"]
            assert got["parts"] == want["parts"]
            assert got["tools"] == want["tools"]
